/**
 * Silent failure: an inventoried image that stops getting runs, or successful runs, within its
 * schedule interval plus grace, including a CronJob that never reported at all. The inventory comes
 * from the collector's `fleet_inventory_image_info` (one series per image, so no `absent()` per
 * image), the interval from `fleet_inventory_schedule_interval_seconds`; run evidence is the
 * exporter's heartbeat or the CronJob's last schedule time (seen by the collector), success
 * evidence the exporter's last-success timestamp.
 *
 * The rules, each with `missing_reason` as a static label (MISSING_REASONS):
 * - evidence exists but is too old (`no_recent_run`, `no_recent_success`):
 *   `time() - last > interval + grace`, no `for` (the grace is in the threshold);
 * - no evidence ever (`never_reported`, `never_succeeded`): PromQL cannot know when an image
 *   entered the inventory, so these wait with `for: interval + grace`, one rule per distinct
 *   schedule interval of the fleet (labelled `schedule_interval`). Their inventory side is read
 *   through `last_over_time(...[15m])` so that a collector restart or a failed scrape does not
 *   restart a day-long `for`.
 */
import { ALERTS, L, METRICS, type MissingReason } from '../../shared/metrics.ts';
import { tablePanel } from '../panels.ts';
import { by, duration, INVENTORY, intervalPlus, on, withCronjobTeam } from '../promql.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { AlertDefinition, Concern } from '../types.ts';

const { image, cronjob, team, missingReason } = L;
/** A collector gap shorter than this does not interrupt the never-reported countdown. */
const COLLECTOR_GAP_TOLERANCE = '15m';

const runEvidence = `max ${by(image, cronjob)} ({__name__=~"${METRICS.runLastTimestamp.name}|${METRICS.cronjobLastScheduleTimestamp.name}"})`;
const successEvidence = `max ${by(image, cronjob)} (${METRICS.runLastSuccessTimestamp.name})`;

/** Seconds since the evidence, where that exceeds the image's interval plus grace. */
function overdue(evidence: string, settings: ObservabilitySettings): string {
  return `(time() - ${evidence}) > ${on(image)} group_left () ${intervalPlus(settings.missingRunGraceSeconds)}`;
}

/** Inventoried CronJobs with the given schedule interval, read across short collector gaps. */
function inventoriedWithInterval(intervalSeconds: number): string {
  const info = `group ${by(image, cronjob, team)} (last_over_time(${METRICS.inventoryImageInfo.name}[${COLLECTOR_GAP_TOLERANCE}]))`;
  const interval = `max ${by(image)} (last_over_time(${METRICS.inventoryScheduleIntervalSeconds.name}[${COLLECTOR_GAP_TOLERANCE}]))`;
  return `(${info} and ${on(image)} (${interval} == ${intervalSeconds}))`;
}

/** `missing_reason` is a static rule label, which templates cannot read: the text names it. */
const summary = (reason: MissingReason) => `No recent successful Copa run for {{ $labels.${image} }} (${reason})`;

export function missingRunsConcern(settings: ObservabilitySettings): Concern {
  const graceHours = settings.missingRunGraceSeconds / 3600;
  const staleRule = (reason: MissingReason, expr: string, what: string): AlertDefinition => ({
    alert: ALERTS.jobMissing,
    expr: withCronjobTeam(expr),
    severity: 'warning',
    labels: { [missingReason]: reason },
    summary: summary(reason),
    description:
      `CronJob ${settings.namespace}/{{ $labels.${cronjob} }} ({{ $labels.${image} }}): ${what} {{ $value | humanizeDuration }} ago, ` +
      `more than its schedule interval plus ${graceHours} h. The image silently stopped receiving patches.`,
  });
  const neverRule = (reason: MissingReason, interval: number, expr: string, what: string): AlertDefinition => ({
    alert: ALERTS.jobMissing,
    expr,
    for: duration(interval + settings.missingRunGraceSeconds),
    severity: 'warning',
    labels: { [missingReason]: reason, [L.scheduleInterval]: duration(interval) },
    summary: summary(reason),
    description:
      `CronJob ${settings.namespace}/{{ $labels.${cronjob} }} ({{ $labels.${image} }}) has been in the inventory for more than its ` +
      `schedule interval plus ${graceHours} h (${duration(interval + settings.missingRunGraceSeconds)}) and ${what}: the image has never been patched.`,
  });
  const alerts: AlertDefinition[] = [
    staleRule('no_recent_run', overdue(runEvidence, settings), 'the last run (exporter heartbeat or CronJob schedule) was'),
    staleRule(
      'no_recent_success',
      // Runs happen but fail: "no recent run" covers the CronJob that stopped running altogether.
      `${overdue(successEvidence, settings)} unless ${on(image, cronjob)} (${overdue(runEvidence, settings)})`,
      'runs happen, but the last successful one was',
    ),
  ];
  for (const interval of settings.scheduleIntervals) {
    const inventoried = inventoriedWithInterval(interval);
    alerts.push(
      neverRule('never_reported', interval, `${inventoried} unless ${on(image, cronjob)} ${runEvidence}`, 'no run ever reported'),
      neverRule(
        'never_succeeded',
        interval,
        `(${inventoried} and ${on(image, cronjob)} ${runEvidence}) unless ${on(image, cronjob)} ${successEvidence}`,
        'its runs reported, but none succeeded',
      ),
    );
  }
  return {
    name: 'missing-runs',
    records: [],
    alerts,
    panels: [
      {
        row: 'overview',
        order: 90,
        panel: tablePanel({
          title: 'Inventoried images that never reported',
          description: 'Inventory entries with no exporter heartbeat and no CronJob schedule on record: their CronJob never ran, or its runs never reached the Pushgateway.',
          queries: [{ expr: `${INVENTORY.byCronjobTeam} unless ${on(image, cronjob)} ${runEvidence}` }],
          width: 6,
          height: 8,
          hide: ['Value'],
          noValue: 'none',
        }),
      },
    ],
  };
}
