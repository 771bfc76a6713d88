/**
 * A ConfigMap whose data is written at runtime (the patched-digest store, the collector's SLA
 * clock), generated WITHOUT a `data` field on purpose:
 *
 * - Exporters merge-patch their own key into the patched-digest store and the collector patches
 *   its state; the generator must never own those keys. With `kubectl apply` (client-side, 3-way)
 *   a field absent from the last-applied configuration is never deleted, and with server-side
 *   apply (Argo CD `ServerSideApply=true`, Flux) the runtime's field manager keeps owning its keys.
 *   A generated `data: {}` would be owned by the GitOps tool and could wipe every record.
 * - Generating the object at all (rather than letting the runtime create it) keeps RBAC
 *   name-scoped: `create` cannot be restricted by resourceName, `get`/`patch`/`update` can.
 *
 * Do not apply these with `kubectl replace`/`--force` or Argo CD `Replace=true`: a replace drops
 * the runtime's keys.
 */
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';

export interface RuntimeStateConfigMapProps {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
}

export const DESCRIPTION_ANNOTATION = 'copa-fleet.dev/description';

export function runtimeStateConfigMap(
  scope: Construct,
  id: string,
  props: RuntimeStateConfigMapProps,
): k8s.KubeConfigMap {
  return new k8s.KubeConfigMap(scope, id, {
    metadata: {
      name: props.name,
      labels: { ...props.labels },
      annotations: { [DESCRIPTION_ANNOTATION]: props.description },
    },
  });
}
