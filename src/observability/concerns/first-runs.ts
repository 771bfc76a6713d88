/**
 * Images that never got going: an inventoried CronJob that never reported a run
 * (`never_reported`), or whose runs never succeeded (`never_succeeded`), for longer than its
 * schedule interval plus grace. The inventory comes from the collector's
 * `fleet_inventory_image_info` (one series per image, so no `absent()` per image); run and
 * success evidence from run-evidence.ts.
 *
 * PromQL cannot know when an image entered the inventory, so these rules wait with
 * `for: interval + grace`, one rule per distinct schedule interval of the fleet (labelled
 * `schedule_interval`), and read the inventory through `last_over_time(...[15m])` so that a
 * collector restart or a failed scrape does not restart a day-long `for`. Every image onboarded and
 * not yet run holds a pending alert here for a day or more; this group is kept apart from
 * missing-runs' freshness checks so that those are never evaluated behind a fleet's worth of
 * pending alerts (Prometheus evaluates groups concurrently, rules within a group in turn).
 */
import { ALERTS, L, METRICS, type MissingReason } from '../../shared/metrics.ts';
import { tablePanel } from '../panels.ts';
import { by, duration, on } from '../promql.ts';
import type { FleetQueries } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { AlertDefinition, Concern } from '../types.ts';
import { missingSummary, runEvidence, successEvidence } from './run-evidence.ts';

const { image, cronjob, team, missingReason } = L;
/** A collector gap shorter than this does not interrupt the never-reported countdown. */
const COLLECTOR_GAP_TOLERANCE = '15m';

/** Inventoried CronJobs with the given schedule interval, read across short collector gaps. */
function inventoriedWithInterval(q: FleetQueries, intervalSeconds: number): string {
  const info = `group ${by(image, cronjob, team)} (last_over_time(${q.series(METRICS.inventoryImageInfo)}[${COLLECTOR_GAP_TOLERANCE}]))`;
  const interval = `max ${by(image)} (last_over_time(${q.series(METRICS.inventoryScheduleIntervalSeconds)}[${COLLECTOR_GAP_TOLERANCE}]))`;
  return `(${info} and ${on(image)} (${interval} == ${intervalSeconds}))`;
}

export function firstRunsConcern(settings: ObservabilitySettings) {
  const graceHours = settings.missingRunGraceSeconds / 3600;
  const { q } = settings;
  const RUN_EVIDENCE = runEvidence(q);
  const SUCCESS_EVIDENCE = successEvidence(q);
  const neverRule = (reason: MissingReason, interval: number, expr: string, what: string): AlertDefinition => ({
    alert: ALERTS.jobMissing,
    outputLabels: [L.image, L.cronjob, L.team],
    expr,
    for: duration(interval + settings.missingRunGraceSeconds),
    severity: 'warning',
    labels: { [missingReason]: reason, [L.scheduleInterval]: duration(interval) },
    summary: missingSummary(reason),
    description:
      `CronJob ${settings.namespace}/{{ $labels.${cronjob} }} ({{ $labels.${image} }}) has been in the inventory for more than its ` +
      `schedule interval plus ${graceHours} h (${duration(interval + settings.missingRunGraceSeconds)}) and ${what}: the image has never been patched.`,
  });
  const alerts = settings.scheduleIntervals.flatMap((interval) => {
    const inventoried = inventoriedWithInterval(q, interval);
    return [
      neverRule('never_reported', interval, `${inventoried} unless ${on(image, cronjob)} ${RUN_EVIDENCE}`, 'no run ever reported'),
      neverRule(
        'never_succeeded',
        interval,
        `(${inventoried} and ${on(image, cronjob)} ${RUN_EVIDENCE}) unless ${on(image, cronjob)} ${SUCCESS_EVIDENCE}`,
        'its runs reported, but none succeeded',
      ),
    ];
  });
  return {
    name: 'first-runs',
    records: [],
    alerts,
    panels: {
      neverReported: tablePanel({
        title: 'Inventoried images that never reported',
        description: 'Inventory entries with no exporter heartbeat and no CronJob schedule on record: their CronJob never ran, or its runs never reached the Pushgateway.',
        queries: [{ expr: `${q.inventory.byCronjobTeam} unless ${on(image, cronjob)} ${RUN_EVIDENCE}` }],
        width: 6,
        height: 8,
        hide: ['Value'],
        noValue: 'none',
      }),
    },
  } satisfies Concern;
}
