/**
 * Every series the collector can export is in the vocabulary (src/shared/metrics.ts) with the
 * right type and labels, as the exporter's group-metrics test proves for the exporter: the
 * family table, the health metrics and the silence watch's metrics together are exactly the
 * collector's METRICS entries, and a collector subprocess, against a cluster where every family has
 * series (and a real Alertmanager with a silence of a copa-fleet alert), exposes each one with
 * its vocabulary type (counters, and only counters, named `_total`) and exactly its vocabulary
 * labels, in order, each with a value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS, type MetricDef, type MetricKey } from '../../../src/shared/metrics.ts';
import {
  createStores,
  FAMILIES,
  FAMILY_KEYS,
  MULTI_CLUSTER_ONLY_KEYS,
} from '../../../runtime/collector/families/table.ts';
import { HEALTH_METRIC_KEYS } from '../../../runtime/collector/health.ts';
import { PUSHGATEWAY_CLEANUP_METRIC_KEYS } from '../../../runtime/collector/pushgateway-cleanup.ts';
import { SILENCE_METRIC_KEYS } from '../../../runtime/collector/silences/silence-watch.ts';
import { CONFIGMAPS, type SilenceWatchSettings } from '../../../src/shared/contract.ts';
import { encodeImageClock, stateKey } from '../../../runtime/collector/state-format.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import {
  startAlertmanager,
  startPushgateway,
  type RunningProcess,
} from '../../support/processes.ts';
import * as fx from './fixtures.ts';
import { parseExposition, startCollector, waitFor, type RunningCollector } from './harness.ts';

const APP = 'registry.example.com/shop/app';
const OLD = fx.digestOf('vocabulary-old');
const PATCHED = fx.digestOf('vocabulary-patched');
const CRONJOB = 'app-1-0';
const CRITICAL = 'CVE-2024-7777';
const ACCEPTED = 'CVE-2024-7778';
const UNFIXABLE = 'CVE-2024-7779';
const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

const collectorKeys = (Object.keys(METRICS) as MetricKey[]).filter(
  (key) => METRICS[key].source === 'collector',
);
const byName = new Map<string, MetricDef>(
  collectorKeys.map((key) => [METRICS[key].name, METRICS[key]]),
);

let api: FakeKubeApi;
let collector: RunningCollector;
let pushgateway: RunningProcess;
let alertmanager: RunningProcess;
let inventoryOf: (multiCluster: boolean) => ReturnType<typeof fx.inventoryConfigMap>;

beforeAll(async () => {
  api = await FakeKubeApi.start();
  // A real Alertmanager with one silence of a copa-fleet alert: the silence watch's series.
  alertmanager = await startAlertmanager({
    configYaml: 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n',
  });
  const silence = await fetch(`${alertmanager.url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      matchers: [
        { name: 'alertname', value: 'CriticalCVESLABreach', isRegex: false, isEqual: true },
      ],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3 * HOUR).toISOString(),
      createdBy: 'vocabulary',
      comment: 'CHG-1',
    }),
  });
  expect(silence.ok).toBe(true);
  const silenceWatch: SilenceWatchSettings = {
    alertmanagers: [{ url: alertmanager.url }],
    intervalSeconds: 60,
    ticketPattern: '[A-Z]+-[0-9]+',
    alerts: [
      {
        alertname: 'CriticalCVESLABreach',
        severity: 'critical',
        labels: {
          alertname: 'CriticalCVESLABreach',
          severity: 'critical',
          namespace: fx.FLEET_NAMESPACE,
        },
        dynamic: { image: 'image' },
      },
    ],
    knownLabels: ['alertname', 'severity', 'namespace', 'image'],
    externalLabels: {},
  };
  // An exception in force for a second Critical CVE past its SLA: the accepted-risk families.
  const today = new Date().toISOString().slice(0, 10);
  const later = new Date(Date.now() + 30 * 24 * HOUR).toISOString().slice(0, 10);
  const exception = {
    key: `${ACCEPTED}@${APP}`,
    vulnerability: ACCEPTED,
    scopes: [{ kind: 'repository' as const, image: APP }],
    reason: 'accepted_risk' as const,
    statement: 'vendor fix pending',
    owner: 'secops',
    ticket: 'SEC-1',
    approved: today,
    expires: later,
    source: 'inventory',
  };
  // Multi-cluster, so that the families only the global rules read have series too (the last test
  // turns it off).
  inventoryOf = (multiCluster) =>
    fx.inventoryConfigMap(
      [fx.inventoryImage(APP, CRONJOB, { team: 'shop' })],
      undefined,
      [exception],
      {
        silenceWatch,
        ...(multiCluster && { multiCluster }),
      },
    );
  api.create('configmaps', inventoryOf(true));
  // A patched digest other than the running one: drift and a non-compliant container.
  api.create(
    'configmaps',
    fx.patchedDigestsConfigMap({ [CRONJOB]: fx.patchedRecord(APP, PATCHED) }),
  );
  api.create(
    'pods',
    fx.pod({
      namespace: 'shop',
      name: 'app-1',
      containers: [{ name: 'app', image: `${APP}:1.0`, imageID: `${APP}@${OLD}` }],
    }),
  );
  api.create(
    'vulnerabilityreports',
    fx.vulnerabilityReport({
      namespace: 'shop',
      name: 'replicaset-app-1-app',
      registry: 'registry.example.com',
      repository: 'shop/app',
      digest: OLD,
      updateTimestamp: new Date(Date.now() - HOUR).toISOString(),
      vulnerabilities: [
        { id: CRITICAL, severity: 'CRITICAL', fixedVersion: '1.1' },
        { id: ACCEPTED, severity: 'CRITICAL', fixedVersion: '1.1' },
        { id: UNFIXABLE, severity: 'HIGH', fixedVersion: '' },
      ],
    }),
  );
  // A namespace with a running pod and no report at all.
  api.create(
    'pods',
    fx.pod({
      namespace: 'other',
      name: 'tool-1',
      containers: [
        {
          name: 'tool',
          image: 'busybox',
          imageID: `docker.io/library/busybox@${fx.digestOf('busybox')}`,
        },
      ],
    }),
  );
  // The Critical CVE was first seen 25 hours ago (past the 24 h SLA): a breach and a breaching CVE.
  api.create('configmaps', {
    metadata: { name: CONFIGMAPS.collectorState, namespace: fx.FLEET_NAMESPACE },
    data: {
      [stateKey(APP)]: encodeImageClock(
        APP,
        new Map(
          [CRITICAL, ACCEPTED].map((cve) => [
            cve,
            { firstSeen: Math.floor(Date.now() / 1000) - 25 * 3600, goneSince: 0, breached: [] },
          ]),
        ),
      ),
    },
  });
  // A scheduled CronJob whose Job ran out of time before the collector started.
  api.create('cronjobs', fx.cronJob({ name: CRONJOB, lastScheduleTime: iso(Date.now() - HOUR) }));
  api.create(
    'jobs',
    fx.job({
      name: `${CRONJOB}-1`,
      cronjob: CRONJOB,
      failed: { reason: 'DeadlineExceeded' },
      creationTimestamp: iso(Date.now() - 2 * HOUR),
    }),
  );
  // The Pushgateway cleanup on (as generated by default), so that its series exist too.
  pushgateway = await startPushgateway();
  collector = await startCollector(api, {
    options: { pushgatewayUrl: pushgateway.url, pushgatewayCleanupGraceSeconds: 7 * 86_400 },
  });
  await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { what: '/readyz' });
});

afterAll(async () => {
  await collector?.stop();
  await Promise.all([api?.close(), pushgateway?.stop(), alertmanager?.stop()]);
});

describe('collector metrics and the vocabulary', () => {
  it('has one family per collector metric of the vocabulary besides the health metrics', () => {
    expect(
      [
        ...FAMILY_KEYS,
        ...HEALTH_METRIC_KEYS,
        ...PUSHGATEWAY_CLEANUP_METRIC_KEYS,
        ...SILENCE_METRIC_KEYS,
      ].sort(),
    ).toEqual([...collectorKeys].sort());
    const producedElsewhere: readonly string[] = [
      ...HEALTH_METRIC_KEYS,
      ...PUSHGATEWAY_CLEANUP_METRIC_KEYS,
      ...SILENCE_METRIC_KEYS,
    ];
    expect(FAMILY_KEYS.filter((key) => producedElsewhere.includes(key))).toEqual([]);
    const stores = createStores();
    for (const key of FAMILY_KEYS) expect(stores[key].def, key).toBe(METRICS[key]);
    expect(Object.keys(stores)).toEqual(FAMILY_KEYS);
    expect(new Set(Object.values(FAMILIES).map((f) => f.scope))).toEqual(
      new Set(['image', 'cronjob', 'namespace', 'fleet', 'inventory', 'exception']),
    );
  });

  it('exports every collector metric, each with its vocabulary type and exactly its vocabulary labels', async () => {
    // Wait until every metric of the collector has at least one series: the checks below then cover all of them.
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`${collector.url}/metrics`)).text();
        const names = new Set(parseExposition(text).map((s) => s.name));
        return [...byName.keys()].every((name) => names.has(name));
      },
      { timeoutMs: 20_000, what: 'a series of every collector metric' },
    );
    const types = new Map<string, string>();
    for (const line of text.split('\n')) {
      const match = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (match !== null) types.set(match[1]!, match[2]!);
    }
    expect([...types.keys()].sort()).toEqual([...byName.keys()].sort());
    for (const [name, type] of types) {
      expect(type, name).toBe(byName.get(name)!.type);
      // Independent of the vocabulary: a counter and only a counter is named `_total`.
      expect(type === 'counter', `${name} is a ${type}`).toBe(name.endsWith('_total'));
    }
    const samples = parseExposition(text);
    for (const sample of samples) {
      const def = byName.get(sample.name);
      expect(
        def,
        `${sample.name} is not a collector metric of src/shared/metrics.ts`,
      ).toBeDefined();
      expect(Object.keys(sample.labels), `labels of ${sample.name}`).toEqual([...def!.labels]);
      // Every label carries a value (a label its producer does not fill renders empty).
      expect(
        Object.entries(sample.labels).filter(([, value]) => value === ''),
        `empty labels of ${sample.name}`,
      ).toEqual([]);
    }
  });

  it('exports the per-digest families of the global rules only while the inventory is multi-cluster', async () => {
    expect([...MULTI_CLUSTER_ONLY_KEYS].sort()).toEqual([
      'runningDigestContainers',
      'runningDigestCriticalContainers',
    ]);
    const digestSeries = (samples: ReturnType<typeof parseExposition>) =>
      MULTI_CLUSTER_ONLY_KEYS.map((key) =>
        samples
          .filter((s) => s.name === METRICS[key].name)
          .map((s) => [s.labels, s.value] as const),
      );
    const scrapeNow = async () =>
      parseExposition(await (await fetch(`${collector.url}/metrics`)).text());
    /** Rewrites the inventory and waits until the per-digest families have `series` each. */
    const inventoryBecomes = async (multiCluster: boolean, series: number) => {
      api.update('configmaps', inventoryOf(multiCluster));
      let samples: ReturnType<typeof parseExposition> = [];
      await waitFor(
        async () => {
          samples = await scrapeNow();
          return digestSeries(samples).every((rows) => rows.length === series);
        },
        { what: `${series} series of each per-digest family` },
      );
      return samples;
    };
    // Multi-cluster: the one running container per (namespace, digest), and its digest has a Critical CVE.
    const running = [[{ namespace: 'shop', image: APP, digest: OLD }, 1]];
    const multi = await scrapeNow();
    expect(digestSeries(multi)).toEqual([running, running]);

    // The same cluster as a single-cluster fleet (no `multiCluster`, as synth writes it): neither family, everything else unchanged.
    const names = (list: typeof multi) => new Set(list.map((s) => s.name));
    const single = await inventoryBecomes(false, 0);
    const gone = MULTI_CLUSTER_ONLY_KEYS.map((key) => METRICS[key].name);
    expect([...names(multi)].filter((name) => !names(single).has(name)).sort()).toEqual(
      gone.sort(),
    );
    expect(
      single.filter((s) => s.name === METRICS.runningContainers.name).map((s) => s.value),
    ).toEqual([1]);

    // And back: a fleet that gains `clusters` exports them again without a restart.
    const samples = await inventoryBecomes(true, 1);
    expect(digestSeries(samples)).toEqual([running, running]);
  });
});
