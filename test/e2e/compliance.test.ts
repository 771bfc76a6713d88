/**
 * End to end, with every real part we can run here: the generated manifests and rules of a small
 * fleet, the exporter bundle run the way its CronJob runs it (arguments taken from the generated
 * CronJob), the collector bundle against the Kubernetes API fake, a real Pushgateway, and a real
 * Prometheus that scrapes both and evaluates the generated rules.
 *
 * The scenario: one image is patched but a Pod stays on the old digest, one image's job fails to
 * push, and a CVE on the third image is past its SLA. Exactly these three alerts must fire.
 *
 * The one liberty taken: the debounce `for:`s of the generated rules (an hour or less, e.g. the
 * 30 minutes a Pod may take to roll onto the patched digest) are shortened to seconds, so that the
 * alerts fire within the test. `for:`s that are a schedule clock themselves (a day or more, e.g.
 * "no success for a whole interval") are kept. The expressions are untouched; the `for` durations
 * themselves are proven by the promtool suites (test/observability).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { InventoryInput } from '../../src/inventory/schema.ts';
import { CONFIGMAPS, DIGEST_RECORD_LABEL, digestRecordName, JOB_CONTAINERS, parseExporterReportArgs, type ExporterOptions } from '../../src/shared/contract.ts';
import { ALERTS, JOBS, RECORDS } from '../../src/shared/metrics.ts';
import { encodeImageClock, stateKey } from '../../runtime/collector/state-format.ts';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.ts';
import { find, render } from '../support/fleet-fixtures.ts';
import { startPrometheus, startPushgateway, type RunningProcess } from '../support/processes.ts';
import { digestOf, FLEET_NAMESPACE, pod, vulnerabilityReport } from '../runtime/collector/fixtures.ts';
import { startCollector, waitFor, type RunningCollector } from '../runtime/collector/harness.ts';
import { PATCHED_DIGEST, SOURCE_DIGEST, scenario } from '../runtime/exporter/fixtures.ts';
import { makeWorkDir, removeDir, runExporter } from '../runtime/exporter/harness.ts';

/** The exporter fixtures' evidence names this repository; the patched image must be it. */
const APP = 'registry.example.com/team/app';
const WORKER = 'registry.example.com/team/worker';
const NGINX = 'docker.io/library/nginx';
const NGINX_DIGEST = digestOf('nginx-1.27');
const WORKER_DIGEST = digestOf('worker-3.1');
const OLD_CVE = 'CVE-2023-44487';
const HOUR = 3600;

const INVENTORY: InventoryInput = {
  defaults: { namespace: FLEET_NAMESPACE },
  images: [
    { ref: `${APP}:1.25`, team: 'shop' },
    { ref: `${WORKER}:3.1`, team: 'shop' },
    { ref: 'nginx:1.27', team: 'web', sla: { critical: 24 } },
  ],
};

const DEBOUNCE_MAX_SECONDS = HOUR;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: HOUR, d: 24 * HOUR };

/** Debounce `for:`s shortened (see the header); everything else exactly as generated. */
function withShortDebounce(rulesYaml: string): string {
  const rules = parse(rulesYaml) as { groups: { rules: { for?: string }[] }[] };
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      const match = /^(\d+)([smhd])$/.exec(rule.for ?? '');
      if (match === null) continue;
      if (Number(match[1]) * (UNIT_SECONDS[match[2] as string] ?? Infinity) <= DEBOUNCE_MAX_SECONDS) rule.for = '2s';
    }
  }
  return stringify(rules);
}

interface FiringAlert {
  readonly labels: Record<string, string>;
  readonly state: string;
}

