/**
 * Validates generated Kubernetes objects against the OpenAPI schema of their kind
 * (kubernetes-models for the built-in kinds, @kubernetes-models/prometheus-operator for the
 * monitoring.coreos.com kinds). The kubernetes-models schemas allow unknown fields, so built-in
 * kinds are also round-tripped through @kubernetes/client-node's typed serializer: a field it
 * does not know (a typo, a field of a newer Kubernetes) is reported too. A kind that is not in
 * the table below is an error: nothing passes unvalidated.
 */
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { AlertmanagerConfig as AlertmanagerConfigV1alpha1 } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { AlertmanagerConfig as AlertmanagerConfigV1beta1 } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1beta1/AlertmanagerConfig';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

interface KindEntry {
  readonly model: ModelClass;
  /** @kubernetes/client-node model name, for the unknown-field check of built-in kinds. */
  readonly typed?: string;
}

/** `apiVersion/kind` -> model. Deliberately no Secret: generated output never contains one. */
export const KINDS: Readonly<Record<string, KindEntry>> = {
  'v1/ConfigMap': { model: ConfigMap, typed: 'V1ConfigMap' },
  'v1/Namespace': { model: Namespace, typed: 'V1Namespace' },
  'v1/PersistentVolumeClaim': { model: PersistentVolumeClaim, typed: 'V1PersistentVolumeClaim' },
  'v1/Service': { model: Service, typed: 'V1Service' },
  'v1/ServiceAccount': { model: ServiceAccount, typed: 'V1ServiceAccount' },
  'apps/v1/Deployment': { model: Deployment, typed: 'V1Deployment' },
  'batch/v1/CronJob': { model: CronJob, typed: 'V1CronJob' },
  'batch/v1/Job': { model: Job, typed: 'V1Job' },
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': {
    model: ValidatingAdmissionPolicy,
    typed: 'V1ValidatingAdmissionPolicy',
  },
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': {
    model: ValidatingAdmissionPolicyBinding,
    typed: 'V1ValidatingAdmissionPolicyBinding',
  },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy, typed: 'V1NetworkPolicy' },
  'rbac.authorization.k8s.io/v1/Role': { model: Role, typed: 'V1Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { model: RoleBinding, typed: 'V1RoleBinding' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole, typed: 'V1ClusterRole' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    model: ClusterRoleBinding,
    typed: 'V1ClusterRoleBinding',
  },
  'monitoring.coreos.com/v1/ServiceMonitor': { model: ServiceMonitor },
  'monitoring.coreos.com/v1/PodMonitor': { model: PodMonitor },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule },
  'monitoring.coreos.com/v1alpha1/AlertmanagerConfig': { model: AlertmanagerConfigV1alpha1 },
  'monitoring.coreos.com/v1beta1/AlertmanagerConfig': { model: AlertmanagerConfigV1beta1 },
};

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [key: string]: unknown;
}

export function kindKey(object: { apiVersion?: unknown; kind?: unknown }): string {
  return `${String(object.apiVersion)}/${String(object.kind)}`;
}

/** Every problem with `object`, empty when it is valid. */
export function k8sProblems(object: unknown): string[] {
  if (object === null || typeof object !== 'object') return ['not an object'];
  const key = kindKey(object);
  const entry = KINDS[key];
  if (entry === undefined)
    return [`no schema known for ${key}: add it to test/support/k8s-validate.ts KINDS`];
  const problems: string[] = [];
  try {
    new entry.model(structuredClone(object) as never).validate();
  } catch (error) {
    problems.push(`schema: ${(error as Error).message}`);
  }
  if (entry.typed !== undefined) {
    const roundTripped: unknown = ObjectSerializer.serialize(
      ObjectSerializer.deserialize(structuredClone(object), entry.typed, ''),
      entry.typed,
      '',
    );
    for (const path of droppedPaths(object, roundTripped, ''))
      problems.push(`unknown field ${path}`);
  }
  return problems;
}

/** Paths present in `original` that the typed round trip dropped. */
function droppedPaths(original: unknown, back: unknown, path: string): string[] {
  if (Array.isArray(original)) {
    if (!Array.isArray(back)) return [path];
    return original.flatMap((item, index) => droppedPaths(item, back[index], `${path}[${index}]`));
  }
  if (original !== null && typeof original === 'object') {
    if (back === null || typeof back !== 'object') return [path];
    const backRecord = back as Record<string, unknown>;
    return Object.entries(original as Record<string, unknown>).flatMap(([key, value]) =>
      backRecord[key] === undefined && value !== undefined
        ? [`${path}.${key}`]
        : droppedPaths(value, backRecord[key], `${path}.${key}`),
    );
  }
  return [];
}
