/**
 * What counts as evidence that an inventoried CronJob ran, or succeeded, per (image, cronjob):
 * shared by the freshness checks (missing-runs) and the first-run checks (first-runs), which both
 * raise `CopaPatchJobMissing` with a `missing_reason`.
 */
import { L, METRICS, type MissingReason } from '../../shared/metrics.ts';
import type { FleetQueries } from '../queries.ts';

const { image, cronjob } = L;

/**
 * The exporter's heartbeat or the CronJob's last schedule time (seen by the collector). Two
 * selectors (different sources), so a union rather than one `__name__` regex; the label sets of the
 * two families never match, so `or` keeps both.
 */
export function runEvidence(q: FleetQueries): string {
  return `max ${q.by(image, cronjob)} (${q.series(METRICS.runLastTimestamp)} or ${q.series(METRICS.cronjobLastScheduleTimestamp)})`;
}

/** Only the exporter's last success: a Job can succeed while Copa's run failed. */
export function successEvidence(q: FleetQueries): string {
  return `max ${q.by(image, cronjob)} (${q.series(METRICS.runLastSuccessTimestamp)})`;
}

/** `missing_reason` is a static rule label, which templates cannot read: the text names it. */
export const missingSummary = (reason: MissingReason): string =>
  `No recent successful Copa run for {{ $labels.${image} }} (${reason})`;
