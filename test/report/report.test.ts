/**
 * `copa-fleet report` against a real Prometheus holding 30 scripted days (support/scenario.ts)
 * backfilled with `promtool tsdb create-blocks-from openmetrics`: the figures match the
 * scenario's known truth at two report times (to the scrape interval, or to one resolution step
 * for time spans); the json validates against report.schema.json; md carries the same tables; the
 * html opens in headless Chromium (screenshot, PDF, no console messages) and the PDF's text carries
 * the section titles and key figures; exit codes 1 and 2; headers and the bearer token reach the server.
 */
import { readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../src/inventory/schema.ts';
import { concernsFor } from '../../src/observability/assemble.ts';
import { reportSettings } from '../../src/report/fleet-settings.ts';
import type { InstantSample } from '../../src/report/prometheus-client.ts';
import { reportQueries } from '../../src/report/queries.ts';
import { RECORDS } from '../../src/shared/metrics.ts';
import { SECTION_TITLES } from '../../src/report/document.ts';
import type { Report } from '../../src/report/model.ts';
import type { RunningProcess } from '../support/processes.ts';
import { freePort } from '../support/processes.ts';
import { startBackfilledPrometheus } from './support/backfilled-prometheus.ts';
import { type CliRun, reportCli, reportSchemaValidator } from './support/report-cli.ts';
import { chromium, pdfText } from './support/chromium.ts';
import { writeOpenMetrics } from './support/openmetrics.ts';
import {
  COLLECTOR_OUTAGE,
  CVES,
  DRIFT,
  END,
  FLEET_NAMESPACE,
  IMAGES,
  sep,
  STAGING,
  STALE_SCAN,
  TIMELINE,
  UNSCANNED,
  complianceAt,
  RECORD_FROM,
  RECORD_GRID,
  recordSeries,
  scenarioSeries,
} from './support/scenario.ts';

const H = 3600;
/** Ages are sampled every scrape: the last sample is at most one scrape interval before the fix. */
const SCRAPE_HOURS = TIMELINE.scrapeSeconds / H;

let dir: string;
let prometheus: RunningProcess;
/** `--inventory` of the scenario's fleet (and of the second fleet in the same Prometheus). */
let fleet: string[];
let staging: string[];

/** A fleet's inventory: the namespace (hence the selectors) matters to the report, the images are the scenario's. */
const inventoryYaml = (namespace: string, extra = ''): string =>
  `defaults:\n  namespace: ${namespace}\n${extra}images:\n${IMAGES.map((img) => `  - ref: ${img.image}:1.0\n    team: ${img.team}\n`).join('')}`;

const cli = reportCli;
async function jsonReport(...args: string[]): Promise<Report> {
  const run = await cli('--prometheus', prometheus.url, '--format', 'json', ...fleet, ...args);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Report;
}

let atEnd: Report;
let atBreach: Report;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-fleet-report-'));
  fleet = ['--inventory', join(dir, 'fleet.yaml')];
  staging = ['--inventory', join(dir, 'staging.yaml')];
  await writeFile(fleet[1]!, inventoryYaml(FLEET_NAMESPACE));
  await writeFile(staging[1]!, inventoryYaml(STAGING.namespace));
  const file = join(dir, 'scenario.om');
  const raw = scenarioSeries();
  writeOpenMetrics(file, TIMELINE, [...raw, ...recordSeries(raw)]);
  prometheus = await startBackfilledPrometheus(file);
  await rm(file);
  [atEnd, atBreach] = await Promise.all([
    jsonReport('--at', new Date(END * 1000).toISOString()),
    jsonReport('--at', '2026-09-06T12:00:00Z', '--period', '5d'),
  ]);
}, 120_000);
afterAll(async () => {
  await prometheus?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const cve = (id: string) => CVES.find((c) => c.cveId === id)!;
const ttr = (id: string) => (cve(id).gone! - cve(id).firstSeen) / H;
const severityRow = (report: Report, severity: string) =>
  report.period.bySeverity.find((r) => r.severity === severity)!;

/** Passes one request on to `target` (a Prometheus) and its answer back: a proxy in front of it. */
function forward(target: URL, req: IncomingMessage, res: ServerResponse): void {
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      path: req.url,
      method: req.method,
      headers: req.headers,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  req.pipe(upstream);
}

describe('as of the end of September, over 30 days', () => {
  it('answers the four questions as of --at', () => {
    const { asOf } = atEnd;
    expect(asOf.criticalCves.rows.map((r) => [r.image, r.cveId, r.firstSeen, r.ageHours])).toEqual([
      [IMAGES[0]!.image, 'CVE-2026-1004', '2026-09-30T12:00:00Z', 12],
    ]);
    expect(asOf.criticalCves.images.value).toBe(1);
    expect(asOf.pastSla.rows).toEqual([]);
    expect(asOf.failedRuns.rows).toEqual([]);
    expect(asOf.overdue.rows).toEqual([]);
    expect(asOf.drift.rows).toEqual([
      {
        namespace: 'data',
        pod: DRIFT.pod,
        container: 'etl',
        image: DRIFT.image.image,
        runningDigest: DRIFT.running,
        patchedDigest: DRIFT.patched,
        since: '2026-09-28T00:00:00Z',
        hours: (END - DRIFT.from) / H,
        beforePeriod: false,
      },
    ]);
  });

  it('counts CVEs appeared, remediated and within SLA per severity, with the time to remediate', () => {
    const critical = severityRow(atEnd, 'Critical');
    // Appeared: 1001, 2001, 1004 (3001 was open when the period began). Remediated: 3001, 1001, 2001.
    expect([
      critical.appeared.value,
      critical.remediated.value,
      critical.remediatedWithinSla.value,
      critical.stillOpen.value,
      critical.stillOpenPastSla.value,
    ]).toEqual([3, 3, 2, 1, 0]);
    expect(critical.withinSlaShare.value).toBeCloseTo(2 / 3, 3);
    // Times to remediate 9 h, 10 h, 48 h: median 10 h, p90 = 10 + 0.8 x 38 h (PromQL's interpolation).
    expect([ttr('CVE-2026-3001'), ttr('CVE-2026-1001'), ttr('CVE-2026-2001')]).toEqual([9, 10, 48]);
    expect(Math.abs(critical.medianHoursToRemediate.value! - 10)).toBeLessThanOrEqual(SCRAPE_HOURS);
    expect(Math.abs(critical.p90HoursToRemediate.value! - 40.4)).toBeLessThanOrEqual(SCRAPE_HOURS);
    const high = severityRow(atEnd, 'High');
    expect([
      high.appeared.value,
      high.remediated.value,
      high.remediatedWithinSla.value,
      high.stillOpen.value,
      high.stillOpenPastSla.value,
    ]).toEqual([2, 1, 1, 1, 0]);
    expect(Math.abs(high.medianHoursToRemediate.value! - ttr('CVE-2026-1002'))).toBeLessThanOrEqual(
      SCRAPE_HOURS,
    );
    const breach = atEnd.period.cves.find((c) => c.cveId === 'CVE-2026-2001')!;
    expect(breach).toMatchObject({
      openAtStart: false,
      openAtEnd: false,
      slaHours: 24,
      withinSla: false,
    });
  });

  it('counts runs by outcome, drift time, breaches per day and the compliance ratio over time', () => {
    // 30 daily runs per image; etl's failed week (Sep 14-20) is 7 push_failed runs.
    expect(atEnd.period.runs.map((r) => [r.outcome, r.runs.value])).toEqual([
      ['succeeded (patched or up_to_date)', 30 + 30 + 23],
      ['push_failed', 7],
    ]);
    expect(atEnd.period.driftHours.value).toBe((END - DRIFT.from) / H);
    const breaches = atEnd.period.breachesPerDay.points.filter((p) => p.value !== 0);
    // The one breach is due Sep 6 01:00: the day ending Sep 7 00:00.
    expect(breaches).toEqual([{ time: '2026-09-07T00:00:00Z', value: 1 }]);
    expect(atEnd.period.breachesPerDay.points).toHaveLength(30);
    const ratio = atEnd.period.complianceRatio;
    expect(ratio.points).toHaveLength(721);
    for (const point of ratio.points) {
      const t = Date.parse(point.time) / 1000;
      const expected = complianceAt(t);
      // Sample times at a step are at most one scrape before the step (lookback).
      if (expected === undefined)
        expect(
          point.value === null || point.value === complianceAt(t - TIMELINE.scrapeSeconds),
          point.time,
        ).toBe(true);
      else if (expected === complianceAt(t - TIMELINE.scrapeSeconds))
        expect(point.value, point.time).toBeCloseTo(expected, 4);
    }
    expect(ratio.points.find((p) => p.time === '2026-09-16T03:00:00Z')?.value).toBeNull();
  });

  it('reports coverage: the collector outage, the unscanned namespace, the stale scan, retention and the inventory', () => {
    const [collector, pushgateway] = atEnd.coverage.sources;
    const outageHours = (COLLECTOR_OUTAGE[1] - COLLECTOR_OUTAGE[0]) / H;
    // 721 hourly steps; the outage covers 6 of them (the step at 06:00 sees the first sample after it).
    expect(collector!.downShare.value).toBeCloseTo(outageHours / 721, 3);
    expect(collector!.upShare.value).toBeCloseTo(1 - outageHours / 721, 3);
    expect(pushgateway!.upShare.value).toBe(1);
    expect(atEnd.coverage.unscannedNamespaces).toEqual([
      {
        namespace: UNSCANNED.namespace,
        hours: (UNSCANNED.to - UNSCANNED.from) / H,
        maxPods: UNSCANNED.pods,
      },
    ]);
    expect(atEnd.coverage.staleScans.rows.map((r) => r.image)).toEqual([STALE_SCAN.image]);
    expect(
      Math.abs(
        atEnd.coverage.staleScans.rows[0]!.maxScanAgeHours - (STALE_SCAN.to - STALE_SCAN.from) / H,
      ),
    ).toBeLessThanOrEqual(SCRAPE_HOURS);
    expect(atEnd.coverage.retention).toMatchObject({
      configured: '10y',
      coversPeriod: true,
      dataCoversPeriodStart: true,
    });
    expect(
      atEnd.coverage.inventory.map((r) => [
        r.image,
        r.team,
        r.inventoriedAtEnd,
        r.scheduleIntervalHours,
        r.slaHours,
      ]),
    ).toEqual(
      [...IMAGES]
        .sort((a, b) => a.image.localeCompare(b.image))
        .map((img) => [img.image, img.team, true, 24, img.sla]),
    );
  });

  it('says when no exception or silence series exist, and lists them when they do not', () => {
    expect(atEnd.exceptions).toMatchObject({ present: false, groups: [] });
  });

  it('a single-cluster report names no cluster (rows, the clusters field)', () => {
    for (const report of [atEnd, atBreach]) {
      expect(report.clusters).toBeUndefined();
      expect(JSON.stringify(report)).not.toMatch(/"cluster"/);
    }
  });

  it('names the PromQL of every figure: each referenced query is in the appendix', () => {
    const ids = new Set(atEnd.queries.map((q) => q.id));
    const referenced = JSON.stringify(atEnd)
      .match(/"queries":\[("[A-Za-z]+",?)*\]/g)!
      .flatMap((m) => JSON.parse(m.slice('"queries":'.length)) as string[]);
    expect(referenced.length).toBeGreaterThan(20);
    for (const id of referenced) expect(ids.has(id), id).toBe(true);
    for (const q of atEnd.queries) expect(q.promql).not.toBe('');
  });
});

describe('as of September 6, 12:00, over 5 days (the breach in progress)', () => {
  it('shows the open breach, and the period figures of those 5 days', () => {
    expect(atBreach.resolutionSeconds).toBe(600);
    expect(atBreach.asOf.pastSla.rows).toEqual([
      {
        image: IMAGES[1]!.image,
        cveId: 'CVE-2026-2001',
        severity: 'Critical',
        ageHours: 35,
        slaHours: 24,
        team: 'web',
      },
    ]);
    expect(atBreach.asOf.criticalCves.rows.map((r) => [r.cveId, r.firstSeen])).toEqual([
      ['CVE-2026-2001', '2026-09-05T01:00:00Z'],
    ]);
    expect(atBreach.asOf.drift.rows).toEqual([]);
    const critical = severityRow(atBreach, 'Critical');
    // 3001 was fixed before this period began; 1001 appeared and was fixed; 2001 is open past SLA.
    expect([
      critical.appeared.value,
      critical.remediated.value,
      critical.remediatedWithinSla.value,
      critical.stillOpen.value,
      critical.stillOpenPastSla.value,
    ]).toEqual([2, 1, 1, 1, 1]);
    expect(atBreach.period.runs.map((r) => [r.outcome, r.runs.value])).toEqual([
      ['succeeded (patched or up_to_date)', 15],
    ]);
    expect(atBreach.period.breachesPerDay.points.map((p) => p.value)).toEqual([0, 0, 0, 0, 1]);
  });

  it('lists the failed week as of September 20 with the last success before it', async () => {
    const report = await jsonReport('--at', '2026-09-20T12:00:00Z', '--period', '7d');
    const etl = IMAGES[2]!;
    expect(report.asOf.failedRuns.rows).toEqual([
      {
        image: etl.image,
        cronjob: etl.cronjob,
        failureReason: 'push_failed',
        team: 'data',
        lastSuccess: '2026-09-13T02:05:00Z',
      },
    ]);
    expect(report.asOf.overdue.rows.map((r) => [r.image, r.reason, r.lastSuccess])).toEqual([
      [etl.image, 'push_failed', '2026-09-13T02:05:00Z'],
    ]);
    expect(report.period.runs.map((r) => [r.outcome, r.runs.value])).toEqual([
      ['succeeded (patched or up_to_date)', 14],
      ['push_failed', 7],
    ]);
  });

  it('flags a period that starts before the data', async () => {
    const report = await jsonReport('--at', '2026-09-10T00:00:00Z', '--period', '20d');
    expect(report.coverage.retention.dataCoversPeriodStart).toBe(false);
    expect(report.coverage.sources[0]!.noDataShare.value).toBeGreaterThan(0.4);
  });
});

/** An instant query with `stats=all`: the result and how many samples Prometheus read for it. */
async function queryWithStats(
  promql: string,
  time: number,
): Promise<{ result: InstantSample[]; samples: number }> {
  const body = new URLSearchParams({ query: promql, time: String(time), stats: 'all' });
  const response = await fetch(`${prometheus.url}/api/v1/query`, { method: 'POST', body });
  const json = (await response.json()) as {
    status: string;
    error?: string;
    data: { result: InstantSample[]; stats: { samples: { totalQueryableSamples: number } } };
  };
  expect(json.status, json.error).toBe('success');
  return { result: json.data.result, samples: json.data.stats.samples.totalQueryableSamples };
}

const perCveValues = (samples: readonly InstantSample[]) =>
  samples
    .map((s) => [s.metric.image, s.metric.cve_id, s.metric.severity, Number(s.value[1])] as const)
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('the 15-minute CVE age record from Sep 4, the raw series before it', () => {
  const settings = () =>
    reportSettings(inventorySchema.parse(parse(inventoryYaml(FLEET_NAMESPACE))));

  it("holds what the fleet's own rule computes from the raw series (the backfilled record is faithful)", async () => {
    // The record's shards (sla.ts): together they write every CVE.
    const shards = concernsFor(settings())
      .flatMap((concern) => concern.records)
      .filter((r) => r.record === RECORDS.cveAgeHours15m);
    expect(shards.length).toBeGreaterThan(1);
    const ruleExpr = shards.map((r) => `(${r.expr})`).join(' or ');
    const recorded = settings().q.record(RECORDS.cveAgeHours15m);
    // Evaluations around CVE-2026-1002's fix, CVE-2026-2001's life, the collector outage and the end.
    const times = [sep(4, 6), sep(4, 6) + 900, sep(5, 12), sep(6, 1), sep(16, 3), sep(30, 12)].map(
      (t) => RECORD_GRID.start + Math.ceil((t - RECORD_GRID.start) / 900) * 900,
    );
    let compared = 0;
    for (const t of times) {
      const [fromRule, fromRecord] = await Promise.all([
        queryWithStats(ruleExpr, t),
        queryWithStats(recorded, t),
      ]);
      expect(perCveValues(fromRecord.result), new Date(t * 1000).toISOString()).toEqual(
        perCveValues(fromRule.result),
      );
      compared += fromRule.result.length;
    }
    expect(compared).toBe(5);
  });

  it('reads the record after its first sample and the raw series only before it (and one interval at the end)', () => {
    const lastAge = (report: Report) => report.queries.find((q) => q.id === 'cveLastAge')!.promql;
    // The coverage query's first step with a sample is Sep 4 00:15 (the first evaluation is at 00:00:07).
    for (const report of [atEnd, atBreach]) {
      expect(lastAge(report)).toContain(RECORDS.cveAgeHours15m);
      expect(lastAge(report)).toContain(`@ ${RECORD_FROM + 1800})`);
      expect(report.queries.map((q) => q.id)).toContain('cveRecordCoverage');
    }
  });

  it('gives exactly the figures of the raw series alone, reading a fraction of the samples', async () => {
    for (const report of [atEnd, atBreach]) {
      const spec = report.queries.find((q) => q.id === 'cveLastAge')!;
      const at = Date.parse(spec.time!) / 1000;
      const period = report.periodHours * 3600;
      const window = { at, periodSeconds: period, stepSeconds: report.resolutionSeconds };
      const raw = reportQueries(window, settings()).find((q) => q.id === 'cveLastAge')!;
      expect(raw.promql).not.toContain(RECORDS.cveAgeHours15m);
      const [split, alone] = await Promise.all([
        queryWithStats(spec.promql, at),
        queryWithStats(raw.promql, at),
      ]);
      expect(split.result.length).toBeGreaterThan(2);
      expect(perCveValues(split.result)).toEqual(perCveValues(alone.result));
      if (report === atEnd) expect(split.samples).toBeLessThan(alone.samples / 3);
    }
  });

  it('the second fleet, without a record, reads the raw series alone', async () => {
    const report = await jsonReport(...staging, '--at', new Date(END * 1000).toISOString());
    const spec = report.queries.find((q) => q.id === 'cveLastAge')!;
    expect(spec.promql).not.toContain(RECORDS.cveAgeHours15m);
    expect(spec.title).toContain('no record');
    expect(report.period.cves.map((c) => [c.cveId, c.lastAgeHours])).toEqual([
      [STAGING.cveId, expect.any(Number)],
    ]);
  });
});

describe("one Prometheus, two fleets: each report reads its fleet's series only", () => {
  it("the second fleet's report (its inventory's namespace) shows that fleet alone", async () => {
    const report = await jsonReport(...staging, '--at', new Date(END * 1000).toISOString());
    expect(report.asOf.criticalCves.rows.map((r) => [r.image, r.cveId])).toEqual([
      [STAGING.image, STAGING.cveId],
    ]);
    expect(report.asOf.drift.rows.map((r) => [r.namespace, 'pod' in r && r.pod])).toEqual([
      [STAGING.drift.namespace, STAGING.drift.pod],
    ]);
    expect(
      report.asOf.failedRuns.rows.map((r) => [r.image, r.cronjob, r.failureReason, r.team]),
    ).toEqual([[STAGING.image, STAGING.cronjob, STAGING.failureReason, STAGING.team]]);
    expect(
      report.coverage.inventory.map((r) => [r.image, r.team, r.scheduleIntervalHours, r.slaHours]),
    ).toEqual([[STAGING.image, STAGING.team, 48, { Critical: STAGING.slaHours }]]);
    expect(report.coverage.unscannedNamespaces.map((r) => r.namespace)).toEqual([
      STAGING.unscanned.namespace,
    ]);
    const [collector, pushgateway] = report.coverage.sources;
    expect([collector!.upShare.value, pushgateway!.upShare.value]).toEqual([1, 0]);
    expect(report.queries.find((q) => q.id === 'cveAtEnd')!.promql).toContain(
      `namespace="${STAGING.namespace}"`,
    );
  });

  it("with the selectors off, the second fleet leaks into the first one's report (the isolation checks can fail)", async () => {
    await writeFile(
      join(dir, 'unscoped.yaml'),
      inventoryYaml(FLEET_NAMESPACE, 'prometheus:\n  selectors: {collector: {}, exporter: {}}\n'),
    );
    const run = await cli(
      '--prometheus',
      prometheus.url,
      '--format',
      'json',
      '--inventory',
      join(dir, 'unscoped.yaml'),
      '--at',
      new Date(END * 1000).toISOString(),
      '--period',
      '1d',
    );
    // Both fleets' inventory entries for payments/api (teams payments and staging) meet in one join: Prometheus refuses it.
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/many-to-many matching not allowed/);
    expect(run.stderr).toContain(`team="${STAGING.team}"`);
  });

  it('without --inventory and no inventory.yaml: the default selectors, said on stderr', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    let run: CliRun;
    try {
      run = await cli(
        '--prometheus',
        prometheus.url,
        '--format',
        'json',
        '--at',
        new Date(END * 1000).toISOString(),
        '--period',
        '1d',
      );
    } finally {
      process.chdir(cwd);
    }
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'no --inventory and no inventory.yaml here: reading the series with the selectors of an inventory of defaults (namespace copa-fleet',
    );
    expect((JSON.parse(run.stdout) as Report).asOf.criticalCves.rows).toEqual(
      atEnd.asOf.criticalCves.rows,
    );
  });

  it('exits 1 on an invalid inventory, with its located problems', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'defaults:\n  namespace: Not_A_Label\nimages: []\n');
    const run = await cli('--prometheus', prometheus.url, '--inventory', join(dir, 'bad.yaml'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/bad\.yaml:2:\d+: defaults\.namespace/);
    expect(run.stderr).toContain('copa-fleet report: 2 problems in');
  });
});

