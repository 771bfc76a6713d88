/**
 * The collector's own health metrics (copa_fleet_collector_*), fed by the reflectors and the
 * state store. Every resource's series exist from the start (at 0), so rates work immediately.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  COLLECTOR_RESOURCES,
  METRICS,
  type CollectorResource,
  type MetricKey,
} from '../../src/shared/metrics.ts';
import type { KubeApiError } from './kube/errors.ts';
import type { ReflectorHealth, WatchEndReason } from './kube/reflector.ts';

/** The vocabulary keys of the health metrics (every other collector metric is a family of families/table.ts). */
export const HEALTH_METRIC_KEYS = [
  'collectorLastSyncTimestamp',
  'collectorInformerSynced',
  'collectorApiErrorsTotal',
  'collectorWatchRestartsTotal',
] as const satisfies readonly MetricKey[];

export class CollectorHealth implements ReflectorHealth {
  private readonly lastSync: Gauge<string>;
  private readonly synced: Gauge<string>;
  private readonly apiErrors: Counter<string>;
  private readonly watchRestarts: Counter<string>;

  constructor(registry: Registry) {
    const gauge = (def: (typeof METRICS)[keyof typeof METRICS]) =>
      new Gauge({
        name: def.name,
        help: def.help,
        labelNames: [...def.labels],
        registers: [registry],
      });
    const counter = (def: (typeof METRICS)[keyof typeof METRICS]) =>
      new Counter({
        name: def.name,
        help: def.help,
        labelNames: [...def.labels],
        registers: [registry],
      });
    this.lastSync = gauge(METRICS.collectorLastSyncTimestamp);
    this.synced = gauge(METRICS.collectorInformerSynced);
    this.apiErrors = counter(METRICS.collectorApiErrorsTotal);
    this.watchRestarts = counter(METRICS.collectorWatchRestartsTotal);
    for (const resource of Object.values(COLLECTOR_RESOURCES)) {
      this.apiErrors.inc({ resource }, 0);
      if (resource !== COLLECTOR_RESOURCES.state) {
        this.watchRestarts.inc({ resource }, 0);
        this.synced.set({ resource }, 0);
      }
    }
  }

  apiError(resource: CollectorResource, _error: KubeApiError): void {
    this.apiErrors.inc({ resource });
  }

  watchRestart(resource: CollectorResource, _reason: WatchEndReason): void {
    this.watchRestarts.inc({ resource });
  }

  syncedChanged(resource: CollectorResource, synced: boolean): void {
    this.synced.set({ resource }, synced ? 1 : 0);
  }

  markSynced(nowMs: number): void {
    this.lastSync.set(nowMs / 1000);
  }
}
