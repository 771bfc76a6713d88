/**
 * inventory.schema.json and docs/inventory.md are generated from the zod schema (`npm run schema`)
 * and committed: these tests fail when either is stale, and check that the JSON Schema is one
 * editors can use and that agrees with the zod validation.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { INVENTORY_SCHEMA_FILE, inventoryJsonSchema, type JsonSchema, renderInventoryJsonSchema } from '../../src/inventory/json-schema.ts';
import { INVENTORY_DOCS_FILE, renderInventoryDocs } from '../../src/inventory/reference-docs.ts';
import { inventorySchema } from '../../src/inventory/schema.ts';

const root = new URL('../../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8');
const STALE = 'is stale: run `npm run schema` and commit the result';

describe('committed generated files', () => {
  it(`${INVENTORY_SCHEMA_FILE} is up to date`, () => {
    expect(read(INVENTORY_SCHEMA_FILE), `${INVENTORY_SCHEMA_FILE} ${STALE}`).toBe(renderInventoryJsonSchema());
  });

  it(`${INVENTORY_DOCS_FILE} is up to date`, () => {
    expect(read(INVENTORY_DOCS_FILE), `${INVENTORY_DOCS_FILE} ${STALE}`).toBe(renderInventoryDocs());
  });

  it('generation is deterministic', () => {
    expect(renderInventoryJsonSchema()).toBe(renderInventoryJsonSchema());
    expect(renderInventoryDocs()).toBe(renderInventoryDocs());
  });
});

/** Every property schema in the tree, with its dotted path. */
function properties(schema: JsonSchema, path: string, defs: Record<string, JsonSchema>): Array<[string, JsonSchema]> {
  const result: Array<[string, JsonSchema]> = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (typeof child === 'boolean') continue;
    const childPath = path === '' ? key : `${path}.${key}`;
    result.push([childPath, child]);
    const name = child.$ref?.replace('#/$defs/', '');
    const target = name === undefined ? child : (defs[name] ?? {});
    const items = target.items;
    const nested = typeof items === 'object' && !Array.isArray(items) ? items : target;
    if (name === undefined || !result.some(([p]) => p.endsWith(`.${name}`))) result.push(...properties(nested, childPath, defs));
  }
  return result;
}

describe('the inventory JSON Schema', () => {
  const schema = inventoryJsonSchema();
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);

  it('compiles in strict mode (draft 2020-12)', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(typeof validate).toBe('function');
  });

  it('documents every key (the docs are generated from these descriptions)', () => {
    const undocumented = properties(schema, '', schema.$defs ?? {})
      .filter(([, s]) => s.description === undefined)
      .map(([p]) => p);
    expect(undocumented).toEqual([]);
  });

  it('accepts the example inventory and the minimal one', () => {
    expect(validate(parse(read('inventory.yaml'))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ images: [{ ref: 'registry.example.com/myapp:1.4.2' }] })).toBe(true);
  });

  it.each([
    ['a typo', { images: [{ ref: 'nginx', scheudle: '0 2 * * *' }] }],
    ['a list where a map belongs', { defaults: [], images: [{ ref: 'nginx' }] }],
    ['no images', { images: [] }],
    ['a zero SLA', { images: [{ ref: 'nginx', sla: { critical: 0 } }] }],
    ['a string for a boolean', { images: [{ ref: 'nginx', enabled: 'yes' }] }],
    ['an unknown route severity', { images: [{ ref: 'nginx' }], alerting: { routes: [{ receiver: 'a', severity: 'page' }] } }],
  ])('rejects %s, as zod does', (_, value) => {
    expect(validate(value)).toBe(false);
    expect(inventorySchema.safeParse(value).success).toBe(false);
  });

  it('is the input shape: keys with defaults are optional, only images is required', () => {
    expect(schema.required).toEqual(['images']);
    expect(schema.additionalProperties).toBe(false);
  });
});
