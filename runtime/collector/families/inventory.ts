/**
 * The inventory-scope families: the inventory ConfigMap as series, grouped by image, recomputed
 * when the inventory changes (they let rules find images that never reported).
 */
import { METRICS, type Severity } from '../../../src/shared/metrics.ts';
import type { InventoryImage } from '../inventory.ts';
import { formatLabels, type Series, type SeriesStore } from '../series.ts';

export interface InventoryInput {
  readonly image: string;
  readonly entry: InventoryImage;
  readonly now: number;
}

/** `fleet_inventory_image_info`: 1 per image and CronJob. */
export function inventoryInfoSeries(
  store: SeriesStore,
  { image, entry, now }: InventoryInput,
): void {
  store.replaceGroup(
    image,
    entry.cronjobs.map((c): Series => ({
      labels: formatLabels(METRICS.inventoryImageInfo, { image, cronjob: c.cronjob, team: c.team }),
      value: 1,
      since: now,
    })),
  );
}

/** `fleet_inventory_schedule_interval_seconds`. */
export function inventoryIntervalSeries(
  store: SeriesStore,
  { image, entry, now }: InventoryInput,
): void {
  store.setSingle(
    image,
    formatLabels(METRICS.inventoryScheduleIntervalSeconds, { image }),
    entry.scheduleIntervalSeconds,
    now,
  );
}

/** `fleet_inventory_sla_hours`: per severity with SLA hours. */
export function inventorySlaSeries(
  store: SeriesStore,
  { image, entry, now }: InventoryInput,
): void {
  const sla = (Object.entries(entry.slaHours) as [Severity, number][]).map(
    ([severity, hours]): Series => ({
      labels: formatLabels(METRICS.inventorySlaHours, { image, severity }),
      value: hours,
      since: now,
    }),
  );
  store.replaceGroup(image, sla);
}
