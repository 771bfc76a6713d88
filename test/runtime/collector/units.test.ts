/**
 * The collector's pure parts, in-process: projections, inventory parsing, the state format, the
 * SLA clock, job-failure classification and the exposition format of the series stores.
 */
import { describe, expect, it } from 'vitest';
import { CONFIGMAPS, INVENTORY_CONFIGMAP_KEY } from '../../../src/shared/contract.ts';
import { METRICS } from '../../../src/shared/metrics.ts';
import { DEFAULT_TUNING, tuningFromEnv, COLLECTOR_ENV } from '../../../runtime/collector/config.ts';
import {
  parseInventory,
  parseInventoryConfigMap,
  parsePatchedDigests,
} from '../../../runtime/collector/inventory.ts';
import {
  classifyJobFailure,
  latestJob,
  missedSchedule,
} from '../../../runtime/collector/job-failures.ts';
import {
  projectCronJob,
  projectJob,
  projectPod,
  projectReport,
  type JobView,
} from '../../../runtime/collector/projections.ts';
import { formatLabelParts, formatLabels, SeriesStore } from '../../../runtime/collector/series.ts';
import { SlaClock } from '../../../runtime/collector/sla-clock.ts';
import {
  decodeImageClock,
  encodeImageClock,
  stateKey,
  type ImageClock,
} from '../../../runtime/collector/state-format.ts';
import * as fx from './fixtures.ts';
import { parseExposition } from './harness.ts';
import { stringContaining } from '../../support/matchers.ts';

describe('projections', () => {
  it('keeps running containers with the normalised repository and digest of imageID', () => {
    const d = fx.digestOf('a');
    const view = projectPod(
      fx.pod({
        namespace: 'shop',
        name: 'web-1',
        containers: [
          { name: 'app', image: 'nginx:1.27', imageID: `docker-pullable://nginx@${d}` },
          {
            name: 'side',
            image: 'registry.example.com:443/side:1',
            imageID: `registry.example.com:443/side@${d}`,
          },
          { name: 'init', image: 'busybox', imageID: '', state: 'waiting' },
        ],
      }),
      fx.FLEET_NAMESPACE,
    );
    expect(view.running).toBe(true);
    expect(view.containers).toEqual([
      {
        namespace: 'shop',
        pod: 'web-1',
        container: 'app',
        image: 'docker.io/library/nginx',
        digest: d,
        tag: '1.27',
      },
      {
        namespace: 'shop',
        pod: 'web-1',
        container: 'side',
        image: 'registry.example.com/side',
        digest: d,
        tag: '1',
      },
    ]);
    expect(view.jobPod).toBeUndefined();
  });

  it('reads the exporter state of Copa job pods in the fleet namespace only', () => {
    const waiting = projectPod(
      fx.jobPod({
        name: 'p',
        job: 'j-1',
        cronjob: 'cj',
        exporter: 'waiting',
        waitingReason: 'ImagePullBackOff',
      }),
      fx.FLEET_NAMESPACE,
    );
    expect(waiting.jobPod).toEqual({ job: 'j-1', exporterStarted: false, pullFailed: true });
    const running = projectPod(
      fx.jobPod({ name: 'p', job: 'j-1', cronjob: 'cj', exporter: 'running' }),
      fx.FLEET_NAMESPACE,
    );
    expect(running.jobPod).toEqual({ job: 'j-1', exporterStarted: true, pullFailed: false });
    expect(
      projectPod(
        fx.jobPod({ name: 'p', job: 'j-1', cronjob: 'cj', exporter: 'running' }),
        'elsewhere',
      ).jobPod,
    ).toBeUndefined();
  });

  it('normalises the report image (index.docker.io is docker.io) and groups CVE ids by severity', () => {
    const d = fx.digestOf('r');
    const view = projectReport(
      fx.vulnerabilityReport({
        namespace: 'shop',
        name: 'rs',
        registry: 'index.docker.io',
        repository: 'library/nginx',
        digest: d,
        updateTimestamp: '2024-05-01T10:00:00Z',
        vulnerabilities: [
          { id: 'CVE-2', severity: 'CRITICAL', fixedVersion: '' },
          { id: 'CVE-1', severity: 'CRITICAL', resource: 'a', fixedVersion: '' },
          { id: 'CVE-1', severity: 'CRITICAL', resource: 'b', fixedVersion: '1.2' },
          { id: 'CVE-3', severity: 'HIGH', fixedVersion: '' },
          { id: 'CVE-4', severity: 'LOW', fixedVersion: '4.0' },
        ],
      }),
    );
    expect(view).toEqual({
      namespace: 'shop',
      image: 'docker.io/library/nginx',
      digest: d,
      updated: Date.parse('2024-05-01T10:00:00Z'),
      cves: { Critical: ['CVE-1', 'CVE-2'], High: ['CVE-3'], Low: ['CVE-4'] },
      // CVE-1 has a fix in one of its packages: fixable.
      unfixed: new Set(['CVE-2', 'CVE-3']),
    });
  });

  it('projects Jobs and CronJobs', () => {
    expect(
      projectJob(
        fx.job({
          name: 'j',
          cronjob: 'cj',
          failed: { reason: 'DeadlineExceeded' },
          creationTimestamp: '2024-05-01T02:00:00Z',
        }),
      ),
    ).toEqual({
      name: 'j',
      cronjob: 'cj',
      created: Date.parse('2024-05-01T02:00:00Z'),
      failedReason: 'DeadlineExceeded',
      succeeded: false,
    });
    const cron = projectCronJob(
      fx.cronJob({
        name: 'cj',
        lastScheduleTime: '2024-05-01T02:00:00Z',
        startingDeadlineSeconds: 600,
        suspend: true,
      }),
    );
    expect(cron).toMatchObject({
      name: 'cj',
      lastSchedule: Date.parse('2024-05-01T02:00:00Z'),
      suspended: true,
      startingDeadlineSeconds: 600,
    });
  });
});

