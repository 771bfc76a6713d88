/**
 * Report benchmark: `copa-fleet report` over 30 days of a 200-image fleet with realistic CVE
 * counts (about 30 tracked CVEs per image at any time: 5 Critical, 25 High, each living hours to
 * weeks and replaced by a new one), against a real Prometheus holding the history as TSDB blocks
 * backfilled with `promtool tsdb create-blocks-from openmetrics`, as a production 30 s scrape
 * would leave it where the report reads it:
 *
 * - the 15-minute CVE age record (sla.ts) and its count, every 15 min over the whole period, with
 *   the values the rule computes from a 30 s scrape (the age at the last 30 s sample of each
 *   interval): what the report reads for the period;
 * - the raw `image_cve_age_hours` every 30 s in the windows around the instants the report's
 *   instant queries read it at (period start and end of the 30- and 10-day reports, an hour each
 *   side), and once an hour elsewhere (never read by the report, which the per-query
 *   `stats=all` sample counts show; it keeps every series in the index, as in production);
 * - the other series (inventory, runs, drift, coverage: about 2,000 series) every 15 min, with
 *   `--query.lookback-delta` to match. 30 days of them at 30 s would be 180 M samples, more than
 *   this machine backfills in a benchmark run: the bench reports each query's samples and time,
 *   and the 30 s extrapolation of the queries that read them (their cost taken as linear in samples).
 *
 * 30 days of everything at 30 s would be ~700 M samples and ~150 GB of OpenMetrics text.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { defaultInventory, reportSettings } from '../src/report/fleet-settings.ts';
import { PrometheusClient } from '../src/report/prometheus-client.ts';
import {
  type QuerySpec,
  recordCoverageOf,
  recordCoverageQuery,
  reportQueries,
} from '../src/report/queries.ts';
import { CVE_AGE_RECORD_INTERVAL_SECONDS } from '../src/observability/concerns/sla.ts';
import { duration } from '../src/observability/promql.ts';
import { JOBS, METRICS, RECORDS, UPSTREAM_METRICS } from '../src/shared/metrics.ts';
import { startBackfilledPrometheus } from '../test/report/support/backfilled-prometheus.ts';
import { type ScriptedSeries, writeOpenMetrics } from '../test/report/support/openmetrics.ts';

export const REPORT_BENCH = {
  images: 200,
  days: 30,
  /** The production scrape interval the raw CVE series have where the report reads them. */
  scrapeSeconds: 30,
  /** The other series' sample interval. */
  sampleSeconds: 900,
  /** The raw CVE series' sample interval outside the read windows. */
  sparseSeconds: 3600,
  /** Each read window: this long before and after the instant. */
  windowSeconds: 3600,
  critical: 5,
  high: 25,
} as const;

const H = 3600;
const D = 86_400;
const START = Date.UTC(2026, 8, 1) / 1000;
const END = START + REPORT_BENCH.days * D;
// The target labels of a fleet in namespace copa-fleet (the default selectors, as the report's test scenario).
const COLLECTOR = { job: JOBS.collector, instance: '10.0.0.5:9090', namespace: 'copa-fleet' };
/** The record's evaluations: a few seconds past each quarter hour (Prometheus offsets a group's evaluations). */
const RECORD_GRID = { start: START + 7, seconds: CVE_AGE_RECORD_INTERVAL_SECONDS };
/** The instants the 30- and 10-day reports read raw CVE series at (period start, end; the record's edges). */
const READ_INSTANTS = [START, END - 10 * D, END];
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
  /** Series other than the raw CVE ages and the record: sampled every sampleSeconds. */
  readonly otherSeries: number;
}

/**
 * The raw CVE age series [from, to] as segments in time order: every scrapeSeconds inside the read
 * windows, every sparseSeconds outside (same labels: one series in the file, ascending times).
 */
function rawCveSegments(
  name: string,
  labels: Record<string, string>,
  from: number,
  to: number,
  value: (t: number) => number,
): ScriptedSeries[] {
  const { windowSeconds: w, scrapeSeconds, sparseSeconds } = REPORT_BENCH;
  const windows = READ_INSTANTS.map((t) => [Math.max(START, t - w), Math.min(END, t + w)] as const);
  const segments: ScriptedSeries[] = [];
  let cursor = START;
  for (const [a, b] of windows) {
    if (a > cursor)
      segments.push({
        name,
        labels,
        value,
        from: cursor,
        to: a - 1,
        grid: { start: START, seconds: sparseSeconds },
      });
    segments.push({
      name,
      labels,
      value,
      from: Math.max(a, cursor),
      to: b,
      grid: { start: START, seconds: scrapeSeconds },
    });
    cursor = b + 1;
  }
  if (cursor <= END)
    segments.push({
      name,
      labels,
      value,
      from: cursor,
      to: END,
      grid: { start: START, seconds: sparseSeconds },
    });
  return segments
    .map((s) => ({ ...s, from: Math.max(s.from!, from), to: Math.min(s.to!, to) }))
    .filter((s) => s.from <= s.to);
}

