/**
 * The collector's model: indexes over the projections of every watched object, and the
 * recomputation of the series an event affects.
 *
 * Events only update indexes and mark what they affect as dirty (an image, a namespace, a
 * CronJob); `flush()` (scheduled a few tens of ms after the first change) recomputes the dirty
 * groups, and `tick()` (every few seconds) the time-driven parts: SLA breaches, missed schedules,
 * pruning of the clock. Nothing is recomputed for the whole world per event.
 *
 * Scope: the per-container and per-image series cover inventoried images only (the fleet);
 * `fleet_namespace_unscanned` covers every namespace.
 */
import { findDrift, type RunningContainer } from '../../src/shared/drift.ts';
import { METRICS, type Severity } from '../../src/shared/metrics.ts';
import type { CollectorTuning } from './config.ts';
import { EMPTY_INVENTORY, parseInventoryConfigMap, parsePatchedDigests, type InventoryIndex, type PatchedDigest } from './inventory.ts';
import { classifyJobFailure, latestJob, missedSchedule, type CollectorFailureReason, type JobPodMemo } from './job-failures.ts';
import type { Logger } from './log.ts';
import { intern, type ConfigMapData, type CronJobView, type JobView, type PodView, type ReportView } from './projections.ts';
import { scanCoverage } from './scan-coverage.ts';
import { formatLabelParts, formatLabels, SeriesStore, type Series } from './series.ts';
import type { SlaClock } from './sla-clock.ts';

/** One store per metric the model computes. */
export function createStores() {
  return {
    cveAge: new SeriesStore(METRICS.imageCveAgeHours),
    slaBreach: new SeriesStore(METRICS.slaBreachTotal),
    slaBreaching: new SeriesStore(METRICS.imageCveSlaBreaches),
    critical: new SeriesStore(METRICS.runningContainersWithCriticalCve),
    drift: new SeriesStore(METRICS.containerDigestDrift),
    running: new SeriesStore(METRICS.runningContainers),
    noncompliant: new SeriesStore(METRICS.noncompliantContainers),
    scanAge: new SeriesStore(METRICS.imageScanAgeSeconds),
    unscannedContainers: new SeriesStore(METRICS.unscannedContainers),
    complianceUnknown: new SeriesStore(METRICS.complianceUnknownContainers),
    unscanned: new SeriesStore(METRICS.namespaceUnscanned),
    inventoryInfo: new SeriesStore(METRICS.inventoryImageInfo),
    inventoryInterval: new SeriesStore(METRICS.inventoryScheduleIntervalSeconds),
    inventorySla: new SeriesStore(METRICS.inventorySlaHours),
    jobFailure: new SeriesStore(METRICS.jobLastFailure),
    cronLastSchedule: new SeriesStore(METRICS.cronjobLastScheduleTimestamp),
    cronCreated: new SeriesStore(METRICS.cronjobCreatedTimestamp),
  };
}
export type ModelStores = ReturnType<typeof createStores>;

export interface ModelOptions {
  readonly fleetNamespace: string;
  readonly tuning: CollectorTuning;
  readonly clock: SlaClock;
  readonly stores: ModelStores;
  readonly log: Logger;
  /** The clock changed: schedule a state write (`urgent` after a counted breach). */
  readonly clockChanged: (urgent: boolean) => void;
  /** Called when a change is waiting for `flush()`. */
  readonly requestFlush: () => void;
  readonly now: () => number;
  /** When the process started (ms): Jobs created later were observed for their whole life. */
  readonly startedAt: number;
}

/** Which inputs have been listed completely at least once. */
export interface SyncState {
  pods: boolean;
  reports: boolean;
  inventory: boolean;
}

const IMAGE_STORES = ['cveAge', 'slaBreach', 'slaBreaching', 'critical', 'drift', 'running', 'scanAge', 'unscannedContainers'] as const;
const CRONJOB_STORES = ['jobFailure', 'cronLastSchedule', 'cronCreated'] as const;
/** The one group of the fleet-wide series. */
const FLEET_GROUP = 'fleet';

