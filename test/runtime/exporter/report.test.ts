/**
 * The bundled exporter (runtime/build/copa-fleet-exporter.mjs, a real Node subprocess) against a
 * real Pushgateway (/usr/bin/prometheus-pushgateway) and a minimal in-process Kubernetes API.
 */
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobFiles, type PatchedDigestRecord } from '../../../src/shared/contract.ts';
import { METRICS, RUN_OUTCOMES, SEVERITIES, isSuccessOutcome } from './outcomes.ts';
import { freePort, startPushgateway, type RunningProcess } from '../../support/processes.ts';
import {
  COPA_VERSION,
  IMAGE,
  PATCHED_DIGEST,
  PATCHED_TAG,
  SCENARIOS,
  exporterOptions,
  jobPod,
  scenario,
  type Scenario,
} from './fixtures.ts';
import {
  MiniKubeApi,
  POD_NAME,
  POD_NAMESPACE,
  event,
  makeWorkDir,
  pushedGroup,
  removeDir,
  requireBundle,
  runExporter,
  valueOf,
  type ExporterRun,
} from './harness.ts';

let pushgateway: RunningProcess;
let kube: MiniKubeApi;
let kubeconfig: string;
let scratch: string;
const workDirs: string[] = [];

beforeAll(async () => {
  requireBundle();
  [pushgateway, kube] = await Promise.all([startPushgateway(), MiniKubeApi.start()]);
  scratch = await mkdtemp(join(tmpdir(), 'copa-fleet-exporter-test-'));
  kubeconfig = await kube.writeKubeconfig(scratch);
});

afterAll(async () => {
  await Promise.all([
    pushgateway?.stop(),
    kube?.close(),
    ...workDirs.map(removeDir),
    scratch && removeDir(scratch),
  ]);
});

/** Runs one scenario end to end: the pod (created `ageSeconds` ago) served by the API, its files in a work dir. */
async function runScenario(
  s: Pick<Scenario, 'pod' | 'files' | 'sigtermAtAgeSeconds'>,
  cronjob: string,
  extra: {
    podName?: string;
    options?: Parameters<typeof exporterOptions>[0];
    env?: Record<string, string>;
  } = {},
): Promise<{ run: ExporterRun; workDir: string }> {
  const podName = extra.podName ?? `${cronjob}-pod`;
  kube.setPod(POD_NAMESPACE, podName, s.pod(Date.now() - (s.sigtermAtAgeSeconds ?? 600) * 1000));
  const workDir = await makeWorkDir(s.files);
  workDirs.push(workDir);
  const run = await runExporter({
    options: exporterOptions({ pushgatewayUrl: pushgateway.url, cronjob, ...extra.options }),
    workDir,
    kubeconfig,
    podName,
    ...(extra.env !== undefined && { env: extra.env }),
    ...(s.sigtermAtAgeSeconds !== undefined && { sigtermOn: 'waiting_for_run' }),
  });
  return { run, workDir };
}

const DIGEST_STORE = 'copa-fleet-patched-digests';

