/**
 * Two clusters end to end, with real parts: each cluster has its own Kubernetes API fake, its own
 * collector (the bundle, as its generated Deployment runs it) and its own real Prometheus that
 * carries a `cluster` external label and remote-writes everything it scrapes into a central real
 * Prometheus (`--web.enable-remote-write-receiver`), which evaluates the generated global rules
 * (dist/global/prometheus). The patch cluster (eu-1) also runs the Pushgateway and the exporter runs.
 * A third inventoried cluster (ap-1) never reports. us-1 runs the fleet in its own namespace
 * (`clusters[].namespace`), and another fleet's collector runs in us-1 in the namespace this fleet
 * uses in eu-1 (a decoy, where APP is patched): the global rules must see
 * us-1's collector in its namespace and never the decoy, which a selector by namespace alone (or
 * by the union of the fleet's namespaces) would read.
 *
 * Scenario: APP is patched; eu-1 already runs the patched digest, us-1 still the old one (drift in
 * one cluster only). NGINX carries a Critical CVE past its SLA in both clusters (two findings).
 * WORKER's run failed to push (a pipeline finding of the patch cluster). Then us-1's collector
 * stops: DriftCollectorDown names us-1, and eu-1's findings stay. Last, the patch cluster's
 * Pushgateway goes away: the global layer holds no patched digests, and PatchedDigestsUnavailable
 * names the cluster whose drift is now unknown instead of reporting "no drift".
 *
 * As in compliance.test.ts, the debounce `for:`s (an hour or less) are shortened to seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { InventoryInput } from '../../src/inventory/schema.ts';
import { clusterPartitions, concernsFor } from '../../src/observability/assemble.ts';
import { FLEET_WIDE_RECORDS } from '../../src/observability/queries.ts';
import { observabilitySettings } from '../../src/observability/settings.ts';
import type { Concern } from '../../src/observability/types.ts';
import { CONFIGMAPS, DIGEST_RECORD_LABEL } from '../../src/shared/contract.ts';
import { ALERTS, JOBS, RECORDS } from '../../src/shared/metrics.ts';
import { encodeImageClock, stateKey } from '../../runtime/collector/state-format.ts';
import { FakeKubeApi, type KubeObject } from '../support/fake-kube-api.ts';
import { render, type RenderedObject } from '../support/fleet-fixtures.ts';
import { startPrometheus, startPushgateway, type RunningProcess } from '../support/processes.ts';
import { makePushgatewayAuth, type PushgatewayAuthFixture } from '../support/pushgateway-auth.ts';
import { FLEET_NAMESPACE, pod, vulnerabilityReport } from '../runtime/collector/fixtures.ts';
import { startCollector, waitFor, type RunningCollector } from '../runtime/collector/harness.ts';
import { PATCHED_DIGEST, SOURCE_DIGEST } from '../runtime/exporter/fixtures.ts';
import {
  APP,
  HOUR,
  SCENARIO_FLEET,
  NGINX,
  NGINX_DIGEST,
  OLD_CVE,
  runNightly,
  withShortDebounce,
  WORKER,
  WORKER_DIGEST,
} from './support/scenario.ts';

const PATCH = 'eu-1';
const WORKLOAD = 'us-1';
const SILENT = 'ap-1';
const WORKLOAD_NAMESPACE = 'copa-fleet-us';

const INVENTORY: InventoryInput = {
  ...SCENARIO_FLEET,
  clusters: [
    { name: PATCH, roles: ['patch', 'workloads'] },
    { name: WORKLOAD, roles: ['workloads'], namespace: WORKLOAD_NAMESPACE },
    { name: SILENT, roles: ['workloads'] },
  ],
};

interface Alert {
  readonly labels: Record<string, string>;
  readonly state: string;
}

interface Cluster {
  readonly name: string;
  api: FakeKubeApi;
  collector: RunningCollector;
  prometheus: RunningProcess;
}

describe('two clusters and a central Prometheus with the generated global rules', () => {
  const { fleet, files, objects } = render(INVENTORY);
  const cronjobOf = (image: string) => fleet.images.find((i) => i.image === image)!.name;
  const inCluster = (cluster: string) => objects.filter((o) => o.file.startsWith(`${cluster}/`));
  const generated = (from: readonly RenderedObject[], kind: string, name: string): KubeObject => {
    const found = from.find(({ object }) => object.kind === kind && object.metadata.name === name);
    if (found === undefined) throw new Error(`no ${kind} ${name}`);
    return found.object;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const target = (url: string) => url.replace(/^http:\/\//, '');

  let central: RunningProcess;
  let pushgateway: RunningProcess;
  let auth: PushgatewayAuthFixture;
  const clusters: Cluster[] = [];
  let decoy: { api: FakeKubeApi; collector: RunningCollector } | undefined;
  let workDir: string;

  /**
   * A cluster's API with the generated ConfigMaps of directory `from`, its pods and reports;
   * NGINX's SLA clock started 48 h ago.
   */
  async function clusterApi(name: string, appDigest: string, from = name): Promise<FakeKubeApi> {
    const api = await FakeKubeApi.start();
    const own = inCluster(from);
    api.create('configmaps', generated(own, 'ConfigMap', CONFIGMAPS.inventory));
    for (const record of own.filter(
      ({ object }) =>
        object.kind === 'ConfigMap' &&
        object.metadata.labels?.[DIGEST_RECORD_LABEL.key] === DIGEST_RECORD_LABEL.value,
    )) {
      api.create('configmaps', record.object);
    }
    const state = generated(own, 'ConfigMap', CONFIGMAPS.collectorState);
    api.create('configmaps', {
      ...state,
      data: {
        [stateKey(NGINX)]: encodeImageClock(
          NGINX,
          new Map([[OLD_CVE, { firstSeen: now() - 48 * HOUR, goneSince: 0, breached: [] }]]),
        ),
      },
    });
    const scannedAt = new Date().toISOString();
    api.load('pods', [
      pod({
        namespace: 'shop',
        name: `api-${name}`,
        containers: [{ name: 'api', image: `${APP}:1.25`, imageID: `${APP}@${appDigest}` }],
      }),
      pod({
        namespace: 'shop',
        name: `worker-${name}`,
        containers: [
          { name: 'worker', image: `${WORKER}:3.1`, imageID: `${WORKER}@${WORKER_DIGEST}` },
        ],
      }),
      pod({
        namespace: 'web',
        name: `nginx-${name}`,
        containers: [
          {
            name: 'nginx',
            image: 'nginx:1.27',
            imageID: `docker-pullable://nginx@${NGINX_DIGEST}`,
          },
        ],
      }),
    ]);
    api.load('vulnerabilityreports', [
      vulnerabilityReport({
        namespace: 'shop',
        name: `replicaset-api-${name}-api`,
        registry: 'registry.example.com',
        repository: 'team/app',
        tag: '1.25',
        digest: appDigest,
        updateTimestamp: scannedAt,
        vulnerabilities: [{ id: 'CVE-2024-45490', severity: 'HIGH' }],
      }),
      vulnerabilityReport({
        namespace: 'shop',
        name: `replicaset-worker-${name}-worker`,
        registry: 'registry.example.com',
        repository: 'team/worker',
        tag: '3.1',
        digest: WORKER_DIGEST,
        updateTimestamp: scannedAt,
        vulnerabilities: [{ id: 'CVE-2024-2511', severity: 'MEDIUM' }],
      }),
      vulnerabilityReport({
        namespace: 'web',
        name: `replicaset-nginx-${name}-nginx`,
        registry: 'index.docker.io',
        repository: 'library/nginx',
        tag: '1.27',
        digest: NGINX_DIGEST,
        updateTimestamp: scannedAt,
        vulnerabilities: [{ id: OLD_CVE, severity: 'CRITICAL', fixedVersion: '1.27.3-1' }],
      }),
    ]);
    return api;
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'copa-multi-'));
    const rules = files.find((f) => f.path === 'global/prometheus/copa-fleet.rules.yaml');
    if (rules === undefined) throw new Error('synth wrote no global rule file');
    central = await startPrometheus({
      configYaml: stringify({ global: { evaluation_interval: '1s' } }),
      rulesFiles: { 'copa-fleet.rules.yaml': withShortDebounce(rules.content) },
      extraArgs: ['--web.enable-remote-write-receiver'],
    });
    auth = await makePushgatewayAuth();
    pushgateway = await startPushgateway({
      webConfigFile: auth.webConfigFile,
      readyAuthorization: auth.clients.prometheus.header,
    });

    // eu-1 runs the patched APP digest, us-1 still the source digest.
    const patchApi = await clusterApi(PATCH, PATCHED_DIGEST);
    const workloadApi = await clusterApi(WORKLOAD, SOURCE_DIGEST);

    // The patch cluster's CronJob of APP has been scheduled: from now on, drift needs its patched digests.
    const appCronJob = generated(inCluster(PATCH), 'CronJob', cronjobOf(APP));
    patchApi.create('cronjobs', {
      ...appCronJob,
      status: {
        lastScheduleTime: new Date(Date.now() - 10 * 60 * 1000)
          .toISOString()
          .replace(/\.\d+Z$/, 'Z'),
      },
    });
    // The other CronJobs exist too (else cronjob_missing), not yet scheduled.
    for (const image of [WORKER, NGINX])
      patchApi.create('cronjobs', generated(inCluster(PATCH), 'CronJob', cronjobOf(image)));

    // The nightly runs, in the patch cluster, through the exporter bundle with its CronJob's arguments.
    const cronJob = (image: string) => generated(inCluster(PATCH), 'CronJob', cronjobOf(image));
    await runNightly(
      patchApi,
      patchApi.writeKubeconfig(workDir, FLEET_NAMESPACE),
      { url: pushgateway.url, credentialsDir: auth.clients.exporter.dir },
      [
        { cronJob: cronJob(APP), outcome: 'patched' },
        { cronJob: cronJob(WORKER), outcome: 'push_failed' },
        { cronJob: cronJob(NGINX), outcome: 'up_to_date' },
      ],
    );

    // Another fleet in us-1, in this fleet's eu-1 namespace (its ConfigMaps are eu-1's), where APP
    // is patched: read instead of us-1's collector it hides the drift, read as well it changes
    // us-1's compliance (three more containers, two compliant).
    const decoyApi = await clusterApi('decoy', PATCHED_DIGEST, PATCH);
    decoy = { api: decoyApi, collector: await startCollector(decoyApi) };

    for (const [name, api, namespace] of [
      [PATCH, patchApi, FLEET_NAMESPACE],
      [WORKLOAD, workloadApi, WORKLOAD_NAMESPACE],
    ] as const) {
      expect(
        generated(inCluster(name), 'Deployment', 'copa-fleet-collector').metadata.namespace,
      ).toBe(namespace);
      const collector = await startCollector(api, { namespace });
      // The target labels the generated ServiceMonitor gives (namespace = its Service's).
      const targets = [{ targets: [target(collector.url)], labels: { namespace } }];
      if (name === WORKLOAD)
        targets.push({
          targets: [target(decoy.collector.url)],
          labels: { namespace: FLEET_NAMESPACE },
        });
      const scrape: {
        job_name: string;
        honor_labels: boolean;
        basic_auth?: { username: string; password_file: string };
        static_configs: { targets: string[]; labels: Record<string, string> }[];
      }[] = [
        {
          job_name: JOBS.collector,
          honor_labels: true,
          static_configs: targets,
        },
      ];
      if (name === PATCH) {
        scrape.push({
          job_name: JOBS.pushgateway,
          honor_labels: true,
          basic_auth: {
            username: auth.clients.prometheus.username,
            password_file: `${auth.clients.prometheus.dir}/password`,
          },
          static_configs: [
            { targets: [target(pushgateway.url)], labels: { namespace: FLEET_NAMESPACE } },
          ],
        });
      }
      const prometheus = await startPrometheus({
        configYaml: stringify({
          // The external label is what tells the clusters apart in the global layer.
          global: { scrape_interval: '1s', external_labels: { cluster: name } },
          scrape_configs: scrape,
          remote_write: [
            { url: `${central.url}/api/v1/write`, queue_config: { batch_send_deadline: '1s' } },
          ],
        }),
      });
      clusters.push({ name, api, collector, prometheus });
    }
  }, 150_000);

  afterAll(async () => {
    await Promise.allSettled(clusters.flatMap((c) => [c.prometheus.stop(), c.collector.stop()]));
    await Promise.allSettled([decoy?.collector.stop(), decoy?.api.close()]);
    await Promise.allSettled([central?.stop(), pushgateway?.stop()]);
    await Promise.allSettled(clusters.map((c) => c.api.close()));
    rmSync(workDir, { recursive: true, force: true });
    if (auth !== undefined) rmSync(auth.root, { recursive: true, force: true });
  });

  const firing = async (): Promise<Alert[]> => {
    const response = (await (await fetch(`${central.url}/api/v1/alerts`)).json()) as {
      data: { alerts: Alert[] };
    };
    return response.data.alerts.filter((a) => a.state === 'firing');
  };
  const key = (a: Record<string, string>) => `${a.alertname} ${a.cluster ?? '-'} ${a.image ?? '-'}`;
  async function waitForExactly(
    expected: Record<string, string>[],
    what: string,
  ): Promise<Alert[]> {
    let seen: string[] = [];
    const want = expected.map(key).sort().join('|');
    return waitFor(
      async () => {
        const alerts = await firing();
        seen = alerts.map((a) => key(a.labels)).sort();
        return seen.join('|') === want ? alerts : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; firing: ${seen.join(', ') || 'none'}`);
    });
  }
  const query = async (promql: string) => {
    const body = (await (
      await fetch(`${central.url}/api/v1/query?query=${encodeURIComponent(promql)}`)
    ).json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return body.data.result;
  };

  const base: Record<string, string>[] = [
    // Drift in one cluster only.
    {
      alertname: ALERTS.unpatchedDigest,
      cluster: WORKLOAD,
      image: APP,
      team: 'shop',
      exported_namespace: 'shop',
    },
    // The same image breaching in both clusters: one finding per cluster.
    { alertname: ALERTS.slaBreach, cluster: PATCH, image: NGINX, team: 'web' },
    { alertname: ALERTS.slaBreach, cluster: WORKLOAD, image: NGINX, team: 'web' },
    // A pipeline finding of the patch cluster.
    {
      alertname: ALERTS.jobFailed,
      cluster: PATCH,
      image: WORKER,
      team: 'shop',
      failure_reason: 'push_failed',
    },
    // The cluster that never reported.
    { alertname: ALERTS.collectorDown, cluster: SILENT },
  ];

  it('fires exactly the per-cluster findings, each routable to the fleet namespace', async () => {
    const alerts = await waitForExactly(base, 'the per-cluster findings');
    for (const want of base)
      expect(alerts.find((a) => key(a.labels) === key(want))?.labels).toMatchObject({
        ...want,
        namespace: FLEET_NAMESPACE,
      });
    // Pipeline alerts are the patch cluster's: a workload cluster's inventory has no CronJobs, so
    // nothing is "never reported" there, not even pending (those `for`s are a day: not shortened).
    const all = (
      (await (await fetch(`${central.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } }
    ).data.alerts;
    const pipeline: string[] = [ALERTS.jobMissing, ALERTS.jobFailed, ALERTS.pushgatewayGroupStale];
    expect(
      all
        .filter((a) => pipeline.includes(a.labels.alertname ?? '') && a.labels.cluster !== PATCH)
        .map((a) => `${key(a.labels)} (${a.state})`),
    ).toEqual([]);
  });

  it('records per cluster: drift only in us-1, compliance, the SLA count in both, the success rate of the patch cluster', async () => {
    const byCluster = async (promql: string) =>
      Object.fromEntries(
        (await query(promql)).map((r) => [r.metric.cluster ?? '', Number(r.value[1])]),
      );
    await waitFor(
      async () =>
        Object.keys(await byCluster(RECORDS.digestDriftContainers)).length === 2 || undefined,
      { timeoutMs: 20_000, what: 'drift records' },
    );
    // The cluster that never reported has no count (q.collectorZero): "No data", not a reassuring 0.
    expect(await byCluster(RECORDS.digestDriftContainers)).toEqual({ [PATCH]: 0, [WORKLOAD]: 1 });
    expect(await byCluster(RECORDS.slaBreach24h)).toEqual({ [PATCH]: 1, [WORKLOAD]: 1 });
    // eu-1: 3 containers, NGINX non-compliant (Critical); us-1: APP drifted as well.
    const compliance = await byCluster(RECORDS.patchComplianceRatio);
    expect(compliance[PATCH]).toBeCloseTo(2 / 3);
    expect(compliance[WORKLOAD]).toBeCloseTo(1 / 3);
    const rates = (await query(RECORDS.patchSuccessRate7d)).map((r) => [
      r.metric.cluster,
      r.metric.image,
      Number(r.value[1]),
    ]);
    expect(rates.sort()).toEqual(
      [
        [PATCH, APP, 1],
        [PATCH, NGINX, 1],
        [PATCH, WORKER, 0],
      ].sort(),
    );
  });

  it('evaluates per cluster exactly what one rule over all clusters would (the split of the global rules)', async () => {
    // Every rule of the concerns that read every cluster's series, as one expression over all
    // clusters and as the per-cluster rules the global rule file holds (rules.ts).
    const settings = observabilitySettings(fleet);
    const whole = concernsFor(settings, 'clusters');
    const partitions = clusterPartitions(settings);
    const rulesOf = (concerns: readonly Concern[]) =>
      new Map(
        concerns.flatMap((concern) =>
          [...concern.records, ...concern.alerts]
            .filter((rule) =>
              'record' in rule ? !FLEET_WIDE_RECORDS.has(rule.record) : !rule.fleetWide,
            )
            .map((rule, i) => [
              `${concern.name} ${'record' in rule ? rule.record : rule.alert} ${i}`,
              rule.expr,
            ]),
        ),
      );
    const perCluster = partitions.map((part) => ({
      cluster: part.cluster,
      rules: rulesOf(part.concerns),
    }));
    // One instant a few evaluations back: every query reads the same, settled data.
    const at = Math.floor(Date.now() / 1000) - 3;
    const at_ = async (promql: string) => {
      const body = (await (
        await fetch(`${central.url}/api/v1/query?time=${at}&query=${encodeURIComponent(promql)}`)
      ).json()) as {
        status: string;
        error?: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success') throw new Error(`${body.error}: ${promql}`);
      return body.data.result.map((r) => ({
        metric: r.metric,
        value: Number(r.value[1]).toPrecision(12),
      }));
    };
    const canonical = (results: { metric: Record<string, string>; value: string }[]) =>
      results.map((r) => `${JSON.stringify(Object.entries(r.metric).sort())} ${r.value}`).sort();
    let nonEmpty = 0;
    // Every target's samples up to `at` have arrived by remote write: each one's latest is newer.
    await waitFor(
      async () => Number((await query('min(timestamp(up))'))[0]?.value[1] ?? 0) > at || undefined,
      { timeoutMs: 20_000, what: 'every target past the instant of the comparison' },
    );
    for (const [name, expr] of rulesOf(whole)) {
      const all = await at_(expr);
      const parts = [];
      for (const { cluster, rules } of perCluster) {
        const part = await at_(rules.get(name) ?? 'absent-rule');
        // Each cluster's rule writes that cluster's series only.
        expect(
          part.filter((r) => r.metric.cluster !== cluster).map((r) => r.metric),
          name,
        ).toEqual([]);
        parts.push(...part);
      }
      expect(canonical(parts), name).toEqual(canonical(all));
      if (all.length > 0) nonEmpty += 1;
    }
    // The comparison covers results, not only empty sets (drift, SLA, compliance, coverage, ...).
    expect(nonEmpty).toBeGreaterThan(10);
  });

  it("names the cluster whose collector is down, and keeps the other cluster's findings", async () => {
    const workload = clusters.find((c) => c.name === WORKLOAD)!;
    await workload.collector.stop();
    const expected = [
      ...base.filter((a) => a.cluster !== WORKLOAD),
      { alertname: ALERTS.collectorDown, cluster: WORKLOAD },
    ];
    await waitForExactly(expected, 'DriftCollectorDown for us-1 and eu-1 findings only');
  }, 90_000);

  it('alerts when the global layer holds no patched digests, instead of reporting no drift', async () => {
    await pushgateway.stop();
    const expected: Record<string, string>[] = [
      { alertname: ALERTS.slaBreach, cluster: PATCH, image: NGINX, team: 'web' },
      { alertname: ALERTS.collectorDown, cluster: WORKLOAD },
      { alertname: ALERTS.collectorDown, cluster: SILENT },
      { alertname: ALERTS.patchedDigestsUnavailable, cluster: PATCH },
    ];
    await waitForExactly(expected, 'PatchedDigestsUnavailable for eu-1');
  }, 90_000);
});