export class FleetModel {
  private inventory: InventoryIndex = EMPTY_INVENTORY;
  /** False while the inventory ConfigMap is absent: the clock is then kept, never pruned by image. */
  private inventoryPresent = false;
  private patched = new Map<string, PatchedDigest>();

  private readonly containersByImage = new Map<string, Map<string, readonly RunningContainer[]>>();
  private readonly runningPodsByNamespace = new Map<string, number>();
  private readonly reports = new Map<string, ReportView>();
  private readonly reportsByRef = new Map<string, Set<string>>();
  private readonly reportsByNamespace = new Map<string, number>();
  /**
   * The last report of a running digest whose reports were all deleted (trivy-operator's report
   * TTL deletes and re-creates them): what the digest carries does not change because its report
   * is being re-created. Kept per image and digest while a container runs that digest.
   */
  private readonly lastKnown = new Map<string, Map<string, ReportView>>();
  private readonly jobs = new Map<string, JobView>();
  private readonly jobsByCronjob = new Map<string, Set<string>>();
  private readonly jobPods = new Map<string, JobPodMemo>();
  private readonly cronjobs = new Map<string, CronJobView>();
  /** Active in-scope CVEs per inventoried image -> SLA hours (strictest severity), undefined without SLA. */
  private readonly activeCves = new Map<string, Map<string, number | undefined>>();
  /** The same CVEs per image by the severity the reports give them (a CVE may carry two). */
  private readonly activeBySeverity = new Map<string, Map<Severity, Set<string>>>();
  /** Non-compliant running containers per inventoried image (summed into the fleet-wide series). */
  private readonly noncompliantByImage = new Map<string, number>();
  /** Never-scanned, not otherwise non-compliant running containers per inventoried image (summed likewise). */
  private readonly unknownByImage = new Map<string, number>();

  private readonly dirtyImages = new Set<string>();
  private readonly dirtyNamespaces = new Set<string>();
  private readonly dirtyCronjobs = new Set<string>();
  private inventorySeriesDirty = false;
  private breachCounted = false;

  private readonly synced: SyncState = { pods: false, reports: false, inventory: false };
  private clockWasEnabled = false;

  constructor(private readonly options: ModelOptions) {}

  // ------------------------------------------------------------ sync gates

  /** Marks an input as completely listed; opening a gate recomputes what it guarded. */
  setSynced(input: keyof SyncState): void {
    if (this.synced[input]) return;
    this.synced[input] = true;
    if (this.synced.pods && this.synced.reports) this.markAllNamespaces();
    this.checkClockGate();
    this.options.requestFlush();
  }

  /** The state ConfigMap was loaded. */
  clockLoaded(): void {
    this.markAllImages();
    this.checkClockGate();
    this.options.requestFlush();
  }

  /** Pods, reports and the inventory were each listed completely at least once. */
  get complete(): boolean {
    return this.synced.pods && this.synced.reports && this.synced.inventory;
  }

  /** The SLA clock may start, stop and count only with a complete view of pods, reports and inventory. */
  get clockEnabled(): boolean {
    return this.synced.pods && this.synced.reports && this.synced.inventory && this.options.clock.loaded;
  }

  private checkClockGate(): void {
    if (this.clockWasEnabled || !this.clockEnabled) return;
    this.clockWasEnabled = true;
    this.forgetImagesOutsideInventory();
    this.markAllImages();
  }

  // ------------------------------------------------------------ pods

  upsertPod(key: string, pod: PodView, previous: PodView | undefined): void {
    if (previous !== undefined && samePod(previous, pod)) return;
    if (previous !== undefined) this.unindexPod(key, previous);
    this.indexPod(key, pod);
    this.options.requestFlush();
  }

