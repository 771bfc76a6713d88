/**
 * The collector's model: the coordinator between the watched objects and the metric families.
 *
 * Events update the indexes (indexes.ts), which mark what they affect as dirty (an image, a
 * namespace, a CronJob); `flush()` (scheduled a few tens of ms after the first change) recomputes
 * the dirty groups through the families of their scope (families/table.ts), and `tick()` (every
 * few seconds) the time-driven ones: SLA breaches (sla.ts), missed schedules, pruning of the
 * clock. Nothing is recomputed for the whole world per event. The sync gates decide when the
 * series and the SLA clock may be computed at all.
 *
 * Scope: the per-container and per-image series cover inventoried images only (the fleet);
 * `fleet_namespace_unscanned` covers every namespace.
 */
import type { DigestRecordSource } from '../../src/shared/metrics.ts';
import type { CollectorTuning } from './config.ts';
import {
  CRONJOB_FAMILIES,
  EXCEPTION_FAMILIES,
  FLEET_FAMILIES,
  IMAGE_CLOCK_FAMILIES,
  IMAGE_FAMILIES,
  INVENTORY_FAMILIES,
  NAMESPACE_FAMILIES,
  type FamilyKey,
  type ModelStores,
} from './families/table.ts';
import { imageFacts, noncompliantWithAcceptedRisk } from './families/image.ts';
import { FleetIndexes } from './indexes.ts';
import { DigestRecords } from './digest-records.ts';
import {
  EMPTY_INVENTORY,
  parseInventoryConfigMap,
  type InventoryIndex,
  type PatchedDigest,
} from './inventory.ts';
import type { Logger } from './log.ts';
import type { ConfigMapData, CronJobView, JobView, PodView, ReportView } from './projections.ts';
import { SlaTracker, type ImageClockInput } from './sla.ts';
import type { SlaClock } from './sla-clock.ts';

export { createStores, type ModelStores } from './families/table.ts';

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

const keysOf = (rows: readonly { readonly key: FamilyKey }[]): readonly FamilyKey[] =>
  rows.map((row) => row.key);
const IMAGE_STORES = keysOf(IMAGE_FAMILIES);
const CRONJOB_STORES = keysOf(CRONJOB_FAMILIES);
const INVENTORY_STORES = keysOf(INVENTORY_FAMILIES);
const NAMESPACE_STORES = keysOf(NAMESPACE_FAMILIES);
const EXCEPTION_STORES = keysOf(EXCEPTION_FAMILIES);

export class FleetModel {
  private inventory: InventoryIndex = EMPTY_INVENTORY;
  /** False while the inventory ConfigMap is absent: the clock is then kept, never pruned by image. */
  private inventoryPresent = false;
  private patched = new Map<string, PatchedDigest>();
  private readonly digestRecords = new DigestRecords();
  private digestRecordSources: Readonly<Record<DigestRecordSource, number>> = {
    own: 0,
    legacy: 0,
    rejected: 0,
  };
  /** The fleet-scope series need recomputing although no image changed. */
  private fleetDirty = false;

  private readonly dirtyImages = new Set<string>();
  private readonly dirtyNamespaces = new Set<string>();
  private readonly dirtyCronjobs = new Set<string>();
  private inventorySeriesDirty = false;
  private breachCounted = false;

