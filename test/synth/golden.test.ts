/**
 * The committed dist/ is the synth of the committed inventory.yaml (the CI staleness check).
 * When this fails: run `npm run synth` and commit dist/.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../src/synth/synth.ts';

const REPO = resolve(import.meta.dirname, '..', '..');
const STALE = 'dist/ is stale: run `npm run synth` and commit dist/';

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = await readFile(path, 'utf8');
  }
  return files;
}

describe('committed dist/', () => {
  const scratch = mkdtemp(join(tmpdir(), 'copa-fleet-golden-'));
  afterAll(async () => rm(await scratch, { recursive: true, force: true }));

  it('equals a fresh synth of inventory.yaml', async () => {
    const out = join(await scratch, 'dist');
    await synthesize({ inventoryFile: join(REPO, 'inventory.yaml'), outDir: out });
    const fresh = await snapshot(out);
    const committed = await snapshot(join(REPO, 'dist')).catch(() => ({}) as Record<string, string>);
    expect(Object.keys(committed).sort(), `${STALE} (the file list differs)`).toEqual(Object.keys(fresh).sort());
    for (const [path, content] of Object.entries(fresh)) {
      expect(committed[path] === content, `${STALE} (dist/${path} differs)`).toBe(true);
    }
  });
});
