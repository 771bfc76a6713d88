/** The per-image CronJob, its pod (container order, commands, mounts) and its least-privilege RBAC. */
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { exporterOptions, EXPORTER_GRACE_SECONDS } from '../../src/constructs/copa-job-pod.ts';
import { exporterRules } from '../../src/constructs/copa-patch-job.ts';
import { pushgatewayServiceUrl } from '../../src/constructs/names.ts';
import { CRONJOB_NAME_MAX } from '../../src/model/naming.ts';
import { patchRunSpec } from '../../src/model/patch-run.ts';
import {
  BUILDKIT_ADDRESS,
  CONFIGMAPS,
  CRONJOB_LABEL,
  DIGEST_RECORD_LABEL,
  digestRecordName,
  EXPORTER_ENV,
  JOB_CONTAINERS,
  JOB_FILES,
  PIPELINE_LABEL,
  parseExporterExecArgs,
  parseExporterReportArgs,
  RUNTIME_BIN,
  WORK_DIR,
} from '../../src/shared/contract.ts';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IContainer } from 'kubernetes-models/v1/Container';
import {
  EXTERNAL_PUSHGATEWAY,
  FULL,
  MINIMAL,
  PLANTED,
  REMOTE_BUILDKIT,
  type RenderedObject,
  render,
} from '../support/fleet-fixtures.ts';
import { serviceAccountCan } from '../support/rbac.ts';
import {
  allContainers,
  allOfKind,
  containerOf,
  findKind,
  podLabelsOf,
  podSpecOf,
  volumeOf,
} from '../support/rendered-kinds.ts';

const cronJobs = (objects: readonly RenderedObject[]): ICronJob[] => allOfKind(objects, 'CronJob');
const podOf = podSpecOf;
const container = containerOf;
const argsOf = (c: IContainer): string[] => c.args ?? [];

/** Copa v0.14 `patch` flags (pkg/cmd/cmd.go); strict: an unknown flag throws. */
function parseCopaPatch(argv: readonly string[]) {
  const [bin, sub, ...rest] = argv;
  expect([bin, sub]).toEqual([RUNTIME_BIN.copa, 'patch']);
  return parseArgs({
    args: rest,
    strict: true,
    options: {
      image: { type: 'string', short: 'i' },
      report: { type: 'string', short: 'r' },
      tag: { type: 'string', short: 't' },
      addr: { type: 'string', short: 'a' },
      cacert: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      timeout: { type: 'string' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      push: { type: 'boolean', short: 'p' },
    },
  }).values;
}

describe('CronJob per enabled image', () => {
  const { fleet, objects } = render(FULL);

  it('exists once per enabled image, named like the fleet model, within 52 characters', () => {
    const jobs = cronJobs(objects);
    expect(jobs.map((j) => j.metadata?.name).sort()).toEqual(
      fleet.images.map((i) => i.name).sort(),
    );
    expect(jobs).toHaveLength(3); // the disabled image has none
    for (const job of jobs)
      expect(job.metadata?.name?.length).toBeLessThanOrEqual(CRONJOB_NAME_MAX);
  });

  it('has the schedule, time zone and run limits of the inventory', () => {
    for (const image of fleet.images) {
      const { spec } = findKind(objects, 'CronJob', image.name);
      expect(spec?.schedule).toBe(image.schedule);
      expect(spec?.timeZone).toBe('Europe/Berlin');
      expect(spec?.concurrencyPolicy).toBe('Forbid');
      expect(spec?.startingDeadlineSeconds).toBe(900);
      expect(spec?.successfulJobsHistoryLimit).toBeGreaterThan(0);
      expect(spec?.failedJobsHistoryLimit).toBeGreaterThan(0);
      expect(spec?.jobTemplate.spec).toMatchObject({
        activeDeadlineSeconds: 5400,
        backoffLimit: 1,
        ttlSecondsAfterFinished: 86400,
      });
      expect(spec?.jobTemplate.spec?.template.spec?.restartPolicy).toBe('Never');
    }
    const explicit = fleet.images.find((i) => !i.scheduleSpread);
    expect(explicit?.schedule).toBe('30 3 * * 1-5');
  });

  it('labels the CronJob, the Job template and the pod with the cronjob and pipeline labels', () => {
    for (const job of cronJobs(objects)) {
      for (const labels of [
        job.metadata?.labels,
        job.spec?.jobTemplate.metadata?.labels,
        podLabelsOf(job),
      ]) {
        expect(labels?.[CRONJOB_LABEL]).toBe(job.metadata?.name);
        expect(labels?.[PIPELINE_LABEL.key]).toBe(PIPELINE_LABEL.value);
        expect(labels?.['app.kubernetes.io/instance']).toBe(job.metadata?.name);
      }
    }
    const web = fleet.images.find((i) => i.team === 'web');
    expect(
      findKind(objects, 'CronJob', web?.name ?? '').metadata?.labels?.['copa-fleet.dev/team'],
    ).toBe('web');
  });

  it('runs exporter, buildkitd, scan, patch, bom as init containers and verify as the main container', () => {
    const pod = podOf(cronJobs(objects)[0]!);
    expect(pod.initContainers?.map((c) => c.name)).toEqual([
      JOB_CONTAINERS.exporter,
      JOB_CONTAINERS.buildkit,
      JOB_CONTAINERS.scan,
      JOB_CONTAINERS.patch,
      JOB_CONTAINERS.bom,
    ]);
    expect(pod.containers.map((c) => c.name)).toEqual([JOB_CONTAINERS.verify]);
    // Exactly the two native sidecars restart; the steps run once.
    expect(
      pod.initContainers?.filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
    ).toEqual([JOB_CONTAINERS.exporter, JOB_CONTAINERS.buildkit]);
  });

  it('gives every container requests and limits from the inventory defaults', () => {
    const pod = podOf(cronJobs(objects)[0]!);
    expect(container(pod, 'scan').resources).toEqual({
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '1', memory: '2Gi' },
    });
    expect(container(pod, 'buildkitd').resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { cpu: '2', memory: '4Gi' },
    });
  });
});

