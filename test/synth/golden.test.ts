/**
 * The committed dist/ is the synth of the committed inventory.yaml (the CI staleness check).
 * When this fails: run `npm run synth` and commit dist/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../src/synth/synth.ts';
import { readTree } from '../support/file-tree.ts';

const REPO = resolve(import.meta.dirname, '..', '..');
const STALE = 'dist/ is stale: run `npm run synth` and commit dist/';

describe('committed dist/', () => {
  const scratch = mkdtemp(join(tmpdir(), 'copa-fleet-golden-'));
  afterAll(async () => rm(await scratch, { recursive: true, force: true }));

  it('equals a fresh synth of inventory.yaml', async () => {
    const out = join(await scratch, 'dist');
    await synthesize({ inventoryFile: join(REPO, 'inventory.yaml'), outDir: out });
    const fresh = await readTree(out);
    const committed = await readTree(join(REPO, 'dist')).catch((): Record<string, string> => ({}));
    expect(Object.keys(committed).sort(), `${STALE} (the file list differs)`).toEqual(Object.keys(fresh).sort());
    for (const [path, content] of Object.entries(fresh)) {
      expect(committed[path] === content, `${STALE} (dist/${path} differs)`).toBe(true);
    }
  });
});
