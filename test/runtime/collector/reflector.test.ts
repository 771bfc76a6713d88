/**
 * The collector's list+watch reflector (in-process, real client-node KubeConfig against the API
 * fake), against each kind of server: one with watch-list (the initial sync is one watch), one
 * without (a `resourceVersion=0` list from the watch cache, streamed), one without a watch cache
 * (the list in pages). On each: watch events, re-list on 410 Gone as a diff (a delete missed
 * during the gap is applied once, unchanged objects are not replayed), restart from the last
 * resourceVersion after a dropped connection (no re-list), and backoff on API errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COLLECTOR_RESOURCES, type CollectorResource } from '../../../src/shared/metrics.ts';
import { KubeClient } from '../../../runtime/collector/kube/kube-client.ts';
import type { KubeApiError } from '../../../runtime/collector/kube/errors.ts';
import {
  Reflector,
  type ListPath,
  type ReflectorHealth,
  type WatchEndReason,
} from '../../../runtime/collector/kube/reflector.ts';
import { jsonLogger } from '../../../runtime/collector/log.ts';
import { projectPod, type PodView } from '../../../runtime/collector/projections.ts';
import { FakeKubeApi, type FakeKubeApiOptions } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import { waitFor } from './harness.ts';

class Recorder implements ReflectorHealth {
  readonly log: string[] = [];
  readonly errors: KubeApiError[] = [];
  readonly restarts: WatchEndReason[] = [];
  readonly items = new Map<string, PodView>();
  lists = 0;
  synced = false;

  apiError(_resource: CollectorResource, error: KubeApiError): void {
    this.errors.push(error);
  }
  watchRestart(_resource: CollectorResource, reason: WatchEndReason): void {
    this.restarts.push(reason);
  }
  syncedChanged(_resource: CollectorResource, synced: boolean): void {
    this.synced = synced;
  }
  readonly sink = {
    upsert: (key: string, value: PodView) => {
      this.log.push(
        `upsert ${key} ${value.containers.map((c) => c.digest.slice(7, 11)).join(',')}`,
      );
      this.items.set(key, value);
    },
    remove: (key: string) => {
      this.log.push(`remove ${key}`);
      this.items.delete(key);
    },
    listed: () => this.lists++,
  };
}

const pod = (name: string, digestSeed: string, namespace = 'shop') =>
  fx.pod({
    namespace,
    name,
    containers: [
      {
        name: 'app',
        image: 'registry.example.com/app:1',
        imageID: `registry.example.com/app@${fx.digestOf(digestSeed)}`,
      },
    ],
  });
const short = (seed: string) => fx.digestOf(seed).slice(7, 11);

let api: FakeKubeApi;
let dir: string;
let reflector: Reflector<PodView> | undefined;
/** The reflector's log lines (parsed). */
let logs: Record<string, unknown>[] = [];

