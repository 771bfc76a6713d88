/** The `app.kubernetes.io/*` labels every generated object carries. */
import { PIPELINE_LABEL } from '../shared/contract.ts';

export const APP_NAME = 'copa-fleet';
const MANAGED_BY = 'copa-fleet';

export type Component =
  | 'patch-job'
  | 'drift-collector'
  | 'pushgateway'
  | 'monitoring'
  | 'patched-digest-store'
  | 'namespace'
  | 'admission-policy';

/** The owning team of an image, on its CronJob, Job and Pod (filters in kubectl and dashboards). */
export const TEAM_LABEL = 'copa-fleet.dev/team';

/** Recommended labels; `instance` distinguishes objects of one component (e.g. one per image). */
export function appLabels(component: Component, instance?: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': APP_NAME,
    'app.kubernetes.io/component': component,
    [PIPELINE_LABEL.key]: PIPELINE_LABEL.value,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    ...(instance !== undefined && { 'app.kubernetes.io/instance': instance }),
  };
}

/** The subset that selects a component's pods (stable: never includes versions). */
export function selectorLabels(component: Component, instance?: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': APP_NAME,
    'app.kubernetes.io/component': component,
    ...(instance !== undefined && { 'app.kubernetes.io/instance': instance }),
  };
}
