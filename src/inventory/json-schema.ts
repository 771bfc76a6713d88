/**
 * The inventory's JSON Schema, generated from the same zod schema that validates it, for editors
 * (yaml-language-server completes and checks inventory.yaml with it). Draft-07, the draft
 * yaml-language-server implements. Input mode: keys with defaults are optional, as they are for
 * the user writing the file.
 */
import { z } from 'zod';
import { inventorySchema } from './schema.ts';

/** Where the committed schema lives, relative to the repository root. */
export const INVENTORY_SCHEMA_FILE = 'inventory.schema.json';

export type JsonSchema = z.core.JSONSchema.JSONSchema;

export function inventoryJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(inventorySchema, { io: 'input', target: 'draft-7' });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'copa-fleet inventory',
    description: 'The fleet of images copa-fleet patches and tracks. Reference: docs/inventory.md.',
    $comment: 'Generated from src/inventory/schema.ts by `npm run schema`. Do not edit.',
    ...rest,
  };
}

/** The file content: stable key order (the schema's own), two-space indent, trailing newline. */
export function renderInventoryJsonSchema(): string {
  return `${JSON.stringify(inventoryJsonSchema(), null, 2)}\n`;
}
