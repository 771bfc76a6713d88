/**
 * The SLA logic over the clock (sla-clock.ts): which in-scope CVEs each inventoried image carries
 * on its running digests (the clock's input), and the families the clock drives,
 * `image_patch_sla_breach_total`, `image_cve_sla_breaches` and `image_cve_sla_breaches_accepted`.
 * They are time-driven: recomputed with their image and on every tick, for the images with
 * active CVEs.
 *
 * The SLA scope of the image decides which CVEs run the clock: `all` every CVE of a tracked
 * severity; `fixable` only those with a fixed version in the report, so their first-seen time is
 * the first time a running digest carried the CVE *with a fix available* (persisted like any
 * first-seen). Unfixable CVEs are counted either way (`image_unfixable_cves`).
 *
 * Risk acceptance (exceptions.ts) never touches the clock: an accepted CVE keeps its age and its
 * breach is still counted (`image_patch_sla_breach_total`); only the per-image breach count the
 * alert reads moves it to the accepted series while an exception covers it.
 */
import { METRICS, type Severity } from '../../src/shared/metrics.ts';
import type { CollectorTuning } from './config.ts';
import { ExceptionIndex } from './exceptions.ts';
import type { InventoryImage } from './inventory.ts';
import type { Logger } from './log.ts';
import type { PodContainer, ReportView } from './projections.ts';
import { formatLabels, type Series, type SeriesStore } from './series.ts';
import type { SlaClock } from './sla-clock.ts';

/** The in-scope CVEs on an image's running digests. */
export interface ImageSla {
  /** CVE -> SLA hours (strictest severity), undefined without SLA. */
  readonly active: ReadonlyMap<string, number | undefined>;
  /** The same CVEs by the severity the reports give them (a CVE may carry two). */
  readonly bySeverity: ReadonlyMap<Severity, ReadonlySet<string>>;
  /** Active CVEs that exceptions in force cover on every running container carrying them. */
  readonly accepted: ReadonlySet<string>;
  /** CVEs of a tracked severity without a fixed version on any running digest, by severity. */
  readonly unfixable: ReadonlyMap<Severity, ReadonlySet<string>>;
  /** Keys of the exceptions that match a running container of the image (in force or not). */
  readonly matchedExceptions: ReadonlySet<string>;
}

/** What `SlaTracker.observe` reads of one image. */
export interface ObserveInput {
  readonly image: string;
  readonly entry: InventoryImage;
  readonly containers: readonly PodContainer[];
  /** The newest report of each running digest (undefined: none). */
  readonly reportOf: ReadonlyMap<string, ReportView | undefined>;
  readonly scope: readonly Severity[];
  readonly exceptions: ExceptionIndex;
  readonly clock: SlaClock;
  readonly clockEnabled: boolean;
  /** ms since the epoch. */
  readonly now: number;
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
   * without a report), which of them are accepted and which exceptions match, and, when the clock
   * may count, feeds the clocked CVEs to it.
   */
  observe(input: ObserveInput): void {
    const { image, entry, reportOf, scope, exceptions, clock, now } = input;
    const fixableOnly = entry.slaScope === 'fixable';
    const active = new Map<string, number | undefined>();
    const bySeverity = new Map<Severity, Set<string>>();
    const unfixedSeen = new Map<Severity, Set<string>>();
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
        for (const cve of cves) {
          if (report.unfixed.has(cve)) {
            addTo(unfixedSeen, severity, cve);
            if (fixableOnly) continue;
          }
          active.set(cve, minHours(active.get(cve), hours, active.has(cve)));
          addTo(bySeverity, severity, cve);
        }
      }
    }
    // A CVE fixable on one running digest is not "unfixable" for the image.
    const unfixable = new Map<Severity, Set<string>>();
    for (const [severity, cves] of unfixedSeen) {
      for (const cve of cves) if (!fixableOnly || !active.has(cve)) addTo(unfixable, severity, cve);
    }
    const { accepted, matched } = exceptions.size === 0 ? NO_EXCEPTIONS : acceptance(input, active);
    if (input.clockEnabled)
      clock.observe(image, new Set(active.keys()), complete, Math.floor(now / 1000));
    if (active.size > 0 || unfixable.size > 0 || matched.size > 0)
      this.byImage.set(image, {
        active,
        bySeverity,
        accepted,
        unfixable,
        matchedExceptions: matched,
      });
    else this.byImage.delete(image);
  }
}

const NO_EXCEPTIONS = { accepted: new Set<string>(), matched: new Set<string>() } as const;

/** Which active CVEs are accepted, and which exceptions match a running container of the image. */
function acceptance(
  { image, containers, reportOf, exceptions, now }: ObserveInput,
  active: ReadonlyMap<string, unknown>,
): { accepted: Set<string>; matched: Set<string> } {
  const tagsOf = new Map<string, Set<string | undefined>>();
  for (const c of containers) addTo(tagsOf, c.digest, c.tag);
  const accepted = new Set<string>();
  const matched = new Set<string>();
  for (const vulnerability of exceptions.vulnerabilities()) {
    // The tags of every running container whose digest's report lists the vulnerability.
    const carriers = new Set<string | undefined>();
    for (const [digest, report] of reportOf) {
      if (report !== undefined && lists(report, vulnerability))
        for (const tag of tagsOf.get(digest) ?? []) carriers.add(tag);
    }
    if (carriers.size === 0) continue;
    for (const exception of exceptions.of(vulnerability))
      if (ExceptionIndex.covers(exception, image, carriers)) matched.add(exception.key);
    if (active.has(vulnerability) && exceptions.accepts(vulnerability, image, carriers, now))
      accepted.add(vulnerability);
  }
  return { accepted, matched };
}

