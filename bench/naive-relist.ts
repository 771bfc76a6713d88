/**
 * The naive design, for comparison: a full re-list of everything every RELIST_PERIOD_SECONDS
 * (naive-lister.ts), bundled like the collector and run as its own process so that its peak RSS
 * is its own.
 *
 * A change is visible only after the next re-list: on average period/2 plus the list, at worst
 * the whole period plus the list.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { ListTiming } from './naive-lister.ts';
import { rssOf } from './collector.ts';

/** The naive design's re-list period. */
export const RELIST_PERIOD_SECONDS = 300;
const LISTS = 3;

export interface NaiveFigures {
  /** Median full re-list (pods + reports + join), ms. */
  readonly listMs: number;
  readonly podsMs: number;
  readonly reportsMs: number;
  readonly peakRssMb: number;
  readonly periodSeconds: number;
  /** period/2 + list time. */
  readonly averageLatencyS: number;
  /** period + list time. */
  readonly worstLatencyS: number;
}

const ROOT = resolve(import.meta.dirname, '..');

/** Bundles the naive lister (like the collector's bundle) and runs it against `kubeconfig`. */
export async function benchNaiveRelist(kubeconfig: string): Promise<NaiveFigures> {
  const outDir = join(ROOT, '.bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'naive-relist.mjs');
  await build({
    stdin: {
      contents: `import { naiveMain } from './bench/naive-lister.ts'; await naiveMain(${LISTS});`,
      resolveDir: ROOT,
      sourcefile: 'naive-entry.ts',
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['esbuild'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  const child = spawn(process.execPath, [outfile], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let peak = 0;
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  // VmHWM is read while the process lives (it is gone after exit).
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(child.pid!).hwmMb);
    } catch {
      // exited between two samples
    }
  }, 50);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`naive re-list failed (${code}): ${err}`);
  const lists = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ListTiming);
  const total = (l: ListTiming) => l.podsMs + l.reportsMs + l.joinMs;
  const sorted = [...lists].sort((a, b) => total(a) - total(b));
  const median = sorted[sorted.length >> 1]!;
  const listMs = total(median);
  process.stderr.write(
    `bench naive re-list: ${listMs.toFixed(0)} ms per full list, peak RSS ${peak} MB\n`,
  );
  return {
    listMs,
    podsMs: median.podsMs,
    reportsMs: median.reportsMs,
    peakRssMb: peak,
    periodSeconds: RELIST_PERIOD_SECONDS,
    averageLatencyS: RELIST_PERIOD_SECONDS / 2 + listMs / 1000,
    worstLatencyS: RELIST_PERIOD_SECONDS + listMs / 1000,
  };
}
