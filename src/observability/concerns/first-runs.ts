/**
 * Images that never got going: an inventoried CronJob that never reported a run
 * (`never_reported`), or whose runs never succeeded (`never_succeeded`), for longer than its
 * schedule interval plus grace since the CronJob was created; and an inventoried image whose
 * CronJob does not exist at all (`cronjob_missing`). Run and success evidence come from
 * run-evidence.ts.
 *
 * The wait is measured from the CronJob's `metadata.creationTimestamp` (the collector's
 * `copa_cronjob_created_timestamp_seconds`: the CronJob is created when the image enters the
 * inventory), not with `for:`. A `for:` restarts whenever the firing condition changes shape: an
 * image whose first schedule appeared after 23 h moved from "never reported" to "never succeeded"
 * and waited another interval plus grace from zero. With an anchored age both reasons fire at the
 * same instant, and a collector restart (the timestamp comes back from the API unchanged) resets
 * nothing.
 *
 * Success evidence lives in the Pushgateway. The generated one keeps its groups on a persistence
 * file (pushgateway.ts), but a restart that loses them (a new volume, an unreadable file) leaves no
 * success on record until each image's next run: `never_succeeded` therefore also waits the
 * interval plus grace from the Pushgateway's own `process_start_time_seconds` (and stays silent
 * while that is unknown), at the price of reporting a never-succeeding image up to that much later
 * after any restart (CopaPatchJobFailed reports its failed runs meanwhile). An external Pushgateway
 * is not scraped by us: run it with `--persistence.file` (docs/observability.md).
 *
 * Kept apart from missing-runs' freshness checks so that those are never evaluated behind a fleet's
 * worth of first-run checks (Prometheus evaluates groups concurrently, rules within a group in turn).
 */
import { ALERTS, L, METRICS, type MissingReason, UPSTREAM_METRICS } from '../../shared/metrics.ts';
import { noneIfCollected, tablePanel } from '../panels.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { AlertDefinition, Concern } from '../types.ts';
import { missingSummary, runEvidence, successEvidence } from './run-evidence.ts';

const { image, cronjob, team, missingReason } = L;
/** A collector gap shorter than this does not interrupt the missing-CronJob countdown. */
const COLLECTOR_GAP_TOLERANCE = '15m';
/** GitOps applies the inventory ConfigMap and the CronJobs together: an hour apart is a failed or partial apply. */
const CRONJOB_MISSING_FOR = '1h';

export function firstRunsConcern(settings: ObservabilitySettings) {
  const graceHours = settings.missingRunGraceSeconds / 3600;
  const { q } = settings;
  const RUN_EVIDENCE = runEvidence(q);
  const SUCCESS_EVIDENCE = successEvidence(q);
  /** Seconds since each inventoried CronJob was created. */
  const sinceCreated = `(time() - max ${q.by(image, cronjob)} (${q.series(METRICS.cronjobCreatedTimestamp)}))`;
  const limit = q.intervalPlus(settings.missingRunGraceSeconds);
  const overdue = (age: string) => `${age} > ${q.on(image)} group_left () ${limit}`;
  const pushgatewayUptime = `time() - ${q.agg('max', q.pushgatewaySelf(UPSTREAM_METRICS.processStartTimeSeconds))}`;
  /**
   * How long success evidence could have accumulated: since the CronJob was created, and (only the
   * generated Pushgateway is ours to read) since the Pushgateway started. `scalar()` of a missing
   * start time is NaN, and `clamp_max` with NaN is NaN, which no threshold passes: silent while unknown.
   */
  const successWindow = settings.pushgatewayDeployed
    ? `clamp_max(${sinceCreated}, scalar(${pushgatewayUptime}))`
    : sinceCreated;
  const neverRule = (
    reason: MissingReason,
    expr: string,
    description: string,
  ): AlertDefinition => ({
    alert: ALERTS.jobMissing,
    outputLabels: [L.image, L.cronjob, L.team],
    expr: q.withCronjobTeam(expr),
    severity: 'warning',
    labels: { [missingReason]: reason },
    summary: missingSummary(reason),
    description: `CronJob ${settings.cronjobNamespace}/{{ $labels.${cronjob} }} ({{ $labels.${image} }})${description}`,
  });
  return {
    name: 'first-runs',
    records: [],
    alerts: [
      neverRule(
        'never_reported',
        `(${overdue(sinceCreated)}) unless ${q.on(image, cronjob)} ${RUN_EVIDENCE}`,
        ` was created {{ $value | humanizeDuration }} ago, more than its schedule interval plus ${graceHours} h, and no run ever reported: the image has never been patched.`,
      ),
      neverRule(
        'never_succeeded',
        `((${overdue(successWindow)}) and ${q.on(image, cronjob)} ${RUN_EVIDENCE}) unless ${q.on(image, cronjob)} ${SUCCESS_EVIDENCE}`,
        `: its runs reported, but no successful run is on record in the {{ $value | humanizeDuration }} since it was created (or the Pushgateway started), ` +
          `more than its schedule interval plus ${graceHours} h: the image is not being patched.`,
      ),
      {
        alert: ALERTS.jobMissing,
        outputLabels: [L.image, L.cronjob, L.team],
        // Read across short collector gaps, so that a restart does not restart the hour.
        expr:
          `group ${q.by(image, cronjob, team)} (${q.overTime('last_over_time', METRICS.inventoryImageInfo, COLLECTOR_GAP_TOLERANCE, q.patchCluster)})` +
          ` unless ${q.on(image, cronjob)} ${q.overTime('last_over_time', METRICS.cronjobCreatedTimestamp, COLLECTOR_GAP_TOLERANCE)}`,
        for: CRONJOB_MISSING_FOR,
        severity: 'warning',
        labels: { [missingReason]: 'cronjob_missing' },
        summary: missingSummary('cronjob_missing'),
        description:
          `{{ $labels.${image} }} is in the inventory, but its CronJob ${settings.cronjobNamespace}/{{ $labels.${cronjob} }} has not existed for ${CRONJOB_MISSING_FOR}: ` +
          'the generated manifests were not applied, or the CronJob was deleted. The image gets no patches.',
      },
    ],
    panels: {
      neverReported: tablePanel({
        title: 'Inventoried images that never reported',
        description:
          'Inventory entries with no exporter heartbeat and no CronJob schedule on record: their CronJob never ran, or its runs never reached the Pushgateway.',
        queries: [
          {
            expr: `group ${q.by(image, cronjob, team)} (${q.series(METRICS.inventoryImageInfo, q.patchCluster)}) unless ${q.on(image, cronjob)} ${RUN_EVIDENCE}`,
          },
        ],
        width: 6,
        height: 8,
        hide: ['Value'],
        noValue: noneIfCollected(),
      }),
    },
  } satisfies Concern;
}
