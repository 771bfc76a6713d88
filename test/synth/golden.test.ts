/**
 * The committed output is the synth of its committed inventory (the CI staleness check): dist/ of
 * inventory.yaml (single cluster), and examples/multi-cluster/dist/ of the multi-cluster example.
 * When this fails: run `npm run synth` (and `npm run synth:examples`) and commit the output.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../src/synth/synth.ts';
import { readTree } from '../support/file-tree.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

const OUTPUTS = [
  { inventory: 'inventory.yaml', dist: 'dist', command: 'npm run synth' },
  {
    inventory: 'examples/multi-cluster/inventory.yaml',
    dist: 'examples/multi-cluster/dist',
    command: 'npm run synth:examples',
  },
] as const;

describe('committed output', () => {
  const scratch = mkdtemp(join(tmpdir(), 'copa-fleet-golden-'));
  afterAll(async () => rm(await scratch, { recursive: true, force: true }));

  it.each(OUTPUTS)(
    '$dist/ equals a fresh synth of $inventory',
    async ({ inventory, dist, command }) => {
      const stale = `${dist}/ is stale: run \`${command}\` and commit ${dist}/`;
      const out = join(await scratch, dist.replaceAll('/', '-'));
      await synthesize({ inventoryFile: join(REPO, inventory), outDir: out });
      const fresh = await readTree(out);
      const committed = await readTree(join(REPO, dist)).catch((): Record<string, string> => ({}));
      expect(Object.keys(committed).sort(), `${stale} (the file list differs)`).toEqual(
        Object.keys(fresh).sort(),
      );
      for (const [path, content] of Object.entries(fresh)) {
        expect(committed[path] === content, `${stale} (${dist}/${path} differs)`).toBe(true);
      }
    },
  );
});
