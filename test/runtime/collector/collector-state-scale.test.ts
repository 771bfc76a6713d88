/**
 * The SLA clock at 5,000 images x 60 CVEs across a restart of the collector process (against the
 * API fake, which refuses ConfigMaps over 1 MiB like the API server): the state is preloaded into
 * the 32 shards, a collector loads it, changes every image (no container runs: every CVE is marked
 * gone) and writes it back on shutdown, and a second collector loads every entry with its
 * original first-seen time and counted breach.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGMAPS, STATE_SHARDS } from '../../../src/shared/contract.ts';
import { KubeClient } from '../../../runtime/collector/kube/kube-client.ts';
import { jsonLogger } from '../../../runtime/collector/log.ts';
import { SlaClock } from '../../../runtime/collector/sla-clock.ts';
import { decodeImageClock } from '../../../runtime/collector/state-format.ts';
import { StateStore } from '../../../runtime/collector/state-store.ts';
import { CONFIGMAP_MAX_BYTES, FakeKubeApi } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import { startCollector, waitFor } from './harness.ts';

const IMAGES = 5000;
const CVES = 60;
const image = (i: number) => `registry.example.com/team-${i % 40}/service-${i}`;
const cve = (j: number) => `CVE-2025-${String(10000 + j * 7)}`;
const BASE = Math.floor(Date.now() / 1000) - 3600;
const firstSeen = (i: number, j: number) => BASE - i - j;

let api: FakeKubeApi;
let dir: string;

beforeAll(async () => {
  api = await FakeKubeApi.start({ maxRequestLog: 2000 });
  dir = mkdtempSync(join(tmpdir(), 'state-scale-'));
  // Short team and patched tag: 5,000 entries with slaScope are within a hair of the 1 MiB ConfigMap limit.
  api.create(
    'configmaps',
    fx.inventoryConfigMap(
      Array.from({ length: IMAGES }, (_, i) =>
        fx.inventoryImage(image(i), `service-${i}`, { team: 't', patchedTag: 'p' }),
      ),
    ),
  );
  // Preload the shards the way the collector writes them.
  const kc = new KubeConfig();
  kc.loadFromFile(api.writeKubeconfig(dir));
  const clock = new SlaClock(86_400);
  const store = new StateStore({
    core: new KubeClient(kc).core,
    namespace: fx.FLEET_NAMESPACE,
    name: CONFIGMAPS.collectorState,
    clock,
    health: {
      apiError: (_r, e) => {
        throw e;
      },
    },
    log: jsonLogger({ write: () => undefined }),
    writeDelayMs: 60_000,
    backoffInitialMs: 50,
    backoffMaxMs: 100,
  });
  await store.load();
  for (let i = 0; i < IMAGES; i++) {
    for (let j = 0; j < CVES; j++)
      clock.observe(image(i), new Set([cve(j)]), false, firstSeen(i, j));
    clock.markBreached(image(i), cve(0), 24);
  }
  await store.flush();
  store.stop();
}, 60_000);

afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

function persisted(): Map<
  string,
  Map<string, { firstSeen: number; goneSince: number; breached: number[] }>
> {
  const all = new Map<
    string,
    Map<string, { firstSeen: number; goneSince: number; breached: number[] }>
  >();
  for (const cm of api
    .list('configmaps', fx.FLEET_NAMESPACE)
    .filter((o) => o.metadata.name?.startsWith(`${CONFIGMAPS.collectorState}-`))) {
    const data = cm.data as Record<string, string>;
    const bytes = Object.entries(data).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    expect(bytes, cm.metadata.name).toBeLessThan(CONFIGMAP_MAX_BYTES / 2);
    for (const value of Object.values(data)) {
      const decoded = decodeImageClock(value)!;
      all.set(decoded.image, decoded.cves);
    }
  }
  return all;
}

describe('the SLA clock at 5,000 images x 60 CVEs', () => {
  it('survives two collector restarts with every first-seen time and counted breach', async () => {
    expect(
      api
        .list('configmaps', fx.FLEET_NAMESPACE)
        .filter((o) => o.metadata.name?.startsWith(`${CONFIGMAPS.collectorState}-`)),
    ).toHaveLength(STATE_SHARDS);
    for (let run = 1; run <= 2; run++) {
      const collector = await startCollector(api);
      const loaded = await waitFor(() => collector.logs.find((l) => l.msg === 'state loaded'), {
        timeoutMs: 60_000,
        what: `run ${run}: state loaded`,
      });
      expect(loaded).toMatchObject({ images: IMAGES, entries: IMAGES * CVES, migratedImages: 0 });
      await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, {
        timeoutMs: 60_000,
        what: `run ${run}: /readyz`,
      });
      expect(await collector.stop()).toBe(0);
      expect(
        collector.logs.some((l) => l.msg === 'state not flushed before the shutdown timeout'),
      ).toBe(false);
    }
    const state = persisted();
    expect(state.size).toBe(IMAGES);
    let entries = 0;
    for (let i = 0; i < IMAGES; i++) {
      const cves = state.get(image(i));
      for (let j = 0; j < CVES; j++) {
        const entry = cves?.get(cve(j));
        // No container runs: the first collector marked every CVE gone; first-seen and breaches stay.
        if (
          entry?.firstSeen !== firstSeen(i, j) ||
          entry.goneSince === 0 ||
          entry.breached.length !== (j === 0 ? 1 : 0)
        )
          expect.fail(`${image(i)} ${cve(j)}: ${JSON.stringify(entry)}`);
        entries++;
      }
    }
    expect(entries).toBe(IMAGES * CVES);
  }, 180_000);
});
