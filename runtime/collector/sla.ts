/**
 * The SLA logic over the clock (sla-clock.ts): which in-scope CVEs each inventoried image carries
 * on its running digests (the clock's input), and the two families the clock drives,
 * `image_patch_sla_breach_total` and `image_cve_sla_breaches`. Both are time-driven: recomputed
 * with their image and on every tick, for the images with active CVEs.
 */
import { METRICS, type Severity } from '../../src/shared/metrics.ts';
import type { CollectorTuning } from './config.ts';
import type { InventoryImage } from './inventory.ts';
import type { Logger } from './log.ts';
import type { ReportView } from './projections.ts';
import { formatLabels, type Series, type SeriesStore } from './series.ts';
import type { SlaClock } from './sla-clock.ts';

/** The in-scope CVEs on an image's running digests. */
export interface ImageSla {
  /** CVE -> SLA hours (strictest severity), undefined without SLA. */
  readonly active: ReadonlyMap<string, number | undefined>;
  /** The same CVEs by the severity the reports give them (a CVE may carry two). */
  readonly bySeverity: ReadonlyMap<Severity, ReadonlySet<string>>;
}

/** What the time-driven (SLA) families of one image read. */
export interface ImageClockInput {
  readonly image: string;
  /** The image's SLA hours per severity (undefined: no longer inventoried). */
  readonly slaHours: InventoryImage['slaHours'] | undefined;
  readonly sla: ImageSla | undefined;
  readonly clock: SlaClock;
  /** The clock may count (complete view of pods, reports and inventory; state loaded). */
  readonly clockEnabled: boolean;
  readonly tuning: CollectorTuning;
  readonly log: Logger;
  /** A breach was counted: the state write is urgent. */
  readonly breachCounted: () => void;
  /** ms since the epoch. */
  readonly now: number;
}

/** Active in-scope CVEs per inventoried image (only images with at least one). */
export class SlaTracker {
  private readonly byImage = new Map<string, ImageSla>();

  get(image: string): ImageSla | undefined {
    return this.byImage.get(image);
  }

  images(): IterableIterator<string> {
    return this.byImage.keys();
  }

  forget(image: string): void {
    this.byImage.delete(image);
  }

  /**
   * Collects the in-scope CVEs of the reports of the running digests (undefined: a running digest
   * without a report) and, when the clock may count, feeds them to it.
   */
  observe(image: string, entry: InventoryImage, reportOf: ReadonlyMap<string, ReportView | undefined>, scope: readonly Severity[], clock: SlaClock, clockEnabled: boolean, now: number): void {
    const active = new Map<string, number | undefined>();
    const bySeverity = new Map<Severity, Set<string>>();
    let complete = true;
    for (const report of reportOf.values()) {
      if (report === undefined) {
        complete = false;
        continue;
      }
      for (const severity of scope) {
        const hours = entry.slaHours[severity];
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
    if (clockEnabled) clock.observe(image, new Set(active.keys()), complete, Math.floor(now / 1000));
    if (active.size > 0) this.byImage.set(image, { active, bySeverity });
    else this.byImage.delete(image);
  }
}

/**
 * `image_patch_sla_breach_total`: a series per active CVE whose breach is near (prewarm) or
 * counted, at 0 first, incremented once when the CVE's age passes its SLA hours and the 0 was
 * exposed long enough for `increase()` to see the step. Counted breaches are persisted with the
 * clock: a restart shows the series at 0 again, never a second increment.
 */
export function slaBreachSeries(store: SeriesStore, input: ImageClockInput): void {
  const { image, clock, tuning, now } = input;
  const previous = store.groupByLabels(image);
  const next = new Map<string, Series>();
  const nowSeconds = now / 1000;
  for (const [cve, hours] of input.sla?.active ?? []) {
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
    if (input.clockEnabled && nowSeconds >= due && (now - series.since) / 1000 >= tuning.breachMinExposureSeconds) {
      series.value = (series.value as number) + 1;
      clock.markBreached(image, cve, hours);
      input.breachCounted();
      input.log.info('sla breach', { image, cve, thresholdHours: hours, firstSeen: new Date(entry.firstSeen * 1000).toISOString() });
    }
  }
  store.replaceGroup(image, next.values());
}

/**
 * `image_cve_sla_breaches`: per severity, the active CVEs older than the image's SLA hours for
 * that severity, as `image_cve_age_hours > SLA hours` would count them (distinct CVE ids over the
 * running digests). Exported so that rules aggregate a few series per image instead of every
 * tracked CVE; recomputed with the breaches (every tick), so it lags the age by at most a tick.
 */
export function slaBreachingSeries(store: SeriesStore, input: ImageClockInput): void {
  const { image, clock, slaHours, now } = input;
  const nowSeconds = now / 1000;
  const previous = store.groupByLabels(image);
  const series: Series[] = [];
  for (const [severity, cves] of input.sla?.bySeverity ?? []) {
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
  store.replaceGroup(image, series);
}

/** The strictest (smallest) SLA hours of a CVE seen under several severities; `seen` tells "no SLA yet" from "not seen". */
function minHours(current: number | undefined, hours: number | undefined, seen: boolean): number | undefined {
  if (!seen) return hours;
  if (current === undefined) return hours;
  if (hours === undefined) return current;
  return Math.min(current, hours);
}
