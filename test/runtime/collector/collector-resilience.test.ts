/**
 * The collector (subprocess) under API trouble: not ready until every list succeeded; watch
 * expiry (410 Gone, as an ERROR event and as an HTTP status) in the middle of changes, without
 * losing a change or counting anything twice; API outages (HTTP 500s, refused connections):
 * errors counted, metrics kept, recovery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS } from '../../../src/shared/contract.ts';
import { COLLECTOR_RESOURCES, METRICS } from '../../../src/shared/metrics.ts';
import { encodeImageClock, stateKey } from '../../../runtime/collector/state-format.ts';
import { FakeKubeApi, type KubeObject } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import {
  eventually,
  scrape,
  select,
  startCollector,
  valueOf,
  waitFor,
  type RunningCollector,
  type Sample,
} from './harness.ts';

const APP = 'registry.example.com/shop/app';
const OLD = fx.digestOf('old');
const PATCHED = fx.digestOf('patched');
const CRITICAL = 'CVE-2024-1111';
const FIRST_SEEN = Math.floor(Date.now() / 1000) - 30 * 3600;

let api: FakeKubeApi;
let collector: RunningCollector;

const appPod = (name: string, digest: string) =>
  fx.pod({
    namespace: 'shop',
    name,
    containers: [{ name: 'app', image: `${APP}:1.0`, imageID: `${APP}@${digest}` }],
  });
const report = (name: string, digest: string, vulnerabilities: fx.Vulnerability[]): KubeObject =>
  fx.vulnerabilityReport({
    namespace: 'shop',
    name,
    registry: 'registry.example.com',
    repository: 'shop/app',
    digest,
    updateTimestamp: new Date().toISOString(),
    vulnerabilities,
  });

const counter = (samples: Sample[], def: { name: string }, resource: string) =>
  valueOf(samples, def.name, { resource }) ?? 0;
const breachLogs = () => collector.logs.filter((l) => l.msg === 'sla breach');

beforeAll(async () => {
  api = await FakeKubeApi.start();
  api.create('configmaps', fx.inventoryConfigMap([fx.inventoryImage(APP, 'app-1-0')]));
  api.create(
    'configmaps',
    fx.patchedDigestsConfigMap({ 'app-1-0': fx.patchedRecord(APP, PATCHED) }),
  );
  api.create('configmaps', {
    metadata: { name: CONFIGMAPS.collectorState, namespace: fx.FLEET_NAMESPACE },
    data: {
      [stateKey(APP)]: encodeImageClock(
        APP,
        new Map([[CRITICAL, { firstSeen: FIRST_SEEN, goneSince: 0, breached: [] }]]),
      ),
    },
  });
  for (const name of ['app-1', 'app-2', 'app-3']) api.create('pods', appPod(name, OLD));
  api.create(
    'vulnerabilityreports',
    report('replicaset-app-old', OLD, [{ id: CRITICAL, severity: 'CRITICAL' }]),
  );
  api.create('vulnerabilityreports', report('replicaset-app-patched', PATCHED, []));
  // The reports cannot be listed yet (neither by watch-list nor by list): the collector must not be ready.
  const fault = api.injectFault({
    resource: 'vulnerabilityreports',
    verbs: ['list', 'watch'],
    status: 500,
  });
  collector = await startCollector(api);
  await waitFor(() => fault.hits() >= 2, { what: 'failed report lists' });
});

afterAll(async () => {
  await collector?.stop();
  await api?.close();
});

describe('collector resilience', () => {
  it('is alive but not ready while a list fails, then ready once it succeeds', async () => {
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${collector.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { waitingFor: string[] }).waitingFor).toContain(
      COLLECTOR_RESOURCES.vulnerabilityReports,
    );
    const samples = await scrape(collector.url);
    expect(
      counter(samples, METRICS.collectorApiErrorsTotal, COLLECTOR_RESOURCES.vulnerabilityReports),
    ).toBeGreaterThanOrEqual(2);
    expect(
      valueOf(samples, METRICS.collectorInformerSynced.name, {
        resource: COLLECTOR_RESOURCES.vulnerabilityReports,
      }),
    ).toBe(0);
    expect(
      valueOf(samples, METRICS.collectorInformerSynced.name, {
        resource: COLLECTOR_RESOURCES.pods,
      }),
    ).toBe(1);
    api.clearFaults();
    await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { what: '/readyz' });
    await eventually(
      collector,
      (s) =>
        expect(valueOf(s, METRICS.slaBreachTotal.name, { image: APP, cve_id: CRITICAL })).toBe(1),
      'breach counted',
    );
    expect(breachLogs()).toHaveLength(1);
  });

  it('re-lists after a watch expired (ERROR 410) mid-stream without losing or double counting', async () => {
    const before = await eventually(
      collector,
      (s) => expect(select(s, METRICS.containerDigestDrift.name)).toHaveLength(3),
      'three drifting pods',
    );
    const restarts = counter(before, METRICS.collectorWatchRestartsTotal, COLLECTOR_RESOURCES.pods);
    // The pods watch cannot reconnect while the cluster changes; then the history is compacted.
    const blocked = api.injectFault({ resource: 'pods', verbs: ['watch'], status: 500 });
    api.dropWatches('pods');
    await waitFor(() => blocked.hits() >= 1, { what: 'refused pod watch' });
    api.remove('pods', 'shop', 'app-1');
    api.update('pods', appPod('app-2', PATCHED));
    api.create('pods', appPod('app-4', OLD));
    api.expireWatches('pods');
    blocked.clear();
    const after = await eventually(
      collector,
      (s) =>
        expect(
          select(s, METRICS.containerDigestDrift.name)
            .map((x) => x.labels.pod)
            .sort(),
        ).toEqual(['app-3', 'app-4']),
      'changes of the gap applied',
    );
    expect(valueOf(after, METRICS.runningContainers.name, { image: APP })).toBe(3);
    expect(
      select(after, METRICS.runningContainersWithCriticalCve.name)
        .map((x) => x.labels.pod)
        .sort(),
    ).toEqual(['app-3', 'app-4']);
    expect(
      counter(after, METRICS.collectorWatchRestartsTotal, COLLECTOR_RESOURCES.pods),
    ).toBeGreaterThan(restarts);
    expect(valueOf(after, METRICS.slaBreachTotal.name, { image: APP, cve_id: CRITICAL })).toBe(1);
    expect(breachLogs()).toHaveLength(1);
    expect(
      valueOf(after, METRICS.imageCveAgeHours.name, { cve_id: CRITICAL }),
    ).toBeGreaterThanOrEqual(30);
  });

  it('re-lists when the watch request answers HTTP 410', async () => {
    api.setExpiredWatchMode('http');
    try {
      const blocked = api.injectFault({
        resource: 'vulnerabilityreports',
        verbs: ['watch'],
        drop: true,
      });
      api.dropWatches('vulnerabilityreports');
      await waitFor(() => blocked.hits() >= 1, { what: 'dropped report watch' });
      api.update(
        'vulnerabilityreports',
        report('replicaset-app-old', OLD, [
          { id: CRITICAL, severity: 'CRITICAL' },
          { id: 'CVE-2024-5555', severity: 'HIGH' },
        ]),
      );
      api.expireWatches('vulnerabilityreports');
      blocked.clear();
      const after = await eventually(
        collector,
        (s) =>
          expect(
            select(s, METRICS.imageCveAgeHours.name, { cve_id: 'CVE-2024-5555' }),
          ).toHaveLength(1),
        'the change of the gap',
      );
      expect(select(after, METRICS.imageCveAgeHours.name, { cve_id: CRITICAL })).toHaveLength(1);
      expect(breachLogs()).toHaveLength(1);
    } finally {
      api.setExpiredWatchMode('event');
    }
  });

  it('survives HTTP 500s on every request: errors counted, metrics kept, recovery', async () => {
    const before = await scrape(collector.url);
    const errors = counter(before, METRICS.collectorApiErrorsTotal, COLLECTOR_RESOURCES.pods);
    const outage = api.injectFault({ status: 500 });
    api.dropWatches();
    const during = await eventually(
      collector,
      (s) => {
        expect(
          counter(s, METRICS.collectorApiErrorsTotal, COLLECTOR_RESOURCES.pods),
        ).toBeGreaterThan(errors + 1);
        expect(
          valueOf(s, METRICS.collectorInformerSynced.name, { resource: COLLECTOR_RESOURCES.pods }),
        ).toBe(0);
      },
      'errors counted',
    );
    expect(
      select(during, METRICS.containerDigestDrift.name)
        .map((x) => x.labels.pod)
        .sort(),
    ).toEqual(['app-3', 'app-4']);
    api.update('pods', appPod('app-3', PATCHED));
    outage.clear();
    await eventually(
      collector,
      (s) => {
        expect(select(s, METRICS.containerDigestDrift.name).map((x) => x.labels.pod)).toEqual([
          'app-4',
        ]);
        expect(
          valueOf(s, METRICS.collectorInformerSynced.name, { resource: COLLECTOR_RESOURCES.pods }),
        ).toBe(1);
      },
      'recovered',
    );
  });

  it('survives refused connections: metrics kept, last sync stalls, recovery', async () => {
    await api.stopListening();
    try {
      const during = await eventually(
        collector,
        (s) => {
          for (const resource of [
            COLLECTOR_RESOURCES.pods,
            COLLECTOR_RESOURCES.vulnerabilityReports,
          ]) {
            expect(valueOf(s, METRICS.collectorInformerSynced.name, { resource })).toBe(0);
          }
        },
        'informers not synced',
      );
      expect(select(during, METRICS.containerDigestDrift.name).map((x) => x.labels.pod)).toEqual([
        'app-4',
      ]);
      const stalled = valueOf(during, METRICS.collectorLastSyncTimestamp.name)!;
      api.remove('pods', 'shop', 'app-4');
      const still = await eventually(
        collector,
        (s) =>
          expect(
            counter(s, METRICS.collectorApiErrorsTotal, COLLECTOR_RESOURCES.pods),
          ).toBeGreaterThan(
            counter(during, METRICS.collectorApiErrorsTotal, COLLECTOR_RESOURCES.pods),
          ),
        'more errors',
      );
      expect(valueOf(still, METRICS.collectorLastSyncTimestamp.name)).toBe(stalled);
    } finally {
      await api.resumeListening();
    }
    await eventually(
      collector,
      (s) => {
        expect(select(s, METRICS.containerDigestDrift.name)).toHaveLength(0);
        expect(
          valueOf(s, METRICS.collectorInformerSynced.name, { resource: COLLECTOR_RESOURCES.pods }),
        ).toBe(1);
      },
      'recovered',
      15_000,
    );
    expect(breachLogs()).toHaveLength(1);
  });
});
