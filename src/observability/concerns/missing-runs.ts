/**
 * Silent failure: an inventoried image that stops getting runs, or successful runs, within its
 * schedule interval plus grace. The interval comes from the collector's
 * `fleet_inventory_schedule_interval_seconds`; run and success evidence from run-evidence.ts. A
 * CronJob that never reported at all is first-runs.ts's.
 *
 * Each rule has `missing_reason` as a static label (MISSING_REASONS): evidence exists but is too
 * old (`no_recent_run`, `no_recent_success`): `time() - last > interval + grace`, no `for` (the
 * grace is in the threshold).
 */
import { ALERTS, L, type MissingReason } from '../../shared/metrics.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { AlertDefinition, Concern } from '../types.ts';
import { missingSummary, runEvidence, successEvidence } from './run-evidence.ts';

const { image, cronjob, missingReason } = L;

/** Seconds since the evidence, where that exceeds the image's interval plus grace. */
function overdue(evidence: string, settings: ObservabilitySettings): string {
  return `(time() - ${evidence}) > ${settings.q.on(image)} group_left () ${settings.q.intervalPlus(settings.missingRunGraceSeconds)}`;
}

export function missingRunsConcern(settings: ObservabilitySettings) {
  const graceHours = settings.missingRunGraceSeconds / 3600;
  const { q } = settings;
  const RUN_EVIDENCE = runEvidence(q);
  const SUCCESS_EVIDENCE = successEvidence(q);
  const staleRule = (reason: MissingReason, expr: string, what: string): AlertDefinition => ({
    alert: ALERTS.jobMissing,
    outputLabels: [L.image, L.cronjob, L.team],
    expr: q.withCronjobTeam(expr),
    severity: 'warning',
    labels: { [missingReason]: reason },
    summary: missingSummary(reason),
    description:
      `CronJob ${settings.cronjobNamespace}/{{ $labels.${cronjob} }} ({{ $labels.${image} }}): ${what} {{ $value | humanizeDuration }} ago, ` +
      `more than its schedule interval plus ${graceHours} h. The image silently stopped receiving patches.`,
  });
  return {
    name: 'missing-runs',
    records: [],
    alerts: [
      staleRule(
        'no_recent_run',
        overdue(RUN_EVIDENCE, settings),
        'the last run (exporter heartbeat or CronJob schedule) was',
      ),
      staleRule(
        'no_recent_success',
        // Runs happen but fail: "no recent run" covers the CronJob that stopped running altogether.
        `${overdue(SUCCESS_EVIDENCE, settings)} unless ${q.on(image, cronjob)} (${overdue(RUN_EVIDENCE, settings)})`,
        'runs happen, but the last successful one was',
      ),
    ],
    panels: {},
  } satisfies Concern;
}