describe('inventory', () => {
  const image = (overrides: Record<string, unknown> = {}) => ({
    ...fx.inventoryImage('nginx', 'nginx-1'),
    ...overrides,
  });

  it('indexes images by normalised repository; several CronJobs of one image take the strictest SLA and the longest interval', () => {
    const result = parseInventory({
      namespace: 'x',
      severitiesInScope: ['High', 'Critical'],
      images: [
        image({
          cronjob: 'nginx-a',
          slaHours: { Critical: 24, High: 100 },
          scheduleIntervalSeconds: 3600,
        }),
        image({
          image: 'docker.io/library/nginx',
          cronjob: 'nginx-b',
          slaHours: { Critical: 12 },
          scheduleIntervalSeconds: 7200,
        }),
      ],
    });
    if (!result.ok) throw new Error(result.reason);
    expect(result.inventory.severitiesInScope).toEqual(['Critical', 'High']);
    const entry = result.inventory.images.get('docker.io/library/nginx')!;
    expect(entry.cronjobs.map((c) => c.cronjob)).toEqual(['nginx-a', 'nginx-b']);
    expect(entry.slaHours).toEqual({ Critical: 12, High: 100 });
    expect(entry.scheduleIntervalSeconds).toBe(7200);
    expect(result.inventory.cronjobs.get('nginx-b')?.image).toBe('docker.io/library/nginx');
  });

  const reasonOf = (parsed: ReturnType<typeof parseInventory>): string | undefined =>
    parsed.ok ? undefined : parsed.reason;

  it('reads the SLA scope (all wins for a shared repository; absent means all) and the exceptions', () => {
    const exception = {
      key: 'CVE-1@*',
      vulnerability: 'CVE-1',
      scopes: [{ kind: 'fleet' }],
      reason: 'not_affected',
      statement: 's',
      owner: 'o',
      ticket: 't',
      approved: '2026-01-01',
      expires: '2026-02-01',
      source: 'inventory',
    };
    const parsed = parseInventory({
      severitiesInScope: ['Critical'],
      images: [
        image({ cronjob: 'a', slaScope: 'fixable' }),
        image({ cronjob: 'b', slaScope: 'all' }),
        image({ image: 'redis', cronjob: 'c', slaScope: 'fixable' }),
        image({ image: 'alpine', cronjob: 'd', slaScope: undefined }),
      ],
      exceptions: [exception],
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect([...parsed.inventory.images.values()].map((i) => [i.image, i.slaScope])).toEqual([
      ['docker.io/library/nginx', 'all'],
      ['docker.io/library/redis', 'fixable'],
      ['docker.io/library/alpine', 'all'],
    ]);
    expect(parsed.inventory.exceptions.inForceKeys(Date.parse('2026-01-15T00:00:00Z'))).toEqual([
      'CVE-1@*',
    ]);
    expect(parsed.inventory.exceptions.inForceKeys(Date.parse('2026-02-01T00:00:00Z'))).toEqual([]);
    const bad = (change: Record<string, unknown>) =>
      parseInventory({
        severitiesInScope: [],
        images: [],
        exceptions: [{ ...exception, ...change }],
      });
    expect(reasonOf(bad({ reason: 'because' }))).toContain('exceptions[0].reason');
    expect(reasonOf(bad({ expires: 'soon' }))).toContain('exceptions[0].expires');
    expect(reasonOf(bad({ scopes: [{ kind: 'tag', image: 'nginx' }] }))).toContain(
      'exceptions[0].scopes[0]',
    );
    expect(
      reasonOf(
        parseInventory({ severitiesInScope: [], images: [], exceptions: [exception, exception] }),
      ),
    ).toContain('appears twice');
    expect(
      reasonOf(parseInventory({ severitiesInScope: [], images: [image({ slaScope: 'some' })] })),
    ).toContain('slaScope');
  });

  it('reads multiCluster: absent (a single-cluster fleet) is false, a non-boolean is refused', () => {
    const multiCluster = (value: unknown) => {
      const parsed = parseInventory({ severitiesInScope: [], images: [], multiCluster: value });
      return parsed.ok ? parsed.inventory.multiCluster : parsed.reason;
    };
    expect(multiCluster(true)).toBe(true);
    expect(multiCluster(false)).toBe(false);
    expect(multiCluster(undefined)).toBe(false);
    expect(multiCluster('yes')).toBe('multiCluster must be a boolean');
    expect(parseInventoryConfigMap(undefined)).toMatchObject({
      ok: true,
      inventory: { multiCluster: false },
    });
  });

  it('rejects malformed inventories with a reason naming the field', () => {
    expect(parseInventory({ severitiesInScope: ['CRITICAL'], images: [] })).toEqual({
      ok: false,
      reason: stringContaining('CRITICAL'),
    });
    expect(
      parseInventory({ severitiesInScope: [], images: [image({ image: 'Bad Ref' })] }),
    ).toEqual({ ok: false, reason: stringContaining('images[0].image') });
    expect(
      parseInventory({ severitiesInScope: [], images: [image({ slaHours: { Critical: -1 } })] }),
    ).toEqual({ ok: false, reason: stringContaining('slaHours.Critical') });
    expect(parseInventoryConfigMap({ [INVENTORY_CONFIGMAP_KEY]: '{nope' })).toMatchObject({
      ok: false,
    });
    expect(parseInventoryConfigMap(undefined)).toMatchObject({
      ok: true,
      inventory: { images: new Map() },
    });
  });

  it('takes the most recently patched digest per image and skips malformed keys', () => {
    const a = fx.digestOf('a');
    const b = fx.digestOf('b');
    const { byImage, invalid } = parsePatchedDigests({
      one: JSON.stringify(fx.patchedRecord('nginx', a, '2024-05-01T00:00:00Z')),
      two: JSON.stringify(
        fx.patchedRecord(
          'docker.io/library/nginx',
          b.slice('sha256:'.length),
          '2024-05-02T00:00:00Z',
        ),
      ),
      bad: '{',
      worse: JSON.stringify({ image: 'nginx', digest: 'nope' }),
    });
    expect(byImage.get('docker.io/library/nginx')).toEqual({
      digest: b,
      patchedAt: Date.parse('2024-05-02T00:00:00Z'),
      cronjob: 'two',
    });
    expect(invalid).toEqual(['bad', 'worse']);
  });
});

describe('state format', () => {
  it('makes valid, distinct ConfigMap keys and round-trips entries', () => {
    const images = [
      'docker.io/library/nginx',
      'docker.io/library_nginx',
      'registry.example.com:5000/a/b',
      `r.example.com/${'x'.repeat(240)}`,
    ];
    const keys = images.map(stateKey);
    for (const key of keys) {
      expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
      expect(key.length).toBeLessThanOrEqual(253);
    }
    expect(new Set(keys).size).toBe(images.length);
    const cves: ImageClock = new Map([
      ['CVE-2', { firstSeen: 200, goneSince: 0, breached: [24] }],
      ['CVE-1', { firstSeen: 100, goneSince: 150, breached: [] }],
    ]);
    const text = encodeImageClock('docker.io/library/nginx', cves);
    expect(text).toBe(
      '{"v":1,"image":"docker.io/library/nginx","cves":{"CVE-1":[100,150],"CVE-2":[200,0,24]}}',
    );
    expect(decodeImageClock(text)).toEqual({
      image: 'docker.io/library/nginx',
      cves: new Map([...cves].sort()),
    });
    expect(decodeImageClock('{"v":2}')).toBeUndefined();
    expect(decodeImageClock('not json')).toBeUndefined();
  });
});

describe('SLA clock', () => {
  const WINDOW = 1000;

  it('starts a clock once per CVE and keeps it while the CVE is carried', () => {
    const clock = new SlaClock(WINDOW);
    clock.load([]);
    clock.observe('img', new Set(['CVE-1']), true, 100);
    clock.observe('img', new Set(['CVE-1', 'CVE-2']), true, 200);
    expect(clock.get('img', 'CVE-1')).toEqual({ firstSeen: 100, goneSince: 0, breached: [] });
    expect(clock.get('img', 'CVE-2')?.firstSeen).toBe(200);
    expect(clock.takeDirty()).toEqual(new Map([['img', clock.entries('img')]]));
    expect(clock.hasDirty).toBe(false);
  });

  it('marks a CVE gone only on a complete view, resumes it within the window, restarts it after', () => {
    const clock = new SlaClock(WINDOW);
    clock.load([]);
    clock.observe('img', new Set(['CVE-1']), true, 100);
    clock.observe('img', new Set(), false, 200); // a running digest without a report proves nothing
    expect(clock.get('img', 'CVE-1')?.goneSince).toBe(0);
    clock.observe('img', new Set(), true, 300);
    expect(clock.get('img', 'CVE-1')).toEqual({ firstSeen: 100, goneSince: 300, breached: [] });
    clock.markBreached('img', 'CVE-1', 24);
    clock.observe('img', new Set(['CVE-1']), true, 300 + WINDOW); // back within the window
    expect(clock.get('img', 'CVE-1')).toEqual({ firstSeen: 100, goneSince: 0, breached: [24] });
    clock.observe('img', new Set(), true, 5000);
    clock.observe('img', new Set(['CVE-1']), true, 5000 + WINDOW + 1); // back after the window: a new exposure
    expect(clock.get('img', 'CVE-1')).toEqual({
      firstSeen: 5000 + WINDOW + 1,
      goneSince: 0,
      breached: [],
    });
  });

  it('prunes entries gone longer than the window and forgets images', () => {
    const clock = new SlaClock(WINDOW);
    clock.load([
      [
        'img',
        new Map([
          ['CVE-1', { firstSeen: 1, goneSince: 10, breached: [] }],
          ['CVE-2', { firstSeen: 1, goneSince: 0, breached: [] }],
        ]),
      ],
    ]);
    clock.prune(10 + WINDOW);
    expect(clock.size).toBe(2);
    clock.prune(11 + WINDOW);
    expect(clock.get('img', 'CVE-1')).toBeUndefined();
    expect(clock.size).toBe(1);
    clock.forget('img');
    expect(clock.takeDirty()).toEqual(new Map([['img', undefined]]));
  });

  it('merges a concurrent writer: earliest first-seen, united breaches', () => {
    const clock = new SlaClock(WINDOW);
    clock.load([['img', new Map([['CVE-1', { firstSeen: 50, goneSince: 0, breached: [24] }]])]]);
    clock.mergeRemote(
      'img',
      new Map([
        ['CVE-1', { firstSeen: 40, goneSince: 0, breached: [168] }],
        ['CVE-9', { firstSeen: 1, goneSince: 0, breached: [] }],
      ]),
    );
    expect(clock.get('img', 'CVE-1')).toEqual({ firstSeen: 40, goneSince: 0, breached: [24, 168] });
    expect(clock.get('img', 'CVE-9')).toBeUndefined();
  });
});

describe('job failures the exporter cannot see', () => {
  const failed = (reason: string): JobView => ({
    name: 'j',
    cronjob: 'cj',
    created: 1,
    failedReason: reason,
    succeeded: false,
  });

  it('classifies by what the pods showed, then by the Job condition', () => {
    expect(
      classifyJobFailure(
        failed('DeadlineExceeded'),
        { exporterStarted: false, pullFailed: true },
        false,
      ),
    ).toBe('image_pull_failed');
    expect(
      classifyJobFailure(
        failed('DeadlineExceeded'),
        { exporterStarted: false, pullFailed: false },
        false,
      ),
    ).toBe('pod_not_started');
    expect(classifyJobFailure(failed('DeadlineExceeded'), undefined, true)).toBe('pod_not_started');
    expect(classifyJobFailure(failed('DeadlineExceeded'), undefined, false)).toBe('timeout');
    expect(
      classifyJobFailure(
        failed('DeadlineExceeded'),
        { exporterStarted: true, pullFailed: true },
        true,
      ),
    ).toBe('timeout');
    expect(
      classifyJobFailure(
        failed('BackoffLimitExceeded'),
        { exporterStarted: true, pullFailed: false },
        true,
      ),
    ).toBeUndefined();
    expect(
      classifyJobFailure({ ...failed('x'), failedReason: undefined }, undefined, true),
    ).toBeUndefined();
  });

  it('detects a missed schedule from the last schedule, interval, starting deadline and grace', () => {
    const cron = {
      name: 'cj',
      created: 0,
      lastSchedule: 1_000_000,
      suspended: false,
      startingDeadlineSeconds: 100,
    };
    const limit = 1_000_000 + (3600 + 100 + 60) * 1000;
    expect(missedSchedule(cron, 3600, 60, limit)).toBe(false);
    expect(missedSchedule(cron, 3600, 60, limit + 1)).toBe(true);
    expect(missedSchedule({ ...cron, suspended: true }, 3600, 60, limit + 1)).toBe(false);
    expect(
      missedSchedule({ ...cron, lastSchedule: undefined, created: 1_000_000 }, 3600, 60, limit + 1),
    ).toBe(true);
  });

  it('takes the most recent Job', () => {
    const a = { ...failed('x'), name: 'a', created: 5 };
    const b = { ...failed('x'), name: 'b', created: 7 };
    expect(latestJob([a, b])?.name).toBe('b');
    expect(latestJob([])).toBeUndefined();
  });
});

describe('series stores', () => {
  it('render valid exposition text with escaped labels, shared label parts and ages computed at render time', () => {
    const store = new SeriesStore(METRICS.imageCveAgeHours);
    const origin = { firstSeen: 1000 };
    store.replaceGroup('img', [
      {
        labels: formatLabels(METRICS.imageCveAgeHours, {
          image: 'a"b\\c',
          digest: 'sha256:1',
          cve_id: 'CVE-1\nx',
          severity: 'High',
        }),
        value: 5,
        since: 0,
      },
      {
        labels: formatLabelParts(
          METRICS.imageCveAgeHours,
          { image: 'img', digest: 'sha256:2', cve_id: 'CVE-2', severity: 'Critical' },
          2,
        ),
        value: { origin, unitSeconds: 3600 },
        since: 0,
      },
    ]);
    const text = [...store.render(1000_000 + 7200_000)].join('');
    expect(text.startsWith(`# HELP ${METRICS.imageCveAgeHours.name} `)).toBe(true);
    const samples = parseExposition(text);
    expect(samples).toEqual([
      {
        name: METRICS.imageCveAgeHours.name,
        labels: { image: 'a"b\\c', digest: 'sha256:1', cve_id: 'CVE-1\nx', severity: 'High' },
        value: 5,
      },
      {
        name: METRICS.imageCveAgeHours.name,
        labels: { image: 'img', digest: 'sha256:2', cve_id: 'CVE-2', severity: 'Critical' },
        value: 2,
      },
    ]);
    store.replaceGroup('img', []);
    expect(store.size).toBe(0);
  });

  it('streams large stores in bounded chunks', () => {
    const store = new SeriesStore(METRICS.runningContainers);
    store.replaceGroup(
      'g',
      Array.from({ length: 5000 }, (_, i) => ({
        labels: formatLabels(METRICS.runningContainers, {
          image: `registry.example.com/image-${i}`,
        }),
        value: i,
        since: 0,
      })),
    );
    const chunks = [...store.render(0, 16 * 1024)];
    expect(chunks.length).toBeGreaterThan(5);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(17 * 1024);
    expect(parseExposition(chunks.join('')).length).toBe(5000);
  });
});

describe('tuning', () => {
  it('reads overrides from the environment and rejects malformed values by name', () => {
    expect(tuningFromEnv({})).toEqual(DEFAULT_TUNING);
    expect(tuningFromEnv({ [COLLECTOR_ENV.tickMs]: '250' }).tickMs).toBe(250);
    expect(() => tuningFromEnv({ [COLLECTOR_ENV.flushDelayMs]: 'soon' })).toThrow(
      COLLECTOR_ENV.flushDelayMs,
    );
    expect(() => tuningFromEnv({ [COLLECTOR_ENV.reportsPageSize]: '0' })).toThrow(
      COLLECTOR_ENV.reportsPageSize,
    );
    expect(CONFIGMAPS.collectorState).toBe('copa-fleet-collector-state');
  });
});
