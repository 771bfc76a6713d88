/**
 * The fleet's selectors (queries.ts): derived from the fleet, replaced by `prometheus.selectors`,
 * and put on every series a rule or panel reads (the promtool proof is fleet-isolation.test.ts).
 */
import { parser } from '@prometheus-io/lezer-promql';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  clusterScope,
  FleetQueries,
  fleetSelectors,
  UPSTREAM,
} from '../../src/observability/queries.ts';
import {
  GLOBAL_RECORDS,
  JOBS,
  METRICS,
  RECORDS,
  UPSTREAM_METRICS,
} from '../../src/shared/metrics.ts';
import { assembleObservability } from '../../src/observability/assemble.ts';
import { observabilitySettings } from '../../src/observability/settings.ts';
import { reportQueries } from '../../src/report/queries.ts';
import { fleetOf, inventoryInput, NAMESPACE, observability } from './support/fixture.ts';
import { PROMTOOL, runTool } from './support/promtool.ts';
import { panelExprs, ruleExprs } from './support/queries.ts';

const withPrometheus = (prometheus: object) =>
  fleetOf({ ...inventoryInput, prometheus: { ...inventoryInput.prometheus, ...prometheus } });

describe('fleet selectors', () => {
  it('default to the target labels of the generated ServiceMonitors: job and the fleet namespace', () => {
    expect(fleetSelectors(fleetOf(inventoryInput))).toEqual({
      collector: [{ matchers: { job: JOBS.collector, namespace: NAMESPACE }, regex: {} }],
      exporter: { job: JOBS.exporter, namespace: NAMESPACE },
      records: { namespace: NAMESPACE },
    });
  });

  it('leave the namespace out of the exporter selector with an external Pushgateway (its namespace is unknown)', () => {
    const external = fleetOf({
      ...inventoryInput,
      defaults: {
        ...inventoryInput.defaults,
        pushgateway: { deploy: false, url: 'http://pushgateway.monitoring.svc:9091' },
      },
    });
    expect(fleetSelectors(external).exporter).toEqual({ job: JOBS.exporter });
  });

  it('are replaced, not merged, by prometheus.selectors', () => {
    const selectors = fleetSelectors(
      withPrometheus({ selectors: { collector: { job: 'copa', cluster: 'eu-1' } } }),
    );
    expect(selectors.collector).toEqual([
      { matchers: { job: 'copa', cluster: 'eu-1' }, regex: {} },
    ]);
    expect(selectors.exporter).toEqual({ job: JOBS.exporter, namespace: NAMESPACE });
  });

  it('quote values as PromQL strings', () => {
    const q = new FleetQueries({
      collector: [{ matchers: { cluster: 'a"b\\c' }, regex: {} }],
      exporter: {},
      records: {},
    });
    const expr = q.series(METRICS.runningContainers);
    expect(expr).toBe('fleet_running_containers{cluster="a\\"b\\\\c"}');
    // lezer marks what it could not parse with error nodes (the ⚠ of the printed tree).
    const errors: string[] = [];
    parser.parse(expr).iterate({
      enter: (node) => void (node.type.isError && errors.push(expr.slice(node.from, node.to))),
    });
    expect(errors).toEqual([]);
  });
});

describe('FleetQueries', () => {
  const q = new FleetQueries(fleetSelectors(fleetOf(inventoryInput)));

  it('scope each series by the selector of its source', () => {
    expect(q.series(METRICS.imageCveAgeHours, { severity: 'Critical' })).toBe(
      `image_cve_age_hours{job="${JOBS.collector}", namespace="${NAMESPACE}", severity="Critical"}`,
    );
    expect(q.series(METRICS.runLastTimestamp)).toBe(
      `copa_run_last_timestamp_seconds{job="${JOBS.exporter}", namespace="${NAMESPACE}"}`,
    );
    expect(q.series(UPSTREAM.up)).toBe(`up{job="${JOBS.collector}", namespace="${NAMESPACE}"}`);
    expect(q.series(UPSTREAM.pushTimeSeconds)).toBe(
      `push_time_seconds{job="${JOBS.exporter}", namespace="${NAMESPACE}"}`,
    );
    expect(q.record(RECORDS.slaBreaches)).toBe(
      `fleet:cve_sla_breaches:count{namespace="${NAMESPACE}"}`,
    );
  });

  it("read the generated Pushgateway's own series with its scrape job, and the collector's zero from the collector", () => {
    expect(q.pushgatewaySelf(UPSTREAM_METRICS.processStartTimeSeconds)).toBe(
      `process_start_time_seconds{job="${JOBS.pushgateway}", namespace="${NAMESPACE}"}`,
    );
    expect(q.collectorZero).toBe(
      `0 * group(fleet_inventory_image_info{job="${JOBS.collector}", namespace="${NAMESPACE}"})`,
    );
  });

  it("scope workload series (whose namespace is the workload's) through their collector target", () => {
    const drift = q.series(METRICS.containerDigestDrift);
    expect(drift).toContain(
      `running_container_digest_drift{job="${JOBS.collector}"} and on (instance) group by (instance) (up{job="${JOBS.collector}", namespace="${NAMESPACE}"})`,
    );
    expect(drift).not.toContain(
      `running_container_digest_drift{job="${JOBS.collector}", namespace=`,
    );
  });
});

