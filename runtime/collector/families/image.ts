/**
 * The image-scope families: series grouped by inventoried image, recomputed when anything of the
 * image changes (its pods, its reports, its patched digest, the inventory). `imageFacts` reads
 * the indexes once per recomputation; each family only formats its series from those facts.
 */
import { findDrift, type DriftRow } from '../../../src/shared/drift.ts';
import { METRICS, type Severity } from '../../../src/shared/metrics.ts';
import type { ExceptionIndex } from '../exceptions.ts';
import type { FleetIndexes } from '../indexes.ts';
import { intern, type PodContainer, type ReportView } from '../projections.ts';
import { formatLabelParts, formatLabels, type Series, type SeriesStore } from '../series.ts';
import { scanCoverage, type ScanCoverage } from '../scan-coverage.ts';
import type { ImageClockInput } from '../sla.ts';

/** What the indexes say about one inventoried image, read once per recomputation. */
export interface ImageFacts {
  /** Running containers of the image per pod key. */
  readonly pods: ReadonlyMap<string, readonly PodContainer[]> | undefined;
  readonly containers: readonly PodContainer[];
  /** The newest report of each running digest (undefined: none), in the order the digests were met. */
  readonly reportOf: ReadonlyMap<string, ReportView | undefined>;
  /** Containers not on the latest patched digest (none without a patched digest). */
  readonly drift: readonly DriftRow[];
  /** Running containers with a Critical CVE on their digest, or on a pre-patch digest (counted once). */
  readonly noncompliant: number;
  /** Running containers on digests without any report, and those of them of unknown compliance. */
  readonly scanCoverage: ScanCoverage;
}

/** What the image-scope families read: the facts, and the SLA clock's view (sla.ts). */
export interface ImageInput extends ImageClockInput {
  readonly facts: ImageFacts;
  readonly severitiesInScope: readonly Severity[];
}

export function imageFacts(
  image: string,
  indexes: FleetIndexes,
  patchedDigest: string | undefined,
): ImageFacts {
  const pods = indexes.containersByImage.get(image);
  const reportOf = new Map<string, ReportView | undefined>();
  const containers: PodContainer[] = [];
  let withCritical = 0;
  for (const podContainers of pods?.values() ?? []) {
    for (const c of podContainers) {
      containers.push(c);
      if (!reportOf.has(c.digest)) reportOf.set(c.digest, indexes.newestReport(image, c.digest));
      if (hasCritical(reportOf, c.digest)) withCritical += 1;
    }
  }
  const drift =
    patchedDigest === undefined ? [] : findDrift(containers, new Map([[image, patchedDigest]]));
  let noncompliant = withCritical;
  for (const row of drift) if (!hasCritical(reportOf, row.runningDigest)) noncompliant += 1;
  const coverage = scanCoverage(
    containers,
    (digest) => reportOf.get(digest) !== undefined,
    patchedDigest,
  );
  return { pods, containers, reportOf, drift, noncompliant, scanCoverage: coverage };
}

/**
 * `ImageFacts.noncompliant` with accepted risk: a container whose digest's Critical CVEs are all
 * covered, for the container's tag, by exceptions in force counts as compliant (drift still counts).
 */
export function noncompliantWithAcceptedRisk(
  image: string,
  facts: ImageFacts,
  exceptions: ExceptionIndex,
  now: number,
): number {
  if (exceptions.size === 0) return facts.noncompliant;
  const drifted = new Set(facts.drift.map((row) => `${row.namespace}/${row.pod}/${row.container}`));
  let noncompliant = 0;
  for (const c of facts.containers) {
    if (drifted.has(`${c.namespace}/${c.pod}/${c.container}`)) noncompliant += 1;
    else if (
      (facts.reportOf.get(c.digest)?.cves.Critical ?? []).some(
        (cve) => !exceptions.accepts(cve, image, [c.tag], now),
      )
    )
      noncompliant += 1;
  }
  return noncompliant;
}

function hasCritical(
  reportOf: ReadonlyMap<string, ReportView | undefined>,
  digest: string,
): boolean {
  return (reportOf.get(digest)?.cves.Critical?.length ?? 0) > 0;
}

/** `running_containers_with_critical_cve`: containers of one pod on one digest add up in one series. */
export function criticalSeries(store: SeriesStore, { image, facts, now }: ImageInput): void {
  const critical: Series[] = [];
  for (const podContainers of facts.pods?.values() ?? []) {
    let podSeries: Map<string, Series> | undefined;
    for (const c of podContainers) {
      if (!hasCritical(facts.reportOf, c.digest)) continue;
      podSeries ??= new Map();
      const existing = podSeries.get(c.digest);
      if (existing !== undefined) {
        existing.value = (existing.value as number) + 1;
        continue;
      }
      const labels = formatLabelParts(
        METRICS.runningContainersWithCriticalCve,
        { namespace: c.namespace, pod: c.pod, image, digest: c.digest },
        2,
        intern,
      );
      const series: Series = { labels, value: 1, since: now };
      podSeries.set(c.digest, series);
      critical.push(series);
    }
  }
  store.replaceGroup(image, critical);
}

