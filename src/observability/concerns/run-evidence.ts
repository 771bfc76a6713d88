/**
 * What counts as evidence that an inventoried CronJob ran, or succeeded, per (image, cronjob):
 * shared by the freshness checks (missing-runs) and the first-run checks (first-runs), which both
 * raise `CopaPatchJobMissing` with a `missing_reason`.
 */
import { L, METRICS, type MissingReason } from '../../shared/metrics.ts';
import { by } from '../promql.ts';

const { image, cronjob } = L;

/** The exporter's heartbeat or the CronJob's last schedule time (seen by the collector). */
export const RUN_EVIDENCE = `max ${by(image, cronjob)} ({__name__=~"${METRICS.runLastTimestamp.name}|${METRICS.cronjobLastScheduleTimestamp.name}"})`;

/** Only the exporter's last success: a Job can succeed while Copa's run failed. */
export const SUCCESS_EVIDENCE = `max ${by(image, cronjob)} (${METRICS.runLastSuccessTimestamp.name})`;

/** `missing_reason` is a static rule label, which templates cannot read: the text names it. */
export const missingSummary = (reason: MissingReason): string => `No recent successful Copa run for {{ $labels.${image} }} (${reason})`;
