import { describe, expect, it } from 'vitest';
import {
  EXPORTER_METRIC_KEYS,
  nextGroup,
  renderGroup,
  type PreviousGroup,
  type RunReport,
  type Series,
} from '../../../runtime/exporter/group-metrics.ts';
import { groupPath, parseGroup } from '../../../runtime/exporter/pushgateway.ts';
import { JOBS, METRICS, type MetricKey } from '../../../src/shared/metrics.ts';
import { COPA_VERSION, IMAGE, PATCHED_DIGEST, PATCHED_TAG } from './fixtures.ts';

const zero = { Critical: 0, High: 0, Medium: 0, Low: 0, Unknown: 0 };
const run = (overrides: Partial<RunReport>): RunReport => ({
  image: IMAGE,
  copaVersion: COPA_VERSION,
  outcome: 'patched',
  reportedAt: 1_700_000_000,
  durationSeconds: 42,
  vulnerabilities: {},
  ...overrides,
});
const values = (series: readonly Series[] | undefined) =>
  (series ?? []).map((s) => [s.labels, s.value]);

describe('nextGroup', () => {
  it('pushes exactly the exporter metrics of the vocabulary', () => {
    const exporterKeys = (Object.keys(METRICS) as MetricKey[]).filter(
      (k) => METRICS[k].source === 'exporter',
    );
    expect([...EXPORTER_METRIC_KEYS].sort()).toEqual(exporterKeys.sort());
  });

  it('adds one to the previous counter and keeps the other failure reasons', () => {
    const previous: PreviousGroup = new Map([
      [
        METRICS.patchFailureTotal.name,
        [
          {
            labels: { image: IMAGE, failure_reason: 'push_failed', copa_version: COPA_VERSION },
            value: 2,
          },
          {
            labels: { image: IMAGE, failure_reason: 'timeout', copa_version: COPA_VERSION },
            value: 5,
          },
        ],
      ],
      [
        METRICS.patchSuccessTotal.name,
        [{ labels: { image: IMAGE, copa_version: COPA_VERSION }, value: 7 }],
      ],
    ]);
    const group = nextGroup(previous, run({ outcome: 'push_failed' }));
    expect(values(group.get('patchFailureTotal'))).toEqual([
      [{ image: IMAGE, failure_reason: 'push_failed', copa_version: COPA_VERSION }, 3],
      [{ image: IMAGE, failure_reason: 'timeout', copa_version: COPA_VERSION }, 5],
    ]);
    expect(values(group.get('patchSuccessTotal'))).toEqual([
      [{ image: IMAGE, copa_version: COPA_VERSION }, 7],
    ]);
  });

  it('starts a new series for a new Copa version and keeps the old one', () => {
    const previous: PreviousGroup = new Map([
      [
        METRICS.patchSuccessTotal.name,
        [{ labels: { image: IMAGE, copa_version: '0.13.0' }, value: 4 }],
      ],
    ]);
    expect(values(nextGroup(previous, run({})).get('patchSuccessTotal'))).toEqual([
      [{ image: IMAGE, copa_version: '0.13.0' }, 4],
      [{ image: IMAGE, copa_version: COPA_VERSION }, 1],
    ]);
  });

  it('drops series of another image or with foreign labels', () => {
    const series: Series[] = [
      { labels: { image: 'docker.io/library/old', copa_version: COPA_VERSION }, value: 9 },
      { labels: { image: IMAGE, copa_version: COPA_VERSION, extra: 'x' }, value: 9 },
    ];
    const previous: PreviousGroup = new Map([[METRICS.patchSuccessTotal.name, series]]);
    expect(values(nextGroup(previous, run({})).get('patchSuccessTotal'))).toEqual([
      [{ image: IMAGE, copa_version: COPA_VERSION }, 1],
    ]);
  });

  it('keeps the last success, the patched digest and the after-counts on a failure', () => {
    const first = nextGroup(
      new Map(),
      run({
        patched: { tag: PATCHED_TAG, digest: PATCHED_DIGEST },
        vulnerabilities: { before: { ...zero, Critical: 2 }, after: zero },
      }),
    );
    const previous: PreviousGroup = new Map(
      [...first].map(([key, series]) => [METRICS[key].name, series]),
    );
    const second = nextGroup(
      previous,
      run({ outcome: 'scan_failed', reportedAt: 1_700_086_400, vulnerabilities: {} }),
    );
    expect(values(second.get('runLastSuccessTimestamp'))).toEqual([
      [{ image: IMAGE }, 1_700_000_000],
    ]);
    expect(values(second.get('runLastTimestamp'))).toEqual([[{ image: IMAGE }, 1_700_086_400]]);
    expect(values(second.get('patchedImageInfo'))).toEqual([
      [{ image: IMAGE, tag: PATCHED_TAG, digest: PATCHED_DIGEST }, 1],
    ]);
    expect(second.get('imageVulnerabilities')).toEqual(first.get('imageVulnerabilities'));
  });

  it('emits one copa_run_last_outcome series: the last outcome, at 1 (the previous one is replaced)', () => {
    const first = nextGroup(new Map(), run({ outcome: 'patched' }));
    const previous: PreviousGroup = new Map(
      [...first].map(([key, series]) => [METRICS[key].name, series]),
    );
    const outcomes = values(
      nextGroup(previous, run({ outcome: 'oom_killed' })).get('runLastOutcome'),
    );
    expect(outcomes).toEqual([[{ image: IMAGE, outcome: 'oom_killed' }, 1]]);
  });

  it('emits only the non-zero severities of a stage that was scanned (absent = 0)', () => {
    const group = nextGroup(
      new Map(),
      run({ vulnerabilities: { before: { ...zero, High: 3, Low: 1 }, after: zero } }),
    );
    const stage = (name: string) =>
      values((group.get('imageVulnerabilities') ?? []).filter((s) => s.labels.stage === name));
    expect(stage('before')).toEqual([
      [{ image: IMAGE, severity: 'High', stage: 'before' }, 3],
      [{ image: IMAGE, severity: 'Low', stage: 'before' }, 1],
    ]);
    expect(stage('after')).toEqual([]);
  });
});