describe('exporter sidecar', () => {
  const { fleet, objects } = render(FULL);

  it('gets arguments that round-trip through the runtime parser to the fleet values', () => {
    for (const image of fleet.images) {
      const exporter = container(
        podOf(findKind(objects, 'CronJob', image.name)),
        JOB_CONTAINERS.exporter,
      );
      expect(exporter.command).toEqual([RUNTIME_BIN.exporter]);
      const parsed = parseExporterReportArgs(argsOf(exporter).slice(1));
      expect(argsOf(exporter)[0]).toBe('report');
      expect(parsed).toEqual(exporterOptions(patchRunSpec(image, fleet)));
      expect(parsed).toMatchObject({
        image: image.image,
        cronjob: image.name,
        sourceRef: image.sourceRef,
        patchedRef: image.patchedRef,
        namespace: 'patching',
        digestStore: digestRecordName(image.name),
        pushgatewayUrl: pushgatewayServiceUrl('patching'),
        deadlineSeconds: 5400,
        dependencyTrackUrl: 'https://dtrack.example.com',
        dependencyTrackProjectVersion: image.patchedTag,
      });
    }
  });

  it('reads its pod identity from the downward API and the Dependency-Track key from a Secret reference', () => {
    const exporter = container(podOf(cronJobs(objects)[0]!), JOB_CONTAINERS.exporter);
    expect(exporter.env).toEqual([
      { name: EXPORTER_ENV.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      {
        name: EXPORTER_ENV.podNamespace,
        valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
      },
      {
        name: EXPORTER_ENV.dependencyTrackApiKey,
        valueFrom: { secretKeyRef: { name: PLANTED.dtSecret, key: PLANTED.dtKey } },
      },
    ]);
  });

  it('is the only container with a ServiceAccount token, and the pod outlives its grace period', () => {
    const pod = podOf(cronJobs(objects)[0]!);
    expect(pod.automountServiceAccountToken).toBe(false);
    const tokenMounts = allContainers(pod).filter((c) =>
      (c.volumeMounts ?? []).some(
        (m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount',
      ),
    );
    expect(tokenMounts.map((c) => c.name)).toEqual([JOB_CONTAINERS.exporter]);
    const { projected } = volumeOf(pod, 'kube-api-access');
    expect(projected?.sources?.map((s) => Object.keys(s)[0])).toEqual([
      'serviceAccountToken',
      'configMap',
      'downwardAPI',
    ]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(EXPORTER_GRACE_SECONDS);
  });

  it('uses the configured Pushgateway URL when none is generated', () => {
    const { objects: external, files } = render(EXTERNAL_PUSHGATEWAY);
    const exporter = container(podOf(cronJobs(external)[0]!), JOB_CONTAINERS.exporter);
    expect(parseExporterReportArgs(argsOf(exporter).slice(1)).pushgatewayUrl).toBe(
      'http://pushgateway.monitoring.svc:9091',
    );
    expect(files.map((f) => f.path)).not.toContain('pushgateway.k8s.yaml');
    expect(parseExporterReportArgs(argsOf(exporter).slice(1)).dependencyTrackUrl).toBeUndefined();
  });
});

describe('scan, patch and verify steps', () => {
  const { fleet, objects } = render(FULL);
  const image = fleet.images.find((i) => i.patchedTag === 'v2.3.0-p');
  if (image === undefined) throw new Error('fixture image missing');
  const pod = podOf(findKind(objects, 'CronJob', image.name));

  it('scans the source image for fixable OS vulnerabilities into the shared work dir', () => {
    const scan = container(pod, JOB_CONTAINERS.scan);
    expect(scan.command).toEqual(['trivy']);
    expect(argsOf(scan)[0]).toBe('image');
    expect(argsOf(scan).at(-1)).toBe('registry.example.com/shop/api:v2.3.0');
    expect(argsOf(scan).join(' ')).toContain(`--format json --output ${JOB_FILES.scanBefore}`);
    expect(argsOf(scan).join(' ')).toContain('--pkg-types os --ignore-unfixed');
    expect(scan.env).toEqual([
      { name: 'DOCKER_CONFIG', value: '/docker-config' },
      { name: 'HOME', value: '/tmp' },
    ]);
    expect(scan.volumeMounts).toContainEqual({ name: 'work', mountPath: WORK_DIR });
  });

  it('lets the post-patch scans fail without failing the Job (nothing pushed when up to date), but not the gating scan', () => {
    const verify = container(pod, JOB_CONTAINERS.verify);
    expect(verify.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(verify.command?.[2]).toMatch(/^trivy "\$@" \|\| /);
    expect(argsOf(verify).at(-1)).toBe('registry.example.com/shop/api:v2.3.0-p');
    expect(argsOf(verify).join(' ')).toContain(`--format json --output ${JOB_FILES.scanAfter}`);
    const bom = container(pod, JOB_CONTAINERS.bom);
    expect(bom.command).toEqual(verify.command);
    expect(container(pod, JOB_CONTAINERS.scan).command).toEqual(['trivy']);
  });

  it('patches through the exporter wrapper with Copa v0.14 flags against the BuildKit sidecar', () => {
    const patch = container(pod, JOB_CONTAINERS.patch);
    expect(patch.command).toEqual([RUNTIME_BIN.exporter]);
    const exec = parseExporterExecArgs(argsOf(patch).slice(1));
    expect(argsOf(patch)[0]).toBe('exec');
    expect(exec).toMatchObject({
      logFile: JOB_FILES.copaLog,
      exitCodeFile: JOB_FILES.copaExitCode,
    });
    expect(parseCopaPatch(exec.command)).toEqual({
      image: image.sourceRef,
      report: JOB_FILES.scanBefore,
      tag: 'v2.3.0-p',
      push: true,
      addr: BUILDKIT_ADDRESS,
      timeout: '20m',
      format: 'openvex',
      output: JOB_FILES.vex,
    });
    expect(patch.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(patch.volumeMounts).toContainEqual({
      name: 'buildkit-socket',
      mountPath: '/run/buildkit',
    });
  });

  it('verifies the patched image and builds the BOM with the same vulnerability DB', () => {
    const verify = container(pod, JOB_CONTAINERS.verify);
    expect(argsOf(verify).at(-1)).toBe(image.patchedRef);
    expect(argsOf(verify)).toEqual(
      expect.arrayContaining([
        '--output',
        JOB_FILES.scanAfter,
        '--skip-db-update',
        '--ignore-unfixed',
      ]),
    );
    const bom = container(pod, JOB_CONTAINERS.bom);
    expect(argsOf(bom)).toEqual(
      expect.arrayContaining(['--format', 'cyclonedx', '--output', JOB_FILES.bom]),
    );
    expect(argsOf(bom).at(-1)).toBe(image.patchedRef);
  });

  it('mounts the registry credentials as a docker config.json, read-only', () => {
    const volume = volumeOf(pod, 'registry-credentials');
    expect(volume.secret).toMatchObject({
      secretName: PLANTED.registrySecret,
      items: [{ key: '.dockerconfigjson', path: 'config.json' }],
    });
    for (const name of [JOB_CONTAINERS.scan, JOB_CONTAINERS.patch, JOB_CONTAINERS.verify]) {
      expect(container(pod, name).volumeMounts).toContainEqual({
        name: 'registry-credentials',
        mountPath: '/docker-config',
        readOnly: true,
      });
    }
    expect(container(pod, JOB_CONTAINERS.exporter).volumeMounts?.map((m) => m.name)).not.toContain(
      'registry-credentials',
    );
  });

  it('starts Copa only after buildkitd answers', () => {
    const buildkitd = container(pod, JOB_CONTAINERS.buildkit);
    expect(buildkitd.startupProbe?.exec?.command).toEqual([
      'buildctl',
      '--addr',
      BUILDKIT_ADDRESS,
      'debug',
      'workers',
    ]);
    expect(argsOf(buildkitd)).toEqual([
      '--addr',
      BUILDKIT_ADDRESS,
      '--oci-worker-no-process-sandbox',
    ]);
  });
});

describe('remote BuildKit', () => {
  const { objects } = render(REMOTE_BUILDKIT);
  const pod = podOf(cronJobs(objects)[0]!);

  it('has no sidecar and connects Copa over mTLS with the referenced Secret', () => {
    expect(pod.initContainers?.map((c) => c.name)).toEqual([
      JOB_CONTAINERS.exporter,
      JOB_CONTAINERS.scan,
      JOB_CONTAINERS.patch,
    ]);
    const patch = container(pod, JOB_CONTAINERS.patch);
    const copa = parseCopaPatch(parseExporterExecArgs(argsOf(patch).slice(1)).command);
    expect(copa).toMatchObject({
      addr: 'tcp://buildkitd.build.svc:1234',
      cacert: '/etc/buildkit/tls/ca.pem',
      cert: '/etc/buildkit/tls/cert.pem',
      key: '/etc/buildkit/tls/key.pem',
    });
    expect(volumeOf(pod, 'buildkit-tls').secret?.secretName).toBe(PLANTED.buildkitTlsSecret);
    expect(pod.volumes?.map((v) => v.name)).not.toContain('buildkit-socket');
  });
});

describe('exporter RBAC', () => {
  const { fleet, objects } = render(MINIMAL);
  const [image] = fleet.images;
  if (image === undefined) throw new Error('fixture image missing');

  it('is a Role with exactly get on pods and get/patch on its own digest record by name', () => {
    const role = findKind(objects, 'Role', image.name);
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: [digestRecordName(image.name)],
        verbs: ['get', 'patch'],
      },
    ]);
    expect(role.rules).toEqual(exporterRules(image));
  });

  it("lets no exporter write another job's digest record, the old shared store, or the collector's ConfigMaps", () => {
    const full = render(FULL);
    const all = full.objects.map(({ object }) => object);
    const namespace = full.fleet.namespace;
    const names = full.fleet.images.map((i) => i.name);
    expect(names.length).toBeGreaterThan(2);
    const configMaps = all.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name);
    expect(configMaps).toEqual(expect.arrayContaining(names.map(digestRecordName)));
    for (const account of names) {
      for (const configMap of configMaps) {
        for (const verb of ['patch', 'update', 'delete']) {
          const allowed = serviceAccountCan(
            all,
            { namespace, name: account },
            { verb, group: '', resource: 'configmaps', namespace, name: configMap },
          );
          expect(allowed, `${account} ${verb} ${configMap}`).toBe(
            verb === 'patch' && configMap === digestRecordName(account),
          );
        }
      }
      for (const verb of ['create', 'list', 'watch', 'deletecollection']) {
        expect(
          serviceAccountCan(
            all,
            { namespace, name: account },
            { verb, group: '', resource: 'configmaps', namespace },
          ),
        ).toBe(false);
      }
    }
  });

  it("binds only the image's own ServiceAccount, which the pod uses", () => {
    const binding = findKind(objects, 'RoleBinding', image.name);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: image.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: image.name, namespace: 'copa-fleet' },
    ]);
    expect(podOf(findKind(objects, 'CronJob', image.name)).serviceAccountName).toBe(image.name);
    expect(findKind(objects, 'ServiceAccount', image.name).automountServiceAccountToken).toBe(
      false,
    );
    expect(
      allOfKind(objects, 'ClusterRoleBinding').map((binding) => binding.subjects?.[0]?.name),
    ).not.toContain(image.name);
  });
});

describe('patched-digest store', () => {
  it("is one record per CronJob, labelled for the collector and generated without data so that GitOps never owns the exporter's key", () => {
    const { objects, fleet } = render(MINIMAL);
    const [image] = fleet.images;
    const record = findKind(objects, 'ConfigMap', digestRecordName(image!.name));
    expect(record.metadata?.labels).toMatchObject({
      [DIGEST_RECORD_LABEL.key]: DIGEST_RECORD_LABEL.value,
      [CRONJOB_LABEL]: image!.name,
    });
    expect(record.data).toBeUndefined();
    expect(record.binaryData).toBeUndefined();
    const pod = podOf(findKind(objects, 'CronJob', image!.name));
    const exporter =
      pod.initContainers?.find((c) => c.name === 'exporter') ??
      pod.containers.find((c) => c.name === 'exporter');
    expect(JSON.stringify(exporter?.args)).toContain(digestRecordName(image!.name));
  });

  it('keeps the shared store of earlier releases, unwritten, while the collector may still read it', () => {
    const { objects } = render(MINIMAL);
    const store = findKind(objects, 'ConfigMap', CONFIGMAPS.patchedDigests);
    expect(store.data).toBeUndefined();
    expect(store.binaryData).toBeUndefined();
  });
});
