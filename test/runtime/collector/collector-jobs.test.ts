/**
 * Copa job failures the in-pod exporter cannot report, and the CronJob timestamps (collector
 * subprocess against the API fake).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../../src/shared/metrics.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import * as fx from './fixtures.ts';
import {
  eventually,
  scrape,
  select,
  startCollector,
  valueOf,
  waitFor,
  type RunningCollector,
  type Sample,
} from './harness.ts';

const DAY = 86_400_000;
const entry = (name: string) => ({
  name,
  image: `registry.example.com/jobs/${name}`,
  cronjob: `${name}-1-0`,
});
const timeout = entry('timeout');
const pull = entry('pull');
const unstarted = entry('unstarted');
const exporter = entry('exporter');
const missed = entry('missed');
const suspended = entry('suspended');
const images = [timeout, pull, unstarted, exporter, missed, suspended];
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

let api: FakeKubeApi;
let collector: RunningCollector;

const failures = (samples: Sample[]) =>
  select(samples, METRICS.jobLastFailure.name)
    .map((s) => `${s.labels.cronjob}:${s.labels.failure_reason}=${s.value}`)
    .sort();

beforeAll(async () => {
  api = await FakeKubeApi.start();
  api.create(
    'configmaps',
    fx.inventoryConfigMap(
      images.map((i) => fx.inventoryImage(i.image, i.cronjob, { scheduleIntervalSeconds: 86_400 })),
    ),
  );
  const recent = iso(Date.now() - 3600_000);
  for (const i of [timeout, pull, unstarted, exporter])
    api.create(
      'cronjobs',
      fx.cronJob({
        name: i.cronjob,
        lastScheduleTime: recent,
        lastSuccessfulTime: iso(Date.now() - DAY),
      }),
    );
  api.create(
    'cronjobs',
    fx.cronJob({
      name: missed.cronjob,
      lastScheduleTime: iso(Date.now() - 3 * DAY),
      startingDeadlineSeconds: 1800,
    }),
  );
  api.create(
    'cronjobs',
    fx.cronJob({
      name: suspended.cronjob,
      lastScheduleTime: iso(Date.now() - 3 * DAY),
      suspend: true,
    }),
  );
  // A Job that ran out of time while its exporter ran, before the collector started.
  api.create(
    'jobs',
    fx.job({
      name: `${timeout.cronjob}-1`,
      cronjob: timeout.cronjob,
      failed: { reason: 'DeadlineExceeded' },
      creationTimestamp: iso(Date.now() - 2 * 3600_000),
    }),
  );
  collector = await startCollector(api);
  await waitFor(async () => (await fetch(`${collector.url}/readyz`)).ok, { what: '/readyz' });
});

afterAll(async () => {
  await collector?.stop();
  await api?.close();
});

describe('job failures the exporter cannot see', () => {
  it('exports the last schedule time and a missed schedule (not for a suspended CronJob)', async () => {
    const samples = await eventually(
      collector,
      (s) => expect(failures(s)).toContain(`${missed.cronjob}:missed_schedule=1`),
      'missed schedule',
    );
    const last = api.get('cronjobs', fx.FLEET_NAMESPACE, timeout.cronjob)!.status as {
      lastScheduleTime: string;
    };
    expect(
      valueOf(samples, METRICS.cronjobLastScheduleTimestamp.name, {
        cronjob: timeout.cronjob,
        image: timeout.image,
      }),
    ).toBe(Date.parse(last.lastScheduleTime) / 1000);
    // status.lastSuccessfulTime is not exported: a Job can succeed while Copa's run failed.
    expect(samples.some((s) => s.name.startsWith('copa_cronjob_last_successful'))).toBe(false);
    expect(failures(samples).filter((f) => f.startsWith(suspended.cronjob))).toEqual([]);
    expect(failures(samples)).toContain(`${timeout.cronjob}:timeout=1`);
  });

  it("exports each inventoried CronJob's creation time (the start of the first-run wait), from the API", async () => {
    const samples = await scrape(collector.url);
    const created = api.get('cronjobs', fx.FLEET_NAMESPACE, timeout.cronjob)!.metadata
      .creationTimestamp!;
    expect(
      valueOf(samples, METRICS.cronjobCreatedTimestamp.name, {
        cronjob: timeout.cronjob,
        image: timeout.image,
      }),
    ).toBe(Date.parse(created) / 1000);
    // Every inventoried CronJob that exists has one; no other series.
    expect(select(samples, METRICS.cronjobCreatedTimestamp.name)).toHaveLength(images.length);
  });

  it('classifies failed Jobs by what their pods showed', async () => {
    // Image pull failure before the exporter could start.
    api.create('jobs', fx.job({ name: `${pull.cronjob}-1`, cronjob: pull.cronjob }));
    api.create(
      'pods',
      fx.jobPod({
        name: `${pull.cronjob}-1-abc`,
        job: `${pull.cronjob}-1`,
        cronjob: pull.cronjob,
        exporter: 'waiting',
        waitingReason: 'ImagePullBackOff',
      }),
    );
    // A Job whose pod never appeared (admission, quota).
    api.create('jobs', fx.job({ name: `${unstarted.cronjob}-1`, cronjob: unstarted.cronjob }));
    // A Job whose exporter ran and reported the failure itself.
    api.create('jobs', fx.job({ name: `${exporter.cronjob}-1`, cronjob: exporter.cronjob }));
    api.create(
      'pods',
      fx.jobPod({
        name: `${exporter.cronjob}-1-abc`,
        job: `${exporter.cronjob}-1`,
        cronjob: exporter.cronjob,
        exporter: 'running',
      }),
    );
    // All three fail; the Job controller deletes the pods of a Job past its deadline. (The watch
    // delivers the pod's ADDED before its DELETED: the collector remembers what the pod showed.)
    api.update(
      'jobs',
      fx.job({
        name: `${pull.cronjob}-1`,
        cronjob: pull.cronjob,
        failed: { reason: 'DeadlineExceeded' },
      }),
    );
    api.remove('pods', fx.FLEET_NAMESPACE, `${pull.cronjob}-1-abc`);
    api.update(
      'jobs',
      fx.job({
        name: `${unstarted.cronjob}-1`,
        cronjob: unstarted.cronjob,
        failed: { reason: 'DeadlineExceeded' },
      }),
    );
    api.update(
      'jobs',
      fx.job({
        name: `${exporter.cronjob}-1`,
        cronjob: exporter.cronjob,
        failed: { reason: 'BackoffLimitExceeded' },
      }),
    );
    const samples = await eventually(
      collector,
      (s) => expect(failures(s)).toContain(`${unstarted.cronjob}:pod_not_started=1`),
      'failures classified',
    );
    expect(failures(samples)).toEqual(
      [
        `${missed.cronjob}:missed_schedule=1`,
        `${pull.cronjob}:image_pull_failed=1`,
        `${timeout.cronjob}:timeout=1`,
        `${unstarted.cronjob}:pod_not_started=1`,
      ].sort(),
    );
    expect(valueOf(samples, METRICS.jobLastFailure.name, { cronjob: pull.cronjob })).toBe(1);
    expect(
      select(samples, METRICS.jobLastFailure.name, { cronjob: pull.cronjob })[0]?.labels.image,
    ).toBe(pull.image);
    // The job pods of the fleet namespace are not an unscanned workload.
    expect(
      select(samples, METRICS.namespaceUnscanned.name, { namespace: fx.FLEET_NAMESPACE }),
    ).toHaveLength(0);
  });

  it('clears a failure when a newer Job of the CronJob succeeds, and a missed schedule when the CronJob runs again', async () => {
    api.create(
      'jobs',
      fx.job({ name: `${timeout.cronjob}-2`, cronjob: timeout.cronjob, succeeded: true }),
    );
    api.update(
      'cronjobs',
      fx.cronJob({
        name: missed.cronjob,
        lastScheduleTime: iso(Date.now()),
        startingDeadlineSeconds: 1800,
      }),
    );
    const samples = await eventually(
      collector,
      (s) =>
        expect(
          failures(s).some(
            (f) => f.startsWith(`${timeout.cronjob}:`) || f.startsWith(`${missed.cronjob}:`),
          ),
        ).toBe(false),
      'failures cleared',
    );
    expect(failures(samples)).toEqual(
      [`${pull.cronjob}:image_pull_failed=1`, `${unstarted.cronjob}:pod_not_started=1`].sort(),
    );
  });

  it('drops the series of a CronJob that left the inventory', async () => {
    api.update(
      'configmaps',
      fx.inventoryConfigMap(
        images.filter((i) => i !== pull).map((i) => fx.inventoryImage(i.image, i.cronjob)),
      ),
    );
    const samples = await eventually(
      collector,
      (s) =>
        expect(select(s, METRICS.jobLastFailure.name, { cronjob: pull.cronjob })).toHaveLength(0),
      'pull series gone',
    );
    expect(
      select(samples, METRICS.cronjobLastScheduleTimestamp.name, { cronjob: pull.cronjob }),
    ).toHaveLength(0);
    expect(
      select(samples, METRICS.cronjobCreatedTimestamp.name, { cronjob: pull.cronjob }),
    ).toHaveLength(0);
  });
});
