/**
 * Copa job failures that the in-pod exporter cannot report, read from the Job, its pods and the
 * CronJob: the exporter is a container of the job pod, so it reports nothing when that pod never
 * started, when an image of the pod could not be pulled before the exporter ran, when the Job was
 * killed by its deadline, or when the CronJob never created the Job.
 */
import type { FailureReason } from '../../src/shared/metrics.ts';
import type { CronJobView, JobView } from './projections.ts';

/** The failure reasons the collector emits (a subset of FAILURE_REASONS). */
export const COLLECTOR_FAILURE_REASONS = [
  'image_pull_failed',
  'pod_not_started',
  'timeout',
  'missed_schedule',
] as const satisfies readonly FailureReason[];
export type CollectorFailureReason = (typeof COLLECTOR_FAILURE_REASONS)[number];

/** What the collector saw of a Job's pods while the Job ran (sticky: pods may be gone when the Job fails). */
export interface JobPodMemo {
  exporterStarted: boolean;
  pullFailed: boolean;
}

/**
 * The reason to report for a Job, or undefined (not failed, or a failure the exporter reported).
 * `sawWholeLife`: the Job was created after the collector started, so "no pod seen" means none ran.
 */
export function classifyJobFailure(
  job: JobView,
  memo: JobPodMemo | undefined,
  sawWholeLife: boolean,
): CollectorFailureReason | undefined {
  if (job.failedReason === undefined) return undefined;
  const exporterRan = memo?.exporterStarted === true;
  if (!exporterRan && memo?.pullFailed === true) return 'image_pull_failed';
  if (!exporterRan && (memo !== undefined || sawWholeLife)) return 'pod_not_started';
  if (job.failedReason === 'DeadlineExceeded') return 'timeout';
  return undefined;
}

/**
 * True when the CronJob should have created a Job by now and did not: more than its longest
 * schedule interval, plus its startingDeadlineSeconds and a grace, since the last schedule (or its
 * creation). A suspended CronJob misses nothing.
 */
export function missedSchedule(
  cron: CronJobView,
  intervalSeconds: number,
  graceSeconds: number,
  nowMs: number,
): boolean {
  if (cron.suspended) return false;
  const reference = cron.lastSchedule ?? cron.created;
  if (reference === 0) return false;
  const allowedMs = (intervalSeconds + (cron.startingDeadlineSeconds ?? 0) + graceSeconds) * 1000;
  return nowMs > reference + allowedMs;
}

/** The most recent Job (by creation time, then name). */
export function latestJob(jobs: Iterable<JobView>): JobView | undefined {
  let latest: JobView | undefined;
  for (const job of jobs) {
    if (
      latest === undefined ||
      job.created > latest.created ||
      (job.created === latest.created && job.name > latest.name)
    )
      latest = job;
  }
  return latest;
}
