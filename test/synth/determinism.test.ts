/** Same inventory, same bytes; the order of the images in the inventory changes nothing. */
import { describe, expect, it } from 'vitest';
import type { InventoryInput } from '../../src/inventory/schema.ts';
import { renderFleet } from '../../src/synth/render.ts';
import { FULL, fleetOf } from '../support/fleet-fixtures.ts';

const bytes = (input: InventoryInput) =>
  renderFleet(fleetOf(input))
    .map((f) => `== ${f.path}\n${f.content}`)
    .join('\n');

describe('rendering', () => {
  const reference = bytes(FULL);

  it('gives the same bytes for the same inventory', () => {
    expect(bytes(structuredClone(FULL))).toBe(reference);
  });

  it('gives the same bytes whatever the order of the images', () => {
    const images = [...(FULL.images ?? [])];
    expect(bytes({ ...FULL, images: [...images].reverse() })).toBe(reference);
    const rotated = [...images.slice(2), ...images.slice(0, 2)];
    expect(bytes({ ...FULL, images: rotated })).toBe(reference);
  });

  it('changes when an image is added (the comparison is not vacuous)', () => {
    expect(bytes({ ...FULL, images: [...(FULL.images ?? []), { ref: 'alpine:3.20' }] })).not.toBe(
      reference,
    );
  });

  it('writes no timestamps and returns files sorted by path', () => {
    expect(reference).not.toMatch(/\b20\d\d-\d\d-\d\dT\d\d:\d\d/);
    const paths = renderFleet(fleetOf(FULL)).map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths).toEqual(
      expect.arrayContaining([
        'copa-jobs.k8s.yaml',
        'drift-collector.k8s.yaml',
        'namespace.k8s.yaml',
        'pushgateway.k8s.yaml',
        'trivy-operator/values.yaml',
      ]),
    );
  });
});