afterEach(async () => {
  await reflector?.stop();
  reflector = undefined;
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

interface ServerKind {
  readonly name: string;
  readonly options: FakeKubeApiOptions;
  readonly path: ListPath;
  /** Requests that read the whole collection, for 5 pods in pages of 2. */
  readonly syncRequests: number;
}

const SERVERS: readonly ServerKind[] = [
  { name: 'a server with watch-list', options: {}, path: 'watch-list', syncRequests: 1 },
  {
    name: 'a server without watch-list',
    options: { watchList: false },
    path: 'cache-list',
    syncRequests: 1,
  },
  {
    name: 'a server without a watch cache',
    options: { watchCache: false },
    path: 'paginated',
    syncRequests: 3,
  },
];

/** Requests that read the whole collection: watch-list watches, and lists. */
const syncRequests = () =>
  api.requests.filter(
    (q) =>
      q.resource === 'pods' &&
      q.status === 200 &&
      (q.verb === 'list' || q.query.sendInitialEvents === 'true'),
  ).length;
const syncedPaths = () =>
  logs.filter((l) => l.msg === 'synced' || l.msg === 'relisted').map((l) => l.path);

function start(recorder: Recorder): Reflector<PodView> {
  const kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(dir));
  reflector = new Reflector(
    new KubeClient(kc),
    {
      resource: COLLECTOR_RESOURCES.pods,
      path: '/api/v1/pods',
      pageSize: 2,
      project: (o) => projectPod(o, fx.FLEET_NAMESPACE),
    },
    recorder.sink,
    recorder,
    { watchTimeoutSeconds: 300, backoffInitialMs: 20, backoffMaxMs: 100 },
    jsonLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
  );
  reflector.start();
  return reflector;
}

describe.each(SERVERS)('Reflector against $name', (server) => {
  beforeEach(async () => {
    api = await FakeKubeApi.start(server.options);
    dir = mkdtempSync(join(tmpdir(), 'reflector-'));
    logs = [];
  });

  it(`syncs by ${server.path}, then applies watch events in order`, async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) api.create('pods', pod(name, name));
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => reflector.isCurrent, { what: 'watch established' });
    expect(syncRequests()).toBe(server.syncRequests);
    expect(syncedPaths()).toEqual([server.path]);
    expect(r.lists).toBe(1);
    expect(r.log).toEqual(['a', 'b', 'c', 'd', 'e'].map((n) => `upsert shop/${n} ${short(n)}`));
    r.log.length = 0;
    api.update('pods', pod('a', 'a2'));
    api.remove('pods', 'shop', 'b');
    api.create('pods', pod('f', 'f', 'other'));
    await waitFor(() => r.log.length === 3, { what: 'three events' });
    expect(r.log).toEqual([
      `upsert shop/a ${short('a2')}`,
      'remove shop/b',
      `upsert other/f ${short('f')}`,
    ]);
  });

  it('re-lists after an expired watch (ERROR 410) as a diff: missed deletes applied once, unchanged objects not replayed', async () => {
    for (const name of ['a', 'b', 'c']) api.create('pods', pod(name, name));
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => reflector.isCurrent, { what: 'watch established' });
    // Keep the watch from reconnecting while the world changes, then compact the history.
    const blocked = api.injectFault({ resource: 'pods', verbs: ['watch'], status: 500 });
    api.dropWatches('pods');
    await waitFor(() => blocked.hits() >= 1, { what: 'a refused watch' });
    api.remove('pods', 'shop', 'b');
    api.update('pods', pod('c', 'c2'));
    api.expireWatches('pods');
    r.log.length = 0;
    blocked.clear();
    await waitFor(() => r.lists === 2 && reflector.isCurrent, { what: 're-list' });
    // (Without a watch cache, the 2 pods left fit one page: no longer `paginated`.)
    expect(syncedPaths()).toEqual(
      server.path === 'paginated' ? ['paginated', 'cache-list'] : [server.path, server.path],
    );
    expect(r.log).toEqual([`upsert shop/c ${short('c2')}`, 'remove shop/b']);
    expect([...r.items.keys()].sort()).toEqual(['shop/a', 'shop/c']);
    expect(r.restarts).toContain('expired');
    expect(r.errors.length).toBeGreaterThanOrEqual(1);
  });

  it('re-lists when the watch request itself answers HTTP 410', async () => {
    api.setExpiredWatchMode('http');
    api.create('pods', pod('a', 'a'));
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => reflector.isCurrent, { what: 'watch established' });
    const blocked = api.injectFault({ resource: 'pods', verbs: ['watch'], drop: true });
    api.dropWatches('pods');
    await waitFor(() => blocked.hits() >= 1, { what: 'a dropped watch' });
    api.remove('pods', 'shop', 'a');
    api.expireWatches('pods');
    blocked.clear();
    await waitFor(() => r.lists === 2 && r.items.size === 0, {
      what: 're-list without the deleted pod',
    });
    expect(r.log.filter((l) => l === 'remove shop/a')).toHaveLength(1);
  });

  it('resumes a dropped watch from its last resourceVersion without re-listing', async () => {
    api.create('pods', pod('a', 'a'));
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => reflector.isCurrent, { what: 'watch established' });
    api.dropWatches('pods', 'end');
    api.update('pods', pod('a', 'a2'));
    await waitFor(() => r.log.includes(`upsert shop/a ${short('a2')}`), {
      what: 'the change after the drop',
    });
    expect(syncRequests()).toBe(1);
    expect(api.countRequests('watch', 'pods')).toBeGreaterThanOrEqual(2);
    expect(r.restarts).toContain('closed');
  });

  it('backs off and retries on API errors, keeping what it holds, and recovers', async () => {
    api.create('pods', pod('a', 'a'));
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => reflector.isCurrent, { what: 'watch established' });
    const outage = api.injectFault({ resource: 'pods', status: 500 });
    api.dropWatches('pods');
    // The dropped stream, then refused attempts with backoff.
    await waitFor(() => r.errors.filter((e) => e.statusCode === 500).length >= 3, {
      what: 'three failed attempts',
    });
    expect(reflector.isCurrent).toBe(false);
    expect(r.synced).toBe(false);
    expect([...r.items.keys()]).toEqual(['shop/a']);
    outage.clear();
    api.create('pods', pod('b', 'b'));
    await waitFor(() => reflector.isCurrent && r.items.has('shop/b'), { what: 'recovery' });
    expect(r.synced).toBe(true);
  });

  it('treats an in-stream ERROR other than 410 as an API error and restarts the watch', async () => {
    api.create('pods', pod('a', 'a'));
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => reflector.isCurrent, { what: 'watch established' });
    const watchesBefore = api.countRequests('watch', 'pods');
    // A Status event with code 500 on the open watch (as an overloaded API server sends).
    (api as unknown as { watches: Set<{ res: { write(s: string): void } }> }).watches.forEach((w) =>
      w.res.write(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcdserver: request timed out' } })}\n`,
      ),
    );
    await waitFor(
      () =>
        r.errors.some((e) => e.statusCode === 500) &&
        api.countRequests('watch', 'pods') > watchesBefore,
      { what: 'watch restarted after the error' },
    );
    expect(syncRequests()).toBe(1);
    expect(r.errors.find((e) => e.statusCode === 500)?.message).toContain(
      'etcdserver: request timed out',
    );
  });
});

