/**
 * Names of the generated objects that are not per image (per-image objects are named after the
 * CronJob, FleetImage.name). Service names double as Prometheus `job` labels, so they come from
 * the metric vocabulary.
 */
import { JOBS } from '../shared/metrics.ts';

/** Deployment, ServiceAccount, Role(Binding), Service and ServiceMonitor of the drift collector. */
export const COLLECTOR_NAME = JOBS.collector;
/** Deployment, Service and ServiceMonitor of the generated Pushgateway. */
export const PUSHGATEWAY_NAME = JOBS.pushgateway;
export const PUSHGATEWAY_PORT = 9091;

/**
 * Cluster-scoped objects need a name that is unique in the cluster: two fleets in two namespaces
 * must not share (and overwrite) one ClusterRole.
 */
export function collectorClusterRoleName(namespace: string): string {
  return `${COLLECTOR_NAME}-${namespace}`;
}

/** The generated Pushgateway's in-cluster URL (what the exporters push to). */
export function pushgatewayServiceUrl(namespace: string): string {
  return `http://${PUSHGATEWAY_NAME}.${namespace}.svc:${PUSHGATEWAY_PORT}`;
}

/** The Pushgateway the exporters push to and the collector cleans up: the inventory's URL, else the generated one. */
export function fleetPushgatewayUrl(
  pushgateway: { readonly url?: string | undefined },
  namespace: string,
): string {
  return pushgateway.url ?? pushgatewayServiceUrl(namespace);
}
