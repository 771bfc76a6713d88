/**
 * Drift-collector health. Every alert except this one joins on the collector's series (inventory,
 * SLA hours, intervals), so a collector that is down, not synced or exporting no inventory makes
 * them all silent: this alert is therefore critical.
 */
import { ALERTS, JOBS, L, METRICS } from '../../shared/metrics.ts';
import { statPanel, tablePanel, timeseriesPanel } from '../panels.ts';
import { UPSTREAM } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { resource } = L;
const DOWN_FOR = '10m';

export function collectorConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  const up = q.series(UPSTREAM.up);
  /** No label survives any branch, so the branches merge into one alert. */
  const collectorDown = [
    `(${q.constant(1)} unless ${q.on()} (${up} == 1))`,
    `(${q.constant(1)} unless ${q.on()} ${q.series(METRICS.inventoryImageInfo)})`,
    `(${q.constant(1)} and ${q.on()} (${q.agg('min', q.series(METRICS.collectorInformerSynced))} == 0))`,
  ].join(' or ');
  return {
    name: 'collector',
    records: [],
    alerts: [
      {
        alert: ALERTS.collectorDown,
        outputLabels: [],
        expr: collectorDown,
        for: DOWN_FOR,
        severity: 'critical',
        summary: 'The copa-fleet drift collector is down or not synced',
        description:
          `For ${DOWN_FOR}, no scrape target of job "${JOBS.collector}" was up, or it exported no inventory, or one of its informers was not synced. ` +
          'Drift, CVE age, coverage and inventory series are missing, and every copa-fleet alert that joins on them is silent.',
      },
    ],
    panels: {
      up: statPanel({
        title: 'Drift collector',
        description: `Scrape health of job "${JOBS.collector}" (1 = up).`,
        queries: [{ expr: q.agg('max', up) }],
        width: 4,
        height: 6,
        thresholds: [
          { value: null, color: 'red' },
          { value: 1, color: 'green' },
        ],
        noValue: 'no target',
      }),
      lastSync: statPanel({
        title: 'Collector: time since last full sync',
        description:
          'Since the collector last had every informer synced and recomputed its metrics.',
        queries: [
          { expr: `time() - ${q.agg('max', q.series(METRICS.collectorLastSyncTimestamp))}` },
        ],
        width: 4,
        height: 6,
        unit: 's',
        thresholds: [
          { value: null, color: 'green' },
          { value: 600, color: 'orange' },
        ],
      }),
      informers: tablePanel({
        title: 'Collector informers',
        description: '1 while the informer of the resource holds a complete, current list.',
        queries: [{ expr: `min ${q.by(resource)} (${q.series(METRICS.collectorInformerSynced)})` }],
        width: 4,
        height: 6,
        rename: { Value: 'synced' },
        colorColumn: 'synced',
        thresholds: [
          { value: null, color: 'red' },
          { value: 1, color: 'green' },
        ],
      }),
      apiErrors: timeseriesPanel({
        title: 'Collector API errors and watch restarts',
        description:
          'Per second, by resource: Kubernetes API errors and restarted watches (expiry, 410 Gone, connection loss).',
        queries: [
          {
            expr: `sum ${q.by(resource)} (${q.overTime('rate', METRICS.collectorApiErrorsTotal, '$__rate_interval')})`,
            legend: `errors {{${resource}}}`,
          },
          {
            expr: `sum ${q.by(resource)} (${q.overTime('rate', METRICS.collectorWatchRestartsTotal, '$__rate_interval')})`,
            legend: `watch restarts {{${resource}}}`,
          },
        ],
        width: 12,
        height: 6,
        unit: 'reqps',
      }),
    },
  } satisfies Concern;
}
