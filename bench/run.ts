/**
 * `npm run bench`: every benchmark of the performance issue, on this machine, from generated
 * fixtures. Progress goes to stderr; the markdown report to stdout and .bench/results.md.
 *
 *   1. synth: cold `copa-fleet synth` processes for 200, 1,000 and 5,000 images
 *   2. collector: 10,000 Pods x 2 containers and 2,000 reports, beside the naive full re-list
 *   3. cardinality and 4. rule cost: a realistic 200-image fleet with every real part
 *   6. state: the SLA state at 5,000 images x 60 CVEs (size, write and reload cost)
 *
 * The npm script builds the runtime bundles and the CLI bundle first (the CLI runs from its bundle).
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FakeKubeApi } from '../test/support/fake-kube-api.ts';
import { FLEET_NAMESPACE } from '../test/runtime/collector/fixtures.ts';
import {
  benchCollector,
  buildCluster,
  COLLECTOR_CLUSTER,
  REAL_SERVER_COST,
  SYNC_PATHS,
  type CollectorFigures,
} from './collector.ts';
import { CLUSTER_GROUP_SEPARATOR } from '../src/observability/rules.ts';
import { benchFleetMetrics, SCRAPE_SECONDS, type FleetMetricsFigures } from './fleet-metrics.ts';
import { benchNaiveRelist, type NaiveFigures } from './naive-relist.ts';
import { benchReport, type QueryFigure, REPORT_BENCH, type ReportBenchFigures } from './report.ts';
import { benchStateStore, stateSection } from './state-store.ts';
import { benchSynth, marginalCosts, RUNS as SYNTH_RUNS, type SynthResult } from './synth.ts';

const ROOT = resolve(import.meta.dirname, '..');
const COLLECTOR_BUNDLE = join(ROOT, 'runtime/build/copa-fleet-collector.mjs');

/** The issue's targets: one place, used by the verdicts below. */
export const TARGETS = {
  synth200Seconds: 1,
  synth5000Seconds: 8,
  synth5000RssMb: 600,
  collectorSyncSeconds: 10,
  collectorRssMb: 200,
  collectorChangeSeconds: 2,
  seriesPerImage: 25,
  ruleGroupMs: 50,
  reportSeconds: 10,
} as const;

const MB = 2 ** 20;
const ok = (met: boolean) => (met ? 'met' : '**MISSED**');
const f = (n: number, digits = 1) => n.toFixed(digits);

function machine(): string[] {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${nproc} CPUs (${model}), ${f(totalmem() / 2 ** 30)} GiB RAM, load average at start ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    `- Node ${process.version}; command: \`npm run bench\``,
  ];
}

function synthSection(
  results: readonly SynthResult[],
  fallback: SynthResult | undefined,
): string[] {
  const by = (n: number) => results.find((r) => r.images === n);
  const verdict = (r: SynthResult) => {
    if (r.images === 200) return ok(r.seconds <= TARGETS.synth200Seconds);
    if (r.images === 5000)
      return ok(
        r.seconds <= TARGETS.synth5000Seconds && r.peakRssBytes / MB <= TARGETS.synth5000RssMb,
      );
    return '-';
  };
  const target = (n: number) =>
    n === 200
      ? `<= ${TARGETS.synth200Seconds} s`
      : n === 5000
        ? `<= ${TARGETS.synth5000Seconds} s, <= ${TARGETS.synth5000RssMb} MB`
        : '-';
  return [
    `## 1. Synth (cold \`bin/copa-fleet synth\` process, median of ${SYNTH_RUNS} after one untimed run)`,
    '',
    '| images | wall time | peak RSS | target | verdict |',
    '|---:|---:|---:|---|---|',
    ...results.map(
      (r) =>
        `| ${r.images} | ${f(r.seconds, 2)} s | ${f(r.peakRssBytes / MB, 0)} MB | ${target(r.images)} | ${verdict(r)} |`,
    ),
    '',
    '| step | marginal cost |',
    '|---|---:|',
    ...marginalCosts(results).map(
      (m) => `| ${m.from} -> ${m.to} images | ${f(m.msPerImage, 2)} ms/image |`,
    ),
    '',
    `Start-up (extrapolated to 0 images): ${f(((by(200)?.seconds ?? 0) - (200 * (marginalCosts(results)[0]?.msPerImage ?? 0)) / 1000) * 1000, 0)} ms.` +
      (fallback === undefined
        ? ''
        : ` Without the CLI bundle (tsx fallback, e.g. right after \`npm ci\`): 200 images in ${f(fallback.seconds, 2)} s, peak RSS ${f(fallback.peakRssBytes / MB, 0)} MB.`),
    '',
  ];
}

