/**
 * Scratch probe (not a test, not part of the bundle): loads a large cluster into the Kubernetes
 * API fake, starts the collector as a subprocess against it, and prints the initial sync time,
 * the collector's RSS, the latency of a Pod change to /metrics and the cost of a scrape.
 *
 *   node --import tsx runtime/collector/scale-probe.ts [--pods 10000] [--reports 2000] [--images 200]
 *                     [--namespaces 100] [--changes 20] [--bundle runtime/build/copa-fleet-collector.mjs]
 *
 * PROBE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" passes node flags to the collector only.
 *
 * Defaults are the performance issue's targets: 10,000 Pods x 2 containers, 2,000
 * VulnerabilityReports of 50-300 vulnerabilities, 200 inventoried images. The performance issue
 * builds its benchmark on this.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { METRICS } from '../../src/shared/metrics.ts';
import { FakeKubeApi, type KubeObject } from '../../test/support/fake-kube-api.ts';
import * as fx from '../../test/runtime/collector/fixtures.ts';
import { collectorCommand, scrape, select, startCollector, waitFor } from '../../test/runtime/collector/harness.ts';
import { COLLECTOR_ENV, DEFAULT_TUNING } from './config.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    reports: { type: 'string', default: '2000' },
    images: { type: 'string', default: '200' },
    namespaces: { type: 'string', default: '100' },
    changes: { type: 'string', default: '20' },
    bundle: { type: 'string' },
    'pods-page': { type: 'string' },
    'reports-page': { type: 'string' },
    /** Sends SIGUSR2 after the sync (run the collector with PROBE_NODE_ARGS=--heapsnapshot-signal=SIGUSR2). */
    'heap-snapshot': { type: 'boolean', default: false },
  },
});
const PODS = Number(values.pods);
const REPORTS = Number(values.reports);
const IMAGES = Number(values.images);
const NAMESPACES = Number(values.namespaces);
const CHANGES = Number(values.changes);

function rssOf(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), hwmMb: Math.round(kb('VmHWM') / 1024) };
}

const imageName = (i: number) => `registry.example.com/team-${i % 20}/app-${i}`;
const cronjobName = (i: number) => `app-${i}-1-0`;
const digest = (i: number, generation: number) => fx.digestOf(`image-${i}-gen-${generation}`);

function buildCluster(api: FakeKubeApi): { jsonBytes: number } {
  const inventory = Array.from({ length: IMAGES }, (_, i) => fx.inventoryImage(imageName(i), cronjobName(i)));
  api.create('configmaps', fx.inventoryConfigMap(inventory));
  api.create('configmaps', fx.patchedDigestsConfigMap(Object.fromEntries(Array.from({ length: IMAGES }, (_, i) => [cronjobName(i), fx.patchedRecord(imageName(i), digest(i, 2))]))));
  const pods: KubeObject[] = [];
  for (let p = 0; p < PODS; p++) {
    const image = p % IMAGES;
    const generation = p % 3; // a third each on two old digests and the patched one
    pods.push(
      fx.pod({
        namespace: `ns-${p % NAMESPACES}`,
        name: `app-${image}-${p}`,
        realistic: true,
        containers: [
          { name: 'app', image: `${imageName(image)}:1.0`, imageID: `${imageName(image)}@${digest(image, generation)}` },
          { name: 'proxy', image: 'docker.io/istio/proxyv2:1.22.0', imageID: `docker.io/istio/proxyv2@${fx.digestOf('proxy')}` },
        ],
      }),
    );
  }
  api.load('pods', pods);
  const reports: KubeObject[] = [];
  for (let r = 0; r < REPORTS; r++) {
    const image = r % IMAGES;
    const generation = Math.floor(r / IMAGES) % 3;
    const vulnCount = 50 + ((r * 37) % 251);
    const [registry, ...path] = imageName(image).split('/');
    reports.push(
      fx.vulnerabilityReport({
        namespace: `ns-${r % NAMESPACES}`,
        name: `replicaset-app-${image}-${r}-app`,
        registry: registry!,
        repository: path.join('/'),
        tag: '1.0',
        digest: digest(image, generation),
        updateTimestamp: new Date(Date.now() - (r % 48) * 3600_000).toISOString(),
        vulnerabilities: fx.vulnerabilityMix(r, vulnCount),
      }),
    );
  }
  const jsonBytes = reports.reduce((sum, o) => sum + JSON.stringify(o).length, 0) + pods.reduce((sum, o) => sum + JSON.stringify(o).length, 0);
  api.load('vulnerabilityreports', reports);
  return { jsonBytes };
}

