/**
 * The SLA state at 5,000 images x 60 CVEs (issue 11): the collector's StateStore with the real
 * client-node against the API fake over HTTP (which refuses ConfigMaps over 1 MiB, like the API
 * server). Measures the persisted size (total and largest shard), the cost of the first full write
 * (every shard created), of the steady-state write (one image changed: one merge patch), and of the
 * start-up read of a restarted collector.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CONFIGMAPS, STATE_SHARDS } from '../src/shared/contract.ts';
import { KubeClient } from '../runtime/collector/kube/kube-client.ts';
import { jsonLogger } from '../runtime/collector/log.ts';
import { SlaClock } from '../runtime/collector/sla-clock.ts';
import { StateStore } from '../runtime/collector/state-store.ts';
import { CONFIGMAP_MAX_BYTES, FakeKubeApi } from '../test/support/fake-kube-api.ts';
import { FLEET_NAMESPACE } from '../test/runtime/collector/fixtures.ts';

export const STATE_SCALE = { images: 5000, cves: 60 } as const;
const CHANGES = 20;

export interface StateFigures {
  readonly entries: number;
  readonly shards: number;
  readonly totalBytes: number;
  readonly largestShardBytes: number;
  readonly limitBytes: number;
  readonly fullWriteMs: number;
  readonly fullWriteRequestBytes: number;
  readonly changeWriteMedianMs: number;
  readonly changeWriteMaxMs: number;
  readonly changeWriteRequestBytes: number;
  readonly reloadMs: number;
  readonly reloadedEntries: number;
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchStateStore(): Promise<StateFigures> {
  const api = await FakeKubeApi.start({ maxRequestLog: 1000 });
  const dir = mkdtempSync(join(tmpdir(), 'bench-state-'));
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(api.writeKubeconfig(dir));
    const storeFor = (clock: SlaClock) =>
      new StateStore({
        core: new KubeClient(kc).core,
        namespace: FLEET_NAMESPACE,
        name: CONFIGMAPS.collectorState,
        clock,
        health: {
          apiError: (_resource, error) => {
            throw error;
          },
        },
        log: jsonLogger({ write: () => undefined }),
        writeDelayMs: 60_000,
        backoffInitialMs: 100,
        backoffMaxMs: 1000,
      });
    const image = (i: number) => `registry.example.com/team-${i % 40}/service-${i}`;
    const cve = (j: number) => `CVE-2025-${String(10000 + j * 7)}`;
    const base = 1_750_000_000;

    const clock = new SlaClock(86_400);
    const store = storeFor(clock);
    await store.load();
    for (let i = 0; i < STATE_SCALE.images; i++) {
      const cves = new Set(Array.from({ length: STATE_SCALE.cves }, (_, j) => cve(j)));
      clock.observe(image(i), cves, true, base + i);
      clock.markBreached(image(i), cve(0), 24);
    }
    let started = performance.now();
    await store.flush();
    const fullWriteMs = performance.now() - started;
    const full = store.lastWriteStats!;

    const changes: number[] = [];
    let changeBytes = 0;
    for (let k = 0; k < CHANGES; k++) {
      const i = (k * 251) % STATE_SCALE.images;
      clock.observe(
        image(i),
        new Set([...Array.from({ length: STATE_SCALE.cves }, (_, j) => cve(j)), `CVE-2026-${k}`]),
        true,
        base + 10_000 + k,
      );
      started = performance.now();
      await store.flush();
      changes.push(performance.now() - started);
      changeBytes = store.lastWriteStats!.requestBytes;
    }
    store.stop();

    const restarted = new SlaClock(86_400);
    started = performance.now();
    await storeFor(restarted).load();
    const reloadMs = performance.now() - started;
    return {
      entries: clock.size,
      shards: api.list('configmaps', FLEET_NAMESPACE).length,
      totalBytes: store.bytes(),
      largestShardBytes: store.largestShardBytes(),
      limitBytes: CONFIGMAP_MAX_BYTES,
      fullWriteMs,
      fullWriteRequestBytes: full.requestBytes,
      changeWriteMedianMs: median(changes),
      changeWriteMaxMs: Math.max(...changes),
      changeWriteRequestBytes: changeBytes,
      reloadMs,
      reloadedEntries: restarted.size,
    };
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function stateSection(s: StateFigures): string[] {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  return [
    `## 6. SLA state (${STATE_SCALE.images.toLocaleString('en')} images x ${STATE_SCALE.cves} CVEs = ${s.entries.toLocaleString('en')} entries, ${STATE_SHARDS} shard ConfigMaps, the collector's StateStore against the API fake over HTTP)`,
    '',
    '| figure | value |',
    '|---|---:|',
    `| persisted state, all shards | ${(s.totalBytes / 2 ** 20).toFixed(1)} MiB in ${s.shards} ConfigMaps (one ConfigMap holds at most ${kb(s.limitBytes)}) |`,
    `| largest shard | ${kb(s.largestShardBytes)} (${((100 * s.largestShardBytes) / s.limitBytes).toFixed(0)} % of the limit) |`,
    `| first full write (every shard created) | ${s.fullWriteMs.toFixed(0)} ms, ${(s.fullWriteRequestBytes / 2 ** 20).toFixed(1)} MiB sent |`,
    `| write after one image changed (one merge patch) | median ${s.changeWriteMedianMs.toFixed(1)} ms, max ${s.changeWriteMaxMs.toFixed(1)} ms, ${kb(s.changeWriteRequestBytes)} sent |`,
    `| start-up read of a restarted collector | ${s.reloadMs.toFixed(0)} ms, ${s.reloadedEntries.toLocaleString('en')} entries |`,
    '',
  ];
}
