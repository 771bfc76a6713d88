/**
 * Which fleet the report is about: its settings (above all its selectors, src/observability/queries.ts)
 * derived from its inventory exactly as synth derives the rules' (observabilitySettings), so the
 * report reads the series the fleet's rules read. Without an inventory: those of an inventory
 * with every default (namespace copa-fleet, the generated Pushgateway, no selector overrides).
 */
import { z } from 'zod';
import { inventorySchema, type Inventory } from '../inventory/schema.ts';
import { buildFleet } from '../model/fleet.ts';
import { observabilitySettings, type ObservabilitySettings } from '../observability/settings.ts';

export function reportSettings(inventory: Inventory): ObservabilitySettings {
  return observabilitySettings(buildFleet(inventory));
}

/** An inventory of defaults only: the schema requires images, which the selectors do not depend on. */
export function defaultInventory(): Inventory {
  // The schema's sections with their documented defaults; `images` (which must list one) left out.
  const { images: _images, ...sections } = inventorySchema.shape;
  return { ...z.strictObject(sections).parse({}), images: [] };
}
