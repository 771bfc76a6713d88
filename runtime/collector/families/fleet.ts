/** The fleet-scope family: one series for the whole fleet, recomputed after any image changed. */
import {
  DIGEST_RECORD_SOURCES,
  type DigestRecordSource,
  METRICS,
} from '../../../src/shared/metrics.ts';
import { formatLabels, type SeriesStore } from '../series.ts';

/** The one group of the fleet-wide series. */
export const FLEET_GROUP = 'fleet';

export interface FleetInput {
  /** Non-compliant running containers per inventoried image (ImageFacts.noncompliant). */
  readonly noncompliantByImage: ReadonlyMap<string, number>;
  /** The same where accepted Critical CVEs do not count (ImageFacts.noncompliantAccepted). */
  readonly noncompliantAcceptedByImage: ReadonlyMap<string, number>;
  /** Running containers of unknown compliance per inventoried image (ImageFacts.scanCoverage.unknown). */
  readonly unknownByImage: ReadonlyMap<string, number>;
  /** Inventoried CronJobs per source of their patched digest (digest-records.ts). */
  readonly digestRecordSources: Readonly<Record<DigestRecordSource, number>>;
  readonly now: number;
}

/** `fleet_noncompliant_containers`: the sum of the per-image non-compliant counts. */
export function noncompliantSeries(
  store: SeriesStore,
  { noncompliantByImage, now }: FleetInput,
): void {
  store.setSingle(
    FLEET_GROUP,
    formatLabels(METRICS.noncompliantContainers, {}),
    sum(noncompliantByImage),
    now,
  );
}

/** `fleet_noncompliant_containers_with_accepted_risk`: the compliance ratio "with accepted risk" reads it. */
export function noncompliantAcceptedSeries(
  store: SeriesStore,
  { noncompliantAcceptedByImage, now }: FleetInput,
): void {
  store.setSingle(
    FLEET_GROUP,
    formatLabels(METRICS.noncompliantContainersAccepted, {}),
    sum(noncompliantAcceptedByImage),
    now,
  );
}

function sum(counts: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

/** `fleet_compliance_unknown_containers`: the sum of the per-image unknown counts. */
export function complianceUnknownSeries(
  store: SeriesStore,
  { unknownByImage, now }: FleetInput,
): void {
  let unknown = 0;
  for (const count of unknownByImage.values()) unknown += count;
  store.setSingle(FLEET_GROUP, formatLabels(METRICS.complianceUnknownContainers, {}), unknown, now);
}

/** `copa_fleet_collector_digest_records{source}`: every source, 0 included (the migration is done at legacy 0). */
export function digestRecordSeries(
  store: SeriesStore,
  { digestRecordSources, now }: FleetInput,
): void {
  store.replaceGroup(
    FLEET_GROUP,
    DIGEST_RECORD_SOURCES.map((source) => ({
      labels: formatLabels(METRICS.collectorDigestRecords, { source }),
      value: digestRecordSources[source],
      since: now,
    })),
  );
}
