/** The output directory is replaced as a whole or not at all, and no temp directory is left behind. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputDirError, writeOutputDir } from '../../src/outputs/write-dist.ts';
import { checkPaths } from '../../src/synth/render.ts';
import { synthesize } from '../../src/synth/synth.ts';
import { InventoryError } from '../../src/inventory/load.ts';

let root: string;
let out: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'copa-fleet-write-'));
  out = join(root, 'dist');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `dir`, relative path -> content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  for (const entry of entries.filter((e) => e.isFile())) {
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = await readFile(path, 'utf8');
  }
  return files;
}

async function previousOutput(): Promise<Record<string, string>> {
  await mkdir(join(out, 'prometheus'), { recursive: true });
  await writeFile(join(out, 'copa-jobs.k8s.yaml'), 'previous jobs\n');
  await writeFile(join(out, 'prometheus', 'rules.yaml'), 'previous rules\n');
  return snapshot(out);
}

describe('writeOutputDir', () => {
  it('creates the directory with every file, nested paths included', async () => {
    await writeOutputDir(out, [
      { path: 'a.k8s.yaml', content: 'a\n' },
      { path: 'trivy-operator/values.yaml', content: 'v\n' },
    ]);
    expect(await snapshot(out)).toEqual({ 'a.k8s.yaml': 'a\n', 'trivy-operator/values.yaml': 'v\n' });
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('replaces the previous directory as a whole: stale files disappear', async () => {
    await previousOutput();
    await writeOutputDir(out, [{ path: 'copa-jobs.k8s.yaml', content: 'new jobs\n' }]);
    expect(await snapshot(out)).toEqual({ 'copa-jobs.k8s.yaml': 'new jobs\n' });
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('leaves the previous directory byte-identical and no temp dir when writing fails', async () => {
    const before = await previousOutput();
    // The second write of the same path fails half-way through the staging directory.
    const failing = writeOutputDir(out, [
      { path: 'copa-jobs.k8s.yaml', content: 'new\n' },
      { path: 'copa-jobs.k8s.yaml', content: 'again\n' },
    ]);
    await expect(failing).rejects.toThrow(/EEXIST/);
    expect(await snapshot(out)).toEqual(before);
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('refuses an output path that is not a directory, and touches nothing', async () => {
    await writeFile(out, 'not a directory\n');
    await expect(writeOutputDir(out, [{ path: 'a.k8s.yaml', content: 'a\n' }])).rejects.toThrow(OutputDirError);
    expect(await readFile(out, 'utf8')).toBe('not a directory\n');
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('refuses to replace the current directory or one of its ancestors', async () => {
    for (const dir of ['.', '..', process.cwd()]) {
      await expect(writeOutputDir(dir, [{ path: 'a.k8s.yaml', content: 'a\n' }])).rejects.toThrow(/contains the current directory/);
    }
  });
});

describe('checkPaths', () => {
  it('rejects paths that could escape the output directory or collide', () => {
    const file = (path: string) => ({ path, content: '' });
    expect(() => checkPaths([file('a.k8s.yaml'), file('trivy-operator/values.yaml')])).not.toThrow();
    for (const bad of ['../x.yaml', '/etc/x.yaml', 'a//b.yaml', 'a/./b.yaml', '', '.hidden']) {
      expect(() => checkPaths([file(bad)]), bad).toThrow(/not a safe relative path/);
    }
    expect(() => checkPaths([file('a.yaml'), file('a.yaml')])).toThrow(/two outputs/);
    expect(() => checkPaths([file('a'), file('a/b.yaml')])).toThrow(/both a file and the directory/);
  });
});

describe('synthesize', () => {
  it('refuses an inventory inside the output directory (it would be deleted)', async () => {
    await mkdir(out);
    const inventory = join(out, 'inventory.yaml');
    await writeFile(inventory, 'images:\n  - ref: nginx:1.27\n');
    await expect(synthesize({ inventoryFile: inventory, outDir: out })).rejects.toThrow(OutputDirError);
    expect(await snapshot(out)).toEqual({ 'inventory.yaml': 'images:\n  - ref: nginx:1.27\n' });
  });

  it('writes nothing and keeps the previous output when the inventory is invalid', async () => {
    const before = await previousOutput();
    const inventory = join(root, 'inventory.yaml');
    await writeFile(inventory, 'images:\n  - ref: "not a valid ref!"\n    schedule: "61 * * * *"\n');
    const failing = synthesize({ inventoryFile: inventory, outDir: out });
    await expect(failing).rejects.toThrow(InventoryError);
    expect(await snapshot(out)).toEqual(before);
    expect((await readdir(root)).sort()).toEqual(['dist', 'inventory.yaml']);
  });

  it('replaces the previous output after a successful synth', async () => {
    await previousOutput();
    const inventory = join(root, 'inventory.yaml');
    await writeFile(inventory, 'images:\n  - ref: nginx:1.27\n');
    const result = await synthesize({ inventoryFile: inventory, outDir: out });
    const after = await snapshot(out);
    expect(Object.keys(after).sort()).toEqual(result.files.map((f) => f.path).sort());
    expect(after['copa-jobs.k8s.yaml']).toContain('docker.io/library/nginx:1.27');
    expect((await readdir(root)).sort()).toEqual(['dist', 'inventory.yaml']);
  });
});
