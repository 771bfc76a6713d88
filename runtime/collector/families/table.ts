/**
 * The collector's metric families, one row each, in the order /metrics renders them (after the
 * health metrics of health.ts). As in kube-state-metrics (`internal/store/<resource>.go`): each
 * family is a vocabulary entry (the row's key in METRICS, src/shared/metrics.ts, gives name,
 * type, help and labels), a scope that says which group of objects its series are computed for
 * and when, and the one function that produces it. The stores, and which stores a scope
 * recomputes or deletes, are derived from this table: adding a family is a METRICS entry, a
 * producer in the file of its scope and a row here.
 *
 * Scopes (the group key of the family's SeriesStore, and when model.ts recomputes it):
 * - image:     an inventoried image; when its pods, reports, patched digest or inventory entry
 *              change. `clock` families also on every tick (they read the SLA clock: sla.ts).
 * - cronjob:   an inventoried CronJob; when it, its Jobs or their pods change, and on every tick.
 * - namespace: any namespace; when its running pods or reports change.
 * - fleet:     one group; after any image was recomputed, or the patched-digest records changed.
 * - inventory: an inventoried image; when the inventory changes.
 * - exception: an exception of the inventory; when the inventory or an image changes, and on
 *              every tick (whether it is in force depends on the clock).
 *
 * `multiClusterOnly` (image scope): exported only when the inventory says `multiCluster` (the
 * fleet has `clusters`); otherwise the family's groups are deleted instead of produced. For the
 * families only the global rules of a multi-cluster fleet read: a single-cluster fleet pays no
 * series for them (docs/benchmarks.md section 3).
 */
import { METRICS, type MetricKey } from '../../../src/shared/metrics.ts';
import { SeriesStore } from '../series.ts';
import {
  slaAcceptedBreachingSeries,
  slaBreachingSeries,
  slaBreachSeries,
  unfixableSeries,
  type ImageClockInput,
} from '../sla.ts';
import {
  cronCreatedSeries,
  cronLastScheduleSeries,
  jobFailureSeries,
  type CronJobInput,
} from './cronjob.ts';
import {
  exceptionCoveredSeries,
  exceptionExpirySeries,
  exceptionInfoSeries,
  exceptionInForceSeries,
  type ExceptionInput,
} from './exceptions.ts';
import {
  complianceUnknownSeries,
  digestRecordSeries,
  noncompliantAcceptedSeries,
  noncompliantSeries,
  type FleetInput,
} from './fleet.ts';
import {
  criticalSeries,
  cveAgeSeries,
  driftSeries,
  runningDigestCriticalSeries,
  runningDigestSeries,
  runningSeries,
  scanAgeSeries,
  unscannedContainersSeries,
  type ImageInput,
} from './image.ts';
import {
  inventoryInfoSeries,
  inventoryIntervalSeries,
  inventorySlaSeries,
  type InventoryInput,
} from './inventory.ts';
import { unscannedSeries, type NamespaceInput } from './namespace.ts';

/** Writes the family's series for one group (replacing the group, or deleting it when empty). */
export type Producer<I> = (store: SeriesStore, input: I) => void;

export type FamilySpec =
  | {
      readonly scope: 'image';
      readonly clock?: false;
      readonly multiClusterOnly?: true;
      readonly produce: Producer<ImageInput>;
    }
  | { readonly scope: 'image'; readonly clock: true; readonly produce: Producer<ImageClockInput> }
  | { readonly scope: 'cronjob'; readonly produce: Producer<CronJobInput> }
  | { readonly scope: 'namespace'; readonly produce: Producer<NamespaceInput> }
  | { readonly scope: 'fleet'; readonly produce: Producer<FleetInput> }
  | { readonly scope: 'inventory'; readonly produce: Producer<InventoryInput> }
  | { readonly scope: 'exception'; readonly produce: Producer<ExceptionInput> };
export type Scope = FamilySpec['scope'];

/** Vocabulary keys of the collector's metrics. */
export type CollectorMetricKey = {
  [K in MetricKey]: (typeof METRICS)[K]['source'] extends 'collector' ? K : never;
}[MetricKey];

