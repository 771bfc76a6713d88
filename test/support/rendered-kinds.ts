/**
 * Typed access to rendered objects: each kind synth emits is read as its kubernetes-models
 * interface (the package k8s-validate checks every rendered object against), so tests walk
 * manifests with the API's field types instead of `any`. Required-in-practice parts (a pod
 * template's spec, a container by name) are fetched by helpers that fail with what is missing.
 */
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { find, type RenderedObject } from './fleet-fixtures.ts';

export interface RenderedKinds {
  ClusterRole: IClusterRole;
  ClusterRoleBinding: IClusterRoleBinding;
  ConfigMap: IConfigMap;
  CronJob: ICronJob;
  Deployment: IDeployment;
  Namespace: INamespace;
  NetworkPolicy: INetworkPolicy;
  PersistentVolumeClaim: IPersistentVolumeClaim;
  Role: IRole;
  RoleBinding: IRoleBinding;
  Service: IService;
  ServiceAccount: IServiceAccount;
  ServiceMonitor: IServiceMonitor;
}

/** `find`, typed by kind (the schema tests validate every rendered object against these models). */
export function findKind<K extends keyof RenderedKinds>(
  objects: readonly RenderedObject[],
  kind: K,
  name: string,
): RenderedKinds[K] {
  return find(objects, kind, name) as unknown as RenderedKinds[K];
}

/** Every rendered object of `kind`, typed. */
export function allOfKind<K extends keyof RenderedKinds>(
  objects: readonly RenderedObject[],
  kind: K,
): RenderedKinds[K][] {
  return objects
    .filter(({ object }) => object.kind === kind)
    .map(({ object }) => object as unknown as RenderedKinds[K]);
}

/** The pod spec of a CronJob's job template or a Deployment's template. */
export function podSpecOf(object: ICronJob | IDeployment): IPodSpec {
  const template =
    object.kind === 'CronJob' ? object.spec?.jobTemplate.spec?.template : object.spec?.template;
  if (template?.spec === undefined)
    throw new Error(`${object.kind}/${object.metadata?.name} has no pod template spec`);
  return template.spec;
}

/** The pod template's labels of a CronJob or a Deployment. */
export function podLabelsOf(object: ICronJob | IDeployment): Record<string, string> {
  const template =
    object.kind === 'CronJob' ? object.spec?.jobTemplate.spec?.template : object.spec?.template;
  const labels = template?.metadata?.labels;
  if (labels === undefined)
    throw new Error(`${object.kind}/${object.metadata?.name} has no pod template labels`);
  return labels;
}

/** Init containers then containers, in pod order. */
export function allContainers(pod: IPodSpec): IContainer[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

export function containerOf(pod: IPodSpec, name: string): IContainer {
  const found = allContainers(pod).find((c) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
}

export function volumeOf(pod: IPodSpec, name: string): IVolume {
  const found = pod.volumes?.find((v) => v.name === name);
  if (found === undefined) throw new Error(`no volume ${name}`);
  return found;
}
