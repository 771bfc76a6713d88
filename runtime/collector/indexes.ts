/**
 * The collector's indexes over the projections of every watched object (pods, reports, Jobs,
 * CronJobs): updated per event, each update telling `Dirty` which groups (image, namespace,
 * CronJob) it affects. Nothing here computes a series: model.ts recomputes the dirty groups and
 * the families (families.ts) read these indexes.
 */
import type { JobPodMemo } from './job-failures.ts';
import type { CronJobView, JobView, PodContainer, PodView, ReportView } from './projections.ts';

/** Where an index update reports what it affects. */
export interface Dirty {
  image(image: string): void;
  namespace(namespace: string): void;
  cronjob(cronjob: string): void;
}

export class FleetIndexes {
  readonly containersByImage = new Map<string, Map<string, readonly PodContainer[]>>();
  readonly runningPodsByNamespace = new Map<string, number>();
  private readonly reports = new Map<string, ReportView>();
  private readonly reportsByRef = new Map<string, Set<string>>();
  readonly reportsByNamespace = new Map<string, number>();
  /**
   * The last report of a running digest whose reports were all deleted (trivy-operator's report
   * TTL deletes and re-creates them): what the digest carries does not change because its report
   * is being re-created. Kept per image and digest while a container runs that digest.
   */
  private readonly lastKnown = new Map<string, Map<string, ReportView>>();
  readonly jobs = new Map<string, JobView>();
  readonly jobsByCronjob = new Map<string, Set<string>>();
  readonly jobPods = new Map<string, JobPodMemo>();
  readonly cronjobs = new Map<string, CronJobView>();

  constructor(private readonly dirty: Dirty) {}

  // ------------------------------------------------------------ pods

  /** False when nothing the collector keeps of the pod changed. */
  upsertPod(key: string, pod: PodView, previous: PodView | undefined): boolean {
    if (previous !== undefined && samePod(previous, pod)) return false;
    if (previous !== undefined) this.unindexPod(key, previous);
    this.indexPod(key, pod);
    return true;
  }

  removePod(key: string, previous: PodView): void {
    this.unindexPod(key, previous);
    const job = previous.jobPod?.job;
    if (job !== undefined && !this.jobs.has(job)) this.jobPods.delete(job);
  }

  private indexPod(key: string, pod: PodView): void {
    const byImage = new Map<string, PodContainer[]>();
    for (const c of pod.containers) {
      const list = byImage.get(c.image);
      if (list === undefined) byImage.set(c.image, [c]);
      else list.push(c);
    }
    for (const [image, containers] of byImage) {
      let pods = this.containersByImage.get(image);
      if (pods === undefined)
        this.containersByImage.set(image, (pods = new Map<string, readonly PodContainer[]>()));
      pods.set(key, containers);
      this.dirty.image(image);
    }
    if (pod.running && pod.jobPod === undefined)
      this.addCount(this.runningPodsByNamespace, pod.namespace, 1);
    if (pod.jobPod !== undefined) {
      const memo = this.jobPods.get(pod.jobPod.job) ?? {
        exporterStarted: false,
        pullFailed: false,
      };
      memo.exporterStarted ||= pod.jobPod.exporterStarted;
      memo.pullFailed ||= pod.jobPod.pullFailed;
      this.jobPods.set(pod.jobPod.job, memo);
      const cronjob = this.jobs.get(pod.jobPod.job)?.cronjob;
      if (cronjob !== undefined) this.dirty.cronjob(cronjob);
    }
  }

  private unindexPod(key: string, pod: PodView): void {
    for (const c of pod.containers) {
      const pods = this.containersByImage.get(c.image);
      if (pods === undefined) continue;
      pods.delete(key);
      if (pods.size === 0) this.containersByImage.delete(c.image);
      this.dirty.image(c.image);
    }
    if (pod.running && pod.jobPod === undefined)
      this.addCount(this.runningPodsByNamespace, pod.namespace, -1);
  }

  // ------------------------------------------------------------ vulnerability reports

  upsertReport(key: string, report: ReportView, previous: ReportView | undefined): void {
    if (previous !== undefined) this.unindexReport(key, previous);
    this.reports.set(key, report);
    if (report.image !== undefined && report.digest !== undefined) {
      const ref = `${report.image}@${report.digest}`;
      let keys = this.reportsByRef.get(ref);
      if (keys === undefined) this.reportsByRef.set(ref, (keys = new Set()));
      keys.add(key);
      this.lastKnown.get(report.image)?.delete(report.digest);
    }
    if (report.image !== undefined) this.dirty.image(report.image);
    this.addCount(this.reportsByNamespace, report.namespace, 1);
  }

