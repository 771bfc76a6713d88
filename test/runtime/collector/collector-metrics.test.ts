/**
 * The collector as a subprocess against the API fake: what it exports for a small cluster, and
 * how the series follow Pod, report, inventory and namespace changes.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS, INVENTORY_CONFIGMAP_KEY } from '../../../src/shared/contract.ts';
import { COLLECTOR_RESOURCES, METRICS } from '../../../src/shared/metrics.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import {
  collectorCommand,
  eventually,
  scrape,
  select,
  startCollector,
  valueOf,
  waitFor,
  type RunningCollector,
} from './harness.ts';

const APP = 'registry.example.com/shop/app';
const NGINX = 'docker.io/library/nginx';
const OLD = fx.digestOf('app-old');
const PATCHED = fx.digestOf('app-patched');
const NGINX_DIGEST = fx.digestOf('nginx');
const HOUR = 3600_000;

const INVENTORY_IMAGES = [
  fx.inventoryImage(APP, 'app-1-0', { team: 'shop' }),
  fx.inventoryImage('nginx', 'nginx-1-27', {
    slaHours: { Critical: 12 },
    scheduleIntervalSeconds: 3600,
  }),
];

let api: FakeKubeApi;
let collector: RunningCollector;
let reportTime: number;

const appPod = (name: string, digest: string, state: 'running' | 'waiting' = 'running') =>
  fx.pod({
    namespace: 'shop',
    name,
    containers: [
      {
        name: 'app',
        image: `${APP}:1.0`,
        imageID: state === 'running' ? `${APP}@${digest}` : '',
        state,
      },
    ],
  });

beforeAll(async () => {
  api = await FakeKubeApi.start();
  reportTime = Date.now() - HOUR;
  api.create('configmaps', fx.inventoryConfigMap(INVENTORY_IMAGES));
  api.create(
    'configmaps',
    fx.patchedDigestsConfigMap({ 'app-1-0': fx.patchedRecord(APP, PATCHED) }),
  );
  api.create('pods', appPod('app-old', OLD));
  api.create('pods', appPod('app-new', PATCHED));
  api.create(
    'pods',
    fx.pod({
      namespace: 'web',
      name: 'nginx-1',
      containers: [
        { name: 'nginx', image: 'nginx:1.27', imageID: `docker.io/library/nginx@${NGINX_DIGEST}` },
        {
          name: 'proxy',
          image: 'envoyproxy/envoy:v1.30',
          imageID: `docker.io/envoyproxy/envoy@${fx.digestOf('envoy')}`,
        },
      ],
    }),
  );
  api.create(
    'pods',
    fx.pod({
      namespace: 'other',
      name: 'tool-1',
      containers: [
        {
          name: 'tool',
          image: 'busybox',
          imageID: `docker.io/library/busybox@${fx.digestOf('busybox')}`,
        },
      ],
    }),
  );
  api.create(
    'pods',
    fx.jobPod({
      name: 'app-1-0-123-x',
      job: 'app-1-0-123',
      cronjob: 'app-1-0',
      exporter: 'running',
    }),
  );
  const report = (
    namespace: string,
    name: string,
    registry: string,
    repository: string,
    digest: string,
    updated: number,
    vulnerabilities: fx.Vulnerability[],
  ) =>
    fx.vulnerabilityReport({
      namespace,
      name,
      registry,
      repository,
      digest,
      updateTimestamp: new Date(updated).toISOString(),
      vulnerabilities,
    });
  api.create(
    'vulnerabilityreports',
    report(
      'shop',
      'replicaset-app-old-app',
      'registry.example.com',
      'shop/app',
      OLD,
      reportTime - HOUR,
      [
        { id: 'CVE-2024-0001', severity: 'CRITICAL' },
        { id: 'CVE-2024-0002', severity: 'HIGH' },
        { id: 'CVE-2024-0003', severity: 'LOW' },
      ],
    ),
  );
  api.create(
    'vulnerabilityreports',
    report(
      'shop',
      'replicaset-app-new-app',
      'registry.example.com',
      'shop/app',
      PATCHED,
      reportTime,
      [{ id: 'CVE-2024-0003', severity: 'LOW' }],
    ),
  );
  api.create(
    'vulnerabilityreports',
    report(
      'web',
      'replicaset-nginx-nginx',
      'index.docker.io',
      'library/nginx',
      NGINX_DIGEST,
      reportTime,
      [{ id: 'CVE-2024-1000', severity: 'CRITICAL' }],
    ),
  );
  collector = await startCollector(api);
  await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { what: '/readyz' });
});

afterAll(async () => {
  await collector?.stop();
  await api?.close();
});

describe('collector command line', () => {
  it('rejects bad arguments with a message and the usage, exit 2, no stack trace', () => {
    const { command, args } = collectorCommand();
    const missing = spawnSync(command, [...args, '--port', '9464'], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: '/nonexistent' },
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('copa-fleet-collector: missing --namespace');
    expect(missing.stderr).toContain('usage: copa-fleet-collector');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const badPort = spawnSync(command, [...args, '--namespace', 'x', '--port', 'http'], {
      encoding: 'utf8',
    });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain('--port must be a TCP port');
  });
});

describe('collector metrics', () => {
  it('answers /healthz and /readyz once every informer synced and the state is loaded', async () => {
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${collector.url}/readyz`);
    expect(await ready.json()).toEqual({ ready: true, waitingFor: [] });
    const samples = await scrape(collector.url);
    for (const resource of Object.values(COLLECTOR_RESOURCES).filter(
      (r) => r !== COLLECTOR_RESOURCES.state,
    )) {
      expect(valueOf(samples, METRICS.collectorInformerSynced.name, { resource }), resource).toBe(
        1,
      );
    }
    // Recorded once the watches are established too (they start after the lists).
    await eventually(
      collector,
      (s) =>
        expect(valueOf(s, METRICS.collectorLastSyncTimestamp.name)).toBeGreaterThan(
          Date.now() / 1000 - 60,
        ),
      'last sync',
    );
  });

  it('exports drift, critical CVEs, running containers and CVE ages matched by the running digest', async () => {
    const samples = await eventually(
      collector,
      (s) => expect(select(s, METRICS.imageCveAgeHours.name).length).toBe(3),
      'CVE ages',
    );
    expect(select(samples, METRICS.containerDigestDrift.name).map((s) => s.labels)).toEqual([
      {
        namespace: 'shop',
        pod: 'app-old',
        container: 'app',
        image: APP,
        digest: OLD,
        patched_digest: PATCHED,
      },
    ]);
    expect(
      select(samples, METRICS.runningContainersWithCriticalCve.name).map((s) => [
        s.labels,
        s.value,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [{ namespace: 'shop', pod: 'app-old', image: APP, digest: OLD }, 1],
        [{ namespace: 'web', pod: 'nginx-1', image: NGINX, digest: NGINX_DIGEST }, 1],
      ]),
    );
    expect(select(samples, METRICS.runningContainersWithCriticalCve.name)).toHaveLength(2);
    // A single-cluster inventory: none of the per-digest series only the global rules read.
    expect(select(samples, METRICS.runningDigestContainers.name)).toEqual([]);
    expect(select(samples, METRICS.runningDigestCriticalContainers.name)).toEqual([]);
    expect(valueOf(samples, METRICS.runningContainers.name, { image: APP })).toBe(2);
    expect(valueOf(samples, METRICS.runningContainers.name, { image: NGINX })).toBe(1);
    expect(select(samples, METRICS.runningContainers.name)).toHaveLength(2); // only inventoried images
    // app-old (pre-patch digest with a Critical CVE, counted once) and nginx-1 (Critical CVE); not the envoy sidecar.
    expect(valueOf(samples, METRICS.noncompliantContainers.name)).toBe(2);
    // Every running digest has a report: 0 (exported, not absent: the collector looked).
    expect(valueOf(samples, METRICS.unscannedContainers.name, { image: APP })).toBe(0);
    expect(valueOf(samples, METRICS.unscannedContainers.name, { image: NGINX })).toBe(0);
    expect(valueOf(samples, METRICS.complianceUnknownContainers.name)).toBe(0);
    expect(select(samples, METRICS.imageCveSlaBreaches.name)).toHaveLength(0); // every CVE first seen just now
    expect(select(samples, METRICS.imageCveAgeHours.name).map((s) => s.labels)).toEqual(
      expect.arrayContaining([
        { image: APP, digest: OLD, cve_id: 'CVE-2024-0001', severity: 'Critical' },
        { image: APP, digest: OLD, cve_id: 'CVE-2024-0002', severity: 'High' },
        { image: NGINX, digest: NGINX_DIGEST, cve_id: 'CVE-2024-1000', severity: 'Critical' },
      ]),
    );
    for (const age of select(samples, METRICS.imageCveAgeHours.name))
      expect(age.value).toBeLessThan(0.1); // first seen just now
    // The newest report of a running digest (the patched one) is an hour old.
    const scanAge = valueOf(samples, METRICS.imageScanAgeSeconds.name, { image: APP })!;
    expect(scanAge).toBeGreaterThanOrEqual(3600);
    expect(scanAge).toBeLessThan(3600 + 120);
  });

  it('exports the running containers per namespace and digest while the inventory is multi-cluster', async () => {
    const inventory = (multiCluster: boolean) =>
      fx.inventoryConfigMap(INVENTORY_IMAGES, undefined, undefined, {
        ...(multiCluster && { multiCluster }),
      });
    // Sorted by namespace, then digest: the order of the expectations below does not matter.
    const sorted = (rows: [Record<string, string>, number][]) =>
      rows.sort(([a], [b]) =>
        `${a.namespace} ${a.digest}`.localeCompare(`${b.namespace} ${b.digest}`),
      );
    const perDigest = (samples: Awaited<ReturnType<typeof scrape>>, name: string) =>
      sorted(
        select(samples, name).map((s): [Record<string, string>, number] => [s.labels, s.value]),
      );
    api.update('configmaps', inventory(true));
    const samples = await eventually(
      collector,
      (s) => expect(select(s, METRICS.runningDigestContainers.name)).toHaveLength(3),
      'per-digest series',
    );
    // Every running container of an inventoried image (not the envoy sidecar), app's patched digest included.
    expect(perDigest(samples, METRICS.runningDigestContainers.name)).toEqual(
      sorted([
        [{ namespace: 'shop', image: APP, digest: OLD }, 1],
        [{ namespace: 'shop', image: APP, digest: PATCHED }, 1],
        [{ namespace: 'web', image: NGINX, digest: NGINX_DIGEST }, 1],
      ]),
    );
    // The same containers on digests with a Critical CVE, for the global rules' compliance: not app's patched digest.
    expect(perDigest(samples, METRICS.runningDigestCriticalContainers.name)).toEqual([
      [{ namespace: 'shop', image: APP, digest: OLD }, 1],
      [{ namespace: 'web', image: NGINX, digest: NGINX_DIGEST }, 1],
    ]);
    // Back to a single-cluster inventory: both families go, the rest stays.
    api.update('configmaps', inventory(false));
    const after = await eventually(
      collector,
      (s) => {
        expect(select(s, METRICS.runningDigestContainers.name)).toEqual([]);
        expect(select(s, METRICS.runningDigestCriticalContainers.name)).toEqual([]);
      },
      'per-digest series gone',
    );
    expect(valueOf(after, METRICS.runningContainers.name, { image: APP })).toBe(2);
    expect(valueOf(after, METRICS.noncompliantContainers.name)).toBe(2);
  });

  it("exports the inventory series and unscanned namespaces (not the fleet namespace's job pods)", async () => {
    const samples = await scrape(collector.url);
    expect(select(samples, METRICS.inventoryImageInfo.name).map((s) => s.labels)).toEqual(
      expect.arrayContaining([
        { image: APP, cronjob: 'app-1-0', team: 'shop' },
        { image: NGINX, cronjob: 'nginx-1-27', team: 'platform' },
      ]),
    );
    expect(valueOf(samples, METRICS.inventoryScheduleIntervalSeconds.name, { image: NGINX })).toBe(
      3600,
    );
    expect(valueOf(samples, METRICS.inventorySlaHours.name, { image: APP, severity: 'High' })).toBe(
      168,
    );
    expect(
      valueOf(samples, METRICS.inventorySlaHours.name, { image: NGINX, severity: 'Critical' }),
    ).toBe(12);
    expect(
      select(samples, METRICS.namespaceUnscanned.name).map((s) => [s.labels.namespace, s.value]),
    ).toEqual([['other', 1]]);
  });

  it('counts a container on a pre-patch digest without Critical CVEs as non-compliant', async () => {
    const lowOnly = fx.digestOf('app-low-only');
    api.create(
      'vulnerabilityreports',
      fx.vulnerabilityReport({
        namespace: 'shop',
        name: 'replicaset-app-low-app',
        registry: 'registry.example.com',
        repository: 'shop/app',
        digest: lowOnly,
        updateTimestamp: new Date(reportTime).toISOString(),
        vulnerabilities: [{ id: 'CVE-2024-0003', severity: 'LOW' }],
      }),
    );
    api.create('pods', appPod('app-low', lowOnly));
    const samples = await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.noncompliantContainers.name)).toBe(3),
      'drifted container counted',
    );
    expect(select(samples, METRICS.containerDigestDrift.name, { pod: 'app-low' })).toHaveLength(1);
    expect(
      select(samples, METRICS.runningContainersWithCriticalCve.name, { pod: 'app-low' }),
    ).toHaveLength(0);
    api.remove('pods', 'shop', 'app-low');
    api.remove('vulnerabilityreports', 'shop', 'replicaset-app-low-app');
    await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.noncompliantContainers.name)).toBe(2),
      'back to two',
    );
  });

  it('counts containers on digests without any report as unscanned, and as unknown unless on a pre-patch digest', async () => {
    const nginxNew = fx.digestOf('nginx-never-scanned');
    const appNew = fx.digestOf('app-never-scanned');
    api.create(
      'pods',
      fx.pod({
        namespace: 'web',
        name: 'nginx-2',
        containers: [
          { name: 'nginx', image: 'nginx:1.27', imageID: `docker.io/library/nginx@${nginxNew}` },
        ],
      }),
    );
    api.create('pods', appPod('app-unscanned', appNew));
    const samples = await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.unscannedContainers.name, { image: APP })).toBe(1),
      'unscanned containers',
    );
    expect(valueOf(samples, METRICS.unscannedContainers.name, { image: NGINX })).toBe(1);
    // nginx has no patched digest: its unscanned container is of unknown compliance. The app one runs a
    // pre-patch digest: known non-compliant, not unknown.
    expect(valueOf(samples, METRICS.complianceUnknownContainers.name)).toBe(1);
    expect(valueOf(samples, METRICS.noncompliantContainers.name)).toBe(3);
    // trivy-operator scans the new nginx digest: known now.
    api.create(
      'vulnerabilityreports',
      fx.vulnerabilityReport({
        namespace: 'web',
        name: 'replicaset-nginx-2-nginx',
        registry: 'index.docker.io',
        repository: 'library/nginx',
        digest: nginxNew,
        updateTimestamp: new Date().toISOString(),
        vulnerabilities: [],
      }),
    );
    const scanned = await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.unscannedContainers.name, { image: NGINX })).toBe(0),
      'nginx scanned',
    );
    expect(valueOf(scanned, METRICS.complianceUnknownContainers.name)).toBe(0);
    api.remove('pods', 'web', 'nginx-2');
    api.remove('pods', 'shop', 'app-unscanned');
    api.remove('vulnerabilityreports', 'web', 'replicaset-nginx-2-nginx');
    await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.unscannedContainers.name, { image: APP })).toBe(0),
      'back to none',
    );
  });

  it('follows a Pod restarted on the patched digest: drift, critical and CVE age series go', async () => {
    api.update('pods', appPod('app-old', PATCHED));
    const samples = await eventually(
      collector,
      (s) => expect(select(s, METRICS.containerDigestDrift.name)).toHaveLength(0),
      'drift gone',
    );
    expect(
      select(samples, METRICS.runningContainersWithCriticalCve.name, { image: APP }),
    ).toHaveLength(0);
    expect(select(samples, METRICS.imageCveAgeHours.name, { image: APP })).toHaveLength(0);
    expect(valueOf(samples, METRICS.runningContainers.name, { image: APP })).toBe(2);
    expect(valueOf(samples, METRICS.noncompliantContainers.name)).toBe(1); // nginx-1 only
  });

  it('counts only running containers', async () => {
    api.update('pods', appPod('app-new', PATCHED, 'waiting'));
    await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.runningContainers.name, { image: APP })).toBe(1),
      'one running container',
    );
  });

  it('keeps the previous inventory when the ConfigMap becomes malformed', async () => {
    api.mergePatch('configmaps', fx.FLEET_NAMESPACE, CONFIGMAPS.inventory, {
      data: {
        [INVENTORY_CONFIGMAP_KEY]: '{"severitiesInScope": ["Critical"], "images": [{"image": 42}]}',
      },
    });
    await waitFor(() => collector.logs.some((l) => l.msg === 'inventory rejected'), {
      what: 'inventory rejected log',
    });
    const samples = await scrape(collector.url);
    expect(select(samples, METRICS.inventoryImageInfo.name)).toHaveLength(2);
  });

  it('drops every series of an image that left the inventory', async () => {
    api.update(
      'configmaps',
      fx.inventoryConfigMap([fx.inventoryImage(APP, 'app-1-0', { team: 'shop' })]),
    );
    const samples = await eventually(
      collector,
      (s) => expect(select(s, METRICS.inventoryImageInfo.name, { image: NGINX })).toHaveLength(0),
      'nginx gone',
    );
    expect(valueOf(samples, METRICS.noncompliantContainers.name)).toBe(0); // nginx-1 no longer counts
    for (const def of [
      METRICS.runningContainers,
      METRICS.runningContainersWithCriticalCve,
      METRICS.imageCveAgeHours,
      METRICS.inventorySlaHours,
      METRICS.inventoryScheduleIntervalSeconds,
      METRICS.imageScanAgeSeconds,
      METRICS.unscannedContainers,
    ]) {
      expect(select(samples, def.name, { image: NGINX }), def.name).toHaveLength(0);
    }
    expect(select(samples, METRICS.inventoryImageInfo.name, { image: APP })).toHaveLength(1);
  });

  it('drops the series of deleted pods and namespaces', async () => {
    api.remove('pods', 'other', 'tool-1');
    await eventually(
      collector,
      (s) => expect(select(s, METRICS.namespaceUnscanned.name)).toHaveLength(0),
      'unscanned namespace gone',
    );
    api.update('pods', appPod('app-new', OLD));
    await eventually(
      collector,
      (s) =>
        expect(select(s, METRICS.containerDigestDrift.name, { pod: 'app-new' })).toHaveLength(1),
      'drift of app-new',
    );
    expect(api.deleteNamespace('shop')).toBeGreaterThan(0);
    const samples = await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.runningContainers.name, { image: APP })).toBe(0),
      'no app containers',
    );
    expect(select(samples, METRICS.containerDigestDrift.name)).toHaveLength(0);
    expect(select(samples, METRICS.runningContainersWithCriticalCve.name)).toHaveLength(0);
    expect(select(samples, METRICS.imageScanAgeSeconds.name, { image: APP })).toHaveLength(0);
  });
});