/**
 * The record's value at evaluation e, as the rule computes it from a 30 s scrape: the age at the
 * last scrape in [e - 15m, e] while the CVE is carried, none without one.
 */
function recordedAge(seen: number, from: number, to: number, e: number): number | undefined {
  const { scrapeSeconds } = REPORT_BENCH;
  const first = START + Math.ceil((Math.max(from, START) - START) / scrapeSeconds) * scrapeSeconds;
  const last = START + Math.floor((Math.min(to, e) - START) / scrapeSeconds) * scrapeSeconds;
  if (last < first || last < e - CVE_AGE_RECORD_INTERVAL_SECONDS) return undefined;
  return (last - seen) / H;
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
  const records: ScriptedSeries[] = [];
  const recordCounts: number[] = [];
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
        const cve = {
          image,
          cve_id: `CVE-2026-${cveNumber++}`,
          severity: critical ? 'Critical' : 'High',
        };
        series.push(
          ...rawCveSegments(
            METRICS.imageCveAgeHours.name,
            { ...COLLECTOR, ...cve, digest },
            firstSeen,
            gone,
            (t) => (t - seen) / H,
          ),
        );
        records.push({
          name: RECORDS.cveAgeHours15m,
          labels: { ...cve, namespace: COLLECTOR.namespace },
          grid: RECORD_GRID,
          from: Math.max(START, firstSeen),
          to: gone + CVE_AGE_RECORD_INTERVAL_SECONDS,
          value: (e) => recordedAge(seen, seen, gone, e),
        });
        for (
          let k = Math.max(0, Math.ceil((firstSeen - RECORD_GRID.start) / RECORD_GRID.seconds));
          RECORD_GRID.start + k * RECORD_GRID.seconds <= Math.min(END, gone + RECORD_GRID.seconds);
          k++
        )
          if (
            recordedAge(seen, firstSeen, gone, RECORD_GRID.start + k * RECORD_GRID.seconds) !==
            undefined
          )
            recordCounts[k] = (recordCounts[k] ?? 0) + 1;
        firstSeen = gone + random() * 48 * H;
      }
    }
  }
  const otherSeries = series.filter((s) => s.name !== METRICS.imageCveAgeHours.name).length;
  records.push({
    name: RECORDS.cveAgeRecords15m,
    labels: { namespace: COLLECTOR.namespace },
    grid: RECORD_GRID,
    value: (e) => recordCounts[Math.round((e - RECORD_GRID.start) / RECORD_GRID.seconds)],
  });
  return { series: [...series, ...records], cveSeries, otherSeries };
}

/** One query of the 30-day report, run alone with `stats=all`. */
export interface QueryFigure {
  readonly id: string;
  readonly seconds: number;
  /** `totalQueryableSamples` (null for the series API, which reads the index only). */
  readonly samples: number | null;
  /**
   * What it reads here: `production` (raw CVE ages in their 30 s windows, the record, or the index),
   * or `15 min` (the other series, sparser than at a 30 s scrape: see the extrapolation).
   */
  readonly density: 'production' | '15 min';
  /**
   * How its cost grows with the other series' density: `none` (instant selectors read the one
   * sample before the evaluation time, whatever the density), `range` (a range over the period:
   * every sample), `steps` (a range query: every chunk of every step's series is decoded).
   */
  readonly scaling: 'none' | 'range' | 'steps';
  /** Samples of the other series it decodes here (range: as read; steps: series x samples in the period). */
  readonly sparseSamplesDecoded: number;
}