  removeReport(key: string, previous: ReportView): void {
    this.unindexReport(key, previous);
  }

  private unindexReport(key: string, report: ReportView): void {
    this.reports.delete(key);
    if (report.image !== undefined && report.digest !== undefined) {
      const ref = `${report.image}@${report.digest}`;
      const keys = this.reportsByRef.get(ref);
      keys?.delete(key);
      if (keys?.size === 0) {
        this.reportsByRef.delete(ref);
        let known = this.lastKnown.get(report.image);
        if (known === undefined)
          this.lastKnown.set(report.image, (known = new Map<string, ReportView>()));
        known.set(report.digest, report);
      }
    }
    if (report.image !== undefined) this.dirty.image(report.image);
    this.addCount(this.reportsByNamespace, report.namespace, -1);
  }

  /** The newest report of `image@digest` (several workloads can run one digest), else its last known one. */
  newestReport(image: string, digest: string): ReportView | undefined {
    const keys = this.reportsByRef.get(`${image}@${digest}`);
    let newest: ReportView | undefined;
    for (const key of keys ?? []) {
      const report = this.reports.get(key);
      if (report !== undefined && (newest === undefined || report.updated > newest.updated))
        newest = report;
    }
    return newest ?? this.lastKnown.get(image)?.get(digest);
  }

  /** Last known reports matter only while their digest runs: keeps those of `runningDigests`. */
  pruneLastKnown(image: string, runningDigests: ReadonlyMap<string, unknown>): void {
    const known = this.lastKnown.get(image);
    if (known === undefined) return;
    for (const digest of known.keys()) if (!runningDigests.has(digest)) known.delete(digest);
    if (known.size === 0) this.lastKnown.delete(image);
  }

  /** The image left the inventory. */
  forgetImage(image: string): void {
    this.lastKnown.delete(image);
  }

  // ------------------------------------------------------------ jobs and cronjobs

  upsertJob(job: JobView, previous: JobView | undefined): void {
    if (previous?.cronjob !== undefined) {
      this.jobsByCronjob.get(previous.cronjob)?.delete(previous.name);
      this.dirty.cronjob(previous.cronjob);
    }
    this.jobs.set(job.name, job);
    if (job.cronjob !== undefined) {
      let names = this.jobsByCronjob.get(job.cronjob);
      if (names === undefined) this.jobsByCronjob.set(job.cronjob, (names = new Set()));
      names.add(job.name);
      this.dirty.cronjob(job.cronjob);
    }
  }

  removeJob(previous: JobView): void {
    this.jobs.delete(previous.name);
    this.jobPods.delete(previous.name);
    if (previous.cronjob !== undefined) {
      const names = this.jobsByCronjob.get(previous.cronjob);
      names?.delete(previous.name);
      if (names?.size === 0) this.jobsByCronjob.delete(previous.cronjob);
      this.dirty.cronjob(previous.cronjob);
    }
  }

  upsertCronJob(cron: CronJobView): void {
    this.cronjobs.set(cron.name, cron);
    this.dirty.cronjob(cron.name);
  }

  removeCronJob(previous: CronJobView): void {
    this.cronjobs.delete(previous.name);
    this.dirty.cronjob(previous.name);
  }

  /** The Jobs the CronJob created that are still listed. */
  jobsOf(cronjob: string): JobView[] {
    return [...(this.jobsByCronjob.get(cronjob) ?? [])].flatMap(
      (name) => this.jobs.get(name) ?? [],
    );
  }

  // ------------------------------------------------------------ helpers

  private addCount(counts: Map<string, number>, key: string, delta: number): void {
    const next = (counts.get(key) ?? 0) + delta;
    if (next <= 0) counts.delete(key);
    else counts.set(key, next);
    this.dirty.namespace(key);
  }
}

function samePod(a: PodView, b: PodView): boolean {
  if (a.running !== b.running || a.containers.length !== b.containers.length) return false;
  for (let i = 0; i < a.containers.length; i++) {
    const x = a.containers[i]!;
    const y = b.containers[i]!;
    if (
      x.container !== y.container ||
      x.image !== y.image ||
      x.digest !== y.digest ||
      x.tag !== y.tag
    )
      return false;
  }
  const j = a.jobPod;
  const k = b.jobPod;
  if (j === undefined || k === undefined) return j === k;
  return (
    j.job === k.job && j.exporterStarted === k.exporterStarted && j.pullFailed === k.pullFailed
  );
}
