/**
 * Collector benchmark (formerly runtime/collector/scale-probe.ts): loads a large cluster into the
 * Kubernetes API fake, runs the collector bundle against it over HTTP with production tuning, and
 * measures the initial sync, the RSS, the scrape cost and the latency of a Pod change to /metrics.
 *
 * The cluster (see `buildCluster`) is shared with the naive re-list benchmark (naive-relist.ts).
 */
import { readFileSync } from 'node:fs';
import { METRICS } from '../src/shared/metrics.ts';
import { COLLECTOR_ENV, DEFAULT_TUNING } from '../runtime/collector/config.ts';
import type {
  FakeKubeApi,
  FakeKubeApiOptions,
  KubeObject,
  ServerCost,
} from '../test/support/fake-kube-api.ts';
import type { ListPath } from '../runtime/collector/kube/reflector.ts';
import * as fx from '../test/runtime/collector/fixtures.ts';
import { scrape, startCollector, waitFor } from '../test/runtime/collector/harness.ts';

export interface ClusterShape {
  readonly pods: number;
  readonly reports: number;
  readonly images: number;
  readonly namespaces: number;
}

export const COLLECTOR_CLUSTER: ClusterShape = {
  pods: 10_000,
  reports: 2_000,
  images: 200,
  namespaces: 100,
};

/**
 * The real server's cost, measured on kube-apiserver v1.32 on etcd (2 cores; issue 17) with 2,000
 * reports (271 MB): the consistent list in pages of 10 reports took 20-24 s (about 100 ms per
 * page, 1 s per 10 MB; pages of 100 took the same); the `resourceVersion=0` list from the watch
 * cache took 5.7-8.3 s for the same 271 MB (31 ms per MB at worst). The watch-list reads the same
 * watch cache: it is given the cache's cost (not measured on a real server yet).
 */
export const REAL_SERVER_COST: ServerCost = { etcdMsPerMb: 100, cacheMsPerMb: 31 };

/** The initial-sync paths, each with the fake server that makes the collector take it. */
export const SYNC_PATHS: readonly {
  readonly path: ListPath;
  readonly server: FakeKubeApiOptions;
}[] = [
  { path: 'watch-list', server: {} },
  { path: 'cache-list', server: { watchList: false } },
  { path: 'paginated', server: { watchCache: false } },
];

export const imageName = (i: number) => `registry.example.com/team-${i % 20}/app-${i}`;
const cronjobName = (i: number) => `app-${i}-1-0`;
const digest = (i: number, generation: number) => fx.digestOf(`image-${i}-gen-${generation}`);

/** 10,000 realistic Pods (app + istio sidecar), 2,000 reports of 50-300 vulnerabilities, the ConfigMaps. */
export function buildCluster(api: FakeKubeApi, shape: ClusterShape): { jsonBytes: number } {
  const inventory = Array.from({ length: shape.images }, (_, i) =>
    fx.inventoryImage(imageName(i), cronjobName(i)),
  );
  api.create('configmaps', fx.inventoryConfigMap(inventory));
  api.create(
    'configmaps',
    fx.patchedDigestsConfigMap(
      Object.fromEntries(
        Array.from({ length: shape.images }, (_, i) => [
          cronjobName(i),
          fx.patchedRecord(imageName(i), digest(i, 2)),
        ]),
      ),
    ),
  );
  const pods: KubeObject[] = [];
  for (let p = 0; p < shape.pods; p++) {
    const image = p % shape.images;
    const generation = p % 3; // a third each on two old digests and the patched one
    pods.push(
      fx.pod({
        namespace: `ns-${p % shape.namespaces}`,
        name: `app-${image}-${p}`,
        realistic: true,
        containers: [
          {
            name: 'app',
            image: `${imageName(image)}:1.0`,
            imageID: `${imageName(image)}@${digest(image, generation)}`,
          },
          {
            name: 'proxy',
            image: 'docker.io/istio/proxyv2:1.22.0',
            imageID: `docker.io/istio/proxyv2@${fx.digestOf('proxy')}`,
          },
        ],
      }),
    );
  }
  api.load('pods', pods);
  const reports: KubeObject[] = [];
  for (let r = 0; r < shape.reports; r++) {
    const image = r % shape.images;
    const generation = Math.floor(r / shape.images) % 3;
    const [registry, ...path] = imageName(image).split('/');
    reports.push(
      fx.vulnerabilityReport({
        namespace: `ns-${r % shape.namespaces}`,
        name: `replicaset-app-${image}-${r}-app`,
        registry: registry!,
        repository: path.join('/'),
        tag: '1.0',
        digest: digest(image, generation),
        updateTimestamp: new Date(Date.now() - (r % 48) * 3600_000).toISOString(),
        vulnerabilities: fx.vulnerabilityMix(r, 50 + ((r * 37) % 251)),
      }),
    );
  }
  const jsonBytes = [...reports, ...pods].reduce((sum, o) => sum + JSON.stringify(o).length, 0);
  api.load('vulnerabilityreports', reports);
  return { jsonBytes };
}

