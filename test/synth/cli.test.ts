/**
 * `bin/copa-fleet synth` and `main.ts` (what `cdk8s synth` runs) as real subprocesses: exit codes,
 * messages, and that both write the same files through the same pipeline.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTree } from '../support/file-tree.ts';

const REPO = resolve(import.meta.dirname, '..', '..');
const BIN = join(REPO, 'bin', 'copa-fleet');
const run = promisify(execFile);

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function exec(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, [...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let root: string;
let inventory: string;
/** The CLI run every test compares with (one subprocess, reused: each one costs seconds). */
let out: string;
let synth: Result;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'copa-fleet-cli-'));
  inventory = join(root, 'inventory.yaml');
  await writeFile(
    inventory,
    'images:\n  - ref: nginx:1.27\n  - ref: ghcr.io/example-org/worker:2.0.1\n    team: data\n',
  );
  out = join(root, 'out');
  synth = await exec(BIN, ['synth', '--inventory', inventory, '--out', out]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('copa-fleet synth', () => {
  it('writes the output directory and reports progress on stderr', async () => {
    const result = synth;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    const files = (await readdir(out, { recursive: true })).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'copa-jobs.k8s.yaml',
        'drift-collector.k8s.yaml',
        'namespace.k8s.yaml',
        'pushgateway.k8s.yaml',
        'trivy-operator/values.yaml',
      ]),
    );
    const fileCount = (await readdir(out, { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    ).length;
    expect(result.stderr).toBe(`synth: 2 images -> ${out}/ (${fileCount} files)\n`);
  });

  it('rejects an invalid inventory with located messages, exit 1, and writes nothing', async () => {
    const bad = join(root, 'bad.yaml');
    await writeFile(
      bad,
      'images:\n  - ref: nginx:1.27\n    schedule: "61 * * * *"\n  - ref: "UPPER/Case:tag"\n',
    );
    const never = join(root, 'never');
    const result = await exec(BIN, ['synth', '-i', bad, '-o', never]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}:3:15: images[0].schedule:`);
    expect(result.stderr).toMatch(new RegExp(`${bad}:4:\\d+: images\\[1\\]\\.ref:`));
    expect(result.stderr).toContain('2 problems');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    await expect(readdir(never)).rejects.toThrow(/ENOENT/);
    expect(
      (await readdir(root)).filter((name) => name.startsWith('.') || name === 'never'),
    ).toEqual([]);
  });

  it('keeps the previous output byte-identical when writing fails part-way through a manifest', async () => {
    // 12 images make copa-jobs.k8s.yaml ~180 KB; a 128 KiB file size limit (Node ignores SIGXFSZ: the
    // write fails with EFBIG) stops synth in the middle of it, after the smaller files before it were written.
    const images = Array.from(
      { length: 12 },
      (_, i) => `  - ref: registry.example.com/team/app-${i}:1.${i}.0\n`,
    ).join('');
    const big = join(root, 'big.yaml');
    await writeFile(big, `images:\n${images}`);
    const parent = await mkdtemp(join(root, 'limited-'));
    const previous = join(parent, 'dist');
    await cp(out, previous, { recursive: true });
    const before = await readTree(previous);
    const result = await exec('/bin/sh', [
      '-c',
      'ulimit -f 128 && exec "$0" "$@"',
      process.execPath,
      BIN,
      'synth',
      '-i',
      big,
      '-o',
      previous,
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^synth: cannot write .*EFBIG.*; nothing changed\n$/);
    expect(await readTree(previous)).toEqual(before);
    expect(await readdir(parent)).toEqual(['dist']);
  });

  it('exits 2 on a usage error and 0 on --help', async () => {
    const unknown = await exec(BIN, ['synth', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Usage: copa-fleet synth');
    const help = await exec(BIN, ['synth', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--inventory FILE');
  });
});

describe('main.ts (the cdk8s app)', () => {
  it('writes the same files to CDK8S_OUTDIR as the CLI does', async () => {
    const viaCli = out;
    const viaCdk8s = join(root, 'via-cdk8s');
    const result = await exec(join(REPO, 'node_modules', '.bin', 'tsx'), ['main.ts'], {
      CDK8S_OUTDIR: viaCdk8s,
      COPA_FLEET_INVENTORY: inventory,
    });
    expect(result.code, result.stderr).toBe(0);
    const names = (await readdir(viaCli, { recursive: true })).sort();
    expect((await readdir(viaCdk8s, { recursive: true })).sort()).toEqual(names);
    for (const name of names.filter((n) => n.includes('.'))) {
      expect(await readFile(join(viaCdk8s, name), 'utf8'), name).toBe(
        await readFile(join(viaCli, name), 'utf8'),
      );
    }
  });
});