  removePod(key: string, previous: PodView): void {
    this.unindexPod(key, previous);
    const job = previous.jobPod?.job;
    if (job !== undefined && !this.jobs.has(job)) this.jobPods.delete(job);
    this.options.requestFlush();
  }

  private indexPod(key: string, pod: PodView): void {
    const byImage = new Map<string, RunningContainer[]>();
    for (const c of pod.containers) {
      const list = byImage.get(c.image);
      if (list === undefined) byImage.set(c.image, [c]);
      else list.push(c);
    }
    for (const [image, containers] of byImage) {
      let pods = this.containersByImage.get(image);
      if (pods === undefined) this.containersByImage.set(image, (pods = new Map()));
      pods.set(key, containers);
      this.markImage(image);
    }
    if (pod.running && pod.jobPod === undefined) this.addCount(this.runningPodsByNamespace, pod.namespace, 1);
    if (pod.jobPod !== undefined) {
      const memo = this.jobPods.get(pod.jobPod.job) ?? { exporterStarted: false, pullFailed: false };
      memo.exporterStarted ||= pod.jobPod.exporterStarted;
      memo.pullFailed ||= pod.jobPod.pullFailed;
      this.jobPods.set(pod.jobPod.job, memo);
      const cronjob = this.jobs.get(pod.jobPod.job)?.cronjob;
      if (cronjob !== undefined) this.dirtyCronjobs.add(cronjob);
    }
  }

  private unindexPod(key: string, pod: PodView): void {
    for (const c of pod.containers) {
      const pods = this.containersByImage.get(c.image);
      if (pods === undefined) continue;
      pods.delete(key);
      if (pods.size === 0) this.containersByImage.delete(c.image);
      this.markImage(c.image);
    }
    if (pod.running && pod.jobPod === undefined) this.addCount(this.runningPodsByNamespace, pod.namespace, -1);
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
    if (report.image !== undefined) this.markImage(report.image);
    this.addCount(this.reportsByNamespace, report.namespace, 1);
    this.options.requestFlush();
  }