describe('renderGroup', () => {
  it('renders names, help and types from METRICS through prom-client', async () => {
    const { body, contentType } = await renderGroup(
      nextGroup(new Map(), run({ outcome: 'push_failed' })),
    );
    expect(contentType).toContain('text/plain');
    expect(body).toContain(
      `# HELP ${METRICS.patchFailureTotal.name} ${METRICS.patchFailureTotal.help}`,
    );
    expect(body).toContain(`# TYPE ${METRICS.patchFailureTotal.name} counter`);
    expect(body).toContain(
      `${METRICS.patchFailureTotal.name}{image="${IMAGE}",failure_reason="push_failed",copa_version="${COPA_VERSION}"} 1`,
    );
    expect(body).not.toContain(METRICS.patchSuccessTotal.name);
  });
});

describe('Pushgateway group', () => {
  it('addresses one group per CronJob under the exporter job', () => {
    expect(groupPath('copa-app-1a2b3c')).toBe(
      `/metrics/job/${JOBS.exporter}/cronjob/copa-app-1a2b3c`,
    );
  });

  it('parses the group from /api/v1/metrics, without the grouping labels', () => {
    const answer = {
      status: 'success',
      data: [
        {
          labels: { job: JOBS.exporter, cronjob: 'other' },
          copa_patch_success_total: {
            type: 'COUNTER',
            metrics: [{ labels: { image: 'x' }, value: '9' }],
          },
        },
        {
          labels: { job: JOBS.exporter, cronjob: 'mine' },
          copa_patch_success_total: {
            type: 'COUNTER',
            metrics: [
              {
                labels: {
                  job: JOBS.exporter,
                  cronjob: 'mine',
                  instance: '',
                  image: IMAGE,
                  copa_version: '1',
                },
                value: '3',
              },
            ],
          },
          push_time_seconds: {
            type: 'GAUGE',
            metrics: [
              { labels: { job: JOBS.exporter, cronjob: 'mine', instance: '' }, value: '1.7e+09' },
            ],
          },
        },
      ],
    };
    const group = parseGroup(answer, 'mine');
    expect(group.get('copa_patch_success_total')).toEqual([
      { labels: { image: IMAGE, copa_version: '1' }, value: 3 },
    ]);
    expect(parseGroup(answer, 'absent').size).toBe(0);
    expect(() => parseGroup({ status: 'error' }, 'mine')).toThrow(/no data array/);
  });
});
