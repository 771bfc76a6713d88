/**
 * The multi-cluster output (inventory `clusters`): one directory per cluster with exactly what it
 * applies, `global/` with the rules, routes and dashboard of the global query layer, and the cluster
 * label in every grouping and join of the global rules.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { InventoryInput } from '../../src/inventory/schema.ts';
import { parseInventoryConfigMap } from '../../runtime/collector/inventory.ts';
import { CONFIGMAPS } from '../../src/shared/contract.ts';
import { ALERTS } from '../../src/shared/metrics.ts';
import { PROMTOOL, runTool } from '../observability/support/promtool.ts';
import { FULL, render } from '../support/fleet-fixtures.ts';
import { k8sProblems } from '../support/k8s-validate.ts';

const MULTI: InventoryInput = {
  ...FULL,
  prometheus: { ...FULL.prometheus, clusterLabel: 'k8s_cluster' },
  // Deliberately not sorted: the output must not depend on the order.
  clusters: [
    {
      name: 'us-1',
      roles: ['workloads'],
      prometheus: { serviceMonitorLabels: { prometheus: 'us-1' } },
    },
    { name: 'eu-1', roles: ['workloads', 'patch'] },
  ],
};
const LABEL = 'k8s_cluster';

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

describe('multi-cluster output', () => {
  const { files, objects } = render(MULTI);
  const paths = files.map((file) => file.path);
  const kindsIn = (directory: string) =>
    [
      ...new Set(
        objects.filter((o) => o.file.startsWith(`${directory}/`)).map((o) => o.object.kind),
      ),
    ].sort();
  const rules = parse(
    files.find((f) => f.path === 'global/prometheus/copa-fleet.rules.yaml')!.content,
  ) as RuleFile;

  it('writes one directory per cluster and global/, nothing at the top level', () => {
    expect(paths).toEqual([
      'eu-1/copa-jobs.k8s.yaml',
      'eu-1/drift-collector.k8s.yaml',
      'eu-1/namespace.k8s.yaml',
      'eu-1/pod-security-policy.k8s.yaml',
      'eu-1/pushgateway.k8s.yaml',
      'eu-1/trivy-operator/values.yaml',
      'global/alertmanager/copa-fleet.route.yaml',
      'global/grafana/copa-fleet.json',
      'global/namespace.k8s.yaml',
      'global/observability.k8s.yaml',
      'global/prometheus/copa-fleet.rules.yaml',
      'us-1/drift-collector.k8s.yaml',
      'us-1/namespace.k8s.yaml',
      'us-1/trivy-operator/values.yaml',
    ]);
  });

  it('puts the patch pipeline only into the patch cluster, a collector into every cluster, the rules only into global/', () => {
    expect(kindsIn('eu-1')).toContain('CronJob');
    expect(kindsIn('us-1')).not.toContain('CronJob');
    expect(kindsIn('us-1')).not.toContain('PrometheusRule');
    expect(kindsIn('eu-1')).not.toContain('PrometheusRule');
    expect(kindsIn('global')).toEqual([
      'AlertmanagerConfig',
      'ConfigMap',
      'Namespace',
      'PrometheusRule',
    ]);
    for (const cluster of ['eu-1', 'us-1'])
      expect(kindsIn(cluster)).toEqual(expect.arrayContaining(['Deployment', 'ServiceMonitor']));
    // A workload cluster's collector has no Pushgateway to clean up.
    const collectorArgs = (cluster: string) =>
      JSON.stringify(
        objects.find(
          (o) => o.file === `${cluster}/drift-collector.k8s.yaml` && o.object.kind === 'Deployment',
        )?.object,
      );
    expect(collectorArgs('eu-1')).toMatch(/--pushgateway-url/);
    expect(collectorArgs('us-1')).not.toMatch(/--pushgateway-url/);
  });

  it("tells every cluster's collector that the fleet is multi-cluster (the per-digest families the global rules join)", () => {
    for (const cluster of ['eu-1', 'us-1']) {
      const configMap = objects.find(
        (o) =>
          o.file === `${cluster}/drift-collector.k8s.yaml` &&
          o.object.kind === 'ConfigMap' &&
          o.object.metadata.name === CONFIGMAPS.inventory,
      )?.object as { data?: Record<string, string> } | undefined;
      const parsed = parseInventoryConfigMap(configMap?.data);
      expect(parsed.ok && parsed.inventory.multiCluster, cluster).toBe(true);
    }
  });

  it("lets only the patch cluster's namespace admit the BuildKit sidecar", () => {
    const enforce = (directory: string) =>
      objects.find((o) => o.file === `${directory}/namespace.k8s.yaml`)?.object.metadata.labels?.[
        'pod-security.kubernetes.io/enforce'
      ];
    expect([enforce('eu-1'), enforce('us-1'), enforce('global')]).toEqual([
      'privileged',
      'restricted',
      'restricted',
    ]);
  });

  it('gives each cluster its own ServiceMonitor labels', () => {
    const monitorLabels = (cluster: string) =>
      objects
        .filter((o) => o.file.startsWith(`${cluster}/`) && o.object.kind === 'ServiceMonitor')
        .map((o) => o.object.metadata.labels ?? {});
    expect(monitorLabels('us-1').every((labels) => labels.prometheus === 'us-1')).toBe(true);
    expect(monitorLabels('eu-1').every((labels) => labels.prometheus === undefined)).toBe(true);
  });

  it('generates only valid Kubernetes objects', () => {
    const problems = objects.flatMap(({ file, object }) =>
      k8sProblems(object).map((p) => `${file} ${object.kind}/${object.metadata.name}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it('global rules pass promtool check rules', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copa-multi-rules-'));
    try {
      await writeFile(
        join(dir, 'rules.yaml'),
        files.find((f) => f.path === 'global/prometheus/copa-fleet.rules.yaml')!.content,
      );
      const result = await runTool(PROMTOOL, ['check', 'rules', join(dir, 'rules.yaml')]);
      expect(result.code, result.output).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('groups and joins every global rule by the cluster label; only the patched-digest side of the drift join is cross-cluster', () => {
    // The patch cluster's patched digests hold for every cluster: that join is by (image[, digest]).
    const crossCluster = new Set([
      'by (image, digest)',
      'by (image)',
      'on (image, digest)',
      'on (image)',
      'on ()',
      'group(',
    ]);
    // Alerts about an exception of the inventory are one per exception, over every cluster.
    const fleetWide = new Set<string>([
      ALERTS.exceptionExpired,
      ALERTS.exceptionExpiringSoon,
      ALERTS.exceptionUnused,
    ]);
    // The drift concern's groups (its join, compliance and alerts are split for rule cost).
    const drift = (name: string) => /^copa-fleet\.drift(-[a-z]+)?(@[a-z0-9-]+)?$/.test(name);
    const findings: string[] = [];
    for (const group of rules.groups) {
      for (const rule of group.rules) {
        const expr = rule.expr.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')');
        const name = `${group.name} ${rule.alert ?? rule.record}`;
        for (const match of expr.matchAll(/\b(by|on) \(([^)]*)\)/g)) {
          const labels = match[2]!.split(',').map((l) => l.trim());
          if (fleetWide.has(rule.alert ?? '')) {
            if (labels.includes(LABEL)) findings.push(`${name}: ${match[0]} in a fleet-wide alert`);
            continue;
          }
          if (labels.includes(LABEL)) continue;
          if (drift(group.name) && crossCluster.has(match[0])) continue;
          findings.push(`${name}: ${match[0]}`);
        }
        for (const match of expr.matchAll(/\b(sum|count|max|min|group|avg)\(/g)) {
          if (drift(group.name) && crossCluster.has(match[0])) continue;
          findings.push(`${name}: ${match[0]} without by`);
        }
      }
    }
    expect(findings).toEqual([]);
  });

  it('evaluates the rules of every cluster in groups of their own, each reading its cluster alone; fleet-wide rules once', () => {
    const clusters = ['eu-1', 'us-1'];
    const names = rules.groups.map((g) => g.name);
    // The patch pipeline reads the patch cluster only: one group each, as in a single cluster.
    const whole = names.filter((n) => !n.includes('@'));
    expect(whole).toEqual([
      'copa-fleet.drift',
      'copa-fleet.exceptions',
      'copa-fleet.pipeline',
      'copa-fleet.job-failures',
      'copa-fleet.missing-runs',
      'copa-fleet.first-runs',
      'copa-fleet.pushgateway',
      'copa-fleet.dependency-track',
    ]);
    // The fleet-wide rules: the patched digests (the patch cluster's, for every cluster) and the
    // alerts about an exception (one per exception).
    const rulesIn = (group: string) =>
      rules.groups.find((g) => g.name === group)!.rules.map((r) => r.record ?? r.alert);
    expect(rulesIn('copa-fleet.drift')).toEqual(['fleet:patched_digests:group']);
    expect(rulesIn('copa-fleet.exceptions')).toEqual([
      ALERTS.exceptionExpired,
      ALERTS.exceptionExpiringSoon,
      ALERTS.exceptionUnused,
    ]);
    // Every other group once per cluster, the same rules, each cluster's copy after the other's.
    const split = names.filter((n) => n.includes('@'));
    const bases = [...new Set(split.map((n) => n.split('@')[0]!))];
    expect(bases).toContain('copa-fleet.drift-compliance');
    expect(split).toEqual(bases.flatMap((base) => clusters.map((c) => `${base}@${c}`)));
    for (const base of bases)
      expect(rulesIn(`${base}@us-1`), base).toEqual(rulesIn(`${base}@eu-1`));
    // The drift join's order: patched digests, then each cluster's drift, then its compliance.
    expect(names.indexOf('copa-fleet.drift')).toBeLessThan(names.indexOf('copa-fleet.drift@eu-1'));
    expect(names.indexOf('copa-fleet.drift@us-1')).toBeLessThan(
      names.indexOf('copa-fleet.drift-compliance@eu-1'),
    );
    // Each cluster's groups read its own collector series and records only (equality matchers),
    // besides the patch cluster's exporter series and patched digests.
    for (const group of rules.groups.filter((g) => g.name.includes('@'))) {
      const cluster = group.name.split('@')[1]!;
      for (const rule of group.rules) {
        const selectors = [...rule.expr.matchAll(/([a-z_:]+)\{([^}]*)\}/g)];
        expect(selectors.length, group.name).toBeGreaterThan(0);
        for (const [selector, metric, matchers] of selectors) {
          if (metric === 'fleet:patched_digests:group' || matchers!.includes('copa-fleet-exporter'))
            continue;
          // PatchedDigestsUnavailable asks whether the patch cluster reports.
          if (
            rule.alert === ALERTS.patchedDigestsUnavailable &&
            matchers!.includes(`${LABEL}="eu-1"`)
          )
            continue;
          expect(matchers, `${group.name} ${rule.record ?? rule.alert}: ${selector}`).toContain(
            `${LABEL}="${cluster}"`,
          );
        }
      }
    }
  });

  it('has a PatchedDigestsUnavailable alert and routes it', () => {
    expect(rules.groups.flatMap((g) => g.rules.map((r) => r.alert))).toContain(
      ALERTS.patchedDigestsUnavailable,
    );
    expect(
      files.find((f) => f.path === 'global/alertmanager/copa-fleet.route.yaml')?.content ?? '',
    ).toContain(ALERTS.patchedDigestsUnavailable);
  });

  it('gives the dashboard a multi-select cluster variable that every panel query reads', () => {
    const dashboard = JSON.parse(
      files.find((f) => f.path === 'global/grafana/copa-fleet.json')!.content,
    ) as {
      templating: {
        list: { name: string; multi?: boolean; includeAll?: boolean; query?: unknown }[];
      };
      panels: { targets?: { expr: string }[] }[];
    };
    const variable = dashboard.templating.list.find((v) => v.name === 'cluster');
    expect(variable).toMatchObject({ multi: true, includeAll: true });
    expect(JSON.stringify(variable?.query)).toContain(LABEL);
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(20);
    expect(exprs.filter((e) => !e.includes(`${LABEL}=~"$cluster"`))).toEqual([]);
  });

  it('is the same output for reordered clusters', () => {
    const reordered = render({ ...MULTI, clusters: [...MULTI.clusters!].reverse() });
    expect(reordered.files.map((f) => [f.path, f.content])).toEqual(
      files.map((f) => [f.path, f.content]),
    );
  });

  it("leaves a single-cluster inventory's output as it was: the cluster label is used only with clusters", () => {
    const single = render(FULL).files;
    const withLabel = render({
      ...FULL,
      prometheus: { ...FULL.prometheus, clusterLabel: LABEL },
    }).files;
    expect(withLabel.map((f) => [f.path, f.content])).toEqual(
      single.map((f) => [f.path, f.content]),
    );
    expect(single.filter((f) => f.content.includes(LABEL)).map((f) => f.path)).toEqual([]);
  });
});

/**
 * Per-cluster namespaces and the global layer's labels: each cluster applies everything in its own
 * namespace (the patch cluster too), the global rules read each cluster's series in exactly its
 * namespace, and dist/global/ keeps the fleet namespace and takes the `global` labels.
 */
