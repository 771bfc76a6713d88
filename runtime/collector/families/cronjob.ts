/**
 * The CronJob-scope families: series grouped by inventoried CronJob, recomputed when its CronJob,
 * Jobs or job pods change and on every tick (a missed schedule is a matter of time).
 */
import { METRICS } from '../../../src/shared/metrics.ts';
import {
  classifyJobFailure,
  latestJob,
  missedSchedule,
  type CollectorFailureReason,
  type JobPodMemo,
} from '../job-failures.ts';
import type { InventoryCronJob } from '../inventory.ts';
import type { CronJobView, JobView } from '../projections.ts';
import { formatLabels, type Series, type SeriesStore } from '../series.ts';

export interface CronJobInput {
  readonly cronjob: string;
  readonly entry: InventoryCronJob;
  /** The CronJob object (undefined: not listed). */
  readonly cron: CronJobView | undefined;
  /** The CronJob's listed Jobs. */
  readonly jobs: readonly JobView[];
  readonly jobPod: (job: string) => JobPodMemo | undefined;
  /** When the collector started (ms): Jobs created later were observed for their whole life. */
  readonly startedAt: number;
  readonly missedScheduleGraceSeconds: number;
  readonly now: number;
}

/** `copa_cronjob_last_schedule_timestamp_seconds`: status.lastScheduleTime. */
export function cronLastScheduleSeries(
  store: SeriesStore,
  { cronjob, entry, cron, now }: CronJobInput,
): void {
  store.setSingle(
    cronjob,
    formatLabels(METRICS.cronjobLastScheduleTimestamp, { image: entry.image, cronjob }),
    cron?.lastSchedule === undefined ? undefined : cron.lastSchedule / 1000,
    now,
  );
}

/** `copa_cronjob_created_timestamp_seconds`: metadata.creationTimestamp, the start of the first-run wait (from the API: a restart does not move it). */
export function cronCreatedSeries(
  store: SeriesStore,
  { cronjob, entry, cron, now }: CronJobInput,
): void {
  store.setSingle(
    cronjob,
    formatLabels(METRICS.cronjobCreatedTimestamp, { image: entry.image, cronjob }),
    cron === undefined || cron.created === 0 ? undefined : cron.created / 1000,
    now,
  );
}

/** `copa_job_last_failure`: what the most recent Job's pods showed, and a missed schedule. */
export function jobFailureSeries(store: SeriesStore, input: CronJobInput): void {
  const { cronjob, entry, cron, now } = input;
  const reasons = new Set<CollectorFailureReason>();
  const job = latestJob(input.jobs);
  if (job !== undefined) {
    // creationTimestamp has second precision: compare with the second the collector started in.
    const sawWholeLife = job.created >= Math.floor(input.startedAt / 1000) * 1000;
    const reason = classifyJobFailure(job, input.jobPod(job.name), sawWholeLife);
    if (reason !== undefined) reasons.add(reason);
  }
  if (
    cron !== undefined &&
    missedSchedule(cron, entry.scheduleIntervalSeconds, input.missedScheduleGraceSeconds, now)
  )
    reasons.add('missed_schedule');
  const previous = store.groupByLabels(cronjob);
  const series: Series[] = [];
  for (const reason of [...reasons].sort()) {
    const labels = formatLabels(METRICS.jobLastFailure, {
      image: entry.image,
      cronjob,
      failure_reason: reason,
    });
    series.push(previous.get(labels) ?? { labels, value: 1, since: now });
  }
  store.replaceGroup(cronjob, series);
}