export interface ReportBenchFigures {
  readonly samples: number;
  readonly cveSeries: number;
  readonly otherSeries: number;
  readonly openMetricsMb: number;
  readonly generateSeconds: number;
  readonly backfillSeconds: number;
  /** Median of 3 runs of the whole command (json), 30 days. */
  readonly reportSeconds: number;
  readonly reportRuns: readonly number[];
  readonly report10dSeconds: number;
  /** Every query of the 30-day report alone, slowest first. */
  readonly queries: readonly QueryFigure[];
  /** The form cveLastAge took (the record after its first sample, the raw series at the edges). */
  readonly cveLastAgePromql: string;
  readonly loadAverage: string;
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
      const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) runs.push((await timedReport(prometheus.url, '30d')).seconds);
      const report10dSeconds = (await timedReport(prometheus.url, '10d')).seconds;
      const { queries, cveLastAge } = await queryFigures(prometheus.url);
      const sorted = [...runs].sort((a, b) => a - b);
      return {
        samples,
        cveSeries: fleet.cveSeries,
        otherSeries: fleet.otherSeries,
        openMetricsMb,
        generateSeconds,
        backfillSeconds,
        reportSeconds: sorted[1]!,
        reportRuns: runs,
        report10dSeconds,
        queries,
        cveLastAgePromql: cveLastAge,
        loadAverage,
      };
    } finally {
      await prometheus.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Series the bench writes at production density where the report reads them: every other one is at 15 min. */
const PRODUCTION_FAMILIES: readonly string[] = [
  METRICS.imageCveAgeHours.name,
  RECORDS.cveAgeHours15m,
  RECORDS.cveAgeRecords15m,
];

/** The metric names a query's selectors name (`name{...}`); the series API's `{__name__=~...}` names none. */
const selectedFamilies = (promql: string): string[] =>
  [...promql.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map(([, name]) => name!);

async function statsQuery(
  url: string,
  spec: QuerySpec,
): Promise<{ seconds: number; samples: number | null }> {
  const form: Record<string, string> =
    spec.kind === 'instant'
      ? { query: spec.promql, time: String(spec.time), stats: 'all' }
      : spec.kind === 'range'
        ? {
            query: spec.promql,
            start: String(spec.start),
            end: String(spec.end),
            step: String(spec.step),
            stats: 'all',
          }
        : { 'match[]': spec.promql, start: String(spec.start), end: String(spec.end) };
  const path = spec.kind === 'instant' ? 'query' : spec.kind === 'range' ? 'query_range' : 'series';
  const started = performance.now();
  const response = await fetch(`${url}/api/v1/${path}`, {
    method: 'POST',
    body: new URLSearchParams(form),
  });
  const json = (await response.json()) as {
    status: string;
    error?: string;
    data: { stats?: { samples?: { totalQueryableSamples?: number } } };
  };
  const seconds = (performance.now() - started) / 1000;
  if (json.status !== 'success') throw new Error(`${spec.id}: ${json.error}`);
  return { seconds, samples: json.data.stats?.samples?.totalQueryableSamples ?? null };
}

/** Each query of the 30-day report alone, timed, with the samples Prometheus read for it. */
async function queryFigures(url: string): Promise<{ queries: QueryFigure[]; cveLastAge: string }> {
  const settings = reportSettings(defaultInventory());
  const window = { at: END, periodSeconds: 30 * D, stepSeconds: 3600 };
  const coverageSpec = recordCoverageQuery(window, settings);
  const client = new PrometheusClient({ url, timeoutMs: 120_000 });
  if (coverageSpec.kind !== 'range') throw new Error('cveRecordCoverage is a range query');
  const coverage = recordCoverageOf(
    await client.range(
      coverageSpec.promql,
      coverageSpec.start,
      coverageSpec.end,
      coverageSpec.step,
    ),
  );
  const specs = [coverageSpec, ...reportQueries(window, settings, coverage)];
  const queries: QueryFigure[] = [];
  for (const spec of specs) {
    const { seconds, samples } = await statsQuery(url, spec);
    const sparse = selectedFamilies(spec.promql).some(
      (name) => !PRODUCTION_FAMILIES.includes(name),
    );
    const scaling = !sparse
      ? 'none'
      : spec.kind === 'range'
        ? 'steps'
        : spec.promql.includes(`[${duration(window.periodSeconds)}]`)
          ? 'range'
          : 'none';
    // A range query reads one sample per series and step: series = samples / steps.
    const steps = spec.kind === 'range' ? Math.floor((spec.end - spec.start) / spec.step) + 1 : 1;
    const perSeries = window.periodSeconds / REPORT_BENCH.sampleSeconds;
    const sparseSamplesDecoded =
      scaling === 'range'
        ? (samples ?? 0)
        : scaling === 'steps'
          ? Math.round(((samples ?? 0) / steps) * perSeries)
          : 0;
    queries.push({
      id: spec.id,
      seconds,
      samples,
      density: sparse ? '15 min' : 'production',
      scaling,
      sparseSamplesDecoded,
    });
  }
  return {
    queries: queries.sort((a, b) => b.seconds - a.seconds),
    cveLastAge: specs.find((spec) => spec.id === 'cveLastAge')!.promql,
  };
}
