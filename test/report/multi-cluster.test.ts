/**
 * `copa-fleet report` for a multi-cluster fleet (issue 15) against a real Prometheus holding 7
 * scripted days of two clusters as a central Prometheus receiving remote write holds them
 * (support/multi-cluster-scenario.ts, every series with its `cluster` label), backfilled with
 * `promtool tsdb create-blocks-from openmetrics`: the tables name the cluster, drift comes from the
 * global layer's join (in us-1 only), the same CVE in both clusters is remediated in each, one
 * cluster's collector outage is that cluster's gap only, the patch-run tables come from the patch
 * cluster alone; the json validates against report.schema.json; md and html show a cluster column.
 * And the single-cluster queries are exactly those before multi-cluster support (a golden file).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventorySchema } from '../../src/inventory/schema.ts';
import { reportSettings } from '../../src/report/fleet-settings.ts';
import type { ClusterDriftRow, Report } from '../../src/report/model.ts';
import { reportQueries } from '../../src/report/queries.ts';
import { GLOBAL_RECORDS } from '../../src/shared/metrics.ts';
import type { RunningProcess } from '../support/processes.ts';
import { startBackfilledPrometheus } from './support/backfilled-prometheus.ts';
import {
  CLUSTERS,
  MC_CVES,
  MC_DRIFT,
  MC_END,
  MC_IMAGES,
  MC_OUTAGE,
  MC_STALE_SCAN,
  MC_TIMELINE,
  MC_UNSCANNED,
  multiClusterSeries,
  PATCH_CLUSTER,
} from './support/multi-cluster-scenario.ts';
import { writeOpenMetrics } from './support/openmetrics.ts';
import { reportCli, reportSchemaValidator } from './support/report-cli.ts';
import { sep } from './support/scenario.ts';

const H = 3600;
const SCRAPE_HOURS = MC_TIMELINE.scrapeSeconds / H;
/** 7 days at the 1 h resolution the reports ask for: 169 steps. */
const STEPS = 7 * 24 + 1;

const INVENTORY = `defaults:
  namespace: copa-fleet
images:
${MC_IMAGES.map((img) => `  - ref: ${img.image}:1.0\n    team: ${img.team}\n`).join('')}prometheus:
  clusterLabel: cluster
clusters:
  - name: us-1
    roles: [workloads]
  - name: eu-1
    roles: [patch, workloads]
`;

let dir: string;
let prometheus: RunningProcess;
let inventory: string;

const cli = (...args: string[]) =>
  reportCli(
    '--prometheus',
    prometheus.url,
    '--inventory',
    inventory,
    '--resolution',
    '1h',
    ...args,
  );
async function jsonReport(...args: string[]): Promise<Report> {
  const run = await cli('--format', 'json', ...args);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Report;
}

