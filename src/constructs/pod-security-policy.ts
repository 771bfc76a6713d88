/**
 * A ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30) and its
 * binding that narrow the fleet namespace's Pod Security exception to exactly the rootless
 * BuildKit sidecar.
 *
 * Why: the namespace must enforce `privileged` for the sidecar (even `baseline` forbids Unconfined
 * seccomp), which on its own admits any privileged pod there (fleet-namespace.ts). This policy
 * re-imposes `restricted` on every container of every pod and pod template in the namespace, with
 * one exception: the `buildkitd` native sidecar of a copa-fleet patch-job pod, running the
 * configured BuildKit image with the documented security context (security.ts
 * buildkitSecurityContext). Pod-level controls (host namespaces, volume types, sysctls, pod
 * security context, AppArmor annotations) hold for every pod. Pods are checked, and so are the
 * workloads that create them, so that a bad `kubectl apply` fails at once.
 *
 * The CEL keeps to what Kubernetes' CEL environment has: the standard macros (has, all, exists,
 * filter, map), `dyn`, `string`, `startsWith`, `in`, `size`, and `join` from its strings library.
 * Every value is read through `dyn(object)`: the policy matches several kinds, and type checking
 * (status.typeChecking) would otherwise warn about fields one kind lacks; at admission time the
 * object is an untyped map either way. Each rule is a variable listing the offending containers
 * (or volumes, sysctls, annotations), and its validation names them in the message.
 */
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { JOB_CONTAINERS } from '../shared/contract.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { BUILDKIT_UID, buildkitSecurityContext } from './security.ts';

/** Cluster-scoped: one policy per fleet namespace, so that two fleets never overwrite each other's. */
export function podSecurityPolicyName(namespace: string): string {
  return `copa-fleet-pod-security-${namespace}`;
}