describe('Reflector initial sync by watch-list', () => {
  // Slow enough that the test acts while the initial events are on their way (1 MB chunks).
  const slowCache = { etcdMsPerMb: 0, cacheMsPerMb: 400 };
  // About 3 MB of Pods: three chunks.
  const PODS = 4000;
  const manyPods = () =>
    api.load(
      'pods',
      Array.from({ length: PODS }, (_, i) => pod(`p-${i}`, 'old')),
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflector-'));
    logs = [];
  });

  it('applies a change made during the initial events after them, once, and lists nothing', async () => {
    api = await FakeKubeApi.start({ cost: slowCache });
    manyPods();
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => api.openWatches('pods') === 1, { what: 'watch-list open' });
    api.update('pods', pod('p-7', 'new'));
    await waitFor(
      () =>
        reflector.isCurrent &&
        r.items.get('shop/p-7')?.containers[0]?.digest === fx.digestOf('new'),
      { what: 'the change applied' },
    );
    expect(r.log.filter((l) => l.startsWith('upsert shop/p-7 '))).toEqual([
      `upsert shop/p-7 ${short('old')}`,
      `upsert shop/p-7 ${short('new')}`,
    ]);
    expect(r.items.size).toBe(PODS);
    expect(r.lists).toBe(1);
    expect(api.countRequests('list', 'pods')).toBe(0);
    expect(syncedPaths()).toEqual(['watch-list']);
  });

  it('does not count a stream cut before the initial-events-end bookmark as synced: it retries from scratch', async () => {
    api = await FakeKubeApi.start({ cost: slowCache });
    manyPods();
    const r = new Recorder();
    const reflector = start(r);
    await waitFor(() => r.items.size > 0, { what: 'first initial events' });
    api.dropWatches('pods');
    expect(reflector.hasSynced).toBe(false);
    await waitFor(() => reflector.isCurrent, { what: 'synced on the second attempt' });
    expect(r.errors.length).toBeGreaterThanOrEqual(1);
    expect(r.lists).toBe(1);
    expect(r.items.size).toBe(PODS);
    expect(api.requests.filter((q) => q.query.sendInitialEvents === 'true')).toHaveLength(2);
  });

  it("logs a refused watch with the API's Status message and reason", async () => {
    api = await FakeKubeApi.start();
    const message =
      'pods is forbidden: User "system:serviceaccount:copa-fleet:collector" cannot watch resource "pods" in API group "" at the cluster scope';
    api.injectFault({
      resource: 'pods',
      verbs: ['watch'],
      status: 403,
      reason: 'Forbidden',
      message,
    });
    const r = new Recorder();
    start(r);
    await waitFor(() => logs.some((l) => l.msg === 'api error'), { what: 'the error logged' });
    expect(logs.find((l) => l.msg === 'api error')).toMatchObject({
      error: `watch /api/v1/pods: ${message}`,
      status: 403,
      reason: 'Forbidden',
    });
    expect(r.errors[0]?.reason).toBe('Forbidden');
  });
});