function lists(report: ReportView, cve: string): boolean {
  for (const cves of Object.values(report.cves)) if (cves?.includes(cve) === true) return true;
  return false;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) map.set(key, new Set([value]));
  else set.add(value);
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
    const labels = formatLabels(METRICS.slaBreachTotal, {
      image,
      cve_id: cve,
      threshold_hours: String(hours),
    });
    const existing = previous.get(labels);
    if (entry.breached.includes(hours)) {
      next.set(labels, existing ?? { labels, value: 0, since: now });
      continue;
    }
    const due = entry.firstSeen + hours * 3600;
    if (nowSeconds < due - tuning.breachPrewarmSeconds) continue;
    const series = existing ?? { labels, value: 0, since: now };
    next.set(labels, series);
    if (
      input.clockEnabled &&
      nowSeconds >= due &&
      (now - series.since) / 1000 >= tuning.breachMinExposureSeconds
    ) {
      series.value = (series.value as number) + 1;
      clock.markBreached(image, cve, hours);
      input.breachCounted();
      input.log.info('sla breach', {
        image,
        cve,
        thresholdHours: hours,
        firstSeen: new Date(entry.firstSeen * 1000).toISOString(),
      });
    }
  }
  store.replaceGroup(image, next.values());
}

/**
 * `image_cve_sla_breaches`: per severity, the active CVEs older than the image's SLA hours for
 * that severity, as `image_cve_age_hours > SLA hours` would count them (distinct CVE ids over the
 * running digests), except the accepted ones. Exported so that rules aggregate a few series per
 * image instead of every tracked CVE; recomputed with the breaches (every tick), so it lags the
 * age by at most a tick. It is what CriticalCVESLABreach reads.
 */
export function slaBreachingSeries(store: SeriesStore, input: ImageClockInput): void {
  breachingCounts(
    store,
    input,
    METRICS.imageCveSlaBreaches,
    (cve) => !input.sla!.accepted.has(cve),
  );
}

/** `image_cve_sla_breaches_accepted`: the breaching CVEs that `image_cve_sla_breaches` leaves out because they are accepted. */
export function slaAcceptedBreachingSeries(store: SeriesStore, input: ImageClockInput): void {
  breachingCounts(store, input, METRICS.imageCveSlaBreachesAccepted, (cve) =>
    input.sla!.accepted.has(cve),
  );
}

function breachingCounts(
  store: SeriesStore,
  input: ImageClockInput,
  def: typeof METRICS.imageCveSlaBreaches | typeof METRICS.imageCveSlaBreachesAccepted,
  counts: (cve: string) => boolean,
): void {
  const { image, clock, slaHours, now } = input;
  const nowSeconds = now / 1000;
  const previous = store.groupByLabels(image);
  const series: Series[] = [];
  for (const [severity, cves] of input.sla?.bySeverity ?? []) {
    const hours = slaHours?.[severity];
    if (hours === undefined) continue;
    let breaching = 0;
    for (const cve of cves) {
      if (!counts(cve)) continue;
      const entry = clock.get(image, cve);
      if (
        entry !== undefined &&
        entry.goneSince === 0 &&
        nowSeconds - entry.firstSeen > hours * 3600
      )
        breaching += 1;
    }
    if (breaching === 0) continue;
    const labels = formatLabels(def, { image, severity });
    const existing = previous.get(labels);
    if (existing !== undefined) existing.value = breaching;
    series.push(existing ?? { labels, value: breaching, since: now });
  }
  store.replaceGroup(image, series);
}

/** `image_unfixable_cves`: per tracked severity, the distinct CVEs no running digest has a fix for. */
export function unfixableSeries(store: SeriesStore, input: ImageClockInput): void {
  const { image, now } = input;
  const previous = store.groupByLabels(image);
  const series: Series[] = [];
  for (const [severity, cves] of input.sla?.unfixable ?? []) {
    const labels = formatLabels(METRICS.imageUnfixableCves, { image, severity });
    const existing = previous.get(labels);
    if (existing !== undefined) existing.value = cves.size;
    series.push(existing ?? { labels, value: cves.size, since: now });
  }
  store.replaceGroup(image, series);
}

/** The strictest (smallest) SLA hours of a CVE seen under several severities; `seen` tells "no SLA yet" from "not seen". */
function minHours(
  current: number | undefined,
  hours: number | undefined,
  seen: boolean,
): number | undefined {
  if (!seen) return hours;
  if (current === undefined) return hours;
  if (hours === undefined) return current;
  return Math.min(current, hours);
}