describe('end to end: exporter, collector, Pushgateway and Prometheus with the generated rules', () => {
  const { fleet, files, objects } = render(INVENTORY);
  const cronjobOf = (image: string) => {
    const found = fleet.images.find((i) => i.image === image);
    if (found === undefined) throw new Error(`${image} is not in the fleet`);
    return found.name;
  };
  /** The exporter's options exactly as its generated CronJob passes them. */
  const exporterOptionsOf = (image: string, pushgatewayUrl: string): ExporterOptions => {
    const cronJob = find(objects, 'CronJob', cronjobOf(image)) as unknown as {
      spec: { jobTemplate: { spec: { template: { spec: { initContainers: { name: string; args: string[] }[] } } } } };
    };
    const exporter = cronJob.spec.jobTemplate.spec.template.spec.initContainers.find((c) => c.name === JOB_CONTAINERS.exporter);
    if (exporter === undefined) throw new Error('no exporter container');
    return { ...parseExporterReportArgs(exporter.args.slice(1)), pushgatewayUrl };
  };
  const generated = (kind: string, name: string): KubeObject => find(objects, kind, name) as unknown as KubeObject;

  let api: FakeKubeApi;
  let pushgateway: RunningProcess;
  let collector: RunningCollector;
  let prometheus: RunningProcess;
  let workDir: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'copa-e2e-'));
    api = await FakeKubeApi.start();
    // The ConfigMaps exactly as synth generates them; the SLA clock of the nginx CVE started 48 h ago.
    api.create('configmaps', generated('ConfigMap', CONFIGMAPS.inventory));
    api.create('configmaps', generated('ConfigMap', CONFIGMAPS.patchedDigests));
    // The CronJobs as synth generates them (the collector reads their creation and schedule times).
    for (const image of [APP, WORKER, NGINX]) api.create('cronjobs', generated('CronJob', cronjobOf(image)));
    for (const record of objects.filter(({ object }) => object.kind === 'ConfigMap' && object.metadata.labels?.[DIGEST_RECORD_LABEL.key] === DIGEST_RECORD_LABEL.value)) {
      api.create('configmaps', record.object as unknown as KubeObject);
    }
    const state = generated('ConfigMap', CONFIGMAPS.collectorState);
    api.create('configmaps', {
      ...state,
      data: { [stateKey(NGINX)]: encodeImageClock(NGINX, new Map([[OLD_CVE, { firstSeen: now() - 48 * HOUR, goneSince: 0, breached: [] }]])) },
    });
    const scannedAt = new Date().toISOString();
    api.load('pods', [
      pod({ namespace: 'shop', name: 'api-5d8f9-old', containers: [{ name: 'api', image: `${APP}:1.25`, imageID: `${APP}@${SOURCE_DIGEST}` }] }),
      pod({ namespace: 'shop', name: 'worker-7c6b4-a', containers: [{ name: 'worker', image: `${WORKER}:3.1`, imageID: `${WORKER}@${WORKER_DIGEST}` }] }),
      // Docker's imageID form, Docker Hub short name: the same normalisation must match it.
      pod({ namespace: 'web', name: 'nginx-6b7f-b', containers: [{ name: 'nginx', image: 'nginx:1.27', imageID: `docker-pullable://nginx@${NGINX_DIGEST}` }] }),
    ]);
    api.load('vulnerabilityreports', [
      vulnerabilityReport({ namespace: 'shop', name: 'replicaset-api-5d8f9-api', registry: 'registry.example.com', repository: 'team/app', tag: '1.25', digest: SOURCE_DIGEST, updateTimestamp: scannedAt, vulnerabilities: [{ id: 'CVE-2024-45490', severity: 'HIGH' }] }),
      vulnerabilityReport({ namespace: 'shop', name: 'replicaset-worker-7c6b4-worker', registry: 'registry.example.com', repository: 'team/worker', tag: '3.1', digest: WORKER_DIGEST, updateTimestamp: scannedAt, vulnerabilities: [{ id: 'CVE-2024-2511', severity: 'MEDIUM' }] }),
      vulnerabilityReport({ namespace: 'web', name: 'replicaset-nginx-6b7f-nginx', registry: 'index.docker.io', repository: 'library/nginx', tag: '1.27', digest: NGINX_DIGEST, updateTimestamp: scannedAt, vulnerabilities: [{ id: OLD_CVE, severity: 'CRITICAL' }] }),
    ]);

    pushgateway = await startPushgateway();
    collector = await startCollector(api);
    const rules = files.find((f) => f.path === 'prometheus/copa-fleet.rules.yaml');
    if (rules === undefined) throw new Error('synth wrote no plain rule file');
    const target = (url: string) => url.replace(/^http:\/\//, '');
    prometheus = await startPrometheus({
      configYaml: stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          // `namespace`: the target label a ServiceMonitor in the fleet namespace gives its targets (the rules' selectors match it).
          { job_name: JOBS.collector, honor_labels: true, static_configs: [{ targets: [target(collector.url)], labels: { namespace: FLEET_NAMESPACE } }] },
          { job_name: JOBS.pushgateway, honor_labels: true, static_configs: [{ targets: [target(pushgateway.url)], labels: { namespace: FLEET_NAMESPACE } }] },
        ],
      }),
      rulesFiles: { 'copa-fleet.rules.yaml': withShortDebounce(rules.content) },
    });

    // Three nightly runs, each through the exporter bundle with its CronJob's own arguments.
    const kubeconfig = api.writeKubeconfig(workDir, FLEET_NAMESPACE);
    const runs = [
      { image: APP, outcome: 'patched' },
      { image: WORKER, outcome: 'push_failed' },
      { image: NGINX, outcome: 'up_to_date' },
    ] as const;
    for (const run of runs) {
      const evidence = scenario(run.outcome);
      const podName = `${cronjobOf(run.image)}-29400000-abcde`;
      const jobPod = evidence.pod(Date.now() - 10 * 60 * 1000) as unknown as KubeObject;
      api.create('pods', { ...jobPod, metadata: { ...jobPod.metadata, name: podName, namespace: FLEET_NAMESPACE } });
      const dir = await makeWorkDir(evidence.files);
      const result = await runExporter({ options: exporterOptionsOf(run.image, pushgateway.url), workDir: dir, kubeconfig, podName, podNamespace: FLEET_NAMESPACE });
      await removeDir(dir);
      // Finished job pods are garbage-collected (ttlSecondsAfterFinished); they are not workloads.
      api.remove('pods', FLEET_NAMESPACE, podName);
      expect(result.code, `exporter for ${run.image} (${run.outcome}):\n${result.stderr}`).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), collector?.stop(), pushgateway?.stop()]);
    await api?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  const query = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query failed: ${promql}`);
    return body.data.result;
  };

  it('records the patched digest in the job\'s own record, which the collector reads, and nowhere else', () => {
    const own = api.get('configmaps', FLEET_NAMESPACE, digestRecordName(cronjobOf(APP))) as { data?: Record<string, string> };
    const record = JSON.parse(own.data?.[cronjobOf(APP)] ?? '{}') as { image?: string; digest?: string };
    expect(record).toMatchObject({ image: APP, digest: PATCHED_DIGEST });
    expect(Object.keys(own.data ?? {})).toEqual([cronjobOf(APP)]);
    const shared = api.get('configmaps', FLEET_NAMESPACE, CONFIGMAPS.patchedDigests) as { data?: Record<string, string> };
    expect(shared.data).toBeUndefined();
  });

  it('makes exactly the expected alerts fire, each routable to the fleet namespace and its team', async () => {
    const expected: Record<string, string>[] = [
      { alertname: ALERTS.slaBreach, image: NGINX, team: 'web' },
      { alertname: ALERTS.jobFailed, image: WORKER, team: 'shop', failure_reason: 'push_failed' },
      { alertname: ALERTS.unpatchedDigest, image: APP, team: 'shop', exported_namespace: 'shop' },
    ];
    const key = (a: Record<string, string>) => `${a.alertname} ${a.image}`;
    let seen: string[] = [];
    const firing = await waitFor(
      async () => {
        const response = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: FiringAlert[] } };
        const alerts = response.data.alerts.filter((a) => a.state === 'firing');
        const names = alerts.map((a) => key(a.labels)).sort();
        seen = response.data.alerts.map((a) => `${key(a.labels)} (${a.state})`);
        return names.length >= expected.length && names.join('|') === expected.map(key).sort().join('|') ? alerts : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 500, what: `exactly ${expected.map(key).join(', ')} firing` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; alerts seen: ${seen.join(', ') || 'none'}`);
    });
    for (const want of expected) {
      const alert = firing.find((a) => key(a.labels) === key(want));
      expect(alert?.labels).toMatchObject({ ...want, namespace: FLEET_NAMESPACE });
    }
    // Nothing else fires over the next evaluations either (e.g. a rule that needs one more sample).
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const later = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: FiringAlert[] } };
    expect(later.data.alerts.filter((a) => a.state === 'firing').map((a) => key(a.labels)).sort()).toEqual(expected.map(key).sort());
  });

  it('feeds the recording rules: one drifting container, one SLA breach, the success rate per image', async () => {
    const value = async (promql: string) => (await query(promql)).map((r) => [r.metric.image ?? '', Number(r.value[1])] as const);
    expect(await value(RECORDS.digestDriftContainers)).toEqual([['', 1]]);
    expect(await value(`${RECORDS.slaBreach24h}`)).toEqual([['', 1]]);
    const successRate = Object.fromEntries(await value(RECORDS.patchSuccessRate7d));
    expect(successRate).toEqual({ [APP]: 1, [WORKER]: 0, [NGINX]: 1 });
    // The collector counted the breach once, with the SLA threshold from the inventory.
    const breaches = await query(`image_patch_sla_breach_total{image="${NGINX}"}`);
    expect(breaches.map((r) => [r.metric.cve_id, r.metric.threshold_hours, r.value[1]])).toEqual([[OLD_CVE, '24', '1']]);
  });
});