interface PathFigures {
  readonly path: string;
  readonly figures: CollectorFigures;
}

function collectorSection(runs: readonly PathFigures[], naive: NaiveFigures): string[] {
  const ours = runs[0]!.figures;
  const best = runs.reduce((a, b) => (b.figures.syncMs < a.figures.syncMs ? b : a));
  const cost = `consistent list pages ${REAL_SERVER_COST.etcdMsPerMb} ms per MB (1 s per 10 MB), watch-cache answers ${REAL_SERVER_COST.cacheMsPerMb} ms per MB`;
  return [
    `## 2. Collector (${COLLECTOR_CLUSTER.pods.toLocaleString('en')} Pods x 2 containers, ${COLLECTOR_CLUSTER.reports.toLocaleString('en')} reports of 50-300 vulnerabilities, ${f(ours.fixtureMb, 0)} MB of JSON, served over HTTP by the API fake)`,
    '',
    `Initial sync per path, against the fake with the real server's cost (${cost}; bench/collector.ts REAL_SERVER_COST):`,
    '',
    '| path (server) | synced by | initial sync (process start to every series computed) | peak RSS | RSS after sync / steady | Pod change visible (median / max) | target (sync, peak RSS) | verdict |',
    '|---|---|---:|---:|---:|---:|---|---|',
    ...runs.map(
      ({ path, figures: r }) =>
        `| ${path} | ${r.paths} | ${f(r.syncMs / 1000, 2)} s | ${r.peakRssMb} MB | ${r.rssAfterSyncMb} / ${r.rssSteadyMb} MB | ${f(r.changeMedianMs, 0)} / ${f(r.changeMaxMs, 0)} ms | <= ${TARGETS.collectorSyncSeconds} s, <= ${TARGETS.collectorRssMb} MB | ${ok(r.syncMs / 1000 <= TARGETS.collectorSyncSeconds && r.peakRssMb <= TARGETS.collectorRssMb)} |`,
    ),
    '',
    `Best path: ${best.path}. The naive design (full re-list every 5 min, no server cost): ${f(naive.listMs / 1000, 2)} s per list (pods ${f(naive.podsMs / 1000, 2)} s, reports ${f(naive.reportsMs / 1000, 2)} s), peak ${naive.peakRssMb} MB during a list; a change shows after ${f(naive.averageLatencyS, 0)} s on average (period/2 + list), ${f(naive.worstLatencyS, 0)} s at worst.`,
    '',
    `| figure (${runs[0]!.path}) | value | target | verdict |`,
    '|---|---:|---|---|',
    `| Pod change visible on /metrics | median ${f(ours.changeMedianMs, 0)} ms, max ${f(ours.changeMaxMs, 0)} ms (${ours.changes} changes) | <= ${TARGETS.collectorChangeSeconds} s | ${ok(ours.changeMaxMs / 1000 <= TARGETS.collectorChangeSeconds)} |`,
    `| RSS steady (after 20 changes) | ${ours.rssSteadyMb} MB | <= ${TARGETS.collectorRssMb} MB | ${ok(ours.rssSteadyMb <= TARGETS.collectorRssMb)} |`,
    `| scrape of /metrics | ${f(ours.scrapeMs, 0)} ms, ${f(ours.scrapeMb, 1)} MB, ${ours.series} series | - | - |`,
    '',
    ...runs.map(
      ({ path, figures: r }) =>
        `Collector's own log (${path}): initial sync complete after ${r.collectorSyncMs ?? '?'} ms using ${r.syncCpuMs ?? '?'} ms of CPU.`,
    ),
    '',
  ];
}

