/** The output directory is replaced as a whole or not at all, and no temp directory is left behind. */
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputDirError, writeOutputDir } from '../../src/outputs/write-dist.ts';
import type { FileToWrite, StreamedFile } from '../../src/outputs/output-file.ts';
import { checkPaths, fleetFiles } from '../../src/synth/render.ts';
import { synthesize } from '../../src/synth/synth.ts';
import { InventoryError } from '../../src/inventory/load.ts';
import { FULL, fleetOf } from '../support/fleet-fixtures.ts';
import { readTree } from '../support/file-tree.ts';
import { setImmediate as tick } from 'node:timers/promises';

let root: string;
let out: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'copa-fleet-write-'));
  out = join(root, 'dist');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function previousOutput(): Promise<Record<string, string>> {
  await mkdir(join(out, 'prometheus'), { recursive: true });
  await writeFile(join(out, 'copa-jobs.k8s.yaml'), 'previous jobs\n');
  await writeFile(join(out, 'prometheus', 'rules.yaml'), 'previous rules\n');
  return readTree(out);
}

describe('writeOutputDir', () => {
  it('creates the directory with every file, nested paths included', async () => {
    await writeOutputDir(out, [
      { path: 'a.k8s.yaml', content: 'a\n' },
      { path: 'trivy-operator/values.yaml', content: 'v\n' },
    ]);
    expect(await readTree(out)).toEqual({
      'a.k8s.yaml': 'a\n',
      'trivy-operator/values.yaml': 'v\n',
    });
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('replaces the previous directory as a whole: stale files disappear', async () => {
    await previousOutput();
    await writeOutputDir(out, [{ path: 'copa-jobs.k8s.yaml', content: 'new jobs\n' }]);
    expect(await readTree(out)).toEqual({ 'copa-jobs.k8s.yaml': 'new jobs\n' });
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
    expect(await readTree(out)).toEqual(before);
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('refuses an output path that is not a directory, and touches nothing', async () => {
    await writeFile(out, 'not a directory\n');
    await expect(writeOutputDir(out, [{ path: 'a.k8s.yaml', content: 'a\n' }])).rejects.toThrow(
      OutputDirError,
    );
    expect(await readFile(out, 'utf8')).toBe('not a directory\n');
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('refuses to replace the current directory or one of its ancestors', async () => {
    for (const dir of ['.', '..', process.cwd()]) {
      await expect(writeOutputDir(dir, [{ path: 'a.k8s.yaml', content: 'a\n' }])).rejects.toThrow(
        /contains the current directory/,
      );
    }
  });
});

/** The synth of FULL, except that rendering `failingPath` throws after `chunksBefore` of its chunks. */
function failingSynth(failingPath: string, chunksBefore: number): FileToWrite[] {
  return fleetFiles(fleetOf(FULL)).map((file) => {
    if (file.path !== failingPath || !('chunks' in file)) return file;
    const { chunks } = file;
    function* failing(): Generator<string> {
      let count = 0;
      for (const chunk of chunks) {
        if (count === chunksBefore) throw new Error('render failed part-way');
        count += 1;
        yield chunk;
      }
    }
    return { path: file.path, chunks: { [Symbol.iterator]: failing } };
  });
}

describe('writeOutputDir with streamed files', () => {
  it('writes streamed chunks in order, next to whole files, from a sync or an async iterable', async () => {
    const streamed: StreamedFile = {
      path: 'big.k8s.yaml',
      chunks: ['one\n', '', 'two\n', 'three\n'],
    };
    const files: FileToWrite[] = [streamed, { path: 'small/x.yaml', content: 'x\n' }];
    await writeOutputDir(out, files);
    const expected = { 'big.k8s.yaml': 'one\ntwo\nthree\n', 'small/x.yaml': 'x\n' };
    expect(await readTree(out)).toEqual(expected);
    // Each file arrives on a later macrotask, as from a real async source.
    async function* asyncFiles(): AsyncGenerator<FileToWrite> {
      for (const file of files) {
        await tick();
        yield file;
      }
    }
    await writeOutputDir(out, asyncFiles());
    expect(await readTree(out)).toEqual(expected);
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('puts chunks on disk while the file is still rendering (the whole text is never held)', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    let onDiskMidway = -1;
    function* chunks(): Generator<string> {
      for (let i = 0; i < 64; i += 1) yield chunk;
      // The writer pulls this after 1 MiB was handed over: at least half of it must be in the staging file by now.
      const staging = readdirSync(root).find((name) => name.startsWith('.dist.tmp-')) as string;
      onDiskMidway = statSync(join(root, staging, 'big.yaml')).size;
      for (let i = 0; i < 64; i += 1) yield chunk;
    }
    await writeOutputDir(out, [{ path: 'big.yaml', chunks: { [Symbol.iterator]: chunks } }]);
    expect(statSync(join(out, 'big.yaml')).size).toBe(128 * chunk.length);
    expect(onDiskMidway).toBeGreaterThanOrEqual(32 * chunk.length);
  });

  it('leaves the previous output byte-identical and no staging dir when rendering fails part-way', async () => {
    const before = await previousOutput();
    // copa-jobs.k8s.yaml is written after alertmanager/ (files go in path order), and fails after its header and first objects.
    await expect(writeOutputDir(out, failingSynth('copa-jobs.k8s.yaml', 3))).rejects.toThrow(
      'render failed part-way',
    );
    expect(await readTree(out)).toEqual(before);
    expect(await readdir(root)).toEqual(['dist']);
  });

  it('creates nothing when rendering fails part-way and there was no previous output', async () => {
    await expect(writeOutputDir(out, failingSynth('pushgateway.k8s.yaml', 2))).rejects.toThrow(
      'render failed part-way',
    );
    expect(await readdir(root)).toEqual([]);
  });

  it('writes the same bytes as the in-memory rendering when nothing fails', async () => {
    await writeOutputDir(out, fleetFiles(fleetOf(FULL)));
    const expected = Object.fromEntries(
      fleetFiles(fleetOf(FULL)).map((f) => [
        f.path,
        'content' in f ? f.content : [...f.chunks].join(''),
      ]),
    );
    expect(await readTree(out)).toEqual(expected);
  });
});

describe('checkPaths', () => {
  it('rejects paths that could escape the output directory or collide', () => {
    const file = (path: string) => ({ path, content: '' });
    expect(() =>
      checkPaths([file('a.k8s.yaml'), file('trivy-operator/values.yaml')]),
    ).not.toThrow();
    for (const bad of ['../x.yaml', '/etc/x.yaml', 'a//b.yaml', 'a/./b.yaml', '', '.hidden']) {
      expect(() => checkPaths([file(bad)]), bad).toThrow(/not a safe relative path/);
    }
    expect(() => checkPaths([file('a.yaml'), file('a.yaml')])).toThrow(/two outputs/);
    expect(() => checkPaths([file('a'), file('a/b.yaml')])).toThrow(
      /both a file and the directory/,
    );
  });
});

describe('synthesize', () => {
  it('refuses an inventory inside the output directory (it would be deleted)', async () => {
    await mkdir(out);
    const inventory = join(out, 'inventory.yaml');
    await writeFile(inventory, 'images:\n  - ref: nginx:1.27\n');
    await expect(synthesize({ inventoryFile: inventory, outDir: out })).rejects.toThrow(
      OutputDirError,
    );
    expect(await readTree(out)).toEqual({ 'inventory.yaml': 'images:\n  - ref: nginx:1.27\n' });
  });

  it('writes nothing and keeps the previous output when the inventory is invalid', async () => {
    const before = await previousOutput();
    const inventory = join(root, 'inventory.yaml');
    await writeFile(
      inventory,
      'images:\n  - ref: "not a valid ref!"\n    schedule: "61 * * * *"\n',
    );
    const failing = synthesize({ inventoryFile: inventory, outDir: out });
    await expect(failing).rejects.toThrow(InventoryError);
    expect(await readTree(out)).toEqual(before);
    expect((await readdir(root)).sort()).toEqual(['dist', 'inventory.yaml']);
  });

  it('replaces the previous output after a successful synth', async () => {
    await previousOutput();
    const inventory = join(root, 'inventory.yaml');
    await writeFile(inventory, 'images:\n  - ref: nginx:1.27\n');
    const result = await synthesize({ inventoryFile: inventory, outDir: out });
    const after = await readTree(out);
    expect(Object.keys(after).sort()).toEqual([...result.paths].sort());
    expect(after['copa-jobs.k8s.yaml']).toContain('docker.io/library/nginx:1.27');
    expect((await readdir(root)).sort()).toEqual(['dist', 'inventory.yaml']);
  });
});
