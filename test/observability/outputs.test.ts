/**
 * What addObservability adds to the app and writes: the observability chart (PrometheusRule,
 * AlertmanagerConfig, dashboard ConfigMap), the plain files, alert metadata (severity, namespace,
 * runbook), runbooks on disk, Secret references only, and deterministic output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type InventoryInput, inventorySchema } from '../../src/inventory/schema.ts';
import { addObservability } from '../../src/observability/index.ts';
import { assembleObservability } from '../../src/observability/assemble.ts';
import { dashboardJson } from '../../src/observability/dashboard.ts';
import { OUTPUT_PATHS } from '../../src/observability/files.ts';
import { formatPromql } from '../../src/observability/promql-format.ts';
import { runbookFile } from '../../src/observability/rules.ts';
import {
  ALERT_SEVERITIES,
  ALERTS,
  FAILURE_REASONS,
  MISSING_REASONS,
  MULTI_CLUSTER_ALERTS,
} from '../../src/shared/metrics.ts';
import {
  fleetOf,
  inventoryInput,
  NAMESPACE,
  observability,
  RUNBOOK_BASE,
} from './support/fixture.ts';

const RUNBOOK_DIR = join(import.meta.dirname, '../../docs/runbooks');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

function synth(input: InventoryInput = inventoryInput) {
  const app = new App();
  const files = addObservability(app, fleetOf(input));
  const charts = app.charts.map((chart) => ({
    id: chart.node.id,
    objects: chart.toJson() as K8sObject[],
  }));
  return { files, charts };
}

const { files, charts } = synth();
const objects = charts.flatMap((chart) => chart.objects);
const find = (kind: string) => objects.find((object) => object.kind === kind);
const alertRules = observability.groups.flatMap((group) =>
  (group.rules ?? []).filter((rule) => rule.alert !== undefined),
);

describe('the observability chart', () => {
  it('is one chart, dist/observability.k8s.yaml, with the three objects in the fleet namespace', () => {
    expect(charts.map((chart) => chart.id)).toEqual(['observability']);
    expect(objects.map((o) => `${o.apiVersion}/${o.kind}`).sort()).toEqual([
      'monitoring.coreos.com/v1/PrometheusRule',
      'monitoring.coreos.com/v1alpha1/AlertmanagerConfig',
      'v1/ConfigMap',
    ]);
    for (const object of objects) expect(object.metadata.namespace, object.kind).toBe(NAMESPACE);
  });

  it('labels the PrometheusRule for the Prometheus rule selector and carries the same groups as the plain file', () => {
    const rule = find('PrometheusRule')!;
    expect(rule.metadata.labels).toMatchObject({
      release: 'monitoring',
      prometheus: 'main',
      'app.kubernetes.io/name': 'copa-fleet',
    });
    const plain = parse(files.find((f) => f.path === OUTPUT_PATHS.rules)!.content) as {
      groups: unknown;
    };
    expect(rule.spec?.groups).toEqual(plain.groups);
    expect((plain.groups as unknown[]).length).toBe(observability.groups.length);
  });

  it('ships the dashboard as a ConfigMap with the sidecar labels and folder annotation', () => {
    const configMap = find('ConfigMap')!;
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Security' });
    expect(configMap.data?.['copa-fleet.json']).toBe(dashboardJson(observability.dashboard));
    const noFolder = synth({
      ...inventoryInput,
      grafana: { dashboardLabels: { dashboards: 'copa' } },
    });
    const plainConfigMap = noFolder.charts
      .flatMap((c) => c.objects)
      .find((o) => o.kind === 'ConfigMap')!;
    expect(plainConfigMap.metadata.annotations).toBeUndefined();
    expect(plainConfigMap.metadata.labels).toMatchObject({ dashboards: 'copa' });
  });

  it('writes the plain files under dist/', () => {
    expect(files.map((file) => file.path)).toEqual([
      'alertmanager/copa-fleet.route.yaml',
      'grafana/copa-fleet.json',
      'prometheus/copa-fleet.rules.yaml',
    ]);
  });
});

describe('alerts', () => {
  it('cover every alert name of the contract, Dependency-Track and the silence watch only when configured', () => {
    // The multi-cluster alerts exist only with `clusters` (test/synth/multi-cluster.test.ts).
    expect(new Set(alertRules.map((rule) => rule.alert))).toEqual(
      new Set(Object.values(ALERTS).filter((name) => !MULTI_CLUSTER_ALERTS.includes(name))),
    );
    const without = assembleObservability(
      fleetOf({
        ...inventoryInput,
        dependencyTrack: undefined,
        alerting: { ...inventoryInput.alerting, silenceWatch: { alertmanagers: [] } },
      }),
    );
    const names = without.groups.flatMap((g) => (g.rules ?? []).map((r) => r.alert));
    expect(names).not.toContain(ALERTS.dependencyTrackUploadFailing);
    expect(names).not.toContain(ALERTS.silencedTooLong);
    expect(names).not.toContain(ALERTS.silenceWatchDown);
    expect(names).toContain(ALERTS.jobFailed);
  });

  it('each carry a lower-case severity, the fleet namespace, a summary, a description and a runbook_url', () => {
    for (const rule of alertRules) {
      expect(ALERT_SEVERITIES, rule.alert).toContain(rule.labels?.severity);
      expect(rule.labels?.namespace, rule.alert).toBe(NAMESPACE);
      expect(rule.annotations?.summary, rule.alert).toMatch(/\S/);
      expect(rule.annotations?.description, rule.alert).toMatch(/\S/);
      expect(rule.annotations?.runbook_url, rule.alert).toBe(`${RUNBOOK_BASE}/${rule.alert}.md`);
    }
  });

  it('have a runbook in docs/runbooks that says what to check and what to do', () => {
    for (const name of Object.values(ALERTS)) {
      const file = join(RUNBOOK_DIR, runbookFile(name));
      expect(existsSync(file), file).toBe(true);
      const text = readFileSync(file, 'utf8');
      expect(text, name).toMatch(new RegExp(`^# ${name}\\b`, 'm'));
      expect(text, name).toMatch(/^## What to check$/m);
      expect(text, name).toMatch(/^## What to do$/m);
    }
  });

  it('document every failure_reason and missing_reason value in their runbooks', () => {
    const failed = readFileSync(join(RUNBOOK_DIR, runbookFile(ALERTS.jobFailed)), 'utf8');
    for (const reason of FAILURE_REASONS) expect(failed, reason).toContain(`\`${reason}\``);
    const missing = readFileSync(join(RUNBOOK_DIR, runbookFile(ALERTS.jobMissing)), 'utf8');
    for (const reason of Object.keys(MISSING_REASONS))
      expect(missing, reason).toContain(`\`${reason}\``);
  });

  it("take the SLA breaches from the collector, which applies the inventory's hours, not from a constant", () => {
    const breach = alertRules.filter((rule) => rule.alert === ALERTS.slaBreach);
    expect(breach.map((rule) => rule.labels?.severity)).toEqual(['critical', 'warning']);
    const record = observability.groups
      .flatMap((g) => g.rules ?? [])
      .find((r) => r.record === 'image:cve_sla_breaches:count');
    expect(String(record?.expr)).toBe(
      formatPromql(
        `max by (image, severity) (image_cve_sla_breaches{job="copa-fleet-collector", namespace="${NAMESPACE}"})`,
      ),
    );
    // An inventory tracking Medium CVEs gets an info-level breach alert for them.
    const withMedium = assembleObservability(
      fleetOf({
        ...inventoryInput,
        defaults: { ...inventoryInput.defaults, sla: { critical: 24, medium: 720 } },
      }),
    );
    const severities = withMedium.groups
      .flatMap((g) => g.rules ?? [])
      .filter((r) => r.alert === ALERTS.slaBreach)
      .map((r) => r.labels?.severity);
    expect(severities).toEqual(['critical', 'warning', 'info']);
  });
});

describe('docs/observability.md', () => {
  const docs = readFileSync(join(import.meta.dirname, '../../docs/observability.md'), 'utf8');
  /** Alert name -> its row's owner cell (the last column of the alerts table). */
  const owners = new Map(
    [...docs.matchAll(/^\| `([A-Za-z]+)` \|.*\| ([^|]+) \|$/gm)]
      .filter(([, alert]) => (Object.values(ALERTS) as string[]).includes(alert!))
      .map(([, alert, owner]) => [alert!, owner!]),
  );

  it('names, for each alert, every concern file that defines it, and only those', () => {
    const defining = new Map<string, Set<string>>();
    for (const concern of observability.concerns) {
      for (const alert of concern.alerts)
        defining.set(
          alert.alert,
          (defining.get(alert.alert) ?? new Set()).add(`${concern.name}.ts`),
        );
    }
    // The multi-cluster alerts' rows are checked against a multi-cluster fleet below.
    expect(
      [...owners.keys()].filter((alert) => !MULTI_CLUSTER_ALERTS.includes(alert)).sort(),
    ).toEqual([...defining.keys()].sort());
    const multi = assembleObservability(
      fleetOf({ ...inventoryInput, clusters: [{ name: 'eu-1', roles: ['patch', 'workloads'] }] }),
    );
    for (const alert of MULTI_CLUSTER_ALERTS) {
      const files = multi.concerns
        .filter((concern) => concern.alerts.some((a) => a.alert === alert))
        .map((concern) => `${concern.name}.ts`);
      expect(
        [...(owners.get(alert) ?? '').matchAll(/([a-z-]+\.ts)/g)].map(([file]) => file),
        alert,
      ).toEqual(files);
    }
    for (const [alert, files] of defining) {
      const named = [...owners.get(alert)!.matchAll(/([a-z-]+\.ts)/g)].map(([file]) => file);
      expect(named.sort(), alert).toEqual([...files].sort());
      for (const file of named)
        expect(
          existsSync(join(import.meta.dirname, '../../src/observability/concerns', file)),
          file,
        ).toBe(true);
    }
  });
});