/**
 * One rule group's row cells: max, median, as queries[, samples], target, verdict. A group with a
 * longer `interval` than the readings (the 15-minute CVE age record) may not run while they are
 * taken (prometheus_rule_group_last_duration_seconds stays 0): its verdict is then its cost as
 * queries, said so, never a "met" from no evaluation.
 */
function ruleGroupCells(
  fm: FleetMetricsFigures,
  group: string,
  maxMs: number,
  samples: boolean,
): string {
  const queryMs = fm.ruleQueryMs[group] ?? Number.NaN;
  const evaluated = maxMs > 0;
  const cells = [
    evaluated ? `${f(maxMs, 1)} ms` : 'not evaluated during the readings',
    evaluated ? `${f(fm.ruleGroupsMedianMs[group] ?? Number.NaN, 1)} ms` : '-',
    `${f(queryMs, 1)} ms`,
    ...(samples ? [String(fm.ruleQuerySamples[group] ?? Number.NaN)] : []),
    `<= ${TARGETS.ruleGroupMs} ms`,
    evaluated
      ? ok(maxMs <= TARGETS.ruleGroupMs)
      : `${ok(queryMs <= TARGETS.ruleGroupMs)} (judged as queries)`,
  ];
  return `| ${group} | ${cells.join(' | ')} |`;
}

function fleetSection(fm: FleetMetricsFigures): string[] {
  const outcomes = Object.entries(fm.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([o, n]) => `${o} ${n}`)
    .join(', ');
  const severitiesOk = fm.cveAgeSeverities.every((s) => fm.severitiesInScope.includes(s));
  const groups = Object.entries(fm.ruleGroupsMs).sort((a, b) => a[0].localeCompare(b[0]));
  return [
    `## 3. Cardinality (${fm.images} images, ${fm.pods} Pods, ${fm.reports} reports; exporter outcomes: ${outcomes}; ${fm.images} exporter runs took ${f(fm.exporterSeconds, 0)} s)`,
    '',
    '| metric | source | series | per image |',
    '|---|---|---:|---:|',
    ...fm.byMetric.map(
      (m) => `| ${m.metric} | ${m.source} | ${m.series} | ${f(m.series / fm.images, 2)} |`,
    ),
    `| **total** | | **${fm.totalSeries}** | ${f(fm.totalSeries / fm.images, 2)} |`,
    '',
    '| check | value | target | verdict |',
    '|---|---:|---|---|',
    `| series per image outside image_cve_age_hours | ${f(fm.perImageOutsideCveAge, 2)} | <= ${TARGETS.seriesPerImage} | ${ok(fm.perImageOutsideCveAge <= TARGETS.seriesPerImage)} |`,
    `| image_cve_age_hours severities | ${fm.cveAgeSeverities.join(', ') || 'none'} (${fm.cveAgeSeries} series) | only severities with SLA hours (${fm.severitiesInScope.join(', ')}) | ${ok(severitiesOk)} |`,
    '',
    `## 4. Rule cost (Prometheus, scrape and evaluation every ${SCRAPE_SECONDS} s, the generated rules; 8 readings of prometheus_rule_group_last_duration_seconds, one per evaluation, after ${fm.warmupSeconds} s of evaluations; ${fm.ruleSeries} head series)`,
    '',
    '| rule group | max duration | median | same expressions as queries | target (max) | verdict |',
    '|---|---:|---:|---:|---|---|',
    ...groups.map(([g, ms]) => ruleGroupCells(fm, g, ms, false)),
    '',
    '"As queries": the sum over the group\'s rules of the fastest of 3 `/api/v1/query` calls of each expression (HTTP included; no storage writes, no concurrent scrapes).' +
      (fm.cpuStallShare === undefined
        ? ''
        : ` During the readings some task (the benchmark's own included) waited for a CPU ${f(fm.cpuStallShare * 100, 0)} % of the time (/proc/pressure/cpu).`),
    '',
    "The costliest single rules (each rule's `evaluationTime` in `/api/v1/rules`, read with the group durations):",
    '',
    '| rule group | rule | median | max |',
    '|---|---|---:|---:|',
    ...fm.slowestRules.map(
      (r) => `| ${r.group} | ${r.rule} | ${f(r.medianMs, 1)} ms | ${f(r.maxMs, 1)} ms |`,
    ),
    '',
  ];
}