/** The label the API server sets on every namespace (Kubernetes >= 1.22): selects the fleet namespace. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Restricted: volume types (Pod Security Standards, "Volume Types"). */
const RESTRICTED_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
/** Baseline: the safe sysctls (Pod Security Standards, "Sysctls", as of Kubernetes 1.32). */
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
/** Baseline: SELinux types a container may ask for. */
const SELINUX_TYPES = [
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
];
const CONFINED_PROFILES = ['RuntimeDefault', 'Localhost'];
/** The deprecated per-container AppArmor annotation (still honoured by the kubelet). */
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** Resources whose objects carry a pod or a pod template, by API group. */
const POD_RESOURCES: readonly { readonly group: string; readonly resources: readonly string[] }[] =
  [
    // pods/ephemeralcontainers: `kubectl debug` adds containers to a running pod through this subresource.
    { group: '', resources: ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers'] },
    { group: 'apps', resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'] },
    { group: 'batch', resources: ['cronjobs', 'jobs'] },
  ];

const lit = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const list = (values: readonly string[]): string => `[${values.map(lit).join(', ')}]`;

/** `has(x.a) && has(x.a.b) && ...`: CEL errors on a missing map key, so every step is tested. */
function present(root: string, path: readonly string[]): string {
  return path.map((_, i) => `has(${[root, ...path.slice(0, i + 1)].join('.')})`).join(' && ');
}

/** A container's securityContext field `path` is set and satisfies `test` (applied to the field's expression). */
function scField(path: readonly string[], test: (field: string) => string): string {
  const full = ['securityContext', ...path];
  return `(${present('c', full)} && ${test(['c', ...full].join('.'))})`;
}

interface Rule {
  /** CEL variable name: the list of offenders. */
  readonly name: string;
  /** CEL list expression of the offending names (strings). */
  readonly offenders: string;
  /** What the offenders break, after their names. */
  readonly rule: string;
  /** How the offenders are introduced, e.g. "container" or "volume". */
  readonly what: string;
}

/** A rule over the containers in `containers` (a variable), offending when `bad` (over `c`) holds. */
function containerRule(name: string, containers: string, bad: string, rule: string): Rule {
  return {
    name,
    offenders: `variables.${containers}.filter(c, ${bad}).map(c, string(c.name))`,
    rule,
    what: 'container',
  };
}

function rules(image: string): Rule[] {
  const sidecar = buildkitSecurityContext();
  const allowedSidecarCaps = sidecar.capabilities?.add ?? [];
  const all = 'allContainers';
  const restricted = 'restrictedContainers';
  const candidate = 'buildkitSidecar';
  const seccompConfined = (field: string) => `${field}.type in ${list(CONFINED_PROFILES)}`;
  return [
    // Pod level, every pod.
    {
      name: 'hostNamespaces',
      offenders: `['hostNetwork', 'hostPID', 'hostIPC'].filter(f, f in variables.podSpec && variables.podSpec[f] == true)`,
      rule: 'must not be true (host namespaces)',
      what: 'pod field',
    },
    {
      name: 'hostPathVolumes',
      offenders: 'variables.volumes.filter(v, has(v.hostPath)).map(v, string(v.name))',
      rule: 'hostPath volumes are not allowed',
      what: 'volume',
    },
    {
      name: 'volumeTypes',
      offenders: `variables.volumes.filter(v, !has(v.hostPath) && !v.all(k, k in ${list(['name', ...RESTRICTED_VOLUME_TYPES])})).map(v, string(v.name))`,
      rule: `only ${RESTRICTED_VOLUME_TYPES.join(', ')} volumes are allowed`,
      what: 'volume',
    },
    {
      name: 'unsafeSysctls',
      offenders: `(${present('variables.podSecurityContext', ['sysctls'])} ? variables.podSecurityContext.sysctls : []).filter(s, !(s.name in ${list(SAFE_SYSCTLS)})).map(s, string(s.name))`,
      rule: 'only the safe sysctls are allowed',
      what: 'sysctl',
    },
    {
      name: 'podSettings',
      offenders: [
        `(${present('variables.podSecurityContext', ['seccompProfile'])} && !(${seccompConfined('variables.podSecurityContext.seccompProfile')}) ? ['seccompProfile must be RuntimeDefault or Localhost'] : [])`,
        `(${present('variables.podSecurityContext', ['appArmorProfile'])} && !(variables.podSecurityContext.appArmorProfile.type in ${list(CONFINED_PROFILES)}) ? ['appArmorProfile must be RuntimeDefault or Localhost'] : [])`,
        `(${present('variables.podSecurityContext', ['runAsUser'])} && variables.podSecurityContext.runAsUser == 0 ? ['runAsUser must not be 0'] : [])`,
        `(${present('variables.podSecurityContext', ['seLinuxOptions'])} && (has(variables.podSecurityContext.seLinuxOptions.user) || has(variables.podSecurityContext.seLinuxOptions.role) || (has(variables.podSecurityContext.seLinuxOptions.type) && !(variables.podSecurityContext.seLinuxOptions.type in ${list(SELINUX_TYPES)}))) ? ['seLinuxOptions must not set user or role, and only a container SELinux type'] : [])`,
        `(${present('variables.podSecurityContext', ['windowsOptions', 'hostProcess'])} && variables.podSecurityContext.windowsOptions.hostProcess == true ? ['windowsOptions.hostProcess must not be true'] : [])`,
      ].join(' + '),
      rule: 'not allowed in the pod securityContext',
      what: 'setting',
    },
    {
      // Kubernetes 1.30 to 1.32 copy a container's appArmorProfile field into this annotation
      // before validating admission runs (pod strategy, applyAppArmorVersionSkew), so the sidecar's
      // own `unconfined` annotation is part of the exception; any other container's is not.
      name: 'appArmorAnnotations',
      offenders: `variables.annotations.filter(k, k.startsWith(${lit(APPARMOR_ANNOTATION_PREFIX)}) && !(variables.annotations[k] == 'runtime/default' || variables.annotations[k].startsWith('localhost/')) && !(size(variables.buildkitSidecar) > 0 && k == ${lit(APPARMOR_ANNOTATION_PREFIX + JOB_CONTAINERS.buildkit)} && variables.annotations[k] == 'unconfined')).map(k, string(k))`,
      rule: 'must be runtime/default or localhost/<profile>',
      what: 'annotation',
    },
    // Baseline, every container including the sidecar.
    containerRule(
      'privileged',
      all,
      scField(['privileged'], (f) => `${f} == true`),
      'securityContext.privileged must not be true',
    ),
    containerRule(
      'hostPorts',
      all,
      '(has(c.ports) && c.ports.exists(p, has(p.hostPort) && p.hostPort != 0))',
      'hostPort must not be set',
    ),
    containerRule(
      'procMount',
      all,
      scField(['procMount'], (f) => `${f} != 'Default'`),
      'securityContext.procMount must be Default',
    ),
    containerRule(
      'seLinux',
      all,
      scField(
        ['seLinuxOptions'],
        (f) =>
          `(has(${f}.user) || has(${f}.role) || (has(${f}.type) && !(${f}.type in ${list(SELINUX_TYPES)})))`,
      ),
      'securityContext.seLinuxOptions must not set user or role, and only a container SELinux type',
    ),
    containerRule(
      'hostProcess',
      all,
      scField(['windowsOptions', 'hostProcess'], (f) => `${f} == true`),
      'securityContext.windowsOptions.hostProcess must not be true',
    ),
    containerRule(
      'runAsNonRoot',
      all,
      `!(${present('c', ['securityContext', 'runAsNonRoot'])} ? c.securityContext.runAsNonRoot == true : variables.podRunAsNonRoot)`,
      'runAsNonRoot must be true (in the container or the pod securityContext)',
    ),
    containerRule(
      'runAsRoot',
      all,
      scField(['runAsUser'], (f) => `${f} == 0`),
      'securityContext.runAsUser must not be 0',
    ),
    // Restricted, every container but the sidecar.
    containerRule(
      'privilegeEscalation',
      restricted,
      `!${scField(['allowPrivilegeEscalation'], (f) => `${f} == false`)}`,
      'securityContext.allowPrivilegeEscalation must be false',
    ),
    containerRule(
      'capabilitiesDrop',
      restricted,
      `!${scField(['capabilities', 'drop'], (f) => `'ALL' in ${f}`)}`,
      'securityContext.capabilities.drop must contain ALL',
    ),
    containerRule(
      'capabilitiesAdd',
      restricted,
      scField(['capabilities', 'add'], (f) => `${f}.exists(a, a != 'NET_BIND_SERVICE')`),
      'securityContext.capabilities.add may only contain NET_BIND_SERVICE',
    ),
    containerRule(
      'seccomp',
      restricted,
      `!(${present('c', ['securityContext', 'seccompProfile'])} ? ${seccompConfined('c.securityContext.seccompProfile')} : variables.podSeccompConfined)`,
      'seccompProfile must be RuntimeDefault or Localhost (in the container or the pod securityContext)',
    ),
    containerRule(
      'appArmor',
      restricted,
      scField(['appArmorProfile'], (f) => `!(${f}.type in ${list(CONFINED_PROFILES)})`),
      'securityContext.appArmorProfile must be RuntimeDefault or Localhost',
    ),
    // The one exception, held to exactly its documented shape.
    containerRule(
      'sidecarImage',
      candidate,
      `c.image != ${lit(image)}`,
      `must run the configured rootless BuildKit image ${image}`,
    ),
    containerRule(
      'sidecarCommand',
      candidate,
      `has(c.command)`,
      'must keep the entrypoint of its image (no command)',
    ),
    containerRule(
      'sidecarRestartPolicy',
      candidate,
      `!(has(c.restartPolicy) && c.restartPolicy == 'Always')`,
      'must be a native sidecar (restartPolicy Always)',
    ),
    containerRule(
      'sidecarUser',
      candidate,
      `!${scField(['runAsUser'], (f) => `${f} == ${BUILDKIT_UID}`)}`,
      `securityContext.runAsUser must be ${BUILDKIT_UID}`,
    ),
    containerRule(
      'sidecarCapabilitiesDrop',
      candidate,
      `!${scField(['capabilities', 'drop'], (f) => `'ALL' in ${f}`)}`,
      'securityContext.capabilities.drop must contain ALL',
    ),
    containerRule(
      'sidecarCapabilitiesAdd',
      candidate,
      scField(
        ['capabilities', 'add'],
        (f) => `${f}.exists(a, !(a in ${list(allowedSidecarCaps)}))`,
      ),
      `securityContext.capabilities.add may only contain ${allowedSidecarCaps.join(', ')}`,
    ),
  ];
}

/** The policy's variables: where the pod is in each kind, its parts, and one offender list per rule. */
export function policyVariables(buildkitImage: string): { name: string; expression: string }[] {
  const patchJob = selectorLabels('patch-job');
  const isPatchJob = Object.entries(patchJob)
    .map(
      ([key, value]) =>
        `(${lit(key)} in variables.labels && variables.labels[${lit(key)}] == ${lit(value)})`,
    )
    .join(' && ');
  const sidecar = lit(JOB_CONTAINERS.buildkit);
  const listOf = (field: string) =>
    `(has(variables.podSpec.${field}) ? variables.podSpec.${field} : [])`;
  return [
    {
      name: 'template',
      expression:
        "object.kind == 'Pod' ? dyn(object) : (object.kind == 'CronJob' ? dyn(object).spec.jobTemplate.spec.template : dyn(object).spec.template)",
    },
    { name: 'podSpec', expression: 'variables.template.spec' },
    {
      name: 'podMetadata',
      expression: 'has(variables.template.metadata) ? variables.template.metadata : {}',
    },
    {
      name: 'labels',
      expression: 'has(variables.podMetadata.labels) ? variables.podMetadata.labels : {}',
    },
    {
      name: 'annotations',
      expression: 'has(variables.podMetadata.annotations) ? variables.podMetadata.annotations : {}',
    },
    {
      name: 'podSecurityContext',
      expression: 'has(variables.podSpec.securityContext) ? variables.podSpec.securityContext : {}',
    },
    {
      name: 'podRunAsNonRoot',
      expression: `${present('variables.podSecurityContext', ['runAsNonRoot'])} && variables.podSecurityContext.runAsNonRoot == true`,
    },
    {
      name: 'podSeccompConfined',
      expression: `${present('variables.podSecurityContext', ['seccompProfile'])} && variables.podSecurityContext.seccompProfile.type in ${list(CONFINED_PROFILES)}`,
    },
    { name: 'volumes', expression: listOf('volumes') },
    { name: 'isPatchJob', expression: isPatchJob },
    { name: 'initContainers', expression: listOf('initContainers') },
    {
      name: 'allContainers',
      expression: `variables.initContainers + ${listOf('containers')} + ${listOf('ephemeralContainers')}`,
    },
    // Only an init container can be the sidecar; a main or ephemeral `buildkitd` is an ordinary container.
    {
      name: 'buildkitSidecar',
      expression: `variables.isPatchJob ? variables.initContainers.filter(c, c.name == ${sidecar}) : []`,
    },
    {
      name: 'restrictedContainers',
      expression: `variables.initContainers.filter(c, !(variables.isPatchJob && c.name == ${sidecar})) + ${listOf('containers')} + ${listOf('ephemeralContainers')}`,
    },
    ...rules(buildkitImage).map((rule) => ({ name: rule.name, expression: rule.offenders })),
  ];
}

export function policyValidations(
  buildkitImage: string,
): { expression: string; messageExpression: string; message: string; reason: string }[] {
  return rules(buildkitImage).map((rule) => ({
    expression: `size(variables.${rule.name}) == 0`,
    // Shown by kubectl after "denied request: ": which containers broke which rule.
    messageExpression: `'copa-fleet pod security: ${rule.what} ' + variables.${rule.name}.join(', ') + ${lit(`: ${rule.rule}`)}`,
    message: `copa-fleet pod security: ${rule.rule}`,
    reason: 'Forbidden',
  }));
}

export interface PodSecurityPolicyProps {
  /** The fleet namespace: the only one the policy applies to. */
  readonly namespace: string;
  /** The rootless BuildKit image the sidecar must run (`defaults.buildkit.image`). */
  readonly buildkitImage: string;
}

/** Cluster-scoped objects: put it in a chart without a default namespace. */
export class PodSecurityPolicy extends Construct {
  constructor(scope: Construct, id: string, props: PodSecurityPolicyProps) {
    super(scope, id);
    const { namespace, buildkitImage } = props;
    const name = podSecurityPolicyName(namespace);
    const labels = appLabels('admission-policy');
    const namespaceSelector = { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } };
    new k8s.KubeValidatingAdmissionPolicy(this, 'Policy', {
      metadata: { name, labels },
      spec: {
        // An expression that errors refuses the request: never admit what could not be checked.
        failurePolicy: 'Fail',
        matchConstraints: {
          namespaceSelector,
          resourceRules: POD_RESOURCES.map(({ group, resources }) => ({
            apiGroups: [group],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE'],
            resources: [...resources],
          })),
        },
        variables: policyVariables(buildkitImage),
        validations: policyValidations(buildkitImage),
      },
    });
    new k8s.KubeValidatingAdmissionPolicyBinding(this, 'Binding', {
      metadata: { name, labels },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector },
      },
    });
  }
}
