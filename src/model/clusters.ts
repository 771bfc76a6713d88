/**
 * The clusters of a multi-cluster fleet (inventory `clusters`), resolved: sorted by name (the
 * output never depends on the inventory's order), the patch cluster picked out, and the label name
 * the global query layer tells them apart by.
 */
import type { ClusterRole, Inventory } from '../inventory/schema.ts';

export interface FleetCluster {
  readonly name: string;
  readonly roles: readonly ClusterRole[];
  /** Runs the Copa CronJobs, the Pushgateway and the patched-digest records. */
  readonly patch: boolean;
  /** Runs inventoried workloads. */
  readonly workloads: boolean;
  /** Labels this cluster's Prometheus selects ServiceMonitors by. */
  readonly serviceMonitorLabels: Readonly<Record<string, string>>;
  /** Namespace of everything this cluster applies (`clusters[].namespace`, default `defaults.namespace`). */
  readonly namespace: string;
}

export interface FleetClusters {
  /** `prometheus.clusterLabel`: the external label each cluster's Prometheus sets to the cluster name. */
  readonly label: string;
  /** Every cluster, sorted by name. */
  readonly all: readonly FleetCluster[];
  /** The one cluster with the `patch` role. */
  readonly patch: FleetCluster;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Undefined for a single-cluster inventory (no `clusters`). The schema guarantees one patch cluster. */
export function resolveClusters(inventory: Inventory): FleetClusters | undefined {
  if (inventory.clusters === undefined) return undefined;
  const all = inventory.clusters
    .map((entry): FleetCluster => ({
      name: entry.name,
      roles: [...entry.roles].sort(compare),
      patch: entry.roles.includes('patch'),
      workloads: entry.roles.includes('workloads'),
      serviceMonitorLabels:
        entry.prometheus.serviceMonitorLabels ?? inventory.prometheus.serviceMonitorLabels,
      namespace: entry.namespace ?? inventory.defaults.namespace,
    }))
    .sort((a, b) => compare(a.name, b.name));
  const patch = all.find((cluster) => cluster.patch);
  if (patch === undefined)
    throw new Error(
      'inventory has clusters but none with the role "patch" (the schema should have refused it)',
    );
  return { label: inventory.prometheus.clusterLabel, all, patch };
}
