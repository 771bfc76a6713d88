/**
 * `npm run schema`: regenerates the committed files derived from the inventory's zod schema,
 * inventory.schema.json (for editors) and docs/inventory.md (the reference). Tests fail when
 * either is stale.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { INVENTORY_SCHEMA_FILE, renderInventoryJsonSchema } from '../src/inventory/json-schema.ts';
import { INVENTORY_DOCS_FILE, renderInventoryDocs } from '../src/inventory/reference-docs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const outputs: ReadonlyArray<readonly [string, string]> = [
  [INVENTORY_SCHEMA_FILE, renderInventoryJsonSchema()],
  [INVENTORY_DOCS_FILE, renderInventoryDocs()],
];
for (const [file, content] of outputs) {
  await writeFile(`${root}${file}`, content);
  process.stdout.write(`wrote ${file}\n`);
}