describe('counters really count', () => {
  const cronjob = 'copa-app-accumulate';

  it('3 successes and 2 failures of different reasons give exact counters, other reasons kept', async () => {
    // A group left by earlier runs: a timeout counted 4 times, which no run below touches.
    const seed = [
      `# TYPE ${METRICS.patchFailureTotal.name} counter`,
      `${METRICS.patchFailureTotal.name}{image="${IMAGE}",failure_reason="timeout",copa_version="${COPA_VERSION}"} 4`,
      '',
    ].join('\n');
    const seeded = await fetch(
      `${pushgateway.url}/metrics/job/copa-fleet-exporter/cronjob/${cronjob}`,
      { method: 'PUT', body: seed },
    );
    expect(seeded.ok).toBe(true);
    kube.setConfigMap('copa-fleet', DIGEST_STORE, {
      'copa-other-image': '{"image":"docker.io/library/other"}',
    });

    const sequence = ['patched', 'push_failed', 'up_to_date', 'patch_failed', 'patched'] as const;
    const lastSuccessAfter: number[] = [];
    for (const outcome of sequence) {
      const { run } = await runScenario(scenario(outcome), cronjob);
      expect(run.code, run.stderr + JSON.stringify(run.logs)).toBe(0);
      expect(event(run, 'classified')?.outcome).toBe(outcome);
      const group = await pushedGroup(pushgateway.url, cronjob);
      lastSuccessAfter.push(valueOf(group, METRICS.runLastSuccessTimestamp.name) ?? Number.NaN);
    }

    const group = await pushedGroup(pushgateway.url, cronjob);
    expect(
      valueOf(group, METRICS.patchSuccessTotal.name, { image: IMAGE, copa_version: COPA_VERSION }),
    ).toBe(3);
    expect(valueOf(group, METRICS.patchFailureTotal.name, { failure_reason: 'push_failed' })).toBe(
      1,
    );
    expect(valueOf(group, METRICS.patchFailureTotal.name, { failure_reason: 'patch_failed' })).toBe(
      1,
    );
    expect(valueOf(group, METRICS.patchFailureTotal.name, { failure_reason: 'timeout' })).toBe(4);
    expect(group.filter((s) => s.name === METRICS.patchFailureTotal.name)).toHaveLength(3);

    // The last-success timestamp moves on successes only.
    const [afterPatched, afterPushFailed, afterUpToDate, afterPatchFailed, afterLast] =
      lastSuccessAfter as [number, number, number, number, number];
    expect(afterPushFailed).toBe(afterPatched);
    expect(afterUpToDate).toBeGreaterThan(afterPatched);
    expect(afterPatchFailed).toBe(afterUpToDate);
    expect(afterLast).toBeGreaterThan(afterPatchFailed);
    expect(valueOf(group, METRICS.runLastTimestamp.name)).toBe(afterLast);
    expect(valueOf(group, METRICS.runLastOutcome.name, { outcome: 'patched' })).toBe(1);
    expect(
      valueOf(group, METRICS.patchedImageInfo.name, { tag: PATCHED_TAG, digest: PATCHED_DIGEST }),
    ).toBe(1);
    expect(
      valueOf(group, METRICS.imageVulnerabilities.name, { stage: 'before', severity: 'Critical' }),
    ).toBe(2);
    expect(
      valueOf(group, METRICS.imageVulnerabilities.name, { stage: 'after', severity: 'Critical' }),
    ).toBeUndefined(); // 0: not pushed
    expect(valueOf(group, METRICS.runDurationSeconds.name)).toBeGreaterThan(0);
  });

  it('records the patched digest with a JSON merge patch of its own key only', () => {
    const mine = kube.patches.filter((p) => JSON.stringify(p.body).includes(`"${cronjob}"`));
    expect(mine).toHaveLength(2); // the two patched runs; failures and up-to-date write nothing
    for (const patch of mine) {
      expect(patch.contentType).toBe('application/merge-patch+json');
      expect(patch.path).toBe(`/api/v1/namespaces/copa-fleet/configmaps/${DIGEST_STORE}`);
      expect(Object.keys(patch.body as object)).toEqual(['data']);
      expect(Object.keys((patch.body as { data: object }).data)).toEqual([cronjob]);
    }
    const data = kube.configMaps.get(`copa-fleet/${DIGEST_STORE}`)?.data ?? {};
    expect(data['copa-other-image']).toBe('{"image":"docker.io/library/other"}');
    const record = JSON.parse(data[cronjob] ?? '{}') as PatchedDigestRecord;
    expect(record).toMatchObject({
      image: IMAGE,
      tag: '1.25',
      patchedTag: PATCHED_TAG,
      digest: PATCHED_DIGEST,
    });
    // Copa's OpenVEX `fixed` statements, kept as evidence with the digest.
    expect(record.fixed).toEqual(['CVE-2024-45490', 'CVE-2024-6119']);
    expect(record.fixedCount).toBe(2);
    expect(Number.isNaN(Date.parse(record.patchedAt))).toBe(false);
  });
});

