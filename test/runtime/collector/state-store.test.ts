/**
 * The persisted SLA clock (in-process StateStore with the real client-node against the API fake,
 * which refuses ConfigMaps over 1 MiB like the API server): shards created on the first write and
 * read back by name, merge patches of changed keys only, resourceVersion conflicts resolved by merging
 * (earliest first-seen, united breaches), re-creation after a deletion, retries after API errors,
 * the migration of the unsharded ConfigMap of earlier versions, and 5,000 images x 60 CVEs
 * persisted and reloaded by a new store (a collector restart).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CONFIGMAPS,
  PIPELINE_LABEL,
  STATE_SHARD_LABEL,
  STATE_SHARDS,
  stateShardName,
} from '../../../src/shared/contract.ts';
import type { KubeApiError } from '../../../runtime/collector/kube/errors.ts';
import { KubeClient } from '../../../runtime/collector/kube/kube-client.ts';
import { jsonLogger } from '../../../runtime/collector/log.ts';
import { SlaClock } from '../../../runtime/collector/sla-clock.ts';
import {
  decodeImageClock,
  encodeImageClock,
  stateKey,
  stateShardOf,
  type CveClock,
} from '../../../runtime/collector/state-format.ts';
import { StateStore } from '../../../runtime/collector/state-store.ts';
import { CONFIGMAP_MAX_BYTES, FakeKubeApi, type KubeObject } from '../../support/fake-kube-api.ts';
import { FLEET_NAMESPACE } from './fixtures.ts';
import { waitFor } from './harness.ts';

const A = 'registry.example.com/a';

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

const BASE = CONFIGMAPS.collectorState;
const shardOf = (image: string) => stateShardName(BASE, stateShardOf(image));
/** Two images in different shards (A and B), and one in A's shard. */
const B = [...Array(200).keys()]
  .map((i) => `registry.example.com/b${i}`)
  .find((image) => stateShardOf(image) !== stateShardOf(A))!;
const A2 = [...Array(200).keys()]
  .map((i) => `registry.example.com/a${i}`)
  .find((image) => stateShardOf(image) === stateShardOf(A))!;

function dataOf(name: string): Record<string, string> | undefined {
  return api.get('configmaps', FLEET_NAMESPACE, name)?.data as Record<string, string> | undefined;
}

function stored(image: string): Map<string, CveClock> | undefined {
  const value = dataOf(shardOf(image))?.[stateKey(image)];
  return value === undefined ? undefined : decodeImageClock(value)?.cves;
}

function stateData(entries: Record<string, Map<string, CveClock>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(entries).map(([image, cves]) => [
      stateKey(image),
      encodeImageClock(image, cves),
    ]),
  );
}

/** The unsharded ConfigMap of earlier versions. */
function legacyConfigMap(entries: Record<string, Map<string, CveClock>>): KubeObject {
  return { metadata: { name: BASE, namespace: FLEET_NAMESPACE }, data: stateData(entries) };
}

/** A shard as the collector writes it. */
function shardConfigMap(index: number, entries: Record<string, Map<string, CveClock>>): KubeObject {
  return {
    metadata: {
      name: stateShardName(BASE, index),
      namespace: FLEET_NAMESPACE,
      labels: { [STATE_SHARD_LABEL]: String(index) },
    },
    data: stateData(entries),
  };
}

const clockOf = (firstSeen: number, breached: number[] = []): CveClock => ({
  firstSeen,
  goneSince: 0,
  breached,
});

