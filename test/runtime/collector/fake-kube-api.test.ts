/**
 * The Kubernetes API fake against the real @kubernetes/client-node: the semantics the collector
 * (and the exporter and end-to-end tests) rely on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi, INITIAL_EVENTS_END, type KubeObject } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import { waitFor } from './harness.ts';

let api: FakeKubeApi;
let kc: KubeConfig;
let core: CoreV1Api;
let dir: string;

beforeAll(async () => {
  api = await FakeKubeApi.start();
  dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(dir));
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => api.clearFaults());

const cm = (name: string, data: Record<string, string>, namespace = 'ns'): KubeObject => ({
  metadata: { name, namespace, labels: { app: name } },
  data,
});

interface Event {
  type: string;
  name: string | undefined;
  rv: string | undefined;
  code?: number;
  initialEventsEnd?: string;
}

function startWatch(
  path: string,
  query: Record<string, string>,
): { events: Event[]; done: Promise<unknown>; controller: Promise<AbortController> } {
  const events: Event[] = [];
  let resolveDone: (value: unknown) => void = () => {};
  const done = new Promise((resolve) => (resolveDone = resolve));
  const controller = new Watch(kc).watch(
    path,
    query,
    (
      type,
      obj: {
        metadata?: {
          name?: string;
          resourceVersion?: string;
          annotations?: Record<string, string>;
        };
        code?: number;
      },
    ) => {
      const end = obj.metadata?.annotations?.[INITIAL_EVENTS_END];
      events.push({
        type,
        name: obj.metadata?.name,
        rv: obj.metadata?.resourceVersion,
        ...(obj.code !== undefined && { code: obj.code }),
        ...(end !== undefined && { initialEventsEnd: end }),
      });
    },
    (err) => resolveDone(err),
  );
  return { events, done, controller };
}

describe('FakeKubeApi with @kubernetes/client-node', () => {
  it('creates, reads, lists with selectors and paginates over a consistent snapshot', async () => {
    for (let i = 0; i < 5; i++)
      api.create('configmaps', cm(`page-${i}`, { i: String(i) }, 'paging'));
    api.create('configmaps', cm('other', {}, 'elsewhere'));
    const read = await core.readNamespacedConfigMap({ name: 'page-3', namespace: 'paging' });
    expect(read.data).toEqual({ i: '3' });
    expect(read.metadata?.resourceVersion).toMatch(/^\d+$/);

    const first = await core.listNamespacedConfigMap({ namespace: 'paging', limit: 2 });
    expect(first.items.map((c) => c.metadata?.name)).toEqual(['page-0', 'page-1']);
    expect(first.metadata?._continue).toBeTruthy();
    api.create('configmaps', cm('page-9', {}, 'paging')); // not in the snapshot being paged
    const second = await core.listNamespacedConfigMap({
      namespace: 'paging',
      limit: 2,
      _continue: first.metadata!._continue!,
    });
    const third = await core.listNamespacedConfigMap({
      namespace: 'paging',
      limit: 2,
      _continue: second.metadata!._continue!,
    });
    expect([...second.items, ...third.items].map((c) => c.metadata?.name)).toEqual([
      'page-2',
      'page-3',
      'page-4',
    ]);
    expect(third.metadata?._continue).toBeFalsy();
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);

    const byName = await core.listNamespacedConfigMap({
      namespace: 'paging',
      fieldSelector: 'metadata.name=page-4',
    });
    expect(byName.items.map((c) => c.metadata?.name)).toEqual(['page-4']);
    const byLabel = await core.listConfigMapForAllNamespaces({
      labelSelector: 'app in (other,page-1)',
    });
    expect(byLabel.items.map((c) => c.metadata?.name).sort()).toEqual(['other', 'page-1']);
    const notLabel = await core.listNamespacedConfigMap({
      namespace: 'paging',
      labelSelector: 'app!=page-0,app',
    });
    expect(notLabel.items).toHaveLength(5);
  });

  it('expires continue tokens with 410 Gone after compaction', async () => {
    for (let i = 0; i < 3; i++) api.create('configmaps', cm(`exp-${i}`, {}, 'expiry'));
    const first = await core.listNamespacedConfigMap({ namespace: 'expiry', limit: 1 });
    api.expireWatches('configmaps');
    await expect(
      core.listNamespacedConfigMap({
        namespace: 'expiry',
        limit: 1,
        _continue: first.metadata!._continue!,
      }),
    ).rejects.toMatchObject({ code: 410 });
  });

  it('enforces resourceVersion preconditions on update and merge patch (409), and applies merge and JSON patches', async () => {
    api.create('configmaps', cm('cas', { a: '1', b: '2' }));
    const current = await core.readNamespacedConfigMap({ name: 'cas', namespace: 'ns' });
    const patched = await core.patchNamespacedConfigMap(
      {
        name: 'cas',
        namespace: 'ns',
        body: {
          metadata: { resourceVersion: current.metadata!.resourceVersion },
          data: { a: null, c: '3' },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.data).toEqual({ b: '2', c: '3' });
    await expect(
      core.patchNamespacedConfigMap(
        {
          name: 'cas',
          namespace: 'ns',
          body: {
            metadata: { resourceVersion: current.metadata!.resourceVersion },
            data: { d: '4' },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    ).rejects.toMatchObject({ code: 409 });
    const stale: V1ConfigMap = { ...current, data: { z: '0' } };
    await expect(
      core.replaceNamespacedConfigMap({ name: 'cas', namespace: 'ns', body: stale }),
    ).rejects.toMatchObject({ code: 409 });
    const json = await core.patchNamespacedConfigMap(
      {
        name: 'cas',
        namespace: 'ns',
        body: [
          { op: 'add', path: '/data/e', value: '5' },
          { op: 'remove', path: '/data/b' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(json.data).toEqual({ c: '3', e: '5' });
    await expect(
      core.createNamespacedConfigMap({ namespace: 'ns', body: { metadata: { name: 'cas' } } }),
    ).rejects.toMatchObject({ code: 409 });
    await expect(
      core.readNamespacedConfigMap({ name: 'missing', namespace: 'ns' }),
    ).rejects.toMatchObject({ code: 404 });
    await core.deleteNamespacedConfigMap({ name: 'cas', namespace: 'ns' });
    expect(api.get('configmaps', 'ns', 'cas')).toBeUndefined();
  });

  it('streams watch events from a resourceVersion, honouring selectors', async () => {
    const start = api.resourceVersion;
    api.create('configmaps', cm('w-1', {}, 'watch'));
    api.create('configmaps', cm('w-2', {}, 'watch'));
    const watch = startWatch('/api/v1/namespaces/watch/configmaps', {
      resourceVersion: start,
      fieldSelector: 'metadata.name=w-1',
      allowWatchBookmarks: 'true',
    });
    await watch.controller;
    api.mergePatch('configmaps', 'watch', 'w-1', { data: { x: '1' } });
    api.mergePatch('configmaps', 'watch', 'w-2', { data: { x: '1' } });
    api.remove('configmaps', 'watch', 'w-1');
    api.bookmark('configmaps');
    await waitFor(() => watch.events.length >= 4, { what: 'four events' });
    expect(watch.events.map((e) => `${e.type}:${e.name ?? ''}`)).toEqual([
      'ADDED:w-1',
      'MODIFIED:w-1',
      'DELETED:w-1',
      'BOOKMARK:',
    ]);
    expect(watch.events.at(-1)?.rv).toBe(api.resourceVersion);
    (await watch.controller).abort();
  });

  it('serves watch-list: the collection as ADDED events, the initial-events-end bookmark at its resourceVersion, then the changes', async () => {
    api.create('configmaps', cm('wl-1', {}, 'wl'));
    api.create('configmaps', cm('wl-2', {}, 'wl'));
    const listRv = api.resourceVersion;
    const watch = startWatch('/api/v1/namespaces/wl/configmaps', {
      sendInitialEvents: 'true',
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: 'true',
    });
    await waitFor(() => watch.events.length >= 3, { what: 'initial events and bookmark' });
    api.remove('configmaps', 'wl', 'wl-1');
    await waitFor(() => watch.events.length >= 4, { what: 'the change after the bookmark' });
    expect(watch.events.map((e) => `${e.type}:${e.name ?? ''}`)).toEqual([
      'ADDED:wl-1',
      'ADDED:wl-2',
      'BOOKMARK:',
      'DELETED:wl-1',
    ]);
    expect(watch.events[2]).toMatchObject({ rv: listRv, initialEventsEnd: 'true' });
    (await watch.controller).abort();
  });

  it('rejects watch-list requests without NotOlderThan, or on a server without watch-list (422 Invalid)', async () => {
    const get = async (server: FakeKubeApi, query: string) => {
      const res = await fetch(`${server.url}/api/v1/pods?watch=true&${query}`);
      return {
        status: res.status,
        body: (await res.json()) as { reason?: string; message?: string },
      };
    };
    const noNotOlderThan = await get(api, 'sendInitialEvents=true&allowWatchBookmarks=true');
    expect(noNotOlderThan).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
    expect(noNotOlderThan.body.message).toContain('resourceVersionMatch');
    for (const options of [{ watchList: false }, { watchCache: false }]) {
      const old = await FakeKubeApi.start(options);
      try {
        const rejected = await get(
          old,
          'sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true',
        );
        expect(rejected).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
        expect(rejected.body.message).toContain('WatchList feature gate');
      } finally {
        await old.close();
      }
    }
  });

  it('answers resourceVersion=0 lists from its watch cache, ignoring limit; without a watch cache, in pages', async () => {
    for (let i = 0; i < 5; i++) api.create('configmaps', cm(`rv0-${i}`, {}, 'rv0'));
    const list = async (server: FakeKubeApi, query: string) =>
      (await (await fetch(`${server.url}/api/v1/namespaces/rv0/configmaps?${query}`)).json()) as {
        items: unknown[];
        metadata: { continue?: string };
      };
    const cached = await list(api, 'resourceVersion=0&limit=2');
    expect(cached.items).toHaveLength(5);
    expect(cached.metadata.continue).toBeUndefined();
    expect((await list(api, 'limit=2')).items).toHaveLength(2);
    const noCache = await FakeKubeApi.start({ watchCache: false });
    try {
      for (let i = 0; i < 5; i++) noCache.create('configmaps', cm(`rv0-${i}`, {}, 'rv0'));
      const paged = await list(noCache, 'resourceVersion=0&limit=2');
      expect(paged.items).toHaveLength(2);
      expect(paged.metadata.continue).toBeDefined();
      const rejected = await fetch(
        `${noCache.url}/api/v1/namespaces/rv0/configmaps?resourceVersion=0&limit=2&continue=${paged.metadata.continue!}`,
      );
      expect(rejected.status).toBe(400);
    } finally {
      await noCache.close();
    }
  });

  it('answers a watch from a compacted resourceVersion with an ERROR 410 event, or HTTP 410 when configured', async () => {
    api.create('configmaps', cm('old', {}, 'gone'));
    const old = api.resourceVersion;
    api.create('configmaps', cm('new', {}, 'gone'));
    api.expireWatches('configmaps');
    const asEvent = startWatch('/api/v1/namespaces/gone/configmaps', {
      resourceVersion: String(Number(old) - 1),
    });
    expect(await asEvent.done).toBeNull();
    expect(asEvent.events).toEqual([{ type: 'ERROR', name: undefined, rv: undefined, code: 410 }]);

    api.setExpiredWatchMode('http');
    try {
      const asHttp = startWatch('/api/v1/namespaces/gone/configmaps', {
        resourceVersion: String(Number(old) - 1),
      });
      expect(await asHttp.done).toMatchObject({ statusCode: 410 });
    } finally {
      api.setExpiredWatchMode('event');
    }
  });

  it('ends open watches with ERROR 410 on expireWatches, and closes them on dropWatches and timeoutSeconds', async () => {
    const expiring = startWatch('/api/v1/namespaces/live/configmaps', {
      resourceVersion: api.resourceVersion,
    });
    await expiring.controller;
    await waitFor(() => api.openWatches('configmaps') >= 1, { what: 'open watch' });
    api.expireWatches('configmaps');
    expect(await expiring.done).toBeNull();
    expect(expiring.events.map((e) => e.code)).toEqual([410]);

    const dropped = startWatch('/api/v1/namespaces/live/configmaps', {
      resourceVersion: api.resourceVersion,
    });
    await dropped.controller;
    api.dropWatches('configmaps');
    await dropped.done;
    expect(api.openWatches('configmaps')).toBe(0);

    const timed = startWatch('/api/v1/namespaces/live/configmaps', {
      resourceVersion: api.resourceVersion,
      timeoutSeconds: '1',
    });
    expect(await timed.done).toBeNull();
  });

  it('injects HTTP errors and dropped connections per resource and verb', async () => {
    const fault = api.injectFault({
      resource: 'configmaps',
      verbs: ['list'],
      status: 503,
      times: 1,
    });
    await expect(core.listNamespacedConfigMap({ namespace: 'ns' })).rejects.toMatchObject({
      code: 503,
    });
    await expect(core.listNamespacedConfigMap({ namespace: 'ns' })).resolves.toBeDefined();
    expect(fault.hits()).toBe(1);
    api.injectFault({ resource: 'pods', drop: true });
    await expect(core.listNamespacedPod({ namespace: 'ns' })).rejects.toThrow();
    await expect(core.listNamespacedConfigMap({ namespace: 'ns' })).resolves.toBeDefined();
  });

  it('refuses connections between stopListening and resumeListening, keeping its state', async () => {
    api.create(
      'pods',
      fx.pod({
        namespace: 'down',
        name: 'p',
        containers: [{ name: 'c', image: 'nginx', imageID: `nginx@${fx.digestOf('p')}` }],
      }),
    );
    await api.stopListening();
    await expect(core.listNamespacedPod({ namespace: 'down' })).rejects.toThrow();
    await api.resumeListening();
    const pods = await core.listNamespacedPod({ namespace: 'down' });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual(['p']);
  });

  it('deletes every object of a namespace as DELETED events', async () => {
    api.create('pods', fx.pod({ namespace: 'doomed', name: 'a', containers: [] }));
    api.create('configmaps', cm('b', {}, 'doomed'));
    const watch = startWatch('/api/v1/namespaces/doomed/pods', {
      resourceVersion: api.resourceVersion,
    });
    await watch.controller;
    expect(api.deleteNamespace('doomed')).toBe(2);
    await waitFor(() => watch.events.length === 1, { what: 'delete event' });
    expect(watch.events[0]).toMatchObject({ type: 'DELETED', name: 'a' });
    expect(api.list('configmaps', 'doomed')).toEqual([]);
    (await watch.controller).abort();
  });

  it('serves discovery for registered resources', async () => {
    const res = await fetch(`${api.url}/apis/aquasecurity.github.io/v1alpha1`);
    const body = (await res.json()) as { resources: { name: string; namespaced: boolean }[] };
    expect(body.resources).toEqual([
      expect.objectContaining({ name: 'vulnerabilityreports', namespaced: true }),
    ]);
  });
});
