/**
 * The persisted SLA clock (in-process StateStore with the real client-node against the API fake):
 * creation of a missing ConfigMap, merge patches of changed keys only, resourceVersion conflicts
 * resolved by merging (earliest first-seen, united breaches), re-creation after a deletion, and
 * retries after API errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIGMAPS, PIPELINE_LABEL } from '../../../src/shared/contract.ts';
import type { KubeApiError } from '../../../runtime/collector/kube/errors.ts';
import { KubeClient } from '../../../runtime/collector/kube/kube-client.ts';
import { jsonLogger } from '../../../runtime/collector/log.ts';
import { SlaClock } from '../../../runtime/collector/sla-clock.ts';
import { decodeImageClock, encodeImageClock, stateKey, type CveClock } from '../../../runtime/collector/state-format.ts';
import { StateStore } from '../../../runtime/collector/state-store.ts';
import { FakeKubeApi, type KubeObject } from '../../support/fake-kube-api.ts';
import { FLEET_NAMESPACE } from './fixtures.ts';
import { waitFor } from './harness.ts';

const A = 'registry.example.com/a';
const B = 'registry.example.com/b';

let api: FakeKubeApi;
let dir: string;
let errors: KubeApiError[];
let logs: Record<string, unknown>[];
let store: StateStore | undefined;

beforeEach(async () => {
  api = await FakeKubeApi.start();
  dir = mkdtempSync(join(tmpdir(), 'state-store-'));
  errors = [];
  logs = [];
});
afterEach(async () => {
  store?.stop();
  store = undefined;
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function newStore(clock: SlaClock, writeDelayMs = 10_000): StateStore {
  const kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(dir));
  store = new StateStore({
    core: new KubeClient(kc).core,
    namespace: FLEET_NAMESPACE,
    name: CONFIGMAPS.collectorState,
    clock,
    health: { apiError: (_resource, error) => errors.push(error) },
    log: jsonLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
    writeDelayMs,
    backoffInitialMs: 20,
    backoffMaxMs: 50,
  });
  return store;
}

function stored(image: string): Map<string, CveClock> | undefined {
  const data = api.get('configmaps', FLEET_NAMESPACE, CONFIGMAPS.collectorState)?.data as Record<string, string> | undefined;
  const value = data?.[stateKey(image)];
  return value === undefined ? undefined : decodeImageClock(value)?.cves;
}

function stateConfigMap(entries: Record<string, Map<string, CveClock>>): KubeObject {
  return {
    metadata: { name: CONFIGMAPS.collectorState, namespace: FLEET_NAMESPACE },
    data: Object.fromEntries(Object.entries(entries).map(([image, cves]) => [stateKey(image), encodeImageClock(image, cves)])),
  };
}

describe('StateStore', () => {
  it('loads nothing from a missing ConfigMap, then creates it on the first write', async () => {
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    expect(clock.loaded).toBe(true);
    clock.observe(A, new Set(['CVE-1']), true, 1000);
    await s.flush();
    const cm = api.get('configmaps', FLEET_NAMESPACE, CONFIGMAPS.collectorState)!;
    expect(cm.metadata.labels).toEqual({ [PIPELINE_LABEL.key]: PIPELINE_LABEL.value });
    expect(stored(A)).toEqual(new Map([['CVE-1', { firstSeen: 1000, goneSince: 0, breached: [] }]]));
  });

  it('loads entries, skips keys it does not own, and writes only changed keys (null deletes)', async () => {
    api.create('configmaps', {
      ...stateConfigMap({ [A]: new Map([['CVE-1', { firstSeen: 10, goneSince: 0, breached: [24] }]]), [B]: new Map([['CVE-2', { firstSeen: 20, goneSince: 0, breached: [] }]]) }),
    });
    api.mergePatch('configmaps', FLEET_NAMESPACE, CONFIGMAPS.collectorState, { data: { 'notes.txt': 'left by a human' } });
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    expect(clock.get(A, 'CVE-1')).toEqual({ firstSeen: 10, goneSince: 0, breached: [24] });
    expect(logs.find((l) => l.msg === 'state loaded')).toMatchObject({ images: 2, skippedKeys: 1 });
    clock.forget(B);
    clock.observe(A, new Set(['CVE-1', 'CVE-3']), true, 30);
    await s.flush();
    const data = api.get('configmaps', FLEET_NAMESPACE, CONFIGMAPS.collectorState)!.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(['notes.txt', stateKey(A)].sort());
    expect(stored(A)?.get('CVE-3')).toEqual({ firstSeen: 30, goneSince: 0, breached: [] });
  });

  it('resolves a resourceVersion conflict by merging the other writer\'s entries', async () => {
    api.create('configmaps', stateConfigMap({ [A]: new Map([['CVE-1', { firstSeen: 100, goneSince: 0, breached: [] }]]) }));
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    // Another writer (an old replica, a human) changes the ConfigMap after our read.
    api.update('configmaps', stateConfigMap({ [A]: new Map([['CVE-1', { firstSeen: 50, goneSince: 0, breached: [168] }]]), [B]: new Map([['CVE-9', { firstSeen: 5, goneSince: 0, breached: [] }]]) }));
    clock.markBreached(A, 'CVE-1', 24);
    await s.flush();
    expect(logs.some((l) => l.msg === 'state write conflict')).toBe(true);
    expect(stored(A)?.get('CVE-1')).toEqual({ firstSeen: 50, goneSince: 0, breached: [24, 168] });
    expect(clock.get(A, 'CVE-1')?.firstSeen).toBe(50);
    expect(stored(B)?.get('CVE-9')?.firstSeen).toBe(5); // not ours to change
    expect(errors).toEqual([]);
  });

  it('re-creates a ConfigMap deleted behind its back with everything it holds', async () => {
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    clock.observe(A, new Set(['CVE-1']), true, 1);
    clock.observe(B, new Set(['CVE-2']), true, 2);
    await s.flush();
    api.remove('configmaps', FLEET_NAMESPACE, CONFIGMAPS.collectorState);
    clock.observe(A, new Set(['CVE-1', 'CVE-3']), true, 3);
    await s.flush();
    expect(stored(A)?.size).toBe(2);
    expect(stored(B)?.get('CVE-2')?.firstSeen).toBe(2);
  });

  it('keeps changes pending through API errors and writes them once the API answers', async () => {
    const clock = new SlaClock(86_400);
    const s = newStore(clock, 10);
    await s.load();
    const fault = api.injectFault({ resource: 'configmaps', verbs: ['create', 'patch'], status: 500 });
    clock.observe(A, new Set(['CVE-1']), true, 1);
    s.schedule();
    await waitFor(() => errors.length >= 2, { what: 'failed writes' });
    expect(errors[0]?.statusCode).toBe(500);
    fault.clear();
    await waitFor(() => stored(A)?.has('CVE-1'), { what: 'written after recovery' });
  });

  it('retries the start-up read until the API answers', async () => {
    const fault = api.injectFault({ resource: 'configmaps', verbs: ['get'], status: 503, times: 2 });
    api.create('configmaps', stateConfigMap({ [A]: new Map([['CVE-1', { firstSeen: 7, goneSince: 0, breached: [] }]]) }));
    const clock = new SlaClock(86_400);
    await newStore(clock).load();
    expect(fault.hits()).toBe(2);
    expect(errors.map((e) => e.statusCode)).toEqual([503, 503]);
    expect(clock.get(A, 'CVE-1')?.firstSeen).toBe(7);
  });
});