function reportSection(r: ReportBenchFigures): string[] {
  // At a 30 s scrape the other series have sampleSeconds / 30 times the samples. Per-sample cost:
  // the queries that read a range of them over the period (time / samples read, index lookup included).
  const factor = REPORT_BENCH.sampleSeconds / REPORT_BENCH.scrapeSeconds;
  const ranged = r.queries.filter((q) => q.scaling === 'range');
  const perSample =
    ranged.reduce((sum, q) => sum + q.seconds, 0) /
    Math.max(
      1,
      ranged.reduce((sum, q) => sum + q.sparseSamplesDecoded, 0),
    );
  const extra = (q: QueryFigure) => (factor - 1) * q.sparseSamplesDecoded * perSample;
  const extraTotal = r.queries.reduce((sum, q) => sum + extra(q), 0);
  // Upper bound: the extra cost added as if the queries ran one after another (they run 4 at a time).
  const bound = r.reportSeconds + extraTotal;
  const samples = (n: number | null) => (n === null ? 'index only' : n.toLocaleString('en'));
  return [
    `## 5. Report (\`copa-fleet report --period 30d --format json\`, ${REPORT_BENCH.images} images, ${REPORT_BENCH.days} days, ${r.cveSeries} image_cve_age_hours series (about ${REPORT_BENCH.critical + REPORT_BENCH.high} tracked CVEs per image at any time) at a ${REPORT_BENCH.scrapeSeconds} s scrape where the report reads them, the 15-minute CVE age record over the whole period, ${r.otherSeries} other series every ${REPORT_BENCH.sampleSeconds / 60} min, real Prometheus on backfilled blocks)`,
    '',
    `Load average when the timed runs started: ${r.loadAverage}.`,
    '',
    '| figure | value | target | verdict |',
    '|---|---:|---|---|',
    `| whole command, 30 days (median of 3 after a warm-up) | ${f(r.reportSeconds, 2)} s (runs ${r.reportRuns.map((s) => f(s, 2)).join(', ')} s) | <= ${TARGETS.reportSeconds} s | ${ok(r.reportSeconds <= TARGETS.reportSeconds)} |`,
    `| the same, extrapolated to a 30 s scrape of the other series too (upper bound, see below) | ${f(bound, 2)} s | <= ${TARGETS.reportSeconds} s | ${ok(bound <= TARGETS.reportSeconds)} |`,
    `| whole command, 10 days | ${f(r.report10dSeconds, 2)} s | - | - |`,
    `| samples in the blocks | ${(r.samples / 1e6).toFixed(1)} M (${f(r.openMetricsMb, 0)} MB of OpenMetrics, generated in ${f(r.generateSeconds, 0)} s, backfilled and started in ${f(r.backfillSeconds, 0)} s) | - | - |`,
    '',
    'Each query of the 30-day report alone (`stats=all`; density: `production` = raw CVE ages in their 30 s windows, the record, or the index; `15 min` = reads the other series, sparser here than at a 30 s scrape; scaling with their density: `none` = instant selectors, one sample per series whatever the density; `range` = a range over the period, every sample; `steps` = a range query, every chunk decoded):',
    '',
    '| query | density | scaling | time | samples read (totalQueryableSamples) | other-series samples decoded | extra at 30 s |',
    '|---|---|---|---:|---:|---:|---:|',
    ...r.queries.map(
      (q) =>
        `| ${q.id} | ${q.density} | ${q.scaling} | ${f(q.seconds, 3)} s | ${samples(q.samples)} | ${q.sparseSamplesDecoded.toLocaleString('en')} | ${q.scaling === 'none' ? '-' : `${f(extra(q), 2)} s`} |`,
    ),
    '',
    `Extrapolation: the \`range\` queries read ${ranged.reduce((sum, q) => sum + q.sparseSamplesDecoded, 0).toLocaleString('en')} samples of the other series in ${f(
      ranged.reduce((sum, q) => sum + q.seconds, 0),
      3,
    )} s, ${f(perSample * 1e9, 0)} ns per sample (series lookup included, so an upper bound); at a 30 s scrape each \`range\` and \`steps\` query decodes ${factor}x the samples of those series, ${f(extraTotal, 2)} s more in all, added to the measured median as if they ran one after another.`,
    '',
    `cveLastAge as run: \`${r.cveLastAgePromql}\``,
    '',
  ];
}

