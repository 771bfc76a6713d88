/**
 * Synth benchmark: wall time and peak RSS of a cold `copa-fleet synth` (a new process, as CI runs
 * it) for fleets of growing size, and the marginal cost per added image.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inventoryYaml } from './fixtures.ts';

export interface SynthResult {
  readonly images: number;
  /** Median wall time over the runs, seconds. */
  readonly seconds: number;
  /** Largest peak RSS over the runs, bytes. */
  readonly peakRssBytes: number;
}

const ROOT = resolve(import.meta.dirname, '..');
/** Timed runs per size (median; the VM is shared, single runs vary by +/-0.3 s). */
export const RUNS = 5;

/** `env`: extra environment (COPA_FLEET_NO_BUNDLE=1 measures the tsx fallback of bin/copa-fleet). */
export function benchSynth(
  sizes: readonly number[],
  env: Readonly<Record<string, string>> = {},
): SynthResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'copa-bench-synth-'));
  try {
    return sizes.map((images) => {
      const inventory = join(dir, `inventory-${images}.yaml`);
      writeFileSync(inventory, inventoryYaml(images));
      const times: number[] = [];
      let peak = 0;
      // Run -1 is untimed: it warms the OS file cache for the bundle and the inventory, as in CI after `npm ci`.
      for (let run = -1; run < RUNS; run += 1) {
        const rssFile = join(dir, 'rss');
        const out = join(dir, `out-${images}-${run}`);
        const started = performance.now();
        const child = spawnSync(
          process.execPath,
          [
            '--import',
            join(ROOT, 'bench/max-rss.mjs'),
            join(ROOT, 'bin/copa-fleet'),
            'synth',
            '--inventory',
            inventory,
            '--out',
            out,
          ],
          {
            cwd: ROOT,
            env: { ...process.env, ...env, COPA_BENCH_RSS_FILE: rssFile },
            encoding: 'utf8',
          },
        );
        if (child.status !== 0)
          throw new Error(`synth of ${images} images failed:\n${child.stderr}`);
        if (run >= 0) {
          times.push((performance.now() - started) / 1000);
          peak = Math.max(peak, Number(readFileSync(rssFile, 'utf8')));
        }
        rmSync(out, { recursive: true, force: true });
      }
      times.sort((a, b) => a - b);
      const result = {
        images,
        seconds: times[Math.floor(times.length / 2)] ?? Number.NaN,
        peakRssBytes: peak,
      };
      process.stderr.write(
        `bench synth${env.COPA_FLEET_NO_BUNDLE === '1' ? ' (tsx, no bundle)' : ''}: ${images} images: ${result.seconds.toFixed(2)} s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB\n`,
      );
      return result;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seconds per added image between consecutive sizes: flat means no super-linear step. */
export function marginalCosts(
  results: readonly SynthResult[],
): { from: number; to: number; msPerImage: number }[] {
  return results.slice(1).map((r, i) => {
    const prev = results[i] as SynthResult;
    return {
      from: prev.images,
      to: r.images,
      msPerImage: ((r.seconds - prev.seconds) / (r.images - prev.images)) * 1000,
    };
  });
}