  removeReport(key: string, previous: ReportView): void {
    this.unindexReport(key, previous);
    this.options.requestFlush();
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
        if (known === undefined) this.lastKnown.set(report.image, (known = new Map()));
        known.set(report.digest, report);
      }
    }
    if (report.image !== undefined) this.markImage(report.image);
    this.addCount(this.reportsByNamespace, report.namespace, -1);
  }

  /** The newest report of `image@digest` (several workloads can run one digest), else its last known one. */
  private newestReport(image: string, digest: string): ReportView | undefined {
    const keys = this.reportsByRef.get(`${image}@${digest}`);
    let newest: ReportView | undefined;
    for (const key of keys ?? []) {
      const report = this.reports.get(key);
      if (report !== undefined && (newest === undefined || report.updated > newest.updated)) newest = report;
    }
    return newest ?? this.lastKnown.get(image)?.get(digest);
  }

  // ------------------------------------------------------------ jobs and cronjobs

  upsertJob(job: JobView, previous: JobView | undefined): void {
    if (previous?.cronjob !== undefined) {
      this.jobsByCronjob.get(previous.cronjob)?.delete(previous.name);
      this.dirtyCronjobs.add(previous.cronjob);
    }
    this.jobs.set(job.name, job);
    if (job.cronjob !== undefined) {
      let names = this.jobsByCronjob.get(job.cronjob);
      if (names === undefined) this.jobsByCronjob.set(job.cronjob, (names = new Set()));
      names.add(job.name);
      this.dirtyCronjobs.add(job.cronjob);
    }
    this.options.requestFlush();
  }

  removeJob(previous: JobView): void {
    this.jobs.delete(previous.name);
    this.jobPods.delete(previous.name);
    if (previous.cronjob !== undefined) {
      const names = this.jobsByCronjob.get(previous.cronjob);
      names?.delete(previous.name);
      if (names?.size === 0) this.jobsByCronjob.delete(previous.cronjob);
      this.dirtyCronjobs.add(previous.cronjob);
    }
    this.options.requestFlush();
  }

  upsertCronJob(cron: CronJobView): void {
    this.cronjobs.set(cron.name, cron);
    this.dirtyCronjobs.add(cron.name);
    this.options.requestFlush();
  }

  removeCronJob(previous: CronJobView): void {
    this.cronjobs.delete(previous.name);
    this.dirtyCronjobs.add(previous.name);
    this.options.requestFlush();
  }

  // ------------------------------------------------------------ configmaps

  /**
   * The inventory ConfigMap changed (undefined: absent or deleted: every image series goes, the
   * clock stays). A malformed inventory keeps the previous one.
   */
  setInventory(data: ConfigMapData | undefined): void {
    const parsed = parseInventoryConfigMap(data);
    if (!parsed.ok) {
      this.options.log.error('inventory rejected', { reason: parsed.reason, keeping: this.inventory.images.size });
      return;
    }
    const before = this.inventory;
    this.inventory = parsed.inventory;
    this.inventoryPresent = data !== undefined;
    for (const image of before.images.keys()) this.markImage(image);
    for (const image of this.inventory.images.keys()) this.markImage(image);
    for (const cronjob of before.cronjobs.keys()) this.dirtyCronjobs.add(cronjob);
    for (const cronjob of this.inventory.cronjobs.keys()) this.dirtyCronjobs.add(cronjob);
    this.inventorySeriesDirty = true;
    if (this.clockWasEnabled) this.forgetImagesOutsideInventory();
    this.options.log.info('inventory loaded', { images: this.inventory.images.size, cronjobs: this.inventory.cronjobs.size, severitiesInScope: this.inventory.severitiesInScope });
    this.options.requestFlush();
  }

  /** The patched-digest ConfigMap changed (undefined: deleted). */
  setPatchedDigests(data: ConfigMapData | undefined): void {
    const { byImage, invalid } = parsePatchedDigests(data);
    if (invalid.length > 0) this.options.log.warn('patched digests skipped', { keys: invalid });
    for (const image of new Set([...this.patched.keys(), ...byImage.keys()])) {
      if (this.patched.get(image)?.digest !== byImage.get(image)?.digest) this.markImage(image);
    }
    this.patched = byImage;
    this.options.requestFlush();
  }

  // ------------------------------------------------------------ recomputation

  get hasDirty(): boolean {
    return this.dirtyImages.size > 0 || this.dirtyNamespaces.size > 0 || this.dirtyCronjobs.size > 0 || this.inventorySeriesDirty;
  }

  /**
   * Recomputes every dirty group. Before the first complete view (pods, reports and inventory
   * listed, or the initial sync timeout), changes accumulate: one computation, not one per page.
   */
  flush(): void {
    const now = this.options.now();
    if (!this.complete && now < this.options.startedAt + this.options.tuning.initialSyncTimeoutMs) return;
    if (this.dirtyImages.size > 0) {
      for (const image of this.dirtyImages) this.computeImage(image, now);
      this.dirtyImages.clear();
      this.computeFleetSeries(now);
    }
    for (const namespace of this.dirtyNamespaces) this.computeNamespace(namespace, now);
    this.dirtyNamespaces.clear();
    for (const cronjob of this.dirtyCronjobs) this.computeCronjob(cronjob, now);
    this.dirtyCronjobs.clear();
    if (this.inventorySeriesDirty) this.computeInventorySeries(now);
    this.inventorySeriesDirty = false;
    this.afterChange();
  }

  /** The time-driven checks: SLA breaches coming due, missed schedules, clock pruning. */
  tick(): void {
    if (this.hasDirty) this.flush();
    const now = this.options.now();
    for (const image of this.activeCves.keys()) this.evaluateBreaches(image, now);
    for (const cronjob of this.inventory.cronjobs.keys()) this.computeCronjob(cronjob, now);
    if (this.clockEnabled) this.options.clock.prune(Math.floor(now / 1000));
    this.afterChange();
  }

  private afterChange(): void {
    if (this.options.clock.hasDirty) this.options.clockChanged(this.breachCounted);
    this.breachCounted = false;
  }

  private computeImage(image: string, now: number): void {
    const { stores, clock } = this.options;
    const inventoried = this.inventory.images.get(image);
    if (inventoried === undefined) {
      for (const store of IMAGE_STORES) stores[store].deleteGroup(image);
      this.activeCves.delete(image);
      this.activeBySeverity.delete(image);
      this.noncompliantByImage.delete(image);
      this.unknownByImage.delete(image);
      this.lastKnown.delete(image);
      return;
    }
    const reportOf = new Map<string, ReportView | undefined>();
    const containers: RunningContainer[] = [];
    const critical: Series[] = [];
    let withCritical = 0;
    const hasCritical = (digest: string) => (reportOf.get(digest)?.cves.Critical?.length ?? 0) > 0;
    for (const podContainers of this.containersByImage.get(image)?.values() ?? []) {
      // Containers of one pod on one digest add up in one series.
      let podSeries: Map<string, Series> | undefined;
      for (const c of podContainers) {
        containers.push(c);
        if (!reportOf.has(c.digest)) reportOf.set(c.digest, this.newestReport(image, c.digest));
        if (!hasCritical(c.digest)) continue;
        withCritical += 1;
        podSeries ??= new Map();
        const existing = podSeries.get(c.digest);
        if (existing !== undefined) {
          existing.value = (existing.value as number) + 1;
          continue;
        }
        const labels = formatLabelParts(METRICS.runningContainersWithCriticalCve, { namespace: c.namespace, pod: c.pod, image, digest: c.digest }, 2, intern);
        const series: Series = { labels, value: 1, since: now };
        podSeries.set(c.digest, series);
        critical.push(series);
      }
    }
    stores.critical.replaceGroup(image, critical);
    // Last known reports matter only while their digest runs.
    const known = this.lastKnown.get(image);
    if (known !== undefined) {
      for (const digest of known.keys()) if (!reportOf.has(digest)) known.delete(digest);
      if (known.size === 0) this.lastKnown.delete(image);
    }
    stores.running.setSingle(image, formatLabels(METRICS.runningContainers, { image }), containers.length, now);

    const patched = this.patched.get(image);
    const drift: Series[] = [];
    // Non-compliant: a Critical CVE on the running digest, or a pre-patch digest (counted once).
    let noncompliant = withCritical;
    if (patched !== undefined) {
      for (const row of findDrift(containers, new Map([[image, patched.digest]]))) {
        const values = { namespace: row.namespace, pod: row.pod, container: row.container, image, digest: row.runningDigest, patched_digest: row.patchedDigest };
        drift.push({ labels: formatLabelParts(METRICS.containerDigestDrift, values, 3, intern), value: 1, since: now });
        if (!hasCritical(row.runningDigest)) noncompliant += 1;
      }
    }
    stores.drift.replaceGroup(image, drift);
    this.noncompliantByImage.set(image, noncompliant);
    const coverage = scanCoverage(containers, (digest) => reportOf.get(digest) !== undefined, patched?.digest);
    stores.unscannedContainers.setSingle(image, formatLabels(METRICS.unscannedContainers, { image }), coverage.unscanned, now);
    this.unknownByImage.set(image, coverage.unknown);

    let newest = 0;
    for (const report of reportOf.values()) if (report !== undefined && report.updated > newest) newest = report.updated;
    stores.scanAge.setSingle(image, formatLabels(METRICS.imageScanAgeSeconds, { image }), newest > 0 ? { origin: { firstSeen: newest / 1000 }, unitSeconds: 1 } : undefined, now);

    // The SLA clock: CVEs in scope on the running digests.
    const scope = this.inventory.severitiesInScope;
    const active = new Map<string, number | undefined>();
    const bySeverity = new Map<Severity, Set<string>>();
    let complete = true;
    for (const report of reportOf.values()) {
      if (report === undefined) {
        complete = false;
        continue;
      }
      for (const severity of scope) {
        const hours = inventoried.slaHours[severity];
        const cves = report.cves[severity] ?? [];
        if (cves.length === 0) continue;
        let ofSeverity = bySeverity.get(severity);
        if (ofSeverity === undefined) bySeverity.set(severity, (ofSeverity = new Set()));
        for (const cve of cves) {
          active.set(cve, minHours(active.get(cve), hours, active.has(cve)));
          ofSeverity.add(cve);
        }
      }
    }
    if (this.clockEnabled) clock.observe(image, new Set(active.keys()), complete, Math.floor(now / 1000));
    if (active.size > 0) {
      this.activeCves.set(image, active);
      this.activeBySeverity.set(image, bySeverity);
    } else {
      this.activeCves.delete(image);
      this.activeBySeverity.delete(image);
    }

    const ages: Series[] = [];
    if (clock.loaded) {
      for (const [digest, report] of reportOf) {
        if (report === undefined) continue;
        for (const severity of scope) {
          for (const cve of report.cves[severity] ?? []) {
            const entry = clock.get(image, cve);
            if (entry === undefined || entry.goneSince !== 0) continue;
            // `{image=..,digest=..,` is shared by the digest's CVEs, `cve_id=..,severity=..}` by every image carrying the CVE.
            const labels = formatLabelParts(METRICS.imageCveAgeHours, { image, digest, cve_id: cve, severity }, 2, intern);
            ages.push({ labels, value: { origin: entry, unitSeconds: 3600 }, since: now });
          }
        }
      }
    }
    stores.cveAge.replaceGroup(image, ages);
    this.evaluateBreaches(image, now);
  }

  /**
   * `image_patch_sla_breach_total`: a series per active CVE whose breach is near (prewarm) or
   * counted, at 0 first, incremented once when the CVE's age passes its SLA hours and the 0 was
   * exposed long enough for `increase()` to see the step. Counted breaches are persisted with the
   * clock: a restart shows the series at 0 again, never a second increment.
   */
  private evaluateBreaches(image: string, now: number): void {
    const { stores, clock, tuning } = this.options;
    const active = this.activeCves.get(image);
    const previous = stores.slaBreach.groupByLabels(image);
    const next = new Map<string, Series>();
    const nowSeconds = now / 1000;
    for (const [cve, hours] of active ?? []) {
      if (hours === undefined) continue;
      const entry = clock.get(image, cve);
      if (entry === undefined || entry.goneSince !== 0) continue;
      const labels = formatLabels(METRICS.slaBreachTotal, { image, cve_id: cve, threshold_hours: String(hours) });
      const existing = previous.get(labels);
      if (entry.breached.includes(hours)) {
        next.set(labels, existing ?? { labels, value: 0, since: now });
        continue;
      }
      const due = entry.firstSeen + hours * 3600;
      if (nowSeconds < due - tuning.breachPrewarmSeconds) continue;
      const series = existing ?? { labels, value: 0, since: now };
      next.set(labels, series);
      if (this.clockEnabled && nowSeconds >= due && (now - series.since) / 1000 >= tuning.breachMinExposureSeconds) {
        series.value = (series.value as number) + 1;
        clock.markBreached(image, cve, hours);
        this.breachCounted = true;
        this.options.log.info('sla breach', { image, cve, thresholdHours: hours, firstSeen: new Date(entry.firstSeen * 1000).toISOString() });
      }
    }
    stores.slaBreach.replaceGroup(image, next.values());
    this.countBreaching(image, nowSeconds, now);
  }

  /**
   * `image_cve_sla_breaches`: per severity, the active CVEs older than the image's SLA hours for
   * that severity, as `image_cve_age_hours > SLA hours` would count them (distinct CVE ids over the
   * running digests). Exported so that rules aggregate a few series per image instead of every
   * tracked CVE; recomputed with the breaches (every tick), so it lags the age by at most a tick.
   */
  private countBreaching(image: string, nowSeconds: number, now: number): void {
    const { stores, clock } = this.options;
    const slaHours = this.inventory.images.get(image)?.slaHours;
    const previous = stores.slaBreaching.groupByLabels(image);
    const series: Series[] = [];
    for (const [severity, cves] of this.activeBySeverity.get(image) ?? []) {
      const hours = slaHours?.[severity];
      if (hours === undefined) continue;
      let breaching = 0;
      for (const cve of cves) {
        const entry = clock.get(image, cve);
        if (entry !== undefined && entry.goneSince === 0 && nowSeconds - entry.firstSeen > hours * 3600) breaching += 1;
      }
      if (breaching === 0) continue;
      const labels = formatLabels(METRICS.imageCveSlaBreaches, { image, severity });
      const existing = previous.get(labels);
      if (existing !== undefined) existing.value = breaching;
      series.push(existing ?? { labels, value: breaching, since: now });
    }
    stores.slaBreaching.replaceGroup(image, series);
  }

  /** The fleet-wide series: the sum of the per-image non-compliant counts. */
  private computeFleetSeries(now: number): void {
    let noncompliant = 0;
    for (const count of this.noncompliantByImage.values()) noncompliant += count;
    this.options.stores.noncompliant.setSingle(FLEET_GROUP, formatLabels(METRICS.noncompliantContainers, {}), noncompliant, now);
    let unknown = 0;
    for (const count of this.unknownByImage.values()) unknown += count;
    this.options.stores.complianceUnknown.setSingle(FLEET_GROUP, formatLabels(METRICS.complianceUnknownContainers, {}), unknown, now);
  }

  private computeNamespace(namespace: string, now: number): void {
    const running = this.runningPodsByNamespace.get(namespace) ?? 0;
    const reports = this.reportsByNamespace.get(namespace) ?? 0;
    const unscanned = this.synced.pods && this.synced.reports && running > 0 && reports === 0;
    this.options.stores.unscanned.setSingle(namespace, formatLabels(METRICS.namespaceUnscanned, { namespace }), unscanned ? running : undefined, now);
  }

  private computeCronjob(cronjob: string, now: number): void {
    const { stores, tuning } = this.options;
    const entry = this.inventory.cronjobs.get(cronjob);
    if (entry === undefined) {
      for (const store of CRONJOB_STORES) stores[store].deleteGroup(cronjob);
      return;
    }
    const { image } = entry;
    const cron = this.cronjobs.get(cronjob);
    stores.cronLastSchedule.setSingle(cronjob, formatLabels(METRICS.cronjobLastScheduleTimestamp, { image, cronjob }), cron?.lastSchedule === undefined ? undefined : cron.lastSchedule / 1000, now);
    // The start of the first-run wait (first-runs.ts): from the API, so a restart does not move it.
    stores.cronCreated.setSingle(cronjob, formatLabels(METRICS.cronjobCreatedTimestamp, { image, cronjob }), cron === undefined || cron.created === 0 ? undefined : cron.created / 1000, now);

    const reasons = new Set<CollectorFailureReason>();
    const names = this.jobsByCronjob.get(cronjob);
    const job = latestJob([...(names ?? [])].flatMap((name) => this.jobs.get(name) ?? []));
    if (job !== undefined) {
      // creationTimestamp has second precision: compare with the second the collector started in.
      const sawWholeLife = job.created >= Math.floor(this.options.startedAt / 1000) * 1000;
      const reason = classifyJobFailure(job, this.jobPods.get(job.name), sawWholeLife);
      if (reason !== undefined) reasons.add(reason);
    }
    if (cron !== undefined && missedSchedule(cron, entry.scheduleIntervalSeconds, tuning.missedScheduleGraceSeconds, now)) reasons.add('missed_schedule');
    const previous = stores.jobFailure.groupByLabels(cronjob);
    const series: Series[] = [];
    for (const reason of [...reasons].sort()) {
      const labels = formatLabels(METRICS.jobLastFailure, { image, cronjob, failure_reason: reason });
      series.push(previous.get(labels) ?? { labels, value: 1, since: now });
    }
    stores.jobFailure.replaceGroup(cronjob, series);
  }

  private computeInventorySeries(now: number): void {
    const { stores } = this.options;
    for (const store of ['inventoryInfo', 'inventoryInterval', 'inventorySla'] as const) {
      for (const group of stores[store].groupNames()) if (!this.inventory.images.has(group)) stores[store].deleteGroup(group);
    }
    for (const [image, entry] of this.inventory.images) {
      const info = entry.cronjobs.map((c): Series => ({ labels: formatLabels(METRICS.inventoryImageInfo, { image, cronjob: c.cronjob, team: c.team }), value: 1, since: now }));
      stores.inventoryInfo.replaceGroup(image, info);
      stores.inventoryInterval.setSingle(image, formatLabels(METRICS.inventoryScheduleIntervalSeconds, { image }), entry.scheduleIntervalSeconds, now);
      const sla = (Object.entries(entry.slaHours) as [Severity, number][]).map(([severity, hours]): Series => ({ labels: formatLabels(METRICS.inventorySlaHours, { image, severity }), value: hours, since: now }));
      stores.inventorySla.replaceGroup(image, sla);
    }
  }

  // ------------------------------------------------------------ helpers

  private markImage(image: string): void {
    this.dirtyImages.add(image);
  }

  private markAllImages(): void {
    for (const image of this.inventory.images.keys()) this.dirtyImages.add(image);
  }

  private markAllNamespaces(): void {
    for (const namespace of this.runningPodsByNamespace.keys()) this.dirtyNamespaces.add(namespace);
    for (const namespace of this.options.stores.unscanned.groupNames()) this.dirtyNamespaces.add(namespace);
  }

  private forgetImagesOutsideInventory(): void {
    // A deleted (e.g. being re-created) inventory ConfigMap must not wipe the SLA clock.
    if (!this.inventoryPresent) return;
    for (const image of this.options.clock.trackedImages()) {
      if (!this.inventory.images.has(image)) this.options.clock.forget(image);
    }
  }

  private addCount(counts: Map<string, number>, key: string, delta: number): void {
    const next = (counts.get(key) ?? 0) + delta;
    if (next <= 0) counts.delete(key);
    else counts.set(key, next);
    if (counts === this.runningPodsByNamespace || counts === this.reportsByNamespace) this.dirtyNamespaces.add(key);
  }
}

function samePod(a: PodView, b: PodView): boolean {
  if (a.running !== b.running || a.containers.length !== b.containers.length) return false;
  for (let i = 0; i < a.containers.length; i++) {
    const x = a.containers[i]!;
    const y = b.containers[i]!;
    if (x.container !== y.container || x.image !== y.image || x.digest !== y.digest) return false;
  }
  const j = a.jobPod;
  const k = b.jobPod;
  if (j === undefined || k === undefined) return j === k;
  return j.job === k.job && j.exporterStarted === k.exporterStarted && j.pullFailed === k.pullFailed;
}

/** The strictest (smallest) SLA hours of a CVE seen under several severities; `seen` tells "no SLA yet" from "not seen". */
function minHours(current: number | undefined, hours: number | undefined, seen: boolean): number | undefined {
  if (!seen) return hours;
  if (current === undefined) return hours;
  if (hours === undefined) return current;
  return Math.min(current, hours);
}