describe('routing objects', () => {
  it('reference Secrets by name and key, never inline values', () => {
    const amc = find('AlertmanagerConfig')!;
    const receivers = amc.spec?.receivers as Array<Record<string, Array<Record<string, unknown>>>>;
    expect(
      receivers.find((r) => r.name === ('pager' as unknown))?.pagerdutyConfigs?.[0]?.routingKey,
    ).toEqual({ name: 'pagerduty', key: 'routing-key' });
    expect(
      receivers.find((r) => r.name === ('web-slack' as unknown))?.slackConfigs?.[0]?.apiURL,
    ).toEqual({ name: 'slack-webhooks', key: 'web' });
    const plain = files.find((f) => f.path === OUTPUT_PATHS.alertmanager)!.content;
    expect(plain).toContain('routing_key_file: /etc/alertmanager/secrets/pagerduty/routing-key');
    expect(plain).toContain('api_url_file: /etc/alertmanager/secrets/slack-webhooks/payments');
    for (const text of [plain, JSON.stringify(amc)]) {
      expect(text).not.toMatch(/routing_key:|api_url:|service_key:|hooks\.slack\.com|"url"/);
    }
  });

  it('take group_by, waits and the repeat interval from the inventory', () => {
    const custom = assembleObservability(
      fleetOf({
        ...inventoryInput,
        alerting: {
          ...inventoryInput.alerting,
          groupBy: ['alertname', 'team'],
          groupWait: '1m',
          groupInterval: '10m',
          repeatInterval: '12h',
        },
      }),
    );
    expect(custom.alertmanagerConfig?.route).toMatchObject({
      groupBy: ['alertname', 'team'],
      groupWait: '1m',
      groupInterval: '10m',
      repeatInterval: '12h',
    });
    expect(custom.alertmanagerFragment?.route).toMatchObject({
      group_by: ['alertname', 'team'],
      group_wait: '1m',
      group_interval: '10m',
      repeat_interval: '12h',
    });
  });

  it('are not generated without receivers', () => {
    const { files: bare, charts: bareCharts } = synth({ images: inventoryInput.images });
    expect(bare.map((f) => f.path)).not.toContain(OUTPUT_PATHS.alertmanager);
    expect(bareCharts.flatMap((c) => c.objects).map((o) => o.kind)).not.toContain(
      'AlertmanagerConfig',
    );
  });
});

describe('input checks and determinism', () => {
  it('relies on the inventory giving one team per repository (alerts about running containers cannot tell tags apart)', () => {
    expect(
      inventorySchema.safeParse({
        images: [
          { ref: 'nginx:1.26', team: 'web' },
          { ref: 'nginx:1.27', team: 'edge' },
        ],
      }).success,
    ).toBe(false);
    expect(() =>
      synth({
        images: [
          { ref: 'nginx:1.26', team: 'web' },
          { ref: 'nginx:1.27', team: 'web' },
        ],
      }),
    ).not.toThrow();
  });

  it('is byte-for-byte the same for a reordered inventory', () => {
    const reordered = synth({
      ...inventoryInput,
      images: [...(inventoryInput.images ?? [])].reverse(),
    });
    expect(reordered.files).toEqual(files);
    expect(JSON.stringify(reordered.charts)).toBe(JSON.stringify(charts));
  });
});