describe('StateStore', () => {
  it("loads nothing when no shard exists, then creates the image's shard (labelled) on the first write", async () => {
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    expect(clock.loaded).toBe(true);
    clock.observe(A, new Set(['CVE-1']), true, 1000);
    await s.flush();
    const cm = api.get('configmaps', FLEET_NAMESPACE, shardOf(A))!;
    expect(cm.metadata.labels).toEqual({
      [PIPELINE_LABEL.key]: PIPELINE_LABEL.value,
      [STATE_SHARD_LABEL]: String(stateShardOf(A)),
    });
    expect(stored(A)).toEqual(new Map([['CVE-1', clockOf(1000)]]));
    // Only that shard exists: shards are created when they get their first entry.
    expect(api.list('configmaps', FLEET_NAMESPACE).map((o) => o.metadata.name)).toEqual([
      shardOf(A),
    ]);
  });

  it('spreads images over the shards by a hash of the image, every shard index in use', () => {
    const counts = new Array<number>(STATE_SHARDS).fill(0);
    for (let i = 0; i < 5000; i++)
      counts[stateShardOf(`registry.example.com/team${i % 50}/app-${i}`)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(5000 / STATE_SHARDS / 2);
    expect(Math.max(...counts)).toBeLessThan((5000 / STATE_SHARDS) * 1.5);
    expect(stateShardOf(A)).toBe(stateShardOf(A));
  });

  it('loads entries from the shards, skips keys it does not own, and writes only changed keys (null deletes)', async () => {
    api.create(
      'configmaps',
      shardConfigMap(stateShardOf(A), {
        [A]: new Map([['CVE-1', clockOf(10, [24])]]),
        [A2]: new Map([['CVE-4', clockOf(40)]]),
      }),
    );
    api.create(
      'configmaps',
      shardConfigMap(stateShardOf(B), { [B]: new Map([['CVE-2', clockOf(20)]]) }),
    );
    api.mergePatch('configmaps', FLEET_NAMESPACE, shardOf(A), {
      data: { 'notes.txt': 'left by a human' },
    });
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    expect(clock.get(A, 'CVE-1')).toEqual(clockOf(10, [24]));
    expect(clock.get(B, 'CVE-2')).toEqual(clockOf(20));
    expect(logs.find((l) => l.msg === 'state loaded')).toMatchObject({
      shards: 2,
      images: 3,
      skippedKeys: 1,
      migratedImages: 0,
    });
    const before = api.requests.length;
    clock.forget(B);
    clock.observe(A, new Set(['CVE-1', 'CVE-3']), true, 30);
    await s.flush();
    const patches = api.requests.slice(before).filter((r) => r.verb === 'patch');
    expect(patches.map((r) => r.path.split('/').pop()).sort()).toEqual(
      [shardOf(A), shardOf(B)].sort(),
    );
    expect(Object.keys(dataOf(shardOf(A))!).sort()).toEqual(
      ['notes.txt', stateKey(A), stateKey(A2)].sort(),
    );
    expect(dataOf(shardOf(B))).toEqual({});
    expect(stored(A)?.get('CVE-3')).toEqual(clockOf(30));
    expect(stored(A2)?.get('CVE-4')).toEqual(clockOf(40));
  });

  it("resolves a resourceVersion conflict by merging the other writer's entries", async () => {
    api.create(
      'configmaps',
      shardConfigMap(stateShardOf(A), { [A]: new Map([['CVE-1', clockOf(100)]]) }),
    );
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    // Another writer (an old replica, a human) changes the shard after our read.
    api.update(
      'configmaps',
      shardConfigMap(stateShardOf(A), {
        [A]: new Map([['CVE-1', clockOf(50, [168])]]),
        [A2]: new Map([['CVE-9', clockOf(5)]]),
      }),
    );
    clock.markBreached(A, 'CVE-1', 24);
    await s.flush();
    expect(logs.some((l) => l.msg === 'state write conflict')).toBe(true);
    expect(stored(A)?.get('CVE-1')).toEqual(clockOf(50, [24, 168]));
    expect(clock.get(A, 'CVE-1')?.firstSeen).toBe(50);
    expect(stored(A2)?.get('CVE-9')?.firstSeen).toBe(5); // not ours to change
    expect(errors).toEqual([]);
  });

  it('re-creates a shard deleted behind its back with everything it holds for it', async () => {
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    clock.observe(A, new Set(['CVE-1']), true, 1);
    clock.observe(A2, new Set(['CVE-2']), true, 2);
    clock.observe(B, new Set(['CVE-5']), true, 2);
    await s.flush();
    api.remove('configmaps', FLEET_NAMESPACE, shardOf(A));
    clock.observe(A, new Set(['CVE-1', 'CVE-3']), true, 3);
    await s.flush();
    expect(stored(A)?.size).toBe(2);
    expect(stored(A2)?.get('CVE-2')?.firstSeen).toBe(2);
    expect(stored(B)?.get('CVE-5')?.firstSeen).toBe(2);
  });

  it('keeps changes pending through API errors and writes them once the API answers', async () => {
    const clock = new SlaClock(86_400);
    const s = newStore(clock, 10);
    await s.load();
    const fault = api.injectFault({
      resource: 'configmaps',
      verbs: ['create', 'patch'],
      status: 500,
    });
    clock.observe(A, new Set(['CVE-1']), true, 1);
    s.schedule();
    await waitFor(() => errors.length >= 2, { what: 'failed writes' });
    expect(errors[0]?.statusCode).toBe(500);
    fault.clear();
    await waitFor(() => stored(A)?.has('CVE-1'), { what: 'written after recovery' });
  });

  it('retries the start-up read until the API answers', async () => {
    const fault = api.injectFault({
      resource: 'configmaps',
      verbs: ['get'],
      status: 503,
      times: 2,
    });
    api.create(
      'configmaps',
      shardConfigMap(stateShardOf(A), { [A]: new Map([['CVE-1', clockOf(7)]]) }),
    );
    const clock = new SlaClock(86_400);
    await newStore(clock).load();
    expect(fault.hits()).toBe(2);
    // Shards are read a few at once: both failures may fall into one attempt.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(new Set(errors.map((e) => e.statusCode))).toEqual(new Set([503]));
    expect(clock.get(A, 'CVE-1')?.firstSeen).toBe(7);
  });
});

describe('migration of the unsharded ConfigMap', () => {
  it('moves every entry to its shard, keeps every first-seen time and counted breach, then empties the old ConfigMap', async () => {
    api.create(
      'configmaps',
      legacyConfigMap({
        [A]: new Map([
          ['CVE-1', clockOf(11, [24])],
          ['CVE-2', clockOf(12)],
        ]),
        [B]: new Map([['CVE-3', clockOf(13)]]),
      }),
    );
    api.mergePatch('configmaps', FLEET_NAMESPACE, BASE, {
      data: { 'notes.txt': 'left by a human' },
    });
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    expect(clock.get(A, 'CVE-1')).toEqual(clockOf(11, [24]));
    expect(logs.find((l) => l.msg === 'state loaded')).toMatchObject({
      shards: 0,
      images: 2,
      migratedImages: 2,
    });
    // The load schedules the migration at once, without waiting for a clock change.
    await waitFor(() => logs.some((l) => l.msg === 'state migrated'), { what: 'migration' });
    expect(stored(A)).toEqual(
      new Map([
        ['CVE-1', clockOf(11, [24])],
        ['CVE-2', clockOf(12)],
      ]),
    );
    expect(stored(B)).toEqual(new Map([['CVE-3', clockOf(13)]]));
    expect(dataOf(BASE)).toEqual({ 'notes.txt': 'left by a human' });

    // A restarted collector reads the shards only.
    s.stop();
    const again = new SlaClock(86_400);
    await newStore(again).load();
    expect(again.get(A, 'CVE-1')).toEqual(clockOf(11, [24]));
    expect(again.get(B, 'CVE-3')).toEqual(clockOf(13));
  });

  it('deletes no old key before its entries are in their shard: a failed shard write leaves the old ConfigMap whole', async () => {
    api.create(
      'configmaps',
      legacyConfigMap({
        [A]: new Map([['CVE-1', clockOf(21)]]),
        [B]: new Map([['CVE-2', clockOf(22)]]),
      }),
    );
    const fault = api.injectFault({ resource: 'configmaps', verbs: ['create'], status: 500 });
    const clock = new SlaClock(86_400);
    const s = newStore(clock, 10);
    await s.load();
    await waitFor(() => errors.length >= 1, { what: 'failed shard write' });
    s.stop(); // the collector dies during the migration
    expect(Object.keys(dataOf(BASE)!).sort()).toEqual([stateKey(A), stateKey(B)].sort());
    fault.clear();
    const again = new SlaClock(86_400);
    const restarted = newStore(again, 10);
    await restarted.load();
    await waitFor(() => logs.some((l) => l.msg === 'state migrated'), {
      what: 'migration after the restart',
    });
    expect(stored(A)?.get('CVE-1')?.firstSeen).toBe(21);
    expect(stored(B)?.get('CVE-2')?.firstSeen).toBe(22);
    expect(dataOf(BASE)).toEqual({});
  });

  it("prefers the image's own shard over an old key left by an interrupted migration", async () => {
    // The shard was written (and changed since: CVE-1 was forgotten and seen again at 500), the old key not yet deleted.
    api.create(
      'configmaps',
      legacyConfigMap({
        [A]: new Map([['CVE-1', clockOf(31)]]),
        [B]: new Map([['CVE-2', clockOf(32)]]),
      }),
    );
    api.create(
      'configmaps',
      shardConfigMap(stateShardOf(A), { [A]: new Map([['CVE-1', clockOf(500)]]) }),
    );
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    expect(clock.get(A, 'CVE-1')?.firstSeen).toBe(500);
    expect(clock.get(B, 'CVE-2')?.firstSeen).toBe(32);
    await waitFor(() => logs.some((l) => l.msg === 'state migrated'), { what: 'migration' });
    expect(stored(B)?.get('CVE-2')?.firstSeen).toBe(32);
    expect(dataOf(BASE)).toEqual({});
  });
});

describe('at 5,000 images x 60 CVEs', () => {
  const IMAGES = 5000;
  const CVES = 60;
  const image = (i: number) => `registry.example.com/team-${i % 40}/service-${i}`;
  const cve = (j: number) => `CVE-2025-${String(10000 + j * 7)}`;
  const firstSeen = (i: number, j: number) => 1_750_000_000 + i * 100 + j;

  it('is more than one ConfigMap can hold', () => {
    const data: Record<string, string> = {};
    for (let i = 0; i < IMAGES; i++)
      data[stateKey(image(i))] = encodeImageClock(
        image(i),
        new Map(
          [...Array(CVES).keys()].map((j) => [
            cve(j),
            clockOf(firstSeen(i, j), j % 5 === 0 ? [24] : []),
          ]),
        ),
      );
    const bytes = Object.entries(data).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    expect(bytes).toBeGreaterThan(CONFIGMAP_MAX_BYTES);
    expect(() =>
      api.create('configmaps', { metadata: { name: BASE, namespace: FLEET_NAMESPACE }, data }),
    ).toThrow(/at most 1048576 bytes/);
  });

  it('persists every entry, each shard under half of the 1 MiB limit, and a new store (a collector restart) reloads every one', async () => {
    const clock = new SlaClock(86_400);
    const s = newStore(clock);
    await s.load();
    for (let i = 0; i < IMAGES; i++) {
      for (let j = 0; j < CVES; j++)
        clock.observe(image(i), new Set([cve(j)]), false, firstSeen(i, j));
      clock.markBreached(image(i), cve(0), 24);
    }
    expect(clock.size).toBe(IMAGES * CVES);
    await s.flush();
    expect(errors).toEqual([]);
    const shards = api.list('configmaps', FLEET_NAMESPACE);
    expect(shards).toHaveLength(STATE_SHARDS);
    for (const shard of shards) {
      const bytes = Object.entries(shard.data as Record<string, string>).reduce(
        (sum, [k, v]) => sum + k.length + v.length,
        0,
      );
      expect(bytes, shard.metadata.name).toBeLessThan(CONFIGMAP_MAX_BYTES / 2);
    }
    s.stop();

    const restarted = new SlaClock(86_400);
    await newStore(restarted).load();
    expect(restarted.size).toBe(IMAGES * CVES);
    for (let i = 0; i < IMAGES; i++) {
      for (let j = 0; j < CVES; j++) {
        const entry = restarted.get(image(i), cve(j));
        if (entry?.firstSeen !== firstSeen(i, j) || entry.breached.length !== (j === 0 ? 1 : 0))
          expect.fail(`${image(i)} ${cve(j)}: ${JSON.stringify(entry)}`);
      }
    }
  }, 60_000);
});
