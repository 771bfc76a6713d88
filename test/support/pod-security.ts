/**
 * Pod Security Standard `restricted` (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
 * every baseline and restricted control, plus copa-fleet's own rules (read-only root filesystem,
 * explicit non-root UID, requests and limits on every container). Returns violations, each
 * naming the container (or `<pod>` for pod-level ones), so tests can assert exactly where the
 * one documented exception is.
 */
import type { K8sObject } from './k8s-validate.ts';

export interface Violation {
  readonly container: string;
  readonly control: string;
}

type Json = Record<string, unknown>;
const POD = '<pod>';

/** The pod template spec of a workload, or undefined for objects without pods. */
export function podSpecOf(object: K8sObject): Json | undefined {
  const spec = object.spec as Json | undefined;
  switch (object.kind) {
    case 'Pod':
      return spec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return ((spec?.template as Json | undefined)?.spec as Json | undefined) ?? {};
    case 'CronJob':
      return (
        ((
          ((spec?.jobTemplate as Json | undefined)?.spec as Json | undefined)?.template as
            Json | undefined
        )?.spec as Json | undefined) ?? {}
      );
    default:
      return undefined;
  }
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
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
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/** seLinuxOptions.type as text ('' when unset); a non-string type never matches an allowed one. */
function seLinuxType(securityContext: Json): string {
  const type = (securityContext.seLinuxOptions as Json | undefined)?.type ?? '';
  return typeof type === 'string' ? type : JSON.stringify(type);
}

export function restrictedViolations(pod: Json): Violation[] {
  const out: Violation[] = [];
  const add = (container: string, control: string): void => {
    out.push({ container, control });
  };
  const podSc = (pod.securityContext as Json | undefined) ?? {};

  if (pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true)
    add(POD, 'host namespaces');
  for (const volume of (pod.volumes as Json[] | undefined) ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (type === 'hostPath') add(POD, `hostPath volume ${String(volume.name)}`);
    if (type === undefined || !RESTRICTED_VOLUME_TYPES.has(type))
      add(POD, `volume type ${String(type)} (${String(volume.name)})`);
  }
  for (const sysctl of (podSc.sysctls as Json[] | undefined) ?? [])
    if (!SAFE_SYSCTLS.has(String(sysctl.name))) add(POD, `unsafe sysctl ${String(sysctl.name)}`);
  if ((podSc.appArmorProfile as Json | undefined)?.type === 'Unconfined')
    add(POD, 'AppArmor Unconfined');
  if (!SELINUX_TYPES.has(seLinuxType(podSc))) add(POD, 'SELinux type');
  if (podSc.runAsUser === 0) add(POD, 'runAsUser 0');
  const podSeccomp = (podSc.seccompProfile as Json | undefined)?.type;
  if (podSeccomp === 'Unconfined') add(POD, 'seccomp Unconfined');

  const containers = [
    ...((pod.initContainers as Json[] | undefined) ?? []),
    ...((pod.containers as Json[] | undefined) ?? []),
    ...((pod.ephemeralContainers as Json[] | undefined) ?? []),
  ];
  for (const container of containers) {
    const name = String(container.name);
    const sc = (container.securityContext as Json | undefined) ?? {};
    const caps = (sc.capabilities as Json | undefined) ?? {};
    const added = (caps.add as string[] | undefined) ?? [];
    const dropped = (caps.drop as string[] | undefined) ?? [];
    // baseline
    if (sc.privileged === true) add(name, 'privileged');
    if (added.some((cap) => !BASELINE_CAPABILITIES.has(cap)))
      add(name, 'capabilities beyond baseline');
    if (
      ((container.ports as Json[] | undefined) ?? []).some(
        (port) => port.hostPort !== undefined && port.hostPort !== 0,
      )
    )
      add(name, 'hostPort');
    if ((sc.appArmorProfile as Json | undefined)?.type === 'Unconfined')
      add(name, 'AppArmor Unconfined');
    if (!SELINUX_TYPES.has(seLinuxType(sc))) add(name, 'SELinux type');
    if (
      (sc.seLinuxOptions as Json | undefined)?.user !== undefined ||
      (sc.seLinuxOptions as Json | undefined)?.role !== undefined
    )
      add(name, 'SELinux user or role');
    if (sc.procMount !== undefined && sc.procMount !== 'Default') add(name, 'procMount');
    // restricted
    if (sc.allowPrivilegeEscalation !== false) add(name, 'allowPrivilegeEscalation not false');
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (nonRoot !== true) add(name, 'runAsNonRoot not true');
    if (sc.runAsUser === 0) add(name, 'runAsUser 0');
    const seccomp = (sc.seccompProfile as Json | undefined)?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      add(name, `seccomp ${String(seccomp)}`);
    if (!dropped.includes('ALL')) add(name, 'capabilities not dropping ALL');
    if (added.some((cap) => cap !== 'NET_BIND_SERVICE'))
      add(name, `capabilities added: ${added.join(',')}`);
    // copa-fleet's own rules
    if (sc.readOnlyRootFilesystem !== true) add(name, 'root filesystem writable');
    if (typeof (sc.runAsUser ?? podSc.runAsUser) !== 'number') add(name, 'no explicit runAsUser');
    const resources = (container.resources as Json | undefined) ?? {};
    for (const kind of ['requests', 'limits'] as const) {
      const values = (resources[kind] as Json | undefined) ?? {};
      if (values.cpu === undefined || values.memory === undefined) add(name, `missing ${kind}`);
    }
  }
  return out;
}