/** Clusters of the global-rules part: each runs the whole 200-image fleet. */
const GLOBAL_CLUSTERS = 5;

/**
 * The global rules evaluate most groups once per cluster (`<group>@<cluster>`, rules.ts): one row
 * per such group for all clusters, each figure the largest of the clusters' (the budget holds for
 * every group).
 */
function perClusterFolded(fm: FleetMetricsFigures): FleetMetricsFigures {
  const fold = (figures: Readonly<Record<string, number>>) => {
    const folded: Record<string, number> = {};
    for (const [group, value] of Object.entries(figures)) {
      const at = group.indexOf(CLUSTER_GROUP_SEPARATOR);
      const key = at < 0 ? group : `${group.slice(0, at)}${CLUSTER_GROUP_SEPARATOR}<each cluster>`;
      // NaN: a group without readings (a 15-minute group that did not run), none of the others'.
      const before = folded[key];
      folded[key] =
        before === undefined || Number.isNaN(before)
          ? value
          : Number.isNaN(value)
            ? before
            : Math.max(before, value);
    }
    return folded;
  };
  return {
    ...fm,
    ruleGroupsMs: fold(fm.ruleGroupsMs),
    ruleGroupsMedianMs: fold(fm.ruleGroupsMedianMs),
    ruleQueryMs: fold(fm.ruleQueryMs),
    ruleQuerySamples: fold(fm.ruleQuerySamples),
  };
}

function globalSection(measured: FleetMetricsFigures): string[] {
  const fm = perClusterFolded(measured);
  const groups = Object.entries(fm.ruleGroupsMs).sort((a, b) => a[0].localeCompare(b[0]));
  return [
    `## 7. Global rules (multi-cluster: ${GLOBAL_CLUSTERS} clusters x ${fm.images} images; ${GLOBAL_CLUSTERS} Prometheus servers with \`cluster\` external labels remote-write into a central Prometheus that evaluates global/prometheus every ${SCRAPE_SECONDS} s; ${fm.ruleSeries} head series there; 8 readings after ${fm.warmupSeconds} s of evaluations)`,
    '',
    `Load average (1 min) at the end of the readings: ${f(fm.loadAfterReadings, 2)}` +
      (fm.cpuStallShare === undefined
        ? '.'
        : `; some task waited for a CPU ${f(fm.cpuStallShare * 100, 0)} % of the readings' time (/proc/pressure/cpu).`),
    '',
    '| rule group | max duration | median | same expressions as queries | samples read | target (max) | verdict |',
    '|---|---:|---:|---:|---:|---|---|',
    ...groups.map(([g, ms]) => ruleGroupCells(fm, g, ms, true)),
    '',
    "`<group>@<each cluster>`: the global rules hold that group once per cluster (rules.ts); each figure is the largest of the clusters' (of the maxima, of the medians, ...).",
    '',
    '"Samples read": the sum over the group\'s rules of `totalQueryableSamples` (`/api/v1/query?stats=all`), the load-independent part of the cost. Alerting rules cost more than their query: Prometheus expands every alert instance\'s label and annotation templates on every evaluation.',
    '',
    'The costliest single rules:',
    '',
    '| rule group | rule | median | max |',
    '|---|---|---:|---:|',
    ...fm.slowestRules.map(
      (r) => `| ${r.group} | ${r.rule} | ${f(r.medianMs, 1)} ms | ${f(r.maxMs, 1)} ms |`,
    ),
    '',
  ];
}