let atEnd: Report;
let pastSla: Report;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-fleet-report-mc-'));
  inventory = join(dir, 'inventory.yaml');
  await writeFile(inventory, INVENTORY);
  const file = join(dir, 'scenario.om');
  writeOpenMetrics(file, MC_TIMELINE, multiClusterSeries());
  prometheus = await startBackfilledPrometheus(file);
  await rm(file);
  [atEnd, pastSla] = await Promise.all([
    jsonReport('--at', new Date(MC_END * 1000).toISOString(), '--period', '7d'),
    jsonReport('--at', '2026-09-03T12:00:00Z', '--period', '2d'),
  ]);
}, 120_000);
afterAll(async () => {
  await prometheus?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const api = MC_IMAGES[0].image;
const frontend = MC_IMAGES[1].image;
const cveOf = (cluster: string, id: string) =>
  MC_CVES.find((c) => c.cluster === cluster && c.cveId === id)!;

describe('a two-cluster fleet, as of September 8 over 7 days', () => {
  it('names the clusters and the patch cluster', () => {
    expect(atEnd.clusters).toEqual({
      label: 'cluster',
      names: [...CLUSTERS],
      patch: PATCH_CLUSTER,
    });
  });

  it('lists Critical CVEs per image and cluster', () => {
    expect(
      atEnd.asOf.criticalCves.rows.map((r) => [
        r.image,
        r.cveId,
        r.cluster,
        r.firstSeen,
        r.ageHours,
      ]),
    ).toEqual([
      [api, 'CVE-2026-5004', 'eu-1', '2026-09-07T18:00:00Z', 6],
      [api, 'CVE-2026-5004', 'us-1', '2026-09-07T18:00:00Z', 6],
      [frontend, 'CVE-2026-5002', 'us-1', '2026-09-07T12:00:00Z', 12],
    ]);
    expect([atEnd.asOf.criticalCves.count.value, atEnd.asOf.criticalCves.images.value]).toEqual([
      3, 2,
    ]);
  });

  it('drift from the global join: in us-1 only, per namespace, image and running digest, with the container count and since when', () => {
    const expected: ClusterDriftRow = {
      cluster: MC_DRIFT.cluster,
      namespace: MC_DRIFT.namespace,
      image: MC_DRIFT.image,
      runningDigest: MC_DRIFT.running,
      containers: MC_DRIFT.containers,
      // The first step after the rollout: the pushed digest B stays visible for the 5-minute lookback
      // at 12:00 (backfilled blocks carry no staleness marker, which the Pushgateway's scrape writes).
      since: '2026-09-05T13:00:00Z',
      hours: (MC_END - MC_DRIFT.from) / H - 1,
      beforePeriod: false,
    };
    expect(atEnd.asOf.drift.rows).toEqual([expected]);
    expect(atEnd.queries.find((q) => q.id === 'driftNow')!.title).toContain(
      GLOBAL_RECORDS.driftedDigestContainers,
    );
    expect(atEnd.period.driftByImage).toEqual([
      { cluster: MC_DRIFT.cluster, image: api, hours: (MC_END - MC_DRIFT.from) / H - 1 },
    ]);
    expect(atEnd.period.driftHours.value).toBe((MC_END - MC_DRIFT.from) / H - 1);
  });

  it('remediates the same CVE in each cluster at its own time, and counts it once per cluster', () => {
    const rows = atEnd.period.cves.filter((c) => c.cveId === 'CVE-2026-5001');
    expect(rows.map((r) => [r.cluster, r.openAtStart, r.openAtEnd, r.withinSla])).toEqual([
      ['eu-1', false, false, true],
      ['us-1', false, false, false],
    ]);
    for (const row of rows) {
      const truth = cveOf(row.cluster!, row.cveId);
      expect(
        Math.abs(row.lastAgeHours - (truth.gone! - truth.firstSeen) / H),
        row.cluster,
      ).toBeLessThanOrEqual(SCRAPE_HOURS);
    }
    const critical = atEnd.period.bySeverity.find((r) => r.severity === 'Critical')!;
    // Appeared: 5001 twice, 5004 twice, 5002 once; remediated: 5001 in eu-1 (10 h) and us-1 (48 h).
    expect([
      critical.appeared.value,
      critical.remediated.value,
      critical.remediatedWithinSla.value,
      critical.stillOpen.value,
      critical.stillOpenPastSla.value,
    ]).toEqual([5, 2, 1, 3, 0]);
    expect(Math.abs(critical.medianHoursToRemediate.value! - 29)).toBeLessThanOrEqual(SCRAPE_HOURS);
  });

  it('patch runs come from the patch cluster alone: none failed or overdue, 7 runs per image', () => {
    expect(atEnd.asOf.failedRuns.rows).toEqual([]);
    // Read from every cluster's inventory, us-1's images would have "never succeeded".
    expect(atEnd.asOf.overdue.rows).toEqual([]);
    // us-1's same-named job (1000 runs) is not the fleet's Pushgateway.
    expect(atEnd.period.runs.map((r) => [r.outcome, r.runs.value])).toEqual([
      ['succeeded (patched or up_to_date)', 14],
    ]);
  });

  it("one cluster's collector outage is that cluster's gap in evidence; the other stays covered", () => {
    const sources = atEnd.coverage.sources.map((s) => [
      s.source,
      s.cluster,
      s.upShare.value,
      s.downShare.value,
      s.noDataShare.value,
    ]);
    const outage = (MC_OUTAGE.to - MC_OUTAGE.from) / H;
    expect(sources).toEqual([
      ['drift collector', 'eu-1', 1, 0, 0],
      [
        'drift collector',
        'us-1',
        Number((1 - outage / STEPS).toFixed(4)),
        Number((outage / STEPS).toFixed(4)),
        0,
      ],
      ['Pushgateway', PATCH_CLUSTER, 1, 0, 0],
    ]);
    expect(atEnd.coverage.unscannedNamespaces).toEqual([
      {
        cluster: MC_UNSCANNED.cluster,
        namespace: MC_UNSCANNED.namespace,
        hours: (MC_UNSCANNED.to - MC_UNSCANNED.from) / H,
        maxPods: MC_UNSCANNED.pods,
      },
    ]);
    expect(
      atEnd.coverage.staleScans.rows.map((r) => [
        r.cluster,
        r.image,
        Math.round(r.maxScanAgeHours),
      ]),
    ).toEqual([[MC_STALE_SCAN.cluster, MC_STALE_SCAN.image, 37]]);
    expect(atEnd.coverage.inventory.map((r) => [r.image, r.team])).toEqual(
      MC_IMAGES.map((img) => [img.image, img.team]),
    );
  });

  it('charts the fleet compliance ratio weighted by running containers across clusters', () => {
    const at = (t: number) =>
      atEnd.period.complianceRatio.points.find(
        (p) => p.time === new Date(t * 1000).toISOString().replace('.000Z', 'Z'),
      )?.value;
    // Sep 6 12:00: eu-1 4 of 4 compliant, us-1 2 of 4 (the drifted api containers): 6 of 8.
    expect(at(sep(6, 12))).toBe(0.75);
    expect(at(sep(1, 12))).toBe(1);
  });
});

describe('a cluster that never reported', () => {
  it('is all "no data" in the collector coverage, the other clusters as before', async () => {
    const withAp = join(dir, 'three-clusters.yaml');
    await writeFile(withAp, `${INVENTORY}  - name: ap-1\n    roles: [workloads]\n`);
    const run = await cli(
      '--format',
      'json',
      '--inventory',
      withAp,
      '--at',
      new Date(MC_END * 1000).toISOString(),
      '--period',
      '7d',
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.clusters?.names).toEqual(['ap-1', ...CLUSTERS]);
    expect(
      report.coverage.sources.map((s) => [
        s.source,
        s.cluster,
        s.upShare.value,
        s.noDataShare.value,
        s.firstSample,
      ]),
    ).toEqual([
      ['drift collector', 'ap-1', 0, 1, null],
      ['drift collector', 'eu-1', 1, 0, '2026-09-01T00:00:00Z'],
      [
        'drift collector',
        'us-1',
        atEnd.coverage.sources[1]!.upShare.value,
        0,
        '2026-09-01T00:00:00Z',
      ],
      ['Pushgateway', PATCH_CLUSTER, 1, 0, '2026-09-01T00:00:00Z'],
    ]);
  });
});

describe('a two-cluster fleet, as of September 3 12:00 over 2 days', () => {
  it('says in which cluster a CVE is past its SLA (remediated in the other)', () => {
    expect(pastSla.asOf.pastSla.rows).toEqual([
      {
        cluster: 'us-1',
        image: api,
        cveId: 'CVE-2026-5001',
        severity: 'Critical',
        ageHours: 30,
        slaHours: 24,
        team: 'payments',
      },
    ]);
  });
});

describe('json schema, md and html of a multi-cluster report', () => {
  it('validates against report.schema.json, and a cluster drift row missing its containers does not', async () => {
    const validate = await reportSchemaValidator();
    for (const report of [atEnd, pastSla])
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const broken = structuredClone(atEnd) as unknown as {
      asOf: { drift: { rows: Array<{ containers?: number }> } };
    };
    delete broken.asOf.drift.rows[0]!.containers;
    expect(validate(broken)).toBe(false);
  });

  it('md and html show a cluster column', async () => {
    const at = ['--at', new Date(MC_END * 1000).toISOString(), '--period', '7d'];
    const md = await cli('--format', 'md', ...at);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('| cluster | image | CVE | since | age | team | running digests |');
    expect(md.stdout).toContain(
      `| us-1 | payments | ${api} | ${MC_DRIFT.running} | 2 | 2026-09-05T13:00:00Z | 59.0 h |`,
    );
    expect(md.stdout).toContain('| cluster | source | job | up | down | no data | first sample |');
    const html = await cli('--format', 'html', ...at);
    expect(html.code, html.stderr).toBe(0);
    expect(html.stdout).toContain(
      '<th>cluster</th><th>namespace</th><th>image</th><th>running digest</th>',
    );
  });
});

describe('single-cluster output is unchanged', () => {
  it('every query (PromQL and title) is the one of the single-cluster report before multi-cluster support', async () => {
    const golden = JSON.parse(
      await readFile(new URL('./golden/single-cluster-queries.json', import.meta.url), 'utf8'),
    ) as unknown;
    const yaml = `defaults:\n  namespace: copa-fleet\nimages:\n  - ref: registry.example.com/payments/api:1.0\n    team: payments\n`;
    const settings = reportSettings(inventorySchema.parse(parse(yaml)));
    const window = { at: 1790812800, periodSeconds: 30 * 86400, stepSeconds: 3600 };
    expect({
      raw: reportQueries(window, settings),
      split: reportQueries(window, settings, { firstStep: 1788480900, lastStep: 1790812800 }),
    }).toEqual(golden);
  });
});
