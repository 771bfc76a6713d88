/**
 * The report TTL and the TrivyScanStale threshold come from one place: whatever the inventory sets,
 * a report is renewed (TTL) before it counts as stale (threshold), by the rescan margin.
 */
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.ts';
import { RESCAN_MARGIN_HOURS, scanFreshness } from '../../src/model/scan-freshness.ts';
import { buildFleet } from '../../src/model/fleet.ts';
import { trivyOperatorValues } from '../../src/outputs/trivy-operator-values.ts';
import { observabilitySettings } from '../../src/observability/settings.ts';

const freshness = (extra: string) =>
  scanFreshness(parseInventory(`images:\n  - ref: nginx:1.27\n${extra}`, 'inventory.yaml'));

describe('scanFreshness', () => {
  it('defaults: the TTL is 24 h plus the 4 h window, the threshold 2 h beyond it', () => {
    expect(freshness('')).toEqual({ reportTtlHours: 28, scanMaxAgeHours: 30 });
    expect(RESCAN_MARGIN_HOURS).toBe(2);
  });

  it('follows the schedule window', () => {
    expect(
      freshness('defaults:\n  schedule:\n    window: {start: "22:00", end: "23:30"}\n'),
    ).toEqual({ reportTtlHours: 26, scanMaxAgeHours: 28 });
  });

  it('a TTL alone moves the threshold; a threshold alone moves the TTL', () => {
    expect(freshness('trivyOperator:\n  reportTtlHours: 12\n')).toEqual({
      reportTtlHours: 12,
      scanMaxAgeHours: 14,
    });
    expect(freshness('prometheus:\n  scanMaxAgeHours: 26\n')).toEqual({
      reportTtlHours: 24,
      scanMaxAgeHours: 26,
    });
  });

  it('keeps both when they are consistent', () => {
    expect(
      freshness('prometheus:\n  scanMaxAgeHours: 48\ntrivyOperator:\n  reportTtlHours: 24\n'),
    ).toEqual({ reportTtlHours: 24, scanMaxAgeHours: 48 });
  });

  it('the generated trivy-operator values and the rules read the same derivation', () => {
    const fleet = buildFleet(parseInventory('images:\n  - ref: nginx:1.27\n', 'inventory.yaml'));
    expect(trivyOperatorValues(fleet)).toMatchObject({ operator: { scannerReportTTL: '28h' } });
    expect(observabilitySettings(fleet).scanMaxAgeSeconds).toBe(30 * 3600);
  });
});
