/**
 * The collector (subprocess) syncs by whatever path the server offers, with the same result: on a
 * server with watch-list, one without (a `resourceVersion=0` list from the watch cache, streamed),
 * and one without a watch cache (the list in pages). Each serves the same small cluster with more
 * reports than a page holds; the drift and CVE series must be identical, and the `synced` log
 * lines must name the expected path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS } from '../../../src/shared/metrics.ts';
import { FakeKubeApi, type FakeKubeApiOptions } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import { scrape, select, startCollector, waitFor, type RunningCollector } from './harness.ts';

const APP = 'registry.example.com/shop/app';
const OLD = fx.digestOf('old');
const PATCHED = fx.digestOf('patched');

let api: FakeKubeApi | undefined;
let collector: RunningCollector | undefined;

afterEach(async () => {
  await collector?.stop();
  await api?.close();
  collector = undefined;
  api = undefined;
});

const SERVERS: readonly {
  readonly name: string;
  readonly options: FakeKubeApiOptions;
  readonly path: string;
}[] = [
  { name: 'with watch-list', options: {}, path: 'watch-list' },
  { name: 'without watch-list', options: { watchList: false }, path: 'cache-list' },
  { name: 'without a watch cache', options: { watchCache: false }, path: 'paginated' },
];

/** Drift and CVE series, as comparable strings. */
const summary = (samples: Awaited<ReturnType<typeof scrape>>) =>
  [METRICS.containerDigestDrift.name, METRICS.imageCveAgeHours.name, METRICS.runningContainers.name]
    .flatMap((name) => select(samples, name).map((s) => `${name}${JSON.stringify(s.labels)}`))
    .sort();

const results = new Map<string, string[]>();

describe.each(SERVERS)('collector initial sync against a server $name', (server) => {
  it(`syncs by ${server.path} and exports the same series`, async () => {
    api = await FakeKubeApi.start(server.options);
    api.create('configmaps', fx.inventoryConfigMap([fx.inventoryImage(APP, 'app-1-0')]));
    api.create(
      'configmaps',
      fx.patchedDigestsConfigMap({ 'app-1-0': fx.patchedRecord(APP, PATCHED) }),
    );
    // 30 pods and 25 reports: several pages of 10 reports (the collector's page size) without a watch cache.
    for (let i = 0; i < 30; i++)
      api.create(
        'pods',
        fx.pod({
          namespace: 'shop',
          name: `app-${i}`,
          containers: [
            { name: 'app', image: `${APP}:1.0`, imageID: `${APP}@${i % 2 === 0 ? OLD : PATCHED}` },
          ],
        }),
      );
    for (let i = 0; i < 25; i++) {
      api.create(
        'vulnerabilityreports',
        fx.vulnerabilityReport({
          namespace: 'shop',
          name: `replicaset-app-${i}-app`,
          registry: 'registry.example.com',
          repository: 'shop/app',
          digest: i === 0 ? OLD : fx.digestOf(`other-${i}`),
          updateTimestamp: new Date().toISOString(),
          vulnerabilities: [
            { id: 'CVE-2024-0001', severity: 'CRITICAL' },
            { id: `CVE-2024-1${i}`, severity: 'HIGH' },
          ],
        }),
      );
    }
    collector = await startCollector(api);
    await waitFor(async () => (await fetch(`${collector!.url}/readyz`)).ok, { what: '/readyz' });
    const paths = Object.fromEntries(
      collector.logs
        .filter((l) => l.msg === 'synced')
        .map((l): [string, unknown] => [l.resource as string, l.path]),
    );
    expect(paths).toMatchObject({ pods: server.path, vulnerabilityreports: server.path });
    const samples = await scrape(collector.url);
    expect(select(samples, METRICS.containerDigestDrift.name)).toHaveLength(15);
    const series = summary(samples);
    for (const [other, theirs] of results)
      expect(series, `the same series as against a server ${other}`).toEqual(theirs);
    results.set(server.name, series);
  });
});
