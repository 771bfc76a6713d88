/**
 * Regenerates docs/report-screenshot.png (and docs/report-example.md): the html report of the
 * test scenario (test/report/support/scenario.ts, 30 days backfilled into a real Prometheus), as
 * of 2026-10-01, photographed by headless Chromium. `npx tsx scripts/report-screenshot.ts`
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../src/cli/main.ts';
import { startBackfilledPrometheus } from '../test/report/support/backfilled-prometheus.ts';
import { chromium } from '../test/report/support/chromium.ts';
import { writeOpenMetrics } from '../test/report/support/openmetrics.ts';
import { END, scenarioSeries, TIMELINE } from '../test/report/support/scenario.ts';

const root = resolve(import.meta.dirname, '..');
const dir = await mkdtemp(join(tmpdir(), 'copa-fleet-screenshot-'));
const prometheus = await startBackfilledPrometheus(
  (() => {
    const file = join(dir, 'scenario.om');
    writeOpenMetrics(file, TIMELINE, scenarioSeries());
    return file;
  })(),
);
try {
  const at = new Date(END * 1000).toISOString();
  const html = join(dir, 'report.html');
  const io = { stdout: () => {}, stderr: (t: string) => process.stderr.write(t) };
  for (const [format, out] of [
    ['html', html],
    ['md', join(root, 'docs/report-example.md')],
  ] as const) {
    const code = await main(
      ['report', '--prometheus', prometheus.url, '--at', at, '--format', format, '--out', out],
      io,
    );
    if (code !== 0) throw new Error(`report exited ${code}`);
  }
  // The example names a local test Prometheus on a random port: name it neutrally.
  const { readFile } = await import('node:fs/promises');
  const md = join(root, 'docs/report-example.md');
  await writeFile(
    md,
    (await readFile(md, 'utf8')).replaceAll(prometheus.url, 'http://prometheus.example:9090'),
  );
  await writeFile(
    html,
    (await readFile(html, 'utf8')).replaceAll(prometheus.url, 'http://prometheus.example:9090'),
  );
  const run = await chromium(html, [
    '--window-size=1280,2600',
    `--screenshot=${join(root, 'docs/report-screenshot.png')}`,
  ]);
  if (run.code !== 0) throw new Error(run.log);
} finally {
  await prometheus.stop();
  await rm(dir, { recursive: true, force: true });
}
