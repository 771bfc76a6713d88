/**
 * The fleet model: the validated inventory resolved into exactly what the constructs and outputs
 * need (names, schedules, effective SLAs, refs), sorted so that output never depends on the order
 * of the inventory.
 */
import type { Inventory, Sla, SlaScope } from '../inventory/schema.ts';
import type { ImportedException } from '../inventory/vex-import.ts';
import type { FleetException } from '../shared/exceptions.ts';
import { resolveExceptions } from './exceptions.ts';
import { DEFAULT_TAG, formatImageRef, normalizeImageRef } from '../shared/image-ref.ts';
import { SEVERITY_BY_KEY, SEVERITY_KEYS, type Severity } from '../shared/metrics.ts';
import { resolveClusters, type FleetClusters } from './clusters.ts';
import { imageCronJobName } from './naming.ts';
import { longestIntervalSeconds, spreadSchedule } from './schedule.ts';

export interface FleetImage {
  /** The normalised repository: the `image` metric label. */
  readonly image: string;
  /** Normalised source reference, `registry/path:tag`. */
  readonly sourceRef: string;
  readonly tag: string;
  readonly patchedTag: string;
  /** Normalised patched reference, `registry/path:patchedTag`. */
  readonly patchedRef: string;
  /** CronJob name; also the Pushgateway grouping key and the patched-digest store key. */
  readonly name: string;
  readonly team: string;
  readonly schedule: string;
  /** True when the schedule was spread by copa-fleet rather than written in the inventory. */
  readonly scheduleSpread: boolean;
  readonly scheduleIntervalSeconds: number;
  /** Effective SLA hours by severity label value; severities absent here are not tracked. */
  readonly slaHours: Readonly<Partial<Record<Severity, number>>>;
  /** Which CVEs run this image's SLA clock: only those with a fixed version, or all. */
  readonly slaScope: SlaScope;
}

export interface Fleet {
  readonly namespace: string;
  /** Enabled images, sorted by `name`. */
  readonly images: readonly FleetImage[];
  /** Reviewed exceptions, inline and imported from OpenVEX files, sorted by key. */
  readonly exceptions: readonly FleetException[];
  /** The inventory with defaults applied, for settings the model does not reshape. */
  readonly inventory: Inventory;
  /** Multi-cluster fleets only (inventory `clusters`); undefined: one cluster, the single-cluster layout. */
  readonly clusters?: FleetClusters | undefined;
}

/** `importedExceptions` come from `exceptionFiles` (read by loadInventory). */
export function buildFleet(
  inventory: Inventory & { readonly importedExceptions?: readonly ImportedException[] },
): Fleet {
  const { defaults } = inventory;
  const images = inventory.images
    .filter((entry) => entry.enabled)
    .map((entry): FleetImage => {
      const ref = normalizeImageRef(entry.ref);
      const tag = ref.tag ?? DEFAULT_TAG;
      const sourceRef = formatImageRef({ ...ref, tag });
      const patchedTag = entry.patchedTag ?? `${tag}-patched`;
      const schedule = entry.schedule ?? spreadSchedule(sourceRef, defaults.schedule.window);
      return {
        image: ref.name,
        sourceRef,
        tag,
        patchedTag,
        patchedRef: formatImageRef({ ...ref, tag: patchedTag }),
        name: imageCronJobName(ref),
        team: entry.team ?? defaults.team,
        schedule,
        scheduleSpread: entry.schedule === undefined,
        scheduleIntervalSeconds: longestIntervalSeconds(schedule),
        slaHours: effectiveSla(defaults.sla, entry.sla),
        slaScope: entry.slaScope ?? defaults.slaScope,
      };
    })
    .sort((a, b) => compare(a.name, b.name));
  // The inventory's own image order means nothing: sort it too, so that no consumer of
  // `fleet.inventory` can make the output depend on it.
  const entries = inventory.images
    .map((entry) => ({ entry, key: formatImageRef(normalizeImageRef(entry.ref)) }))
    .sort((a, b) => compare(a.key, b.key))
    .map(({ entry }) => entry);
  const clusters = resolveClusters(inventory);
  const { importedExceptions = [], ...validated } = inventory;
  const sortedClusters = validated.clusters !== undefined && {
    clusters: [...validated.clusters].sort((a, b) => compare(a.name, b.name)),
  };
  return {
    namespace: defaults.namespace,
    images,
    exceptions: resolveExceptions(inventory.exceptions, importedExceptions, images),
    inventory: { ...validated, images: entries, ...sortedClusters },
    ...(clusters !== undefined && { clusters }),
  };
}

function effectiveSla(defaults: Sla, override: Sla | undefined): Partial<Record<Severity, number>> {
  const merged: Sla = { ...defaults, ...override };
  const result: Partial<Record<Severity, number>> = {};
  for (const key of SEVERITY_KEYS) {
    const hours = merged[key];
    if (hours !== undefined) result[SEVERITY_BY_KEY[key]] = hours;
  }
  return result;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
