/**
 * Report benchmark: `copa-fleet report` over 30 days of a 200-image fleet with realistic CVE
 * counts (about 30 tracked CVEs per image at any time: 5 Critical, 25 High, each living hours to
 * weeks and replaced by a new one), against a real Prometheus holding the history as TSDB blocks
 * backfilled with `promtool tsdb create-blocks-from openmetrics`.
 *
 * Samples are written every SAMPLE_SECONDS (15 min) rather than a production scrape interval
 * (30 s): 30 days at 30 s would be ~700 M samples and ~90 GB of OpenMetrics text to backfill.
 * Prometheus runs with a matching lookback delta. The cost of the period queries grows with the
 * samples they read, so the bench also times a 10-day report (a third of the samples) and states
 * the samples per second Prometheus read, from which the cost at 30 s follows.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { JOBS, METRICS, UPSTREAM_METRICS } from '../src/shared/metrics.ts';
import { startBackfilledPrometheus } from '../test/report/support/backfilled-prometheus.ts';
import { type ScriptedSeries, writeOpenMetrics } from '../test/report/support/openmetrics.ts';

export const REPORT_BENCH = {
  images: 200,
  days: 30,
  sampleSeconds: 900,
  critical: 5,
  high: 25,
} as const;

const H = 3600;
const D = 86_400;
const START = Date.UTC(2026, 8, 1) / 1000;
const END = START + REPORT_BENCH.days * D;
// The target labels of a fleet in namespace copa-fleet (the default selectors, as the report's test scenario).
const COLLECTOR = { job: JOBS.collector, instance: '10.0.0.5:9090', namespace: 'copa-fleet' };
const PUSHGATEWAY = { job: JOBS.exporter, instance: '10.0.0.6:9091', namespace: 'copa-fleet' };

/** Deterministic PRNG (mulberry32): the same fleet on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface ReportFleet {
  readonly series: ScriptedSeries[];
  readonly cveSeries: number;
}

export function reportFleet(): ReportFleet {
  const random = prng(14);
  const series: ScriptedSeries[] = [];
  const collector = (f: (t: number) => number) => f;
  series.push({ name: UPSTREAM_METRICS.up, labels: COLLECTOR, value: () => 1 });
  series.push({
    name: UPSTREAM_METRICS.up,
    labels: {
      job: JOBS.pushgateway,
      instance: PUSHGATEWAY.instance,
      namespace: PUSHGATEWAY.namespace,
    },
    value: () => 1,
  });
  series.push({ name: METRICS.noncompliantContainers.name, labels: COLLECTOR, value: () => 80 });
  let cveSeries = 0;
  let cveNumber = 10_000;
  for (let i = 0; i < REPORT_BENCH.images; i++) {
    const image = `registry.example.com/team-${i % 20}/app-${i}`;
    const cronjob = `copa-app-${i}`;
    const team = `team-${i % 20}`;
    const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
    series.push({
      name: METRICS.inventoryImageInfo.name,
      labels: { ...COLLECTOR, image, cronjob, team },
      value: collector(() => 1),
    });
    series.push({
      name: METRICS.inventoryScheduleIntervalSeconds.name,
      labels: { ...COLLECTOR, image },
      value: () => D,
    });
    series.push({
      name: METRICS.inventorySlaHours.name,
      labels: { ...COLLECTOR, image, severity: 'Critical' },
      value: () => 24,
    });
    series.push({
      name: METRICS.inventorySlaHours.name,
      labels: { ...COLLECTOR, image, severity: 'High' },
      value: () => 72,
    });
    series.push({
      name: METRICS.runningContainers.name,
      labels: { ...COLLECTOR, image },
      value: () => 5,
    });
    series.push({
      name: METRICS.imageScanAgeSeconds.name,
      labels: { ...COLLECTOR, image },
      value: (t) => (t - START) % D,
    });
    const group = { ...PUSHGATEWAY, cronjob, image };
    const runs = (t: number) => Math.floor((t - START) / D);
    series.push({
      name: METRICS.patchSuccessTotal.name,
      labels: { ...group, copa_version: '0.14.2' },
      value: (t) => 100 + runs(t),
    });
    series.push({
      name: METRICS.runLastSuccessTimestamp.name,
      labels: group,
      value: (t) => START + runs(t) * D,
    });
    series.push({
      name: METRICS.runLastTimestamp.name,
      labels: group,
      value: (t) => START + runs(t) * D,
    });
    series.push({
      name: METRICS.runLastOutcome.name,
      labels: { ...group, outcome: 'patched' },
      value: () => 1,
    });
    if (i % 5 === 0) {
      for (const pod of [`app-${i}-0`, `app-${i}-1`]) {
        series.push({
          name: METRICS.containerDigestDrift.name,
          labels: {
            ...COLLECTOR,
            namespace: team,
            pod,
            container: 'app',
            image,
            digest,
            patched_digest: `sha256:${(i + 1).toString(16).padStart(64, 'f')}`,
          },
          from: START + (i % 30) * D,
          to: START + (i % 30) * D + 2 * D,
          value: () => 1,
        });
      }
    }
    // CVE slots: each holds one CVE at a time; a fixed CVE is replaced by a new one after a gap.
    for (let slot = 0; slot < REPORT_BENCH.critical + REPORT_BENCH.high; slot++) {
      const critical = slot < REPORT_BENCH.critical;
      let firstSeen = START - random() * 10 * D;
      while (firstSeen < END) {
        const life = critical ? (4 + random() * 68) * H : (12 + random() * 708) * H;
        const gone = firstSeen + life;
        const seen = firstSeen;
        cveSeries += 1;
        series.push({
          name: METRICS.imageCveAgeHours.name,
          labels: {
            ...COLLECTOR,
            image,
            digest,
            cve_id: `CVE-2026-${cveNumber++}`,
            severity: critical ? 'Critical' : 'High',
          },
          from: firstSeen,
          to: gone,
          value: (t) => (t - seen) / H,
        });
        firstSeen = gone + random() * 48 * H;
      }
    }
  }
  return { series, cveSeries };
}

export interface ReportBenchFigures {
  readonly samples: number;
  readonly cveSeries: number;
  readonly openMetricsMb: number;
  readonly generateSeconds: number;
  readonly backfillSeconds: number;
  /** Median of 3 runs of the whole command (json), 30 days. */
  readonly reportSeconds: number;
  readonly reportRuns: readonly number[];
  readonly report10dSeconds: number;
  /** Per query id: the slowest (wall time of the HTTP call, queries run 4 at a time). */
  readonly slowestQueries: ReadonlyArray<readonly [string, number]>;
}

