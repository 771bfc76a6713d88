/**
 * The generated ValidatingAdmissionPolicy, evaluated with a CEL engine (@bufbuild/cel, Kubernetes'
 * CEL functions only): every pod template synth generates is admitted, as a Pod and as its
 * workload; a corpus of bad pods (and the same pods as CronJob, Job and Deployment) is refused,
 * each with a message that names the container and the rule it broke.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { podSecurityPolicyName } from '../../src/constructs/pod-security-policy.ts';
import { JOB_CONTAINERS } from '../../src/shared/contract.ts';
import { nonKubernetesCel, type PolicyObject, refusals } from '../support/admission-policy.ts';
import {
  ALL_INVENTORIES,
  FULL,
  find,
  MINIMAL,
  REMOTE_BUILDKIT,
  type Rendered,
  render,
} from '../support/fleet-fixtures.ts';
import type { K8sObject } from '../support/k8s-validate.ts';
import { podSpecOf, restrictedViolations } from '../support/pod-security.ts';

type Json = Record<string, unknown>;
type Container = Json & { name: string; securityContext?: Json };
interface PodSpec {
  initContainers: Container[];
  containers: Container[];
  volumes?: Json[];
  hostPID?: boolean;
  securityContext?: Json;
}
interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: PodSpec;
}

function policyOf(rendered: Rendered): PolicyObject & K8sObject {
  return find(
    rendered.objects,
    'ValidatingAdmissionPolicy',
    podSecurityPolicyName(rendered.fleet.namespace),
  ) as unknown as PolicyObject & K8sObject;
}

/** The pod a workload's template becomes (what the controller creates). */
function podFrom(workload: K8sObject): Pod {
  const spec = podSpecOf(workload);
  const template =
    workload.kind === 'CronJob'
      ? (((workload.spec as Json).jobTemplate as Json).spec as Json).template
      : (workload.spec as Json).template;
  const labels = ((template as Json).metadata as Json | undefined)?.labels as
    Record<string, string> | undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${workload.metadata.name}-x1`,
      namespace: workload.metadata.namespace ?? 'default',
      ...(labels && { labels }),
    },
    spec: structuredClone(spec) as unknown as PodSpec,
  };
}

/** The pod wrapped back into a workload of `kind`, as a user might `kubectl apply` it. */
function asWorkload(pod: Pod, kind: 'CronJob' | 'Job' | 'Deployment'): K8sObject {
  const template = {
    metadata: {
      labels: pod.metadata.labels ?? {},
      ...(pod.metadata.annotations && { annotations: pod.metadata.annotations }),
    },
    spec: pod.spec,
  };
  const metadata = { name: pod.metadata.name, namespace: pod.metadata.namespace };
  switch (kind) {
    case 'CronJob':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata,
        spec: { schedule: '0 1 * * *', jobTemplate: { spec: { template } } },
      };
    case 'Job':
      return { apiVersion: 'batch/v1', kind, metadata, spec: { template } };
    case 'Deployment':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata,
        spec: { selector: { matchLabels: pod.metadata.labels ?? {} }, template },
      };
  }
}

const withSidecar = Object.entries(ALL_INVENTORIES)
  .filter(([, input]) => input !== REMOTE_BUILDKIT)
  .map(([name, input]) => ({ name, rendered: render(input) }));

describe('the pod security admission policy', () => {
  it('is generated, bound with Deny and failurePolicy Fail, scoped to the fleet namespace, only with the BuildKit sidecar', () => {
    const rendered = render(FULL);
    const policy = policyOf(rendered);
    const binding = find(
      rendered.objects,
      'ValidatingAdmissionPolicyBinding',
      policy.metadata.name,
    );
    expect(policy.spec).toMatchObject({
      failurePolicy: 'Fail',
      matchConstraints: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'patching' } },
      },
    });
    expect(binding.spec).toEqual({
      policyName: policy.metadata.name,
      validationActions: ['Deny'],
      matchResources: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'patching' } },
      },
    });
    const resources = (
      policy.spec as unknown as { matchConstraints: { resourceRules: { resources: string[] }[] } }
    ).matchConstraints.resourceRules.flatMap((rule) => rule.resources);
    expect(resources).toEqual(
      expect.arrayContaining([
        'pods',
        'pods/ephemeralcontainers',
        'cronjobs',
        'jobs',
        'deployments',
      ]),
    );
    const remote = render(REMOTE_BUILDKIT);
    expect(
      remote.objects.filter(({ object }) => object.kind.startsWith('ValidatingAdmissionPolicy')),
    ).toEqual([]);
    expect(remote.files.map((file) => file.path)).not.toContain('pod-security-policy.k8s.yaml');
    expect(
      find(remote.objects, 'Namespace', remote.fleet.namespace).metadata.labels?.[
        'pod-security.kubernetes.io/enforce'
      ],
    ).toBe('restricted');
  });

  it("uses only CEL that Kubernetes' CEL environment has", () => {
    const policy = policyOf(render(FULL));
    const expressions = [
      ...(policy.spec.variables ?? []).map((v) => v.expression),
      ...policy.spec.validations.flatMap((v) => [v.expression, v.messageExpression ?? "''"]),
    ];
    expect(expressions.length).toBeGreaterThan(40);
    expect(
      expressions.flatMap((expression) =>
        nonKubernetesCel(expression).map((problem) => `${problem} in ${expression}`),
      ),
    ).toEqual([]);
    expect(nonKubernetesCel("['a'].exists(x, x.frobnicate())")).toEqual(['call frobnicate']);
  });

  describe.each(withSidecar)(
    'admits every pod template synth generates ($name inventory)',
    ({ rendered }) => {
      const workloads = rendered.objects
        .map(({ object }) => object)
        .filter((object) => podSpecOf(object) !== undefined);
      it.each(
        workloads.map((object) => [`${object.kind}/${object.metadata.name}`, object] as const),
      )('%s, and its pod', (_name, workload) => {
        const policy = policyOf(rendered);
        expect(refusals(policy, workload)).toEqual([]);
        expect(refusals(policy, podFrom(workload))).toEqual([]);
      });
    },
  );

  describe('refuses bad pods, naming the container and the rule', () => {
    const rendered = render(MINIMAL);
    const policy = policyOf(rendered);
    const cronJob = rendered.objects
      .map(({ object }) => object)
      .find((object) => object.kind === 'CronJob') as K8sObject;
    const patchJobPod = (): Pod => podFrom(cronJob);
    const sidecarOf = (pod: Pod): Container =>
      pod.spec.initContainers.find((c) => c.name === JOB_CONTAINERS.buildkit) as Container;
    const namespace = rendered.fleet.namespace;
    const restrictedContainer = (name: string): Container => ({
      name,
      image: 'busybox',
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    const plainPod = (container: Container): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'intruder', namespace },
      spec: { initContainers: [], containers: [container] },
    });

    const corpus: { name: string; pod: () => Pod; message: RegExp }[] = [
      {
        name: 'a privileged busybox',
        pod: () =>
          plainPod({ name: 'shell', image: 'busybox', securityContext: { privileged: true } }),
        message: /container shell: securityContext\.privileged must not be true/,
      },
      {
        name: 'a hostPath volume',
        pod: () => {
          const pod = plainPod(restrictedContainer('reader'));
          pod.spec.volumes = [{ name: 'host-root', hostPath: { path: '/' } }];
          return pod;
        },
        message: /volume host-root: hostPath volumes are not allowed/,
      },
      {
        name: 'hostPID',
        pod: () => ({
          ...plainPod(restrictedContainer('ps')),
          spec: { ...plainPod(restrictedContainer('ps')).spec, hostPID: true },
        }),
        message: /pod field hostPID: must not be true \(host namespaces\)/,
      },
      {
        name: 'an extra unconfined container in a patch-job pod',
        pod: () => {
          const pod = patchJobPod();
          pod.spec.initContainers.push({
            ...restrictedContainer('debug'),
            securityContext: {
              ...restrictedContainer('debug').securityContext,
              seccompProfile: { type: 'Unconfined' },
            },
          });
          return pod;
        },
        message: /container debug: seccompProfile must be RuntimeDefault or Localhost/,
      },
      {
        name: 'a buildkitd with another image',
        pod: () => {
          const pod = patchJobPod();
          sidecarOf(pod).image = 'docker.io/library/alpine:3.21';
          return pod;
        },
        message:
          /container buildkitd: must run the configured rootless BuildKit image docker\.io\/moby\/buildkit:v[0-9.]+-rootless/,
      },
      {
        name: 'a buildkitd with privileged: true',
        pod: () => {
          const pod = patchJobPod();
          (sidecarOf(pod).securityContext as Json).privileged = true;
          return pod;
        },
        message: /container buildkitd: securityContext\.privileged must not be true/,
      },
      {
        name: 'a buildkitd with capabilities beyond SETUID/SETGID',
        pod: () => {
          const pod = patchJobPod();
          (sidecarOf(pod).securityContext as Json).capabilities = {
            drop: ['ALL'],
            add: ['SETUID', 'SETGID', 'SYS_ADMIN'],
          };
          return pod;
        },
        message:
          /container buildkitd: securityContext\.capabilities\.add may only contain SETUID, SETGID/,
      },
      {
        name: 'runAsUser 0',
        pod: () => {
          const pod = patchJobPod();
          const patch = pod.spec.initContainers.find(
            (c) => c.name === JOB_CONTAINERS.patch,
          ) as Container;
          (patch.securityContext as Json).runAsUser = 0;
          return pod;
        },
        message: /container patch: securityContext\.runAsUser must not be 0/,
      },
      {
        name: 'the sidecar profile outside a patch-job pod',
        pod: () => {
          const pod = patchJobPod();
          pod.metadata.labels = {};
          return pod;
        },
        message:
          /container buildkitd: (securityContext\.allowPrivilegeEscalation must be false|seccompProfile must be)/,
      },
      {
        name: 'a buildkitd that overrides the entrypoint',
        pod: () => {
          const pod = patchJobPod();
          sidecarOf(pod).command = ['sh', '-c', 'id'];
          return pod;
        },
        message: /container buildkitd: must keep the entrypoint of its image/,
      },
      {
        name: 'a buildkitd as root-mapped UID',
        pod: () => {
          const pod = patchJobPod();
          (sidecarOf(pod).securityContext as Json).runAsUser = 1001;
          return pod;
        },
        message: /container buildkitd: securityContext\.runAsUser must be 1000/,
      },
      {
        name: 'a pod-level Unconfined seccomp profile',
        pod: () => {
          const pod = patchJobPod();
          pod.spec.securityContext = {
            ...pod.spec.securityContext,
            seccompProfile: { type: 'Unconfined' },
          };
          return pod;
        },
        message:
          /setting seccompProfile must be RuntimeDefault or Localhost: not allowed in the pod securityContext/,
      },
      {
        name: 'an unsafe sysctl',
        pod: () => {
          const pod = plainPod(restrictedContainer('tuner'));
          pod.spec.securityContext = {
            runAsNonRoot: true,
            sysctls: [{ name: 'kernel.msgmax', value: '65536' }],
          };
          return pod;
        },
        message: /sysctl kernel\.msgmax: only the safe sysctls are allowed/,
      },
      {
        name: 'an unconfined AppArmor annotation',
        pod: () => {
          const pod = plainPod(restrictedContainer('app'));
          pod.metadata.annotations = {
            'container.apparmor.security.beta.kubernetes.io/app': 'unconfined',
          };
          return pod;
        },
        message:
          /annotation container\.apparmor\.security\.beta\.kubernetes\.io\/app: must be runtime\/default/,
      },
      {
        name: 'a procMount Unmasked',
        pod: () => {
          const pod = plainPod(restrictedContainer('proc'));
          (pod.spec.containers[0]?.securityContext as Json).procMount = 'Unmasked';
          return pod;
        },
        message: /container proc: securityContext\.procMount must be Default/,
      },
    ];

    it.each(corpus)('$name', ({ pod, message }) => {
      const refused = refusals(policy, pod());
      expect(refused).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
      for (const kind of ['CronJob', 'Job', 'Deployment'] as const) {
        expect(refusals(policy, asWorkload(pod(), kind)), kind).toEqual(
          expect.arrayContaining([expect.stringMatching(message)]),
        );
      }
    });

    it('admits the patch-job pod as Kubernetes 1.30-1.32 store it: with the AppArmor annotation copied from the sidecar field', () => {
      const pod = patchJobPod();
      pod.metadata.annotations = {
        'container.apparmor.security.beta.kubernetes.io/buildkitd': 'unconfined',
      };
      expect(refusals(policy, pod)).toEqual([]);
      // ...but the same annotation is no pass for any other container, nor outside a patch-job pod.
      pod.metadata.annotations = {
        'container.apparmor.security.beta.kubernetes.io/patch': 'unconfined',
      };
      expect(refusals(policy, pod)).toEqual([
        expect.stringMatching(
          /annotation container\.apparmor\.security\.beta\.kubernetes\.io\/patch: must be/,
        ),
      ]);
      const intruder = plainPod(restrictedContainer('buildkitd'));
      intruder.metadata.annotations = {
        'container.apparmor.security.beta.kubernetes.io/buildkitd': 'unconfined',
      };
      expect(refusals(policy, intruder)).toEqual([
        expect.stringMatching(
          /annotation container\.apparmor\.security\.beta\.kubernetes\.io\/buildkitd: must be/,
        ),
      ]);
    });

    it('a restricted pod of another kind of workload is admitted (the corpus fails for its one defect only)', () => {
      expect(refusals(policy, plainPod(restrictedContainer('fine')))).toEqual([]);
      expect(
        refusals(policy, asWorkload(plainPod(restrictedContainer('fine')), 'Deployment')),
      ).toEqual([]);
      expect(refusals(policy, { ...patchJobPod(), spec: { ...patchJobPod().spec } })).toEqual([]);
    });
  });
});

describe('the policy agrees with an independent restricted checker (test/support/pod-security.ts)', () => {
  const rendered = render(MINIMAL);
  const policy = policyOf(rendered);
  /** copa-fleet's own rules in that checker (read-only root, explicit UID, resources) are not Pod Security Standards. */
  const OWN_RULES = /^(root filesystem writable|no explicit runAsUser|missing (requests|limits))$/;
  /** The word a refusal must contain for each control of the checker. */
  const KEYWORDS: readonly [RegExp, string][] = [
    [/^privileged$/, 'privileged'],
    [/^capabilities/, 'capabilities'],
    [/^hostPort$/, 'hostPort'],
    [/^AppArmor/, 'appArmorProfile'],
    [/^SELinux/, 'seLinuxOptions'],
    [/^procMount$/, 'procMount'],
    [/^allowPrivilegeEscalation/, 'allowPrivilegeEscalation'],
    [/^runAsNonRoot/, 'runAsNonRoot'],
    [/^runAsUser 0$/, 'runAsUser'],
    [/^seccomp/, 'seccompProfile'],
    [/^host namespaces$/, 'host namespaces'],
    [/^hostPath volume/, 'hostPath'],
    [/^volume type/, 'volume'],
    [/^unsafe sysctl/, 'sysctl'],
  ];
  /** Mostly the compliant value (first), sometimes one of the others: most pods break zero, one or two controls. */
  const pick = <T>(compliant: T, ...others: T[]) =>
    fc.oneof(
      { arbitrary: fc.constant(compliant), weight: 30 },
      ...others.map((other) => ({ arbitrary: fc.constant(other), weight: 1 })),
    );
  const securityContext = fc.record({
    privileged: pick<boolean | undefined>(undefined, false, true),
    allowPrivilegeEscalation: pick<boolean | undefined>(false, true, undefined),
    runAsNonRoot: pick<boolean | undefined>(true, undefined, false),
    runAsUser: pick<number | undefined>(1000, undefined, 0),
    capabilities: pick<Json | undefined>(
      { drop: ['ALL'] },
      { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      { drop: ['ALL'], add: ['SYS_ADMIN'] },
      { drop: ['ALL'], add: ['SETUID'] },
      {},
      undefined,
    ),
    seccompProfile: pick<Json | undefined>(
      { type: 'RuntimeDefault' },
      { type: 'Localhost', localhostProfile: 'p.json' },
      undefined,
      { type: 'Unconfined' },
    ),
    appArmorProfile: pick<Json | undefined>(
      undefined,
      { type: 'RuntimeDefault' },
      { type: 'Unconfined' },
    ),
    procMount: pick<string | undefined>(undefined, 'Default', 'Unmasked'),
    seLinuxOptions: pick<Json | undefined>(
      undefined,
      { type: 'container_t' },
      { type: 'spc_t' },
      { user: 'system_u' },
    ),
  });
  const container = (name: string) =>
    fc
      .record({ sc: securityContext, hostPort: pick<number | undefined>(undefined, 0, 8080) })
      .map(({ sc, hostPort }) => ({
        name,
        image: 'busybox',
        ...(hostPort !== undefined && { ports: [{ containerPort: 8080, hostPort }] }),
        securityContext: Object.fromEntries(Object.entries(sc).filter(([, v]) => v !== undefined)),
      }));
  const pod = fc
    .record({
      containers: fc.tuple(container('app'), container('side')),
      hostNetwork: pick<boolean | undefined>(undefined, false, true),
      hostPID: pick<boolean | undefined>(undefined, true),
      hostPath: pick(false, true),
      podSeccomp: pick<Json | undefined>(
        undefined,
        { type: 'RuntimeDefault' },
        { type: 'Unconfined' },
      ),
      podRunAsNonRoot: pick<boolean | undefined>(undefined, true),
      sysctl: pick<string | undefined>(undefined, 'net.ipv4.tcp_syncookies', 'kernel.msgmax'),
    })
    .map((p) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'generated', namespace: rendered.fleet.namespace },
      spec: {
        ...(p.hostNetwork !== undefined && { hostNetwork: p.hostNetwork }),
        ...(p.hostPID !== undefined && { hostPID: p.hostPID }),
        securityContext: {
          ...(p.podSeccomp !== undefined && { seccompProfile: p.podSeccomp }),
          ...(p.podRunAsNonRoot !== undefined && { runAsNonRoot: p.podRunAsNonRoot }),
          ...(p.sysctl !== undefined && { sysctls: [{ name: p.sysctl, value: '1' }] }),
        },
        initContainers: [p.containers[1]],
        containers: [p.containers[0]],
        volumes: [
          { name: 'scratch', emptyDir: {} },
          ...(p.hostPath ? [{ name: 'host', hostPath: { path: '/var' } }] : []),
        ],
      },
    }));

  it('refuses a pod exactly when it breaks a restricted control, with a message for every control and container it breaks', () => {
    let admitted = 0;
    let refused = 0;
    fc.assert(
      fc.property(pod, (candidate) => {
        const violations = restrictedViolations(
          candidate.spec as unknown as Record<string, unknown>,
        ).filter((v) => !OWN_RULES.test(v.control));
        const messages = refusals(policy, candidate);
        expect(messages.length > 0, JSON.stringify({ violations, messages })).toBe(
          violations.length > 0,
        );
        for (const { container, control } of violations) {
          const keyword = KEYWORDS.find(([pattern]) => pattern.test(control))?.[1];
          expect(keyword, control).toBeDefined();
          const found = messages.some(
            (message) =>
              message.includes(keyword as string) &&
              (container === '<pod>' ||
                new RegExp(`container [a-z, ]*\\b${container}\\b`).test(message)),
          );
          expect(found, `${container}: ${control} in ${JSON.stringify(messages)}`).toBe(true);
        }
        if (messages.length > 0) refused += 1;
        else admitted += 1;
      }),
      { numRuns: 400 },
    );
    expect(admitted).toBeGreaterThan(5);
    expect(refused).toBeGreaterThan(5);
  });
});
