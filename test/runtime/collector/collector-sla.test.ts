/**
 * The SLA clock end to end (collector subprocesses against one API fake): first-seen persisted in
 * the state ConfigMap, surviving report re-creation and collector restarts; a breach counted
 * exactly once, also across a restart; the clock stopping when the CVE is gone; pending state
 * flushed on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS, stateShardName } from '../../../src/shared/contract.ts';
import { METRICS } from '../../../src/shared/metrics.ts';
import { COLLECTOR_ENV } from '../../../runtime/collector/config.ts';
import {
  decodeImageClock,
  encodeImageClock,
  stateKey,
  stateShardOf,
  type CveClock,
} from '../../../runtime/collector/state-format.ts';
import { FakeKubeApi, type KubeObject } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import {
  eventually,
  select,
  startCollector,
  valueOf,
  waitFor,
  type RunningCollector,
  type Sample,
} from './harness.ts';

const APP = 'registry.example.com/shop/app';
const DIGEST = fx.digestOf('app-running');
const CRITICAL = 'CVE-2024-1111';
const HIGH = 'CVE-2024-2222';
const LATE = 'CVE-2024-3333';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const FIRST_SEEN_CRITICAL = nowSeconds() - 25 * 3600; // past the 24 h SLA

let api: FakeKubeApi;
const collectors: RunningCollector[] = [];

function report(name: string, vulnerabilities: fx.Vulnerability[]): KubeObject {
  return fx.vulnerabilityReport({
    namespace: 'shop',
    name,
    registry: 'registry.example.com',
    repository: 'shop/app',
    digest: DIGEST,
    updateTimestamp: new Date().toISOString(),
    vulnerabilities,
  });
}

function stateEntries(): Map<string, CveClock> {
  const cm = api.get(
    'configmaps',
    fx.FLEET_NAMESPACE,
    stateShardName(CONFIGMAPS.collectorState, stateShardOf(APP)),
  );
  const value = (cm?.data as Record<string, string> | undefined)?.[stateKey(APP)];
  return value === undefined
    ? new Map<string, CveClock>()
    : (decodeImageClock(value)?.cves ?? new Map<string, CveClock>());
}

async function start(env: Record<string, string> = {}): Promise<RunningCollector> {
  const collector = await startCollector(api, { env });
  collectors.push(collector);
  await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { what: '/readyz' });
  return collector;
}

const age = (samples: Sample[], cve: string) =>
  valueOf(samples, METRICS.imageCveAgeHours.name, { image: APP, digest: DIGEST, cve_id: cve });
const breach = (samples: Sample[], cve: string) =>
  valueOf(samples, METRICS.slaBreachTotal.name, { image: APP, cve_id: cve, threshold_hours: '24' });
const breaching = (samples: Sample[]) =>
  select(samples, METRICS.imageCveSlaBreaches.name).map((s) => [
    s.labels.image,
    s.labels.severity,
    s.value,
  ]);
const breachLogs = (collector: RunningCollector) =>
  collector.logs.filter((l) => l.msg === 'sla breach');

beforeAll(async () => {
  api = await FakeKubeApi.start();
  api.create('configmaps', fx.inventoryConfigMap([fx.inventoryImage(APP, 'app-1-0')]));
  api.create(
    'pods',
    fx.pod({
      namespace: 'shop',
      name: 'app-1',
      containers: [{ name: 'app', image: `${APP}:1.0`, imageID: `${APP}@${DIGEST}` }],
    }),
  );
  api.create(
    'vulnerabilityreports',
    report('replicaset-app-1-app', [
      { id: CRITICAL, severity: 'CRITICAL' },
      { id: HIGH, severity: 'HIGH' },
    ]),
  );
  // The state of an earlier collector: the Critical CVE was first seen 25 hours ago.
  api.create('configmaps', {
    metadata: { name: CONFIGMAPS.collectorState, namespace: fx.FLEET_NAMESPACE },
    data: {
      [stateKey(APP)]: encodeImageClock(
        APP,
        new Map([[CRITICAL, { firstSeen: FIRST_SEEN_CRITICAL, goneSince: 0, breached: [] }]]),
      ),
    },
  });
});

afterAll(async () => {
  for (const c of collectors) await c.stop();
  await api?.close();
});

describe('SLA clock', () => {
  let firstSeenHigh = 0;

  it('ages CVEs from the persisted first-seen time and counts a due breach once', async () => {
    const collector = await start();
    const samples = await eventually(
      collector,
      (s) => expect(breach(s, CRITICAL)).toBe(1),
      'breach counted',
    );
    expect(age(samples, CRITICAL)).toBeGreaterThanOrEqual(25);
    expect(age(samples, CRITICAL)).toBeLessThan(25.1);
    expect(age(samples, HIGH)).toBeLessThan(0.1);
    expect(select(samples, METRICS.slaBreachTotal.name, { cve_id: HIGH })).toHaveLength(0); // 168 h SLA, far from due
    // The per-image count the rules read: one Critical CVE past its SLA, no High one (absent = 0).
    expect(breaching(samples)).toEqual([[APP, 'Critical', 1]]);
    await waitFor(
      () => stateEntries().get(CRITICAL)?.breached.includes(24) && stateEntries().has(HIGH),
      { what: 'state written' },
    );
    const state = stateEntries();
    expect(state.get(CRITICAL)).toEqual({
      firstSeen: FIRST_SEEN_CRITICAL,
      goneSince: 0,
      breached: [24],
    });
    firstSeenHigh = state.get(HIGH)!.firstSeen;
    expect(Math.abs(firstSeenHigh - nowSeconds())).toBeLessThan(60);
    expect(breachLogs(collector)).toHaveLength(1);
  });

  it('keeps first-seen and the counted breach when the report is deleted and re-created (report TTL)', async () => {
    const collector = collectors.at(-1)!;
    api.remove('vulnerabilityreports', 'shop', 'replicaset-app-1-app');
    // The namespace has no report left: proof that the deletion was processed.
    const gap = await eventually(
      collector,
      (s) => expect(valueOf(s, METRICS.namespaceUnscanned.name, { namespace: 'shop' })).toBe(1),
      'deletion processed',
    );
    // The digest still runs and its last known report still stands: nothing restarts or disappears.
    expect(age(gap, CRITICAL)).toBeGreaterThanOrEqual(25);
    expect(age(gap, HIGH)).toBeDefined();
    expect(breach(gap, CRITICAL)).toBe(1);
    expect(stateEntries().get(HIGH)?.goneSince).toBe(0);
    api.create(
      'vulnerabilityreports',
      report('replicaset-app-1-app-rescan', [
        { id: CRITICAL, severity: 'CRITICAL' },
        { id: HIGH, severity: 'HIGH' },
      ]),
    );
    const samples = await eventually(
      collector,
      (s) => expect(select(s, METRICS.namespaceUnscanned.name)).toHaveLength(0),
      'new report processed',
    );
    expect(age(samples, CRITICAL)).toBeGreaterThanOrEqual(25);
    expect(breach(samples, CRITICAL)).toBe(1);
    expect(breachLogs(collector)).toHaveLength(1);
    expect(stateEntries().get(HIGH)?.firstSeen).toBe(firstSeenHigh);
  });

  it('survives a restart: same first-seen, the counted breach is not counted again', async () => {
    const first = collectors.at(-1)!;
    expect(await first.stop()).toBe(0);
    const collector = await start();
    const samples = await eventually(
      collector,
      (s) => expect(breach(s, CRITICAL)).toBe(0),
      'breach series at 0 after the restart',
    );
    expect(age(samples, CRITICAL)).toBeGreaterThanOrEqual(25);
    const highAge = age(samples, HIGH)!;
    expect(Math.abs(highAge - (nowSeconds() - firstSeenHigh) / 3600)).toBeLessThan(0.01);
    // Let several breach evaluations run past the minimum exposure, then check nothing was counted.
    const sync = valueOf(samples, METRICS.collectorLastSyncTimestamp.name)!;
    const later = await eventually(
      collector,
      (s) =>
        expect(valueOf(s, METRICS.collectorLastSyncTimestamp.name)!).toBeGreaterThan(sync + 1.5),
      'more ticks',
    );
    expect(breach(later, CRITICAL)).toBe(0);
    // The counter starts at 0 again, but the CVE is still past its SLA.
    expect(breaching(later)).toEqual([[APP, 'Critical', 1]]);
    expect(breachLogs(collector)).toHaveLength(0);
    expect(stateEntries().get(CRITICAL)?.breached).toEqual([24]);
  });

  it('stops the clock when no running container carries the CVE, and resumes it when it comes back within the window', async () => {
    const collector = collectors.at(-1)!;
    api.update(
      'vulnerabilityreports',
      report('replicaset-app-1-app-rescan', [{ id: CRITICAL, severity: 'CRITICAL' }]),
    );
    await eventually(collector, (s) => expect(age(s, HIGH)).toBeUndefined(), 'High CVE gone');
    await waitFor(() => (stateEntries().get(HIGH)?.goneSince ?? 0) > 0, { what: 'gone recorded' });
    api.update(
      'vulnerabilityreports',
      report('replicaset-app-1-app-rescan', [
        { id: CRITICAL, severity: 'CRITICAL' },
        { id: HIGH, severity: 'HIGH' },
      ]),
    );
    await eventually(collector, (s) => expect(age(s, HIGH)).toBeDefined(), 'High CVE back');
    await waitFor(() => stateEntries().get(HIGH)?.goneSince === 0, { what: 'resumed' });
    expect(stateEntries().get(HIGH)?.firstSeen).toBe(firstSeenHigh);
  });

  it('flushes pending state writes on SIGTERM and exits 0', async () => {
    const previous = collectors.at(-1)!;
    expect(await previous.stop()).toBe(0);
    const collector = await start({ [COLLECTOR_ENV.stateWriteDelayMs]: '600000' });
    api.update(
      'vulnerabilityreports',
      report('replicaset-app-1-app-rescan', [
        { id: CRITICAL, severity: 'CRITICAL' },
        { id: HIGH, severity: 'HIGH' },
        { id: LATE, severity: 'HIGH' },
      ]),
    );
    await eventually(collector, (s) => expect(age(s, LATE)).toBeDefined(), 'new CVE tracked');
    expect(stateEntries().has(LATE)).toBe(false); // still pending: the write delay is 10 minutes
    expect(await collector.stop('SIGTERM')).toBe(0);
    expect(stateEntries().has(LATE)).toBe(true);
    expect(collector.logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['signal received', 'state written', 'stopped']),
    );
  });
});