  private readonly indexes = new FleetIndexes({
    image: (image) => this.dirtyImages.add(image),
    namespace: (namespace) => this.dirtyNamespaces.add(namespace),
    cronjob: (cronjob) => this.dirtyCronjobs.add(cronjob),
  });
  private readonly sla = new SlaTracker();
  /** Non-compliant running containers per inventoried image (summed into the fleet-wide series). */
  private readonly noncompliantByImage = new Map<string, number>();
  /** The same with accepted risk (exceptions in force). */
  private readonly noncompliantAcceptedByImage = new Map<string, number>();
  /** Keys of the exceptions in force at the last tick: a change re-evaluates acceptance on every image. */
  private inForce = '';
  /** Never-scanned, not otherwise non-compliant running containers per inventoried image (summed likewise). */
  private readonly unknownByImage = new Map<string, number>();

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
    return (
      this.synced.pods && this.synced.reports && this.synced.inventory && this.options.clock.loaded
    );
  }

  private checkClockGate(): void {
    if (this.clockWasEnabled || !this.clockEnabled) return;
    this.clockWasEnabled = true;
    this.forgetImagesOutsideInventory();
    this.markAllImages();
  }

  // ------------------------------------------------------------ events

  upsertPod(key: string, pod: PodView, previous: PodView | undefined): void {
    if (this.indexes.upsertPod(key, pod, previous)) this.options.requestFlush();
  }

  removePod(key: string, previous: PodView): void {
    this.indexes.removePod(key, previous);
    this.options.requestFlush();
  }

  upsertReport(key: string, report: ReportView, previous: ReportView | undefined): void {
    this.indexes.upsertReport(key, report, previous);
    this.options.requestFlush();
  }

  removeReport(key: string, previous: ReportView): void {
    this.indexes.removeReport(key, previous);
    this.options.requestFlush();
  }

  upsertJob(job: JobView, previous: JobView | undefined): void {
    this.indexes.upsertJob(job, previous);
    this.options.requestFlush();
  }

  removeJob(previous: JobView): void {
    this.indexes.removeJob(previous);
    this.options.requestFlush();
  }

  upsertCronJob(cron: CronJobView): void {
    this.indexes.upsertCronJob(cron);
    this.options.requestFlush();
  }

  removeCronJob(previous: CronJobView): void {
    this.indexes.removeCronJob(previous);
    this.options.requestFlush();
  }

  /**
   * The inventory ConfigMap changed (undefined: absent or deleted: every image series goes, the
   * clock stays). A malformed inventory keeps the previous one.
   */
  setInventory(data: ConfigMapData | undefined): void {
    const parsed = parseInventoryConfigMap(data);
    if (!parsed.ok) {
      this.options.log.error('inventory rejected', {
        reason: parsed.reason,
        keeping: this.inventory.images.size,
      });
      return;
    }
    const before = this.inventory;
    this.inventory = parsed.inventory;
    this.inventoryPresent = data !== undefined;
    for (const image of before.images.keys()) this.dirtyImages.add(image);
    for (const image of this.inventory.images.keys()) this.dirtyImages.add(image);
    for (const cronjob of before.cronjobs.keys()) this.dirtyCronjobs.add(cronjob);
    for (const cronjob of this.inventory.cronjobs.keys()) this.dirtyCronjobs.add(cronjob);
    this.inventorySeriesDirty = true;
    if (this.clockWasEnabled) this.forgetImagesOutsideInventory();
    this.resolvePatchedDigests();
    this.options.log.info('inventory loaded', {
      images: this.inventory.images.size,
      cronjobs: this.inventory.cronjobs.size,
      severitiesInScope: this.inventory.severitiesInScope,
      multiCluster: this.inventory.multiCluster,
    });
    this.options.requestFlush();
  }

  /** The shared patched-digest ConfigMap of earlier releases changed (undefined: deleted). */
  setPatchedDigests(data: ConfigMapData | undefined): void {
    this.digestRecords.setLegacy(data);
    this.resolvePatchedDigests();
  }

  /** A CronJob's own digest record (ConfigMap `<cronjob>-digest`) changed. */
  upsertDigestRecord(configMapName: string, data: ConfigMapData): void {
    this.digestRecords.upsertOwn(configMapName, data);
    this.resolvePatchedDigests();
  }

  removeDigestRecord(configMapName: string): void {
    this.digestRecords.removeOwn(configMapName);
    this.resolvePatchedDigests();
  }

  /** Which records stand for which CronJob depends on the inventory too: re-run on either change. */
  private resolvePatchedDigests(): void {
    const { byImage, sources, rejected } = this.digestRecords.resolve(this.inventory);
    for (const { cronjob, reason } of rejected)
      this.options.log.warn('patched-digest record refused', { cronjob, reason });
    for (const image of new Set([...this.patched.keys(), ...byImage.keys()])) {
      if (this.patched.get(image)?.digest !== byImage.get(image)?.digest)
        this.dirtyImages.add(image);
    }
    this.patched = byImage;
    this.digestRecordSources = sources;
    this.fleetDirty = true;
    this.options.requestFlush();
  }

  // ------------------------------------------------------------ recomputation

  get hasDirty(): boolean {
    return (
      this.dirtyImages.size > 0 ||
      this.dirtyNamespaces.size > 0 ||
      this.dirtyCronjobs.size > 0 ||
      this.inventorySeriesDirty ||
      this.fleetDirty
    );
  }

  /**
   * Recomputes every dirty group. Before the first complete view (pods, reports and inventory
   * listed, or the initial sync timeout), changes accumulate: one computation, not one per page.
   */
  flush(): void {
    const now = this.options.now();
    if (!this.complete && now < this.options.startedAt + this.options.tuning.initialSyncTimeoutMs)
      return;
    if (this.dirtyImages.size > 0 || this.fleetDirty || this.inventorySeriesDirty) {
      for (const image of this.dirtyImages) this.computeImage(image, now);
      this.dirtyImages.clear();
      this.computeFleet(now);
      this.fleetDirty = false;
      this.computeExceptions(now);
    }
    for (const namespace of this.dirtyNamespaces) this.computeNamespace(namespace, now);
    this.dirtyNamespaces.clear();
    for (const cronjob of this.dirtyCronjobs) this.computeCronjob(cronjob, now);
    this.dirtyCronjobs.clear();
    if (this.inventorySeriesDirty) this.computeInventory(now);
    this.inventorySeriesDirty = false;
    this.afterChange();
  }

  /** The time-driven checks: SLA breaches coming due, missed schedules, clock pruning. */
  tick(): void {
    const now = this.options.now();
    // An exception comes into force or lapses with the clock alone, no event: re-evaluate acceptance.
    const inForce = this.inventory.exceptions.inForceKeys(now).join('\n');
    if (inForce !== this.inForce) {
      this.inForce = inForce;
      this.markAllImages();
      this.inventorySeriesDirty = true;
    }
    if (this.hasDirty) this.flush();
    for (const image of this.sla.images()) {
      const input = this.clockInput(image, now);
      for (const { key, produce } of IMAGE_CLOCK_FAMILIES) produce(this.options.stores[key], input);
    }
    for (const cronjob of this.inventory.cronjobs.keys()) this.computeCronjob(cronjob, now);
    this.computeExceptions(now);
    if (this.clockEnabled) this.options.clock.prune(Math.floor(now / 1000));
    this.afterChange();
  }

  private afterChange(): void {
    if (this.options.clock.hasDirty) this.options.clockChanged(this.breachCounted);
    this.breachCounted = false;
  }

  private computeImage(image: string, now: number): void {
    const { stores, clock } = this.options;
    const entry = this.inventory.images.get(image);
    if (entry === undefined) {
      for (const key of IMAGE_STORES) stores[key].deleteGroup(image);
      this.sla.forget(image);
      this.noncompliantByImage.delete(image);
      this.noncompliantAcceptedByImage.delete(image);
      this.unknownByImage.delete(image);
      this.indexes.forgetImage(image);
      return;
    }
    const facts = imageFacts(image, this.indexes, this.patched.get(image)?.digest);
    this.indexes.pruneLastKnown(image, facts.reportOf);
    this.noncompliantByImage.set(image, facts.noncompliant);
    const { exceptions } = this.inventory;
    this.noncompliantAcceptedByImage.set(
      image,
      noncompliantWithAcceptedRisk(image, facts, exceptions, now),
    );
    this.unknownByImage.set(image, facts.scanCoverage.unknown);
    // The clock first: the age and breach families read what it observed.
    const scope = this.inventory.severitiesInScope;
    this.sla.observe({
      image,
      entry,
      containers: facts.containers,
      reportOf: facts.reportOf,
      scope,
      exceptions,
      clock,
      clockEnabled: this.clockEnabled,
      now,
    });
    const input = { ...this.clockInput(image, now), facts, severitiesInScope: scope };
    const { multiCluster } = this.inventory;
    for (const { key, produce, multiClusterOnly } of IMAGE_FAMILIES) {
      // Deleted, not skipped: the inventory may just have stopped being multi-cluster.
      if (multiClusterOnly && !multiCluster) stores[key].deleteGroup(image);
      else produce(stores[key], input);
    }
  }

  private clockInput(image: string, now: number): ImageClockInput {
    const { clock, tuning, log } = this.options;
    return {
      image,
      slaHours: this.inventory.images.get(image)?.slaHours,
      sla: this.sla.get(image),
      clock,
      clockEnabled: this.clockEnabled,
      tuning,
      log,
      breachCounted: () => (this.breachCounted = true),
      now,
    };
  }

  private computeFleet(now: number): void {
    const input = {
      noncompliantByImage: this.noncompliantByImage,
      noncompliantAcceptedByImage: this.noncompliantAcceptedByImage,
      unknownByImage: this.unknownByImage,
      digestRecordSources: this.digestRecordSources,
      now,
    };
    for (const { key, produce } of FLEET_FAMILIES) produce(this.options.stores[key], input);
  }

  private computeNamespace(namespace: string, now: number): void {
    const input = {
      namespace,
      runningPods: this.indexes.runningPodsByNamespace.get(namespace) ?? 0,
      reports: this.indexes.reportsByNamespace.get(namespace) ?? 0,
      listed: this.synced.pods && this.synced.reports,
      now,
    };
    for (const { key, produce } of NAMESPACE_FAMILIES) produce(this.options.stores[key], input);
  }

  private computeCronjob(cronjob: string, now: number): void {
    const { stores, tuning } = this.options;
    const entry = this.inventory.cronjobs.get(cronjob);
    if (entry === undefined) {
      for (const key of CRONJOB_STORES) stores[key].deleteGroup(cronjob);
      return;
    }
    const input = {
      cronjob,
      entry,
      cron: this.indexes.cronjobs.get(cronjob),
      jobs: this.indexes.jobsOf(cronjob),
      jobPod: (job: string) => this.indexes.jobPods.get(job),
      startedAt: this.options.startedAt,
      missedScheduleGraceSeconds: tuning.missedScheduleGraceSeconds,
      now,
    };
    for (const { key, produce } of CRONJOB_FAMILIES) produce(stores[key], input);
  }

  private computeInventory(now: number): void {
    const { stores } = this.options;
    for (const key of INVENTORY_STORES) {
      for (const group of stores[key].groupNames())
        if (!this.inventory.images.has(group)) stores[key].deleteGroup(group);
    }
    for (const [image, entry] of this.inventory.images) {
      const input = { image, entry, now };
      for (const { key, produce } of INVENTORY_FAMILIES) produce(stores[key], input);
    }
  }

  /** One group per exception: its reviewed fields, whether it is in force now, and the images it matches. */
  private computeExceptions(now: number): void {
    const { stores } = this.options;
    const { exceptions } = this.inventory;
    const keys = new Set(exceptions.all.map((e) => e.key));
    for (const key of EXCEPTION_STORES)
      for (const group of stores[key].groupNames())
        if (!keys.has(group)) stores[key].deleteGroup(group);
    if (keys.size === 0) return;
    const covered = new Map<string, number>();
    for (const image of this.sla.images()) {
      for (const key of this.sla.get(image)!.matchedExceptions)
        covered.set(key, (covered.get(key) ?? 0) + 1);
    }
    const inForce = new Set(exceptions.inForceKeys(now));
    for (const exception of exceptions.all) {
      const input = {
        exception,
        coveredImages: covered.get(exception.key) ?? 0,
        inForce: inForce.has(exception.key),
        now,
      };
      for (const { key, produce } of EXCEPTION_FAMILIES) produce(stores[key], input);
    }
  }

  // ------------------------------------------------------------ helpers

  private markAllImages(): void {
    for (const image of this.inventory.images.keys()) this.dirtyImages.add(image);
  }

  private markAllNamespaces(): void {
    for (const namespace of this.indexes.runningPodsByNamespace.keys())
      this.dirtyNamespaces.add(namespace);
    for (const key of NAMESPACE_STORES)
      for (const namespace of this.options.stores[key].groupNames())
        this.dirtyNamespaces.add(namespace);
  }

  private forgetImagesOutsideInventory(): void {
    // A deleted (e.g. being re-created) inventory ConfigMap must not wipe the SLA clock.
    if (!this.inventoryPresent) return;
    for (const image of this.options.clock.trackedImages()) {
      if (!this.inventory.images.has(image)) this.options.clock.forget(image);
    }
  }
}
