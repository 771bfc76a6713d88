/**
 * How old a running image's newest VulnerabilityReport may get, decided in one place for both
 * sides: trivy-operator's `operator.scannerReportTTL` (dist/trivy-operator/values.yaml) and the
 * TrivyScanStale threshold (`prometheus.scanMaxAgeHours`).
 *
 * trivy-operator deletes a report once its TTL has passed since it was written and then rescans
 * the workload: a digest that does not change (the nightly run was up to date, no rollout) gets
 * no other rescan, so its newest report grows to the TTL plus the time the rescan takes (the
 * collector keeps the deleted report's age until the new one lands). The stale threshold must lie
 * beyond that, or every such image of a perfectly healthy fleet raises TrivyScanStale.
 */
import type { Inventory } from '../inventory/schema.ts';
import { windowHours } from './schedule.ts';

/** Time a rescan after the TTL may take (scan job queue and run) before the report counts as stale. */
export const RESCAN_MARGIN_HOURS = 2;
const HOURS_PER_DAY = 24;

export interface ScanFreshness {
  /** trivy-operator `scannerReportTTL`, hours. */
  readonly reportTtlHours: number;
  /** TrivyScanStale threshold, hours: always at least `reportTtlHours + RESCAN_MARGIN_HOURS`. */
  readonly scanMaxAgeHours: number;
}

/**
 * Whichever of the two the inventory sets drives the other; with neither, the TTL is 24 h plus the
 * patch window (a report never expires before the next nightly patch run had its chance) and the
 * threshold the TTL plus the margin. Setting both inconsistently is refused by the inventory check
 * (checkScanFreshness in schema.ts).
 */
export function scanFreshness(
  inventory: Pick<Inventory, 'defaults' | 'prometheus' | 'trivyOperator'>,
): ScanFreshness {
  const { defaults, prometheus, trivyOperator } = inventory;
  const reportTtlHours =
    trivyOperator.reportTtlHours ??
    (prometheus.scanMaxAgeHours === undefined
      ? HOURS_PER_DAY + windowHours(defaults.schedule.window.start, defaults.schedule.window.end)
      : prometheus.scanMaxAgeHours - RESCAN_MARGIN_HOURS);
  return {
    reportTtlHours,
    scanMaxAgeHours: prometheus.scanMaxAgeHours ?? reportTtlHours + RESCAN_MARGIN_HOURS,
  };
}