describe('every outcome class yields the right series', () => {
  // Independent groups and pods: run concurrently (vitest's default limit of 5 at a time).
  it.concurrent.for(SCENARIOS.map((s) => [s.outcome, s] as const))(
    '%s',
    async ([outcome, s], { expect }) => {
      const cronjob = `copa-outcome-${outcome.replace(/_/g, '-')}`;
      const { run } = await runScenario(s, cronjob);
      expect(run.code, JSON.stringify(run.logs)).toBe(0);
      const decision = event(run, 'classified');
      expect(decision).toMatchObject({
        outcome,
        reason: RUN_OUTCOMES[outcome],
        image: IMAGE,
        cronjob,
      });
      expect(Array.isArray(decision?.evidence)).toBe(true);

      const group = await pushedGroup(pushgateway.url, cronjob);
      // Exactly one outcome series: the last outcome, at 1.
      const outcomes = group.filter((series) => series.name === METRICS.runLastOutcome.name);
      expect(outcomes.map((series) => [series.labels.outcome, series.value])).toEqual([
        [outcome, 1],
      ]);
      if (isSuccessOutcome(outcome)) {
        expect(valueOf(group, METRICS.patchSuccessTotal.name, { copa_version: COPA_VERSION })).toBe(
          1,
        );
        expect(valueOf(group, METRICS.patchFailureTotal.name)).toBeUndefined();
        expect(valueOf(group, METRICS.runLastSuccessTimestamp.name)).toBe(
          valueOf(group, METRICS.runLastTimestamp.name),
        );
      } else {
        expect(
          valueOf(group, METRICS.patchFailureTotal.name, {
            failure_reason: outcome,
            copa_version: COPA_VERSION,
          }),
        ).toBe(1);
        expect(valueOf(group, METRICS.patchSuccessTotal.name)).toBeUndefined();
        expect(valueOf(group, METRICS.runLastSuccessTimestamp.name)).toBeUndefined();
      }
      expect(valueOf(group, METRICS.patchedImageInfo.name)).toBe(
        outcome === 'patched' ? 1 : undefined,
      );
      const before = group.filter(
        (series) =>
          series.name === METRICS.imageVulnerabilities.name && series.labels.stage === 'before',
      );
      // The severities found (the fixture report has all but Unknown); absent ones are 0.
      const found = SEVERITIES.filter((severity) => severity !== 'Unknown');
      const scanned = s.files.scanBefore !== undefined && outcome !== 'report_invalid';
      expect(before.map((series) => series.labels.severity).sort()).toEqual(
        scanned ? [...found].sort() : [],
      );
    },
  );
});

