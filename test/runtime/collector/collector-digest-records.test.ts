/**
 * The patched-digest records, one ConfigMap per CronJob: the collector reads each CronJob's own
 * record, refuses a record that names another image or sits in another CronJob's ConfigMap, and
 * falls back to the shared store of earlier releases only while a CronJob has no record of its
 * own (copa_fleet_collector_digest_records tells when the migration is done).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestRecordName } from '../../../src/shared/contract.ts';
import { METRICS } from '../../../src/shared/metrics.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
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
const WEB = 'registry.example.com/shop/web';
const RUNNING_APP = fx.digestOf('app-running');
const RUNNING_WEB = fx.digestOf('web-running');
const PATCHED_APP = fx.digestOf('app-patched');
const PATCHED_WEB = fx.digestOf('web-patched');

let api: FakeKubeApi;
let collector: RunningCollector;

const drifted = (samples: Sample[]) =>
  Object.fromEntries(
    select(samples, METRICS.containerDigestDrift.name).map((s): [string, string | undefined] => [
      s.labels.image ?? '',
      s.labels.patched_digest,
    ]),
  );
const sources = (samples: Sample[]) =>
  Object.fromEntries(
    ['own', 'legacy', 'rejected'].map((source) => [
      source,
      valueOf(samples, METRICS.collectorDigestRecords.name, { source }),
    ]),
  );

beforeAll(async () => {
  api = await FakeKubeApi.start();
  api.create(
    'configmaps',
    fx.inventoryConfigMap([fx.inventoryImage(APP, 'app-1-0'), fx.inventoryImage(WEB, 'web-1-0')]),
  );
  // Both images only in the shared store of earlier releases: the migration has not started.
  api.create(
    'configmaps',
    fx.patchedDigestsConfigMap({
      'app-1-0': fx.patchedRecord(APP, PATCHED_APP),
      'web-1-0': fx.patchedRecord(WEB, PATCHED_WEB),
    }),
  );
  api.create('configmaps', fx.digestRecordConfigMap('app-1-0', {}));
  api.create('configmaps', fx.digestRecordConfigMap('web-1-0', {}));
  api.create(
    'pods',
    fx.pod({
      namespace: 'shop',
      name: 'app',
      containers: [{ name: 'app', image: `${APP}:1.0`, imageID: `${APP}@${RUNNING_APP}` }],
    }),
  );
  api.create(
    'pods',
    fx.pod({
      namespace: 'shop',
      name: 'web',
      containers: [{ name: 'web', image: `${WEB}:1.0`, imageID: `${WEB}@${RUNNING_WEB}` }],
    }),
  );
  collector = await startCollector(api);
  await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { what: '/readyz' });
});

afterAll(async () => {
  await collector?.stop();
  await api?.close();
});

describe('patched-digest records', () => {
  it('reads the shared store of earlier releases while no CronJob has a record of its own', async () => {
    const samples = await eventually(
      collector,
      (s) => expect(drifted(s)).toEqual({ [APP]: PATCHED_APP, [WEB]: PATCHED_WEB }),
      'drift from the shared store',
    );
    expect(sources(samples)).toEqual({ own: 0, legacy: 2, rejected: 0 });
  });

  it("prefers a CronJob's own record, and counts the migration", async () => {
    const newer = fx.digestOf('app-patched-2');
    api.update(
      'configmaps',
      fx.digestRecordConfigMap('app-1-0', {
        'app-1-0': fx.patchedRecord(APP, newer, '2024-06-01T02:00:00Z'),
      }),
    );
    const samples = await eventually(
      collector,
      (s) => expect(drifted(s)[APP]).toBe(newer),
      'own record wins',
    );
    expect(sources(samples)).toEqual({ own: 1, legacy: 1, rejected: 0 });
  });

  it("refuses an own record that names another image, and a record written into another CronJob's ConfigMap", async () => {
    // A compromised web job tries to set app's patched digest to what app already runs (to hide
    // app's drift): once in its own ConfigMap under app's key, once as its own key naming app.
    api.update(
      'configmaps',
      fx.digestRecordConfigMap('web-1-0', {
        'app-1-0': fx.patchedRecord(APP, RUNNING_APP, '2030-01-01T00:00:00Z'),
      }),
    );
    await eventually(
      collector,
      (s) => expect(sources(s)).toEqual({ own: 1, legacy: 1, rejected: 0 }),
      'foreign key ignored',
    );
    api.update(
      'configmaps',
      fx.digestRecordConfigMap('web-1-0', {
        'web-1-0': fx.patchedRecord(APP, RUNNING_APP, '2030-01-01T00:00:00Z'),
      }),
    );
    const samples = await eventually(
      collector,
      (s) => expect(sources(s)).toEqual({ own: 1, legacy: 1, rejected: 1 }),
      'wrong image refused',
    );
    // app still drifts against its own record; web falls back to the shared store, never to the forged digest.
    expect(drifted(samples)).toEqual({ [APP]: fx.digestOf('app-patched-2'), [WEB]: PATCHED_WEB });
    // A look-alike ConfigMap with the record label but another name is not web's record either.
    api.create(
      'configmaps',
      fx.digestRecordConfigMap(
        'web-1-0',
        { 'web-1-0': fx.patchedRecord(WEB, RUNNING_WEB, '2030-01-01T00:00:00Z') },
        'web-1-0-digest-copy',
      ),
    );
    // A later change seen on /metrics means the look-alike was processed before it (one watch, in order).
    const marker = fx.digestOf('app-patched-3');
    api.update(
      'configmaps',
      fx.digestRecordConfigMap('app-1-0', {
        'app-1-0': fx.patchedRecord(APP, marker, '2024-06-02T02:00:00Z'),
      }),
    );
    const after = await eventually(
      collector,
      (s) => expect(drifted(s)[APP]).toBe(marker),
      'later change',
    );
    expect(drifted(after)[WEB]).toBe(PATCHED_WEB);
  });

  it('is done when every CronJob has its own record: the shared store no longer counts', async () => {
    api.update(
      'configmaps',
      fx.digestRecordConfigMap('web-1-0', {
        'web-1-0': fx.patchedRecord(WEB, RUNNING_WEB, '2024-06-01T02:00:00Z'),
      }),
    );
    const samples = await eventually(
      collector,
      (s) => expect(sources(s)).toEqual({ own: 2, legacy: 0, rejected: 0 }),
      'migrated',
    );
    // web now runs its latest patched digest: no drift for it.
    expect(drifted(samples)).toEqual({ [APP]: fx.digestOf('app-patched-3') });
    expect(digestRecordName('web-1-0')).toBe('web-1-0-digest');
  });
});