/** `fleet_running_containers`. */
export function runningSeries(store: SeriesStore, { image, facts, now }: ImageInput): void {
  store.setSingle(
    image,
    formatLabels(METRICS.runningContainers, { image }),
    facts.containers.length,
    now,
  );
}

/** Containers per (workload namespace, running digest) of `containers`, as series of `metric`. */
function digestCounts(
  metric: typeof METRICS.runningDigestContainers | typeof METRICS.runningDigestCriticalContainers,
  image: string,
  containers: readonly PodContainer[],
  now: number,
): Series[] {
  const counts = new Map<string, Series>();
  for (const c of containers) {
    const key = `${c.namespace}\u0000${c.digest}`;
    const existing = counts.get(key);
    if (existing !== undefined) {
      existing.value = (existing.value as number) + 1;
      continue;
    }
    counts.set(key, {
      labels: formatLabelParts(
        metric,
        { namespace: c.namespace, image, digest: c.digest },
        2,
        intern,
      ),
      value: 1,
      since: now,
    });
  }
  return [...counts.values()];
}

/** `fleet_running_digest_containers`: containers per (workload namespace, running digest). */
export function runningDigestSeries(store: SeriesStore, { image, facts, now }: ImageInput): void {
  store.replaceGroup(
    image,
    digestCounts(METRICS.runningDigestContainers, image, facts.containers, now),
  );
}

/** `fleet_running_digest_critical_containers`: the same, for digests with a Critical CVE only (as `ImageFacts.noncompliant`). */
export function runningDigestCriticalSeries(
  store: SeriesStore,
  { image, facts, now }: ImageInput,
): void {
  const critical = facts.containers.filter((c) => hasCritical(facts.reportOf, c.digest));
  store.replaceGroup(
    image,
    digestCounts(METRICS.runningDigestCriticalContainers, image, critical, now),
  );
}

/** `running_container_digest_drift`. */
export function driftSeries(store: SeriesStore, { image, facts, now }: ImageInput): void {
  const drift = facts.drift.map((row): Series => {
    const values = {
      namespace: row.namespace,
      pod: row.pod,
      container: row.container,
      image,
      digest: row.runningDigest,
      patched_digest: row.patchedDigest,
    };
    return {
      labels: formatLabelParts(METRICS.containerDigestDrift, values, 3, intern),
      value: 1,
      since: now,
    };
  });
  store.replaceGroup(image, drift);
}

/** `fleet_unscanned_containers`: 0 included (the collector looked and found every digest scanned). */
export function unscannedContainersSeries(
  store: SeriesStore,
  { image, facts, now }: ImageInput,
): void {
  store.setSingle(
    image,
    formatLabels(METRICS.unscannedContainers, { image }),
    facts.scanCoverage.unscanned,
    now,
  );
}

/** `image_scan_age_seconds`: from the newest report of the running digests. */
export function scanAgeSeries(store: SeriesStore, { image, facts, now }: ImageInput): void {
  let newest = 0;
  for (const report of facts.reportOf.values())
    if (report !== undefined && report.updated > newest) newest = report.updated;
  store.setSingle(
    image,
    formatLabels(METRICS.imageScanAgeSeconds, { image }),
    newest > 0 ? { origin: { firstSeen: newest / 1000 }, unitSeconds: 1 } : undefined,
    now,
  );
}

/** `image_cve_age_hours`: per running digest and active CVE, aged from the SLA clock's first-seen time. */
export function cveAgeSeries(
  store: SeriesStore,
  { image, facts, clock, severitiesInScope, now }: ImageInput,
): void {
  const ages: Series[] = [];
  if (clock.loaded) {
    for (const [digest, report] of facts.reportOf) {
      if (report === undefined) continue;
      for (const severity of severitiesInScope) {
        for (const cve of report.cves[severity] ?? []) {
          const entry = clock.get(image, cve);
          if (entry === undefined || entry.goneSince !== 0) continue;
          // `{image=..,digest=..,` is shared by the digest's CVEs, `cve_id=..,severity=..}` by every image carrying the CVE.
          const labels = formatLabelParts(
            METRICS.imageCveAgeHours,
            { image, digest, cve_id: cve, severity },
            2,
            intern,
          );
          ages.push({ labels, value: { origin: entry, unitSeconds: 3600 }, since: now });
        }
      }
    }
  }
  store.replaceGroup(image, ages);
}