describe('restarts and retries', () => {
  it('a restarted exporter sidecar does not count the same run twice', async () => {
    const cronjob = 'copa-app-restarted';
    const { run, workDir } = await runScenario(scenario('patched'), cronjob);
    expect(run.code).toBe(0);
    expect(await readFile(jobFiles(workDir).reportedMarker, 'utf8')).toContain('patched');
    const again = await runExporter({
      options: exporterOptions({ pushgatewayUrl: pushgateway.url, cronjob }),
      workDir,
      kubeconfig,
      podName: `${cronjob}-pod`,
    });
    expect(again.code).toBe(0);
    expect(event(again, 'already_reported')).toBeDefined();
    expect(event(again, 'pushed')).toBeUndefined();
    expect(
      valueOf(await pushedGroup(pushgateway.url, cronjob), METRICS.patchSuccessTotal.name),
    ).toBe(1);
  });

  it('waits for the run to end: polls its pod until every step has terminated', async () => {
    const cronjob = 'copa-app-polling';
    const running = jobPod({ createdAt: Date.now(), steps: { verify: { state: 'running' } } });
    const done = jobPod({ createdAt: Date.now() });
    kube.setPod(POD_NAMESPACE, POD_NAME, (reads: number) => (reads < 2 ? running : done));
    const readsBefore = kube.podReads;
    const workDir = await makeWorkDir(scenario('patched').files);
    workDirs.push(workDir);
    const run = await runExporter({
      options: exporterOptions({ pushgatewayUrl: pushgateway.url, cronjob }),
      workDir,
      kubeconfig,
    });
    expect(run.code).toBe(0);
    expect(kube.podReads - readsBefore).toBeGreaterThanOrEqual(3);
    expect(event(run, 'classified')?.outcome).toBe('patched');
  });

  it('a Pushgateway that is down yields retries, then a non-zero exit', async () => {
    const port = await freePort();
    kube.setPod(POD_NAMESPACE, POD_NAME, scenario('patched').pod(Date.now()));
    const workDir = await makeWorkDir(scenario('patched').files);
    workDirs.push(workDir);
    const run = await runExporter({
      options: exporterOptions({
        pushgatewayUrl: `http://127.0.0.1:${port}`,
        cronjob: 'copa-app-down',
        graceSeconds: 3,
      }),
      workDir,
      kubeconfig,
    });
    expect(run.code).toBe(1);
    expect(
      run.logs.filter((l) => l.event === 'retry' && l.target === 'pushgateway').length,
    ).toBeGreaterThanOrEqual(2);
    const failure = event(run, 'push_failed');
    expect(failure?.message).toMatch(/NOT recorded.*--grace-seconds=3/);
    expect(failure?.level).toBe('error');
    // Not marked as reported: a restarted sidecar tries again.
    await expect(readFile(jobFiles(workDir).reportedMarker)).rejects.toThrow();
  });

  it('a Pushgateway that comes up during the grace period gets the push', async () => {
    const port = await freePort();
    kube.setPod(POD_NAMESPACE, POD_NAME, scenario('push_failed').pod(Date.now()));
    const workDir = await makeWorkDir(scenario('push_failed').files);
    workDirs.push(workDir);
    let late: Promise<RunningProcess> | undefined;
    const run = await runExporter({
      options: exporterOptions({
        pushgatewayUrl: `http://127.0.0.1:${port}`,
        cronjob: 'copa-app-late',
        graceSeconds: 30,
      }),
      workDir,
      kubeconfig,
      onLog: (record) => {
        if (record.event === 'retry' && late === undefined) late = startPushgateway({ port });
      },
    });
    expect(late).toBeDefined();
    const lateGateway = await late!;
    try {
      expect(run.code, JSON.stringify(run.logs)).toBe(0);
      expect(event(run, 'pushed')).toBeDefined();
      const group = await pushedGroup(lateGateway.url, 'copa-app-late');
      expect(
        valueOf(group, METRICS.patchFailureTotal.name, { failure_reason: 'push_failed' }),
      ).toBe(1);
    } finally {
      await lateGateway.stop();
    }
  });

  it('retries the digest write on a server error', async () => {
    kube.setConfigMap('copa-fleet', DIGEST_STORE, {});
    kube.patchFailures.push(500, 503);
    const { run } = await runScenario(scenario('patched'), 'copa-app-digest-retry');
    expect(run.code).toBe(0);
    expect(run.logs.filter((l) => l.event === 'retry' && l.target === 'digest-store')).toHaveLength(
      2,
    );
    expect(
      kube.configMaps.get(`copa-fleet/${DIGEST_STORE}`)?.data['copa-app-digest-retry'],
    ).toContain(PATCHED_DIGEST);
  });

  it('a missing digest store is a clear error and a non-zero exit, but the metrics are pushed', async () => {
    const { run } = await runScenario(scenario('patched'), 'copa-app-no-store', {
      options: { pushgatewayUrl: pushgateway.url, digestStore: 'absent' },
    });
    expect(run.code).toBe(1);
    expect(String(event(run, 'digest_not_recorded')?.error)).toMatch(
      /configmap copa-fleet\/absent: HTTP 404/,
    );
    expect(
      valueOf(
        await pushedGroup(pushgateway.url, 'copa-app-no-store'),
        METRICS.patchSuccessTotal.name,
      ),
    ).toBe(1);
  });

  it('an unreadable report is a classified failure, not a crash', async () => {
    const s = scenario('report_invalid');
    kube.setPod(POD_NAMESPACE, POD_NAME, s.pod(Date.now()));
    const workDir = await makeWorkDir({ copaExit: '1\n' });
    workDirs.push(workDir);
    await mkdir(jobFiles(workDir).scanBefore); // EISDIR when read
    const run = await runExporter({
      options: exporterOptions({ pushgatewayUrl: pushgateway.url, cronjob: 'copa-app-unreadable' }),
      workDir,
      kubeconfig,
    });
    expect(run.code).toBe(0);
    expect(event(run, 'classified')).toMatchObject({
      outcome: 'report_invalid',
      rule: 'scan-report',
    });
    expect(String((event(run, 'classified')?.evidence as string[])[0])).toContain('unreadable');
  });

  it('bad flags are a one-line message and exit code 2', async () => {
    const workDir = await makeWorkDir({});
    workDirs.push(workDir);
    const run = await runExporter({
      options: exporterOptions({ pushgatewayUrl: pushgateway.url, graceSeconds: 0 }),
      workDir,
      kubeconfig,
    });
    expect(run.code).toBe(2);
    expect(event(run, 'bad_arguments')?.error).toBe(
      '--grace-seconds must be a positive number of seconds',
    );
    expect(run.stderr).toBe('');
  });
});