/** Moves a pod of generation 1 (an old digest) onto the patched digest; returns its key. */
export function patchPod(
  api: FakeKubeApi,
  shape: ClusterShape,
  k: number,
): { namespace: string; name: string } {
  const p = 3 * k * 7 + 1;
  const image = p % shape.images;
  const name = `app-${image}-${p}`;
  const namespace = `ns-${p % shape.namespaces}`;
  const current = api.get('pods', namespace, name);
  if (current === undefined) throw new Error(`pod ${namespace}/${name} is not in the fixture`);
  const status = current.status as { containerStatuses: { imageID: string }[] };
  status.containerStatuses[0]!.imageID = `${imageName(image)}@${digest(image, 2)}`;
  api.update('pods', current);
  return { namespace, name };
}

export function rssOf(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), hwmMb: Math.round(kb('VmHWM') / 1024) };
}

export interface CollectorFigures {
  readonly fixtureMb: number;
  /** How the collector synced pods and reports (from its `synced` log lines). */
  readonly paths: string;
  /** Process start to every image's series computed, ms. */
  readonly syncMs: number;
  /** The collector's own view (list + first computation), ms. */
  readonly collectorSyncMs: number | undefined;
  readonly syncCpuMs: number | undefined;
  readonly rssAfterSyncMb: number;
  readonly rssSteadyMb: number;
  readonly peakRssMb: number;
  readonly scrapeMs: number;
  readonly scrapeMb: number;
  readonly series: number;
  readonly changeMedianMs: number;
  readonly changeMaxMs: number;
  readonly changes: number;
}

const CHANGES = 20;

export async function benchCollector(
  api: FakeKubeApi,
  shape: ClusterShape,
  bundle: string,
  jsonBytes: number,
): Promise<CollectorFigures> {
  const progress = (msg: string) => process.stderr.write(`bench collector: ${msg}\n`);
  const started = Date.now();
  // Production tuning, as the generated Deployment runs it.
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(COLLECTOR_ENV).map(([key, variable]) => [
      variable,
      String(DEFAULT_TUNING[key as keyof typeof DEFAULT_TUNING]),
    ]),
  );
  const collector = await startCollector(api, { env, bundle });
  try {
    await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, {
      timeoutMs: 120_000,
      intervalMs: 20,
      what: 'readyz',
    });
    // Computed: the running-containers series of every image is there (a cheap substring count).
    const needle = `${METRICS.runningContainers.name}{`;
    await waitFor(
      async () =>
        (await (await fetch(`${collector.url}/metrics`)).text()).split(needle).length - 1 >=
        shape.images,
      { timeoutMs: 60_000, intervalMs: 50, what: 'all images computed' },
    );
    const syncMs = Date.now() - started;
    const afterSync = rssOf(collector.process.pid!);
    const initial = collector.logs.find((l) => l.msg === 'initial sync complete');
    const synced = (resource: string) => {
      const line = collector.logs.find((l) => l.msg === 'synced' && l.resource === resource);
      return `${typeof line?.path === 'string' ? line.path : '?'} in ${typeof line?.ms === 'number' ? (line.ms / 1000).toFixed(1) : '?'} s`;
    };
    const paths = `pods ${synced('pods')}, reports ${synced('vulnerabilityreports')}`;
    progress(
      `initial sync ${syncMs} ms (${paths}), rss ${afterSync.rssMb} MB, peak ${afterSync.hwmMb} MB`,
    );

    let scrapeMs = 0;
    let bytes = 0;
    const scrapes = 5;
    for (let i = 0; i < scrapes; i++) {
      const t = performance.now();
      const text = await (await fetch(`${collector.url}/metrics`)).text();
      scrapeMs += performance.now() - t;
      bytes = text.length;
    }
    const series = (await scrape(collector.url)).length;

    // Pod change -> /metrics: the pod's drift series disappears (one full scrape per poll included).
    const latencies: number[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const t = performance.now();
      const { namespace, name } = patchPod(api, shape, k);
      const drift = `${METRICS.containerDigestDrift.name}{namespace="${namespace}",pod="${name}",`;
      await waitFor(
        async () => !(await (await fetch(`${collector.url}/metrics`)).text()).includes(drift),
        { timeoutMs: 10_000, intervalMs: 10, what: `drift of ${name} gone` },
      );
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    progress(`pod change visible: median ${latencies[CHANGES >> 1]!.toFixed(0)} ms`);
    await new Promise((r) => setTimeout(r, 3000));
    const steady = rssOf(collector.process.pid!);
    return {
      fixtureMb: jsonBytes / 1e6,
      paths,
      syncMs,
      collectorSyncMs: typeof initial?.ms === 'number' ? initial.ms : undefined,
      syncCpuMs: typeof initial?.cpuMs === 'number' ? initial.cpuMs : undefined,
      rssAfterSyncMb: afterSync.rssMb,
      rssSteadyMb: steady.rssMb,
      peakRssMb: steady.hwmMb,
      scrapeMs: scrapeMs / scrapes,
      scrapeMb: bytes / 1e6,
      series,
      changeMedianMs: latencies[CHANGES >> 1]!,
      changeMaxMs: latencies[CHANGES - 1]!,
      changes: CHANGES,
    };
  } finally {
    await collector.stop();
  }
}
