/**
 * The generated Pushgateway's persistence (`--persistence.file`, as src/constructs/pushgateway.ts
 * sets it), with the real Pushgateway and the bundled exporter: push, stop the Pushgateway, start
 * it on the same file, push again. Every series the alerts read (heartbeat, last success, last
 * outcome, counters) comes back as it was, and the counters go on from there. The control run
 * without a persistence file shows what the file prevents.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPushgateway, type RunningProcess } from '../../support/processes.ts';
import { COPA_VERSION, IMAGE, exporterOptions, scenario } from './fixtures.ts';
import {
  MiniKubeApi,
  event,
  makeWorkDir,
  pushedGroup,
  removeDir,
  requireBundle,
  runExporter,
  valueOf,
  type PushedSeries,
} from './harness.ts';
import { METRICS } from './outcomes.ts';

let kube: MiniKubeApi;
let scratch: string;
let kubeconfig: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  requireBundle();
  kube = await MiniKubeApi.start();
  scratch = await mkdtemp(join(tmpdir(), 'copa-fleet-persistence-test-'));
  kubeconfig = await kube.writeKubeconfig(scratch);
  kube.setConfigMap('copa-fleet', 'copa-fleet-patched-digests', {});
});

afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
  await kube?.close();
  await removeDir(scratch);
});

async function pushRun(
  pushgateway: RunningProcess,
  cronjob: string,
  outcome: 'patched' | 'push_failed',
): Promise<void> {
  const s = scenario(outcome);
  const podName = `${cronjob}-${outcome}-${Date.now()}`;
  kube.setPod('copa-fleet', podName, s.pod(Date.now() - 600_000));
  const workDir = await makeWorkDir(s.files);
  cleanups.push(() => removeDir(workDir));
  const run = await runExporter({
    options: exporterOptions({ pushgatewayUrl: pushgateway.url, cronjob }),
    workDir,
    kubeconfig,
    podName,
  });
  expect(run.code, run.stderr + JSON.stringify(run.logs)).toBe(0);
  expect(event(run, 'classified')?.outcome).toBe(outcome);
}

async function started(options: Parameters<typeof startPushgateway>[0]): Promise<RunningProcess> {
  const process = await startPushgateway(options);
  cleanups.push(() => process.stop());
  return process;
}

/** Every series with its value, the Pushgateway's own push_time_seconds included. */
const sorted = (series: readonly PushedSeries[]) =>
  series.map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`).sort();

describe('a persistent Pushgateway survives its restart', () => {
  it('graceful stop: nothing lost, counters continue after the restart', async () => {
    const file = join(scratch, 'graceful.store');
    const cronjob = 'copa-app-persist';
    let pushgateway = await started({ persistenceFile: file, persistenceInterval: '5m' });
    await pushRun(pushgateway, cronjob, 'patched');
    await pushRun(pushgateway, cronjob, 'push_failed');
    const before = await pushedGroup(pushgateway.url, cronjob);
    expect(
      valueOf(before, METRICS.patchSuccessTotal.name, { image: IMAGE, copa_version: COPA_VERSION }),
    ).toBe(1);
    expect(valueOf(before, METRICS.patchFailureTotal.name, { failure_reason: 'push_failed' })).toBe(
      1,
    );

    // SIGTERM: the Pushgateway writes the file on shutdown (the 5m interval has not passed).
    await pushgateway.stop();
    pushgateway = await started({ persistenceFile: file, persistenceInterval: '5m' });
    const after = await pushedGroup(pushgateway.url, cronjob);
    expect(sorted(after)).toEqual(sorted(before));
    // PushgatewayGroupStale reads the group's push time: the last push before the restart, not the restart.
    expect(valueOf(after, 'push_time_seconds')).toBeGreaterThan(0);
    expect(valueOf(after, 'push_time_seconds')).toBe(valueOf(before, 'push_time_seconds'));
    // Heartbeat and last success, which the missing-run and stale-success alerts read, are the pre-restart values.
    expect(valueOf(after, METRICS.runLastTimestamp.name)).toBe(
      valueOf(before, METRICS.runLastTimestamp.name),
    );
    expect(valueOf(after, METRICS.runLastSuccessTimestamp.name)).toBe(
      valueOf(before, METRICS.runLastSuccessTimestamp.name),
    );
    expect(valueOf(after, METRICS.runLastOutcome.name, { outcome: 'push_failed' })).toBe(1);

    await pushRun(pushgateway, cronjob, 'patched');
    const again = await pushedGroup(pushgateway.url, cronjob);
    expect(
      valueOf(again, METRICS.patchSuccessTotal.name, { image: IMAGE, copa_version: COPA_VERSION }),
    ).toBe(2);
    expect(valueOf(again, METRICS.patchFailureTotal.name, { failure_reason: 'push_failed' })).toBe(
      1,
    );
    expect(valueOf(again, METRICS.runLastSuccessTimestamp.name)).toBeGreaterThan(
      valueOf(before, METRICS.runLastSuccessTimestamp.name) ?? Number.POSITIVE_INFINITY,
    );
  });

  it('a crash (SIGKILL) loses nothing written at the last persistence interval', async () => {
    const file = join(scratch, 'crash.store');
    const cronjob = 'copa-app-crash';
    let pushgateway = await started({ persistenceFile: file, persistenceInterval: '1s' });
    await pushRun(pushgateway, cronjob, 'patched');
    const before = await pushedGroup(pushgateway.url, cronjob);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // at least one interval write
    process.kill(pushgateway.pid, 'SIGKILL');
    await pushgateway.stop();
    pushgateway = await started({ persistenceFile: file, persistenceInterval: '1s' });
    expect(sorted(await pushedGroup(pushgateway.url, cronjob))).toEqual(sorted(before));
  });

  it('control: without the file, the restart erases the group and the counters start again at 1', async () => {
    const cronjob = 'copa-app-memory';
    let pushgateway = await started({});
    await pushRun(pushgateway, cronjob, 'patched');
    await pushgateway.stop();
    pushgateway = await started({});
    expect(await pushedGroup(pushgateway.url, cronjob)).toEqual([]);
    await pushRun(pushgateway, cronjob, 'patched');
    expect(
      valueOf(await pushedGroup(pushgateway.url, cronjob), METRICS.patchSuccessTotal.name, {
        image: IMAGE,
        copa_version: COPA_VERSION,
      }),
    ).toBe(1);
  });
});