describe('the json schema (report.schema.json)', () => {
  let validate: ValidateFunction;
  beforeAll(async () => {
    validate = await reportSchemaValidator();
  });

  it('accepts both reports', () => {
    for (const report of [atEnd, atBreach])
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects a report with a figure missing its queries (the check can fail)', () => {
    const broken = structuredClone(atEnd) as unknown as {
      asOf: { drift: { count: { queries?: unknown } } };
    };
    delete broken.asOf.drift.count.queries;
    expect(validate(broken)).toBe(false);
  });
});

describe('md and html', () => {
  let html: string;
  let htmlFile: string;
  beforeAll(async () => {
    htmlFile = join(dir, 'report.html');
    const run = await cli(
      '--prometheus',
      prometheus.url,
      ...fleet,
      '--at',
      new Date(END * 1000).toISOString(),
      '--out',
      htmlFile,
    );
    expect(run.code, run.stderr).toBe(0);
    html = await readFile(htmlFile, 'utf8');
  });

  it('md carries every section, the severity table and the PromQL appendix', async () => {
    const run = await cli(
      '--prometheus',
      prometheus.url,
      ...fleet,
      '--at',
      new Date(END * 1000).toISOString(),
      '--format',
      'md',
    );
    expect(run.code).toBe(0);
    for (const title of Object.values(SECTION_TITLES)) expect(run.stdout).toContain(`## ${title}`);
    expect(run.stdout).toContain('| Critical | 3 | 3 | 2 | 66.7 % | 10.0 h | 40.4 h | 1 | 0 |');
    expect(run.stdout).toContain(
      `\`\`\`promql\n${atEnd.queries.find((q) => q.id === 'cveLastAge')!.promql}\n\`\`\``,
    );
    expect(run.stdout).toContain(
      '```promql\nmax by (image, cve_id, severity) (image_cve_age_hours{job="copa-fleet-collector", namespace="copa-fleet"})\n```',
    );
  });

  it('html is self-contained: no scripts, no external resources, inline SVG charts', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(|@import/i);
    expect(html).not.toMatch(/(src|href)="(?!#)/);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('break-before: page');
  });

  it('opens in headless Chromium: screenshot and PDF, no console messages, the PDF text carries the sections and key figures', async () => {
    const png = join(dir, 'report.png');
    const pdf = join(dir, 'report.pdf');
    const shot = await chromium(htmlFile, ['--window-size=1280,2400', `--screenshot=${png}`]);
    expect(shot.code, shot.log).toBe(0);
    expect((await readFile(png)).subarray(1, 4).toString()).toBe('PNG');
    const print = await chromium(htmlFile, ['--no-pdf-header-footer', `--print-to-pdf=${pdf}`]);
    expect(print.code, print.log).toBe(0);
    expect([...shot.consoleMessages, ...print.consoleMessages]).toEqual([]);
    // Table cells wrap (at hyphens too): compare with whitespace folded and hyphen breaks joined.
    const text = (await pdfText(pdf)).replace(/\s+/g, ' ').replace(/- /g, '-');
    for (const title of Object.values(SECTION_TITLES)) expect(text).toContain(title);
    for (const figure of [
      '66.7 %',
      '40.4 h',
      '99.2 %',
      'push_failed 7',
      'etl-worker-0',
      'batch 48.0 h',
    ])
      expect(text).toContain(figure);
  });

  it('the console check catches a page that breaks the policy (the check can fail)', async () => {
    const bad = join(dir, 'bad.html');
    await writeFile(bad, html.replace('<h1>', '<img src="http://127.0.0.1:9/x.png"><h1>'));
    const run = await chromium(bad, [
      '--window-size=800,600',
      `--screenshot=${join(dir, 'bad.png')}`,
    ]);
    expect(run.consoleMessages.length).toBeGreaterThan(0);
  });
});

