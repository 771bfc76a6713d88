import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.ts';
import type { Inventory } from '../../src/inventory/schema.ts';
import { buildFleet } from '../../src/model/fleet.ts';

const inventory = parseInventory(
  `
defaults:
  team: platform
  sla: {critical: 24, high: 168}
images:
  - ref: nginx:1.27
    team: web
  - ref: registry.example.com:443/payments/api:3.8.1
    team: payments
    sla: {critical: 8}
    patchedTag: 3.8.1-copa
  - ref: ghcr.io/acme/tool
    schedule: "0 6 * * 1"
  - ref: redis:7
    enabled: false
  - ref: registry.internal.example.com:5000/data/etl:5.3.0
  - ref: quay.io/prometheus/node-exporter:v1.8.2
`,
  'inventory.yaml',
);

describe('buildFleet', () => {
  const fleet = buildFleet(inventory);
  const byImage = (image: string) => fleet.images.find((i) => i.image === image);

  it('resolves every enabled image, sorted by CronJob name', () => {
    expect(fleet.namespace).toBe('copa-fleet');
    expect(fleet.images.map((i) => i.image)).not.toContain('docker.io/library/redis');
    expect(fleet.images).toHaveLength(5);
    const names = fleet.images.map((i) => i.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it('normalises references and derives tags and patched references', () => {
    expect(byImage('registry.example.com/payments/api')).toMatchObject({
      sourceRef: 'registry.example.com/payments/api:3.8.1',
      tag: '3.8.1',
      patchedTag: '3.8.1-copa',
      patchedRef: 'registry.example.com/payments/api:3.8.1-copa',
      team: 'payments',
    });
    expect(byImage('docker.io/library/nginx')).toMatchObject({
      sourceRef: 'docker.io/library/nginx:1.27',
      patchedRef: 'docker.io/library/nginx:1.27-patched',
      team: 'web',
    });
    expect(byImage('ghcr.io/acme/tool')).toMatchObject({
      tag: 'latest',
      sourceRef: 'ghcr.io/acme/tool:latest',
      patchedTag: 'latest-patched',
      team: 'platform',
    });
  });

  it('keeps explicit schedules and spreads the others, with their longest interval', () => {
    expect(byImage('ghcr.io/acme/tool')).toMatchObject({
      schedule: '0 6 * * 1',
      scheduleSpread: false,
      scheduleIntervalSeconds: 7 * 86_400,
    });
    const spread = byImage('docker.io/library/nginx');
    expect(spread?.scheduleSpread).toBe(true);
    expect(spread?.scheduleIntervalSeconds).toBe(86_400);
  });

  it('merges SLA overrides over the defaults, keyed by the severity label value', () => {
    expect(byImage('registry.example.com/payments/api')?.slaHours).toEqual({
      Critical: 8,
      High: 168,
    });
    expect(byImage('docker.io/library/nginx')?.slaHours).toEqual({ Critical: 24, High: 168 });
  });

  it('is identical whatever the order of the inventory images', () => {
    const expected = JSON.stringify(fleet);
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...inventory.images], { minLength: inventory.images.length }),
        (images) => {
          const reordered: Inventory = { ...inventory, images };
          expect(JSON.stringify(buildFleet(reordered))).toBe(expected);
        },
      ),
      { numRuns: 30 },
    );
  });
});