async function timedReport(
  url: string,
  period: string,
): Promise<{ seconds: number; stderr: string }> {
  let stderr = '';
  const started = performance.now();
  const code = await main(
    [
      'report',
      '--prometheus',
      url,
      '--at',
      new Date(END * 1000).toISOString(),
      '--period',
      period,
      '--format',
      'json',
      '--out',
      '/dev/null',
    ],
    {
      stdout: () => {},
      stderr: (t) => (stderr += t),
    },
  );
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`report exited ${code}: ${stderr}`);
  return { seconds, stderr };
}

export async function benchReport(): Promise<ReportBenchFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'copa-fleet-bench-report-'));
  try {
    const file = join(dir, 'fleet.om');
    let started = performance.now();
    const fleet = reportFleet();
    const samples = writeOpenMetrics(
      file,
      { start: START, end: END, scrapeSeconds: REPORT_BENCH.sampleSeconds },
      fleet.series,
    );
    const generateSeconds = (performance.now() - started) / 1000;
    const openMetricsMb = statSync(file).size / 2 ** 20;
    started = performance.now();
    const prometheus = await startBackfilledPrometheus(file, [
      `--query.lookback-delta=${REPORT_BENCH.sampleSeconds + 60}s`,
    ]);
    const backfillSeconds = (performance.now() - started) / 1000;
    rmSync(file);
    try {
      await timedReport(prometheus.url, '30d'); // warm-up: the blocks' index and chunks into the page cache
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) runs.push((await timedReport(prometheus.url, '30d')).seconds);
      const report10dSeconds = (await timedReport(prometheus.url, '10d')).seconds;
      const slowestQueries = await queryTimes(prometheus.url);
      const sorted = [...runs].sort((a, b) => a - b);
      return {
        samples,
        cveSeries: fleet.cveSeries,
        openMetricsMb,
        generateSeconds,
        backfillSeconds,
        reportSeconds: sorted[1]!,
        reportRuns: runs,
        report10dSeconds,
        slowestQueries,
      };
    } finally {
      await prometheus.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each query of the 30-day report alone, timed (what dominates). */
async function queryTimes(url: string): Promise<Array<readonly [string, number]>> {
  const { reportQueries } = await import('../src/report/queries.ts');
  const { PrometheusClient } = await import('../src/report/prometheus-client.ts');
  const { defaultInventory, reportSettings } = await import('../src/report/fleet-settings.ts');
  const client = new PrometheusClient({ url, timeoutMs: 120_000 });
  const result: Array<readonly [string, number]> = [];
  for (const spec of reportQueries(
    { at: END, periodSeconds: 30 * D, stepSeconds: 3600 },
    reportSettings(defaultInventory()),
  )) {
    const started = performance.now();
    if (spec.kind === 'instant') await client.instant(spec.promql, spec.time);
    else if (spec.kind === 'range')
      await client.range(spec.promql, spec.start, spec.end, spec.step);
    else await client.series(spec.promql, spec.start, spec.end);
    result.push([spec.id, (performance.now() - started) / 1000]);
  }
  return result.sort((a, b) => b[1] - a[1]).slice(0, 5);
}