describe('multi-cluster output with per-cluster namespaces and global-layer labels', () => {
  const FLEET_NS = FULL.defaults!.namespace!;
  const OVERRIDES: InventoryInput = {
    ...MULTI,
    clusters: [
      { name: 'us-1', roles: ['workloads'], namespace: 'patching-us' },
      { name: 'eu-1', roles: ['patch', 'workloads'], namespace: 'patching-eu' },
      { name: 'ap-1', roles: ['workloads'] },
      { name: 'sa-1', roles: ['workloads'], namespace: 'patching-us' },
    ],
    global: {
      prometheus: { ruleLabels: { role: 'global-rules' } },
      grafana: { dashboardLabels: { scope: 'global' }, folder: 'Security' },
    },
  };
  const NAMESPACES: Readonly<Record<string, string>> = {
    'us-1': 'patching-us',
    'eu-1': 'patching-eu',
    'ap-1': FLEET_NS,
    'sa-1': 'patching-us',
    global: FLEET_NS,
  };
  const { files, objects } = render(OVERRIDES);
  const rulesText = files.find(
    (f) => f.path === 'global/prometheus/copa-fleet.rules.yaml',
  )!.content;
  const rules = parse(rulesText) as RuleFile;
  const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr.replace(/\s+/g, ' ')));

  it('puts every namespaced object, reference and the Namespace of a cluster directory into its namespace', () => {
    const wrong: string[] = [];
    for (const { file, object } of objects) {
      const want = NAMESPACES[file.split('/')[0]!]!;
      const name = `${file} ${object.kind}/${object.metadata.name}`;
      if (object.kind === 'Namespace' && object.metadata.name !== want) wrong.push(name);
      // Every `namespace` field anywhere in the object (metadata, RBAC subjects, admission policy
      // match, ServiceMonitor namespaceSelector, ...) is this directory's namespace.
      const others = [...JSON.stringify(object).matchAll(/"namespace":"([^"]*)"/g)]
        .map((m) => m[1])
        .filter((ns) => ns !== want);
      if (others.length > 0) wrong.push(`${name}: ${others.join(', ')}`);
      // Other references: the Pushgateway URL, the admission policy's namespace name.
      for (const ns of new Set(Object.values(NAMESPACES)))
        if (ns !== want && JSON.stringify(object).includes(`${ns}.svc`))
          wrong.push(`${name}: ${ns}.svc`);
    }
    expect(wrong).toEqual([]);
    const inPatch = objects.filter((o) => o.file.startsWith('eu-1/')).map((o) => o.object.kind);
    expect(inPatch).toEqual(expect.arrayContaining(['CronJob', 'Deployment', 'NetworkPolicy']));
  });

  it('reads the collector of each cluster in exactly its namespace, the exporters in the patch cluster’s', () => {
    const up = exprs.flatMap((e) =>
      [...e.matchAll(/up\{job="copa-fleet-collector"[^}]*\}/g)].map((m) => m[0]),
    );
    // The global rules evaluate per cluster (rules.ts): each cluster's own pair, exactly.
    expect([...new Set(up)].sort()).toEqual([
      `up{job="copa-fleet-collector", namespace="${FLEET_NS}", ${LABEL}="ap-1"}`,
      `up{job="copa-fleet-collector", namespace="patching-eu", ${LABEL}="eu-1"}`,
      `up{job="copa-fleet-collector", namespace="patching-us", ${LABEL}="sa-1"}`,
      `up{job="copa-fleet-collector", namespace="patching-us", ${LABEL}="us-1"}`,
    ]);
    // No collector selector without its cluster: each namespace only where the fleet runs in it.
    const collector = exprs.flatMap((e) =>
      [...e.matchAll(/\{job="copa-fleet-collector"[^}]*\}/g)].map((m) => m[0]),
    );
    expect(collector.length).toBeGreaterThan(50);
    const scoped = collector.filter((s) => s.includes('namespace='));
    expect(scoped.filter((s) => !s.includes(`${LABEL}=`))).toEqual([]);
    // Workload series: the raw series by job (their namespace is the workload's), scoped by their
    // target's `up`, which carries the pairs.
    const raw = exprs.filter((e) =>
      /\{job="copa-fleet-collector"(, (?!namespace)[^}]*)?\}/.test(e),
    );
    expect(raw.length).toBeGreaterThan(0);
    const join = new RegExp(
      `and on \\(${LABEL}, instance\\) group by \\(${LABEL}, instance\\) \\( (\\( )?up\\{`,
    );
    expect(raw.filter((e) => !join.test(e))).toEqual([]);
    const exporter = exprs.flatMap((e) =>
      [...e.matchAll(/\{job="copa-fleet-exporter"[^}]*\}/g)].map((m) => m[0]),
    );
    expect(exporter.length).toBeGreaterThan(10);
    expect([
      ...new Set(
        exporter.map((s) => s.replace(/, (?!namespace|k8s_cluster)[a-z_]+=~?"[^"]*"/g, '')),
      ),
    ]).toEqual([`{job="copa-fleet-exporter", namespace="patching-eu", ${LABEL}="eu-1"}`]);
  });

  it('keeps the fleet namespace on every record and alert (the global layer’s, where routing matches it)', () => {
    const ruleNamespaces = new Set(
      rules.groups.flatMap((g) =>
        g.rules.map((r) => (r as { labels?: Record<string, string> }).labels?.namespace),
      ),
    );
    expect([...ruleNamespaces]).toEqual([FLEET_NS]);
    const global = objects.filter((o) => o.file.startsWith('global/'));
    expect(
      new Set(global.map((o) => o.object.metadata.namespace ?? o.object.metadata.name)),
    ).toEqual(new Set([FLEET_NS]));
  });

  it('names the CronJobs of alert descriptions in the patch cluster’s namespace', () => {
    expect(rulesText).toContain('CronJob patching-eu/{{ $labels.cronjob }}');
    expect(rulesText).not.toContain(`CronJob ${FLEET_NS}/`);
  });

  it('labels the global PrometheusRule and dashboard ConfigMap with the global overrides', () => {
    const rule = objects.find((o) => o.object.kind === 'PrometheusRule')!.object;
    expect(rule.metadata.labels).toMatchObject({ role: 'global-rules' });
    expect(rule.metadata.labels?.release).toBeUndefined();
    const dashboard = objects.find(
      (o) => o.object.kind === 'ConfigMap' && o.file === 'global/observability.k8s.yaml',
    )!.object;
    expect(dashboard.metadata.labels).toMatchObject({ scope: 'global' });
    expect(dashboard.metadata.labels?.grafana_dashboard).toBeUndefined();
    expect(dashboard.metadata.annotations).toEqual({ grafana_folder: 'Security' });
    // Without `global`, the top-level labels (today's output).
    const plain = render(MULTI).objects;
    expect(
      plain.find((o) => o.object.kind === 'PrometheusRule')!.object.metadata.labels,
    ).toMatchObject({ release: 'kube-prometheus-stack' });
  });

  it('generates only valid Kubernetes objects, and global rules that pass promtool check rules', async () => {
    const problems = objects.flatMap(({ file, object }) =>
      k8sProblems(object).map((p) => `${file} ${object.kind}/${object.metadata.name}: ${p}`),
    );
    expect(problems).toEqual([]);
    const dir = await mkdtemp(join(tmpdir(), 'copa-multi-ns-rules-'));
    try {
      await writeFile(join(dir, 'rules.yaml'), rulesText);
      const result = await runTool(PROMTOOL, ['check', 'rules', join(dir, 'rules.yaml')]);
      expect(result.code, result.output).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is the same output for reordered clusters', () => {
    const reordered = render({ ...OVERRIDES, clusters: [...OVERRIDES.clusters!].reverse() });
    expect(reordered.files.map((f) => [f.path, f.content])).toEqual(
      files.map((f) => [f.path, f.content]),
    );
  });

  it('is the output of today when every cluster names the fleet namespace', () => {
    const same = render({
      ...MULTI,
      clusters: MULTI.clusters!.map((c) => ({ ...c, namespace: FLEET_NS })),
    }).files;
    expect(same.map((f) => [f.path, f.content])).toEqual(
      render(MULTI).files.map((f) => [f.path, f.content]),
    );
  });
});