export const FAMILIES = {
  imageCveAgeHours: { scope: 'image', produce: cveAgeSeries },
  slaBreachTotal: { scope: 'image', clock: true, produce: slaBreachSeries },
  imageCveSlaBreaches: { scope: 'image', clock: true, produce: slaBreachingSeries },
  imageCveSlaBreachesAccepted: { scope: 'image', clock: true, produce: slaAcceptedBreachingSeries },
  imageUnfixableCves: { scope: 'image', produce: unfixableSeries },
  runningContainersWithCriticalCve: { scope: 'image', produce: criticalSeries },
  containerDigestDrift: { scope: 'image', produce: driftSeries },
  runningContainers: { scope: 'image', produce: runningSeries },
  runningDigestContainers: { scope: 'image', multiClusterOnly: true, produce: runningDigestSeries },
  runningDigestCriticalContainers: {
    scope: 'image',
    multiClusterOnly: true,
    produce: runningDigestCriticalSeries,
  },
  noncompliantContainers: { scope: 'fleet', produce: noncompliantSeries },
  noncompliantContainersAccepted: { scope: 'fleet', produce: noncompliantAcceptedSeries },
  imageScanAgeSeconds: { scope: 'image', produce: scanAgeSeries },
  unscannedContainers: { scope: 'image', produce: unscannedContainersSeries },
  complianceUnknownContainers: { scope: 'fleet', produce: complianceUnknownSeries },
  namespaceUnscanned: { scope: 'namespace', produce: unscannedSeries },
  inventoryImageInfo: { scope: 'inventory', produce: inventoryInfoSeries },
  inventoryScheduleIntervalSeconds: { scope: 'inventory', produce: inventoryIntervalSeries },
  inventorySlaHours: { scope: 'inventory', produce: inventorySlaSeries },
  jobLastFailure: { scope: 'cronjob', produce: jobFailureSeries },
  cronjobLastScheduleTimestamp: { scope: 'cronjob', produce: cronLastScheduleSeries },
  exceptionInfo: { scope: 'exception', produce: exceptionInfoSeries },
  exceptionExpiryTimestamp: { scope: 'exception', produce: exceptionExpirySeries },
  exceptionInForce: { scope: 'exception', produce: exceptionInForceSeries },
  exceptionCoveredImages: { scope: 'exception', produce: exceptionCoveredSeries },
  cronjobCreatedTimestamp: { scope: 'cronjob', produce: cronCreatedSeries },
  collectorDigestRecords: { scope: 'fleet', produce: digestRecordSeries },
} as const satisfies Partial<Record<CollectorMetricKey, FamilySpec>>;

export type FamilyKey = keyof typeof FAMILIES;
export const FAMILY_KEYS = Object.keys(FAMILIES) as FamilyKey[];

/** One store per family, keyed by its vocabulary key, in the table's order. */
export type ModelStores = Readonly<Record<FamilyKey, SeriesStore>>;

export function createStores(): ModelStores {
  return Object.fromEntries(
    FAMILY_KEYS.map((key) => [key, new SeriesStore(METRICS[key])]),
  ) as Record<FamilyKey, SeriesStore>;
}

/** A family of the table with its key. */
export interface FamilyRow<I> {
  readonly key: FamilyKey;
  readonly produce: Producer<I>;
  /** Exported only in a multi-cluster fleet (the spec's `multiClusterOnly`). */
  readonly multiClusterOnly: boolean;
}

function rows<S extends FamilySpec>(
  match: (spec: FamilySpec) => spec is S,
): FamilyRow<Parameters<S['produce']>[1]>[] {
  return FAMILY_KEYS.flatMap((key) => {
    const spec: FamilySpec = FAMILIES[key];
    return match(spec)
      ? [
          {
            key,
            produce: spec.produce as Producer<Parameters<S['produce']>[1]>,
            multiClusterOnly: 'multiClusterOnly' in spec && spec.multiClusterOnly === true,
          },
        ]
      : [];
  });
}

type Of<S extends Scope> = Extract<FamilySpec, { scope: S }>;

/** Every image-scope family (a clock family reads a part of the image's input). */
export const IMAGE_FAMILIES: readonly FamilyRow<ImageInput>[] = rows(
  (s): s is Of<'image'> => s.scope === 'image',
);
/** The image-scope families recomputed on every tick. */
export const IMAGE_CLOCK_FAMILIES: readonly FamilyRow<ImageClockInput>[] = rows(
  (s): s is Of<'image'> & { clock: true } => s.scope === 'image' && s.clock === true,
);
export const CRONJOB_FAMILIES: readonly FamilyRow<CronJobInput>[] = rows(
  (s): s is Of<'cronjob'> => s.scope === 'cronjob',
);
export const NAMESPACE_FAMILIES: readonly FamilyRow<NamespaceInput>[] = rows(
  (s): s is Of<'namespace'> => s.scope === 'namespace',
);
export const FLEET_FAMILIES: readonly FamilyRow<FleetInput>[] = rows(
  (s): s is Of<'fleet'> => s.scope === 'fleet',
);
export const INVENTORY_FAMILIES: readonly FamilyRow<InventoryInput>[] = rows(
  (s): s is Of<'inventory'> => s.scope === 'inventory',
);
export const EXCEPTION_FAMILIES: readonly FamilyRow<ExceptionInput>[] = rows(
  (s): s is Of<'exception'> => s.scope === 'exception',
);
/** The families a single-cluster fleet does not export. */
export const MULTI_CLUSTER_ONLY_KEYS: readonly FamilyKey[] = IMAGE_FAMILIES.filter(
  (row) => row.multiClusterOnly,
).map((row) => row.key);