describe('FleetQueries of clusters in different namespaces', () => {
  const fleet = fleetOf({
    ...inventoryInput,
    clusters: [
      { name: 'eu-1', roles: ['patch', 'workloads'], namespace: 'copa-eu' },
      { name: 'us-1', roles: ['workloads'] },
      { name: 'ap-1', roles: ['workloads'] },
    ],
  });
  const q = new FleetQueries(fleetSelectors(fleet), clusterScope(fleet));
  const C = JOBS.collector;

  it('read each (cluster, namespace) pair of the collector exactly, one alternative per namespace', () => {
    expect(q.series(METRICS.inventoryImageInfo)).toBe(
      `(fleet_inventory_image_info{job="${C}", namespace="copa-eu", cluster="eu-1"}` +
        ` or fleet_inventory_image_info{job="${C}", namespace="${NAMESPACE}", cluster=~"ap-1|us-1"})`,
    );
    // The exporters: only the patch cluster, in its namespace.
    expect(q.series(METRICS.runLastTimestamp)).toBe(
      `copa_run_last_timestamp_seconds{job="${JOBS.exporter}", namespace="copa-eu", cluster="eu-1"}`,
    );
    expect(q.record(RECORDS.slaBreaches)).toBe(
      `fleet:cve_sla_breaches:count{namespace="${NAMESPACE}"}`,
    );
  });

  it("narrow the alternatives by the caller's matchers instead of overwriting them", () => {
    // The patch cluster runs in copa-eu: its series are never read in the fleet namespace.
    expect(q.series(METRICS.inventoryImageInfo, q.patchCluster)).toBe(
      `fleet_inventory_image_info{job="${C}", namespace="copa-eu", cluster="eu-1"}`,
    );
    expect(q.series(UPSTREAM.up, { cluster: 'us-1' })).toBe(
      `up{job="${C}", namespace="${NAMESPACE}", cluster="us-1"}`,
    );
    expect(() => q.series(UPSTREAM.up, { cluster: 'sa-1' })).toThrow(/no collector selector/);
    // A dashboard filter on the cluster label is added to each alternative, not put in its place.
    expect(q.filtered({ cluster: '$cluster' }).series(UPSTREAM.up)).toBe(
      `(up{job="${C}", namespace="copa-eu", cluster="eu-1", cluster=~"$cluster"}` +
        ` or up{job="${C}", namespace="${NAMESPACE}", cluster=~"ap-1|us-1", cluster=~"$cluster"})`,
    );
  });

  it('apply range functions and offsets to each alternative (a union is no vector selector)', () => {
    expect(q.overTime('last_over_time', METRICS.inventoryImageInfo, '5m', q.patchCluster)).toBe(
      `last_over_time(fleet_inventory_image_info{job="${C}", namespace="copa-eu", cluster="eu-1"}[5m])`,
    );
    expect(q.offset(METRICS.slaBreachTotal, '1d')).toBe(
      `(image_patch_sla_breach_total{job="${C}", namespace="copa-eu", cluster="eu-1"} offset 1d` +
        ` or image_patch_sla_breach_total{job="${C}", namespace="${NAMESPACE}", cluster=~"ap-1|us-1"} offset 1d)`,
    );
    expect(() => q.overTime('rate', METRICS.containerDigestDrift, '5m')).toThrow(/workload/);
  });

  it('scope workload series through `up` of the exact pairs', () => {
    expect(q.series(METRICS.containerDigestDrift)).toContain(
      `running_container_digest_drift{job="${C}"} and on (cluster, instance) group by (cluster, instance) ((up{job="${C}", namespace="copa-eu", cluster="eu-1"}` +
        ` or up{job="${C}", namespace="${NAMESPACE}", cluster=~"ap-1|us-1"}))`,
    );
  });

  it('read one cluster exactly when pinned to it (the per-cluster global rules), and what is not per cluster whole', () => {
    const us = q.inCluster('us-1');
    // Its (cluster, namespace) pair alone, an equality matcher: the selector reads that cluster's series only.
    expect(us.series(METRICS.inventoryImageInfo)).toBe(
      `fleet_inventory_image_info{job="${C}", namespace="${NAMESPACE}", cluster="us-1"}`,
    );
    expect(us.overTime('max_over_time', METRICS.imageCveAgeHours, '15m')).toBe(
      `max_over_time(image_cve_age_hours{job="${C}", namespace="${NAMESPACE}", cluster="us-1"}[15m])`,
    );
    // A workload series: the raw selector pinned too, not only its targets.
    expect(us.series(METRICS.containerDigestDrift)).toContain(
      `running_container_digest_drift{job="${C}", cluster="us-1"} and on (cluster, instance) group by (cluster, instance) (up{job="${C}", namespace="${NAMESPACE}", cluster="us-1"})`,
    );
    // Per-cluster records pinned; the patch cluster's patched digests hold for every cluster.
    expect(us.record(RECORDS.slaBreaches)).toBe(
      `fleet:cve_sla_breaches:count{namespace="${NAMESPACE}", cluster="us-1"}`,
    );
    expect(us.record(GLOBAL_RECORDS.patchedDigests)).toBe(
      `fleet:patched_digests:group{namespace="${NAMESPACE}"}`,
    );
    // The exporters are the patch cluster's, and an explicit cluster is read as asked.
    expect(us.series(METRICS.runLastTimestamp)).toBe(q.series(METRICS.runLastTimestamp));
    expect(us.series(UPSTREAM.up, us.patchCluster)).toBe(
      `up{job="${C}", namespace="copa-eu", cluster="eu-1"}`,
    );
    // The expected clusters of a constant: this one.
    expect(us.constant(1)).toBe(`label_replace(vector(1), "cluster", "us-1", "", "")`);
    expect(() => us.constant(0, ['eu-1'])).toThrow(/not among/);
    // The patch pipeline's queries are the patch cluster's, pinned or not.
    expect(us.patchPipeline.series(METRICS.inventoryImageInfo)).toBe(
      q.patchPipeline.series(METRICS.inventoryImageInfo),
    );
    expect(() => q.inCluster('sa-1')).toThrow(/not a cluster of this fleet/);
  });

  it("every generated expression parses in Prometheus' own parser: these, every rule and panel, every report query", async () => {
    const outputs = assembleObservability(fleet);
    const at = 1_780_000_000;
    const window = { at, periodSeconds: 30 * 86_400, stepSeconds: 3600 };
    const exprs = [
      q.series(METRICS.inventoryImageInfo),
      q.overTime('rate', METRICS.collectorApiErrorsTotal, '5m'),
      q.offset(METRICS.slaBreachTotal, '1d'),
      q.series(METRICS.containerDigestDrift),
      ...ruleExprs(outputs).map((r) => r.expr),
      ...panelExprs(outputs.dashboard).map((p) => p.expr.replaceAll('$__rate_interval', '5m')),
      // With and without the CVE-age record's coverage (the raw series before and after it).
      ...[undefined, { firstStep: at - 20 * 86_400, lastStep: at }].flatMap((coverage) =>
        reportQueries(window, observabilitySettings(fleet), coverage).map((spec) => spec.promql),
      ),
    ];
    // The union is in them (a test of the fixture: the alternatives are really there).
    expect(exprs.filter((e) => e.includes('namespace="copa-eu"')).length).toBeGreaterThan(40);
    // promtool, not lezer: lezer accepts `(a or b)[5m]` and `(a or b) offset 1d`, Prometheus
    // refuses both ("ranges only allowed for vector selectors").
    const dir = await mkdtemp(join(tmpdir(), 'copa-alternatives-'));
    try {
      const file = join(dir, 'exprs.rules.yaml');
      const rules = exprs.map((expr, i) => ({ record: `check_${i}`, expr }));
      await writeFile(file, stringify({ groups: [{ name: 'exprs', rules }] }));
      const result = await runTool(PROMTOOL, ['check', 'rules', file]);
      expect(result.code, result.output).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('every selector of the outputs', () => {
  const vocabulary = new Map<string, string>(
    Object.values(METRICS).map((metric) => [metric.name, metric.source]),
  );
  vocabulary.set(UPSTREAM.up.name, 'collector').set(UPSTREAM.pushTimeSeconds.name, 'exporter');
  // The generated Pushgateway's own series (first-runs.ts): the exporter selector with its own scrape job.
  vocabulary.set(UPSTREAM_METRICS.processStartTimeSeconds, 'pushgateway');
  const jobOf: Readonly<Record<string, string>> = {
    collector: JOBS.collector,
    exporter: JOBS.exporter,
    pushgateway: JOBS.pushgateway,
  };
  const records = new Set<string>(Object.values(RECORDS));

  it.each([
    ['rule', ruleExprs(observability)],
    ['panel', panelExprs(observability.dashboard)],
  ] as const)('%s expressions put the fleet selector on every series they read', (_kind, exprs) => {
    let checked = 0;
    for (const { source, expr } of exprs) {
      parser.parse(expr).iterate({
        enter: (node) => {
          if (node.name !== 'VectorSelector') return;
          const text = expr.slice(node.from, node.to);
          const name = text.replace(/\{.*$/s, '');
          checked += 1;
          if (records.has(name))
            return void expect(text, source).toContain(`namespace="${NAMESPACE}"`);
          const kind = vocabulary.get(name);
          expect(kind, `${source}: ${text}`).toBeDefined();
          expect(text, source).toContain(`job="${jobOf[kind!]}"`);
          // Workload series carry the workload's namespace: they are scoped through `up` instead.
          const workload = (
            Object.values(METRICS) as readonly { name: string; labels: readonly string[] }[]
          ).some((m) => m.name === name && m.labels.includes('namespace'));
          if (!workload) expect(text, source).toContain(`namespace="${NAMESPACE}"`);
        },
      });
    }
    expect(checked).toBeGreaterThan(20);
  });
});