const PARTS = ['synth', 'collector', 'fleet', 'report', 'state', 'global'] as const;
type Part = (typeof PARTS)[number];

/** `npm run bench -- fleet` runs only the named parts (synth, collector, fleet, report, state, global); no argument runs all. */
function selectedParts(args: readonly string[]): ReadonlySet<Part> {
  const unknown = args.filter((a) => !(PARTS as readonly string[]).includes(a));
  if (unknown.length > 0)
    throw new Error(
      `unknown benchmark part(s) ${unknown.join(', ')}; expected any of ${PARTS.join(', ')}`,
    );
  return new Set(args.length === 0 ? PARTS : (args as Part[]));
}

async function collectorAndNaive(): Promise<string[]> {
  const dir = join(ROOT, '.bench');
  mkdirSync(dir, { recursive: true });
  let naive: NaiveFigures;
  const plain = await FakeKubeApi.start({ maxRequestLog: 1000 });
  try {
    buildCluster(plain, COLLECTOR_CLUSTER);
    naive = await benchNaiveRelist(plain.writeKubeconfig(dir, FLEET_NAMESPACE));
  } finally {
    await plain.close();
  }
  // One fake per path (the server decides the path the collector can take), with the real server's cost.
  const runs: PathFigures[] = [];
  for (const { path, server } of SYNC_PATHS) {
    process.stderr.write(`bench collector: path ${path}\n`);
    const api = await FakeKubeApi.start({ maxRequestLog: 1000, ...server, cost: REAL_SERVER_COST });
    try {
      const { jsonBytes } = buildCluster(api, COLLECTOR_CLUSTER);
      runs.push({
        path,
        figures: await benchCollector(api, COLLECTOR_CLUSTER, COLLECTOR_BUNDLE, jsonBytes),
      });
    } finally {
      await api.close();
    }
  }
  return collectorSection(runs, naive);
}

async function main(): Promise<void> {
  const parts = selectedParts(process.argv.slice(2));
  const started = performance.now();
  const header = machine();
  process.stderr.write(`bench: ${header.join('; ')}\n`);
  const sections: string[] = [];

  if (parts.has('synth')) {
    process.stderr.write('bench: 1/4 synth\n');
    const synth = benchSynth([200, 1000, 5000]);
    const [fallback] = benchSynth([200], { COPA_FLEET_NO_BUNDLE: '1' });
    sections.push(...synthSection(synth, fallback));
  }
  if (parts.has('collector')) {
    process.stderr.write('bench: 2/4 collector and naive re-list\n');
    sections.push(...(await collectorAndNaive()));
  }
  if (parts.has('fleet')) {
    process.stderr.write('bench: 3-4/4 cardinality and rule cost\n');
    sections.push(...fleetSection(await benchFleetMetrics(COLLECTOR_BUNDLE)));
  }

  if (parts.has('report')) {
    process.stderr.write('bench: 5/6 report over 30 days\n');
    sections.push(...reportSection(await benchReport()));
  }
  if (parts.has('state')) {
    process.stderr.write('bench: 6/6 SLA state at 5,000 images x 60 CVEs\n');
    sections.push(...stateSection(await benchStateStore()));
  }
  if (parts.has('global')) {
    process.stderr.write(`bench: 7 global rules, ${GLOBAL_CLUSTERS} clusters\n`);
    sections.push(
      ...globalSection(await benchFleetMetrics(COLLECTOR_BUNDLE, { clusters: GLOBAL_CLUSTERS })),
    );
  }

  const seconds = (performance.now() - started) / 1000;
  const report = [
    '# copa-fleet benchmark results',
    '',
    ...header,
    `- Whole benchmark: ${f(seconds, 0)} s (plus the bundle builds of the npm script)${parts.size === PARTS.length ? '' : `; parts: ${[...parts].join(', ')}`}`,
    '',
    ...sections,
  ].join('\n');
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  writeFileSync(join(ROOT, '.bench', 'results.md'), report);
  process.stdout.write(report);
  process.stderr.write(`bench: done in ${f(seconds, 0)} s; report written to .bench/results.md\n`);
}

await main();