async function main(): Promise<void> {
  const api = await FakeKubeApi.start({ maxRequestLog: 1000 });
  const built = Date.now();
  const { jsonBytes } = buildCluster(api);
  console.log(`fixture: ${PODS} pods x 2 containers, ${REPORTS} reports (50-300 vulnerabilities), ${IMAGES} images; ${(jsonBytes / 1e6).toFixed(0)} MB of JSON; built in ${Date.now() - built} ms`);
  console.log(`collector: ${values.bundle ?? collectorCommand().kind}, page sizes pods=${values['pods-page'] ?? DEFAULT_TUNING.podsPageSize} reports=${values['reports-page'] ?? DEFAULT_TUNING.reportsPageSize}`);

  const started = Date.now();
  // Production tuning (only the state debounce is kept short so the probe ends quickly).
  const env: Record<string, string> = Object.fromEntries(Object.entries(COLLECTOR_ENV).map(([key, variable]) => [variable, String(DEFAULT_TUNING[key as keyof typeof DEFAULT_TUNING])]));
  if (values['pods-page'] !== undefined) env[COLLECTOR_ENV.podsPageSize] = values['pods-page'];
  if (values['reports-page'] !== undefined) env[COLLECTOR_ENV.reportsPageSize] = values['reports-page'];
  // PROBE_NODE_ARGS: node flags for the collector process only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.PROBE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const collector = await startCollector(api, { env, nodeArgs, ...(values.bundle !== undefined && { bundle: values.bundle }) });
  const httpUp = Date.now() - started;
  await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { timeoutMs: 120_000, intervalMs: 20, what: 'readyz' });
  const ready = Date.now() - started;
  // Metrics computed: the running-containers series of every image is there.
  await waitFor(async () => select(await scrape(collector.url), METRICS.runningContainers.name).length === IMAGES, { timeoutMs: 60_000, intervalMs: 50, what: 'all images computed' });
  const computed = Date.now() - started;
  const afterSync = rssOf(collector.process.pid!);
  const synced = collector.logs.filter((l) => l.msg === 'synced').map((l) => `${String(l.resource)}=${String(l.ms)}ms`);
  console.log(`initial sync: http up ${httpUp} ms, ready ${ready} ms, metrics computed ${computed} ms after spawn (lists: ${synced.join(', ')})`);
  console.log(`rss after sync: ${afterSync.rssMb} MB (peak ${afterSync.hwmMb} MB)`);
  const initial = collector.logs.find((l) => l.msg === 'initial sync complete');
  if (initial !== undefined) console.log(`collector's own view: initial sync complete after ${String(initial.ms)} ms using ${String(initial.cpuMs)} ms of CPU; rss ${String(initial.rssMb)} MB, heap used ${String(initial.heapUsedMb)} MB of ${String(initial.heapTotalMb)} MB`);
  if (values['heap-snapshot']) {
    collector.process.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 15_000));
    const after = rssOf(collector.process.pid!);
    console.log(`heap snapshot requested; rss after its full GC: ${after.rssMb} MB`);
  }

  // Scrape cost.
  let scrapeMs = 0;
  let bytes = 0;
  const scrapes = 5;
  for (let i = 0; i < scrapes; i++) {
    const t = performance.now();
    const text = await (await fetch(`${collector.url}/metrics`)).text();
    scrapeMs += performance.now() - t;
    bytes = text.length;
  }
  const samples = await scrape(collector.url);
  const byMetric = new Map<string, number>();
  for (const s of samples) byMetric.set(s.name, (byMetric.get(s.name) ?? 0) + 1);
  console.log(`scrape: ${(scrapeMs / scrapes).toFixed(1)} ms average, ${(bytes / 1e6).toFixed(2)} MB, ${samples.length} series`);
  console.log(`series by metric: ${[...byMetric].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n}=${c}`).join(', ')}`);

  // Pod change -> /metrics latency: move a pod from an old digest to the patched one.
  const latencies: number[] = [];
  for (let k = 0; k < CHANGES; k++) {
    const p = 3 * k * 7 + 1; // generation 1 (old digest) pods
    const image = p % IMAGES;
    const name = `app-${image}-${p}`;
    const namespace = `ns-${p % NAMESPACES}`;
    const current = api.get('pods', namespace, name)!;
    const status = current.status as { containerStatuses: { imageID: string }[] };
    status.containerStatuses[0]!.imageID = `${imageName(image)}@${digest(image, 2)}`;
    const t = performance.now();
    api.update('pods', current);
    // A substring test, not a parse: the probe must not be slower than the collector it measures.
    const needle = `${METRICS.containerDigestDrift.name}{namespace="${namespace}",pod="${name}",`;
    await waitFor(async () => !(await (await fetch(`${collector.url}/metrics`)).text()).includes(needle), { timeoutMs: 10_000, intervalMs: 10, what: `drift of ${name} gone` });
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(0);
  console.log(`pod change -> /metrics: median ${pct(0.5)} ms, max ${pct(1)} ms over ${CHANGES} changes (includes one full scrape per poll)`);

  await new Promise((r) => setTimeout(r, 3000));
  const steady = rssOf(collector.process.pid!);
  console.log(`rss steady: ${steady.rssMb} MB (peak ${steady.hwmMb} MB)`);
  const code = await collector.stop();
  console.log(`exit code ${code}`);
  await api.close();
}

await main();
