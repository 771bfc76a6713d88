/**
 * inventory.schema.json and docs/inventory.md are generated from the zod schema (`npm run schema`)
 * and committed: these tests fail when either is stale, and check that the JSON Schema is one
 * editors can use and that agrees with the zod validation.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  INVENTORY_SCHEMA_FILE,
  inventoryJsonSchema,
  type JsonSchema,
  renderInventoryJsonSchema,
} from '../../src/inventory/json-schema.ts';
import { INVENTORY_DOCS_FILE, renderInventoryDocs } from '../../src/inventory/reference-docs.ts';
import { inventorySchema } from '../../src/inventory/schema.ts';

const root = new URL('../../', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, root), 'utf8');
const STALE = 'is stale: run `npm run schema` and commit the result';

describe('committed generated files', () => {
  it(`${INVENTORY_SCHEMA_FILE} is up to date`, () => {
    expect(read(INVENTORY_SCHEMA_FILE), `${INVENTORY_SCHEMA_FILE} ${STALE}`).toBe(
      renderInventoryJsonSchema(),
    );
  });

  it(`${INVENTORY_DOCS_FILE} is up to date`, () => {
    expect(read(INVENTORY_DOCS_FILE), `${INVENTORY_DOCS_FILE} ${STALE}`).toBe(
      renderInventoryDocs(),
    );
  });

  it('the reference gives every key a type', () => {
    expect(renderInventoryDocs()).not.toMatch(/\| any \|/);
  });

  it('generation is deterministic', () => {
    expect(renderInventoryJsonSchema()).toBe(renderInventoryJsonSchema());
    expect(renderInventoryDocs()).toBe(renderInventoryDocs());
  });
});

/** Every property schema in the tree (shared $defs followed; the inventory has no recursive shape), by dotted path. */
function properties(
  schema: JsonSchema,
  path: string,
  defs: Readonly<Record<string, JsonSchema>>,
): Array<[string, JsonSchema]> {
  const result: Array<[string, JsonSchema]> = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (typeof child === 'boolean') continue;
    const childPath = path === '' ? key : `${path}.${key}`;
    result.push([childPath, child]);
    // Draft-07 wraps a $ref that has its own description in a one-item allOf.
    const ref = child.$ref ?? child.allOf?.[0]?.$ref;
    const target = ref === undefined ? child : (defs[ref.replace('#/definitions/', '')] ?? {});
    const items = target.items;
    result.push(
      ...properties(
        typeof items === 'object' && !Array.isArray(items) ? items : target,
        childPath,
        defs,
      ),
    );
  }
  return result;
}

describe('the inventory JSON Schema', () => {
  const schema = inventoryJsonSchema();
  const ajv = new Ajv({ strict: true, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);

  it('compiles in strict mode, as draft-07 (what yaml-language-server implements)', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(typeof validate).toBe('function');
  });

  it('documents every key (the docs are generated from these descriptions)', () => {
    const undocumented = properties(
      schema,
      '',
      (schema.definitions ?? {}) as Record<string, JsonSchema>,
    )
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
    [
      'an unknown route severity',
      { images: [{ ref: 'nginx' }], alerting: { routes: [{ receiver: 'a', severity: 'page' }] } },
    ],
  ])('rejects %s, as zod does', (_, value) => {
    expect(validate(value)).toBe(false);
    expect(inventorySchema.safeParse(value).success).toBe(false);
  });

  it('is the input shape: keys with defaults are optional, only images is required', () => {
    expect(schema.required).toEqual(['images']);
    expect(schema.additionalProperties).toBe(false);
  });
});