describe('connection options and exit codes', () => {
  it('sends the bearer token and extra headers (e.g. X-Scope-OrgID) on every request', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const target = new URL(prometheus.url);
    const proxy = createServer((req, res) => {
      seen.push(req.headers);
      forward(target, req, res);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      const token = join(dir, 'token');
      await writeFile(token, 's3cret-token\n');
      const run = await cli(
        '--prometheus',
        `http://127.0.0.1:${port}`,
        '--at',
        '2026-09-10T00:00:00Z',
        '--period',
        '2d',
        '--format',
        'json',
        ...fleet,
        '--bearer-token-file',
        token,
        '--header',
        'X-Scope-OrgID: tenant-1',
      );
      expect(run.code, run.stderr).toBe(0);
      expect(seen.length).toBeGreaterThan(20);
      for (const headers of seen)
        expect([headers.authorization, headers['x-scope-orgid']]).toEqual([
          'Bearer s3cret-token',
          'tenant-1',
        ]);
      expect(run.stderr).toMatch(/querying http:\/\/127\.0\.0\.1:\d+: 23\/23/);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('trusts an https Prometheus through --ca-file, and refuses it without', async () => {
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const target = new URL(prometheus.url);
    const tls = createHttpsServer(
      { key: await readFile(key), cert: await readFile(cert) },
      (req, res) => forward(target, req, res),
    );
    const port = await freePort();
    await new Promise<void>((resolve) => tls.listen(port, '127.0.0.1', resolve));
    try {
      const args = [
        '--prometheus',
        `https://127.0.0.1:${port}`,
        '--at',
        '2026-09-10T00:00:00Z',
        '--period',
        '1d',
        '--format',
        'json',
        ...fleet,
      ];
      const trusted = await cli(...args, '--ca-file', cert);
      expect(trusted.code, trusted.stderr).toBe(0);
      expect((JSON.parse(trusted.stdout) as Report).coverage.inventory).toHaveLength(IMAGES.length);
      const untrusted = await cli(...args);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(
        /cannot reach https:\/\/127\.0\.0\.1:\d+: self[- ]signed certificate/,
      );
    } finally {
      await new Promise((resolve) => tls.close(resolve));
    }
  });

  it('exits 1 when Prometheus cannot be reached', async () => {
    const run = await cli(
      '--prometheus',
      `http://127.0.0.1:${await freePort()}`,
      '--timeout',
      '5s',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });

  it('exits 1 when Prometheus holds none of our series for the period', async () => {
    const run = await cli('--prometheus', prometheus.url, ...fleet, '--at', '2026-06-01T00:00:00Z');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("holds none of copa-fleet's series");
  });

  it('exits 1 on an unreadable token file', async () => {
    const run = await cli(
      '--prometheus',
      prometheus.url,
      ...fleet,
      '--bearer-token-file',
      join(dir, 'missing'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read --bearer-token-file');
  });

  it.each([
    [[], '--prometheus URL is required'],
    [['--prometheus', 'ftp://x'], 'must be an http or https URL'],
    [['--prometheus', 'http://x', '--period', '30 days'], '--period must be a duration'],
    [['--prometheus', 'http://x', '--format', 'pdf'], '--format must be one of html, md, json'],
    [['--prometheus', 'http://x', '--at', 'yesterday'], '--at must be ISO 8601'],
    [['--prometheus', 'http://x', '--header', 'no colon'], '--header must be "NAME: VALUE"'],
    [['--prometheus', 'http://x', '--resolution', '1s'], 'more than 11,000 steps'],
    [['--prometheus', 'http://x', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const run = await cli(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

// A sanity check of the scenario itself, so that a wrong truth cannot pass silently.
it('the scenario truth: the breach is due a day after first seen and fixed a day after that', () => {
  expect(cve('CVE-2026-2001').firstSeen + 24 * H).toBe(sep(6, 1));
  expect(ttr('CVE-2026-2001')).toBe(48);
});
