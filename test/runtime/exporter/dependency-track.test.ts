/**
 * Dependency-Track upload from the bundled exporter, against an in-process HTTP server that plays
 * `PUT /api/v1/bom`, and the real Pushgateway for the metrics that must be pushed whatever happens.
 */
import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXPORTER_ENV } from '../../../src/shared/contract.ts';
import { startPushgateway, type RunningProcess } from '../../support/processes.ts';
import { BOM, IMAGE, PATCHED_TAG, exporterOptions, scenario } from './fixtures.ts';
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
} from './harness.ts';
import { METRICS } from './outcomes.ts';

interface BomRequest {
  readonly method: string;
  readonly path: string;
  readonly apiKey: string | undefined;
  readonly contentType: string | undefined;
  readonly body: {
    projectName?: string;
    projectVersion?: string;
    autoCreate?: boolean;
    bom?: string;
  };
}

const API_KEY = 'odt_test_key_123';
let pushgateway: RunningProcess;
let kube: MiniKubeApi;
let dependencyTrack: Server;
let dependencyTrackUrl: string;
let kubeconfig: string;
let scratch: string;
const requests: BomRequest[] = [];
/** Statuses for the next requests; 200 with a token once empty. */
let answers: number[] = [];

beforeAll(async () => {
  requireBundle();
  dependencyTrack = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => dependencyTrack.listen(0, '127.0.0.1', resolve));
  dependencyTrackUrl = `http://127.0.0.1:${(dependencyTrack.address() as AddressInfo).port}`;
  [pushgateway, kube] = await Promise.all([startPushgateway(), MiniKubeApi.start()]);
  scratch = await mkdtemp(join(tmpdir(), 'copa-fleet-dt-test-'));
  kubeconfig = await kube.writeKubeconfig(scratch);
  kube.setConfigMap('copa-fleet', 'copa-fleet-patched-digests', {});
});

afterAll(async () => {
  dependencyTrack?.closeAllConnections();
  await Promise.all([
    pushgateway?.stop(),
    kube?.close(),
    new Promise((resolve) => dependencyTrack?.close(resolve)),
    scratch && removeDir(scratch),
  ]);
});

beforeEach(() => {
  requests.length = 0;
  answers = [];
});

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const header = (name: string) =>
    typeof req.headers[name] === 'string' ? req.headers[name] : undefined;
  requests.push({
    method: req.method ?? '',
    path: req.url ?? '',
    apiKey: header('x-api-key'),
    contentType: header('content-type'),
    body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as BomRequest['body'],
  });
  const status = answers.shift() ?? 200;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(
    status === 200
      ? JSON.stringify({ token: '6e3c1b9a-0000-4000-8000-000000000000' })
      : '{"error":"unavailable"}',
  );
}

async function run(
  cronjob: string,
  outcome: 'patched' | 'push_failed' = 'patched',
  graceSeconds = 20,
) {
  const s = scenario(outcome);
  kube.setPod(POD_NAMESPACE, POD_NAME, s.pod(Date.now()));
  const workDir = await makeWorkDir(s.files);
  try {
    return await runExporter({
      options: exporterOptions({
        pushgatewayUrl: pushgateway.url,
        cronjob,
        dependencyTrackUrl,
        graceSeconds,
      }),
      workDir,
      kubeconfig,
      env: { [EXPORTER_ENV.dependencyTrackApiKey]: API_KEY },
    });
  } finally {
    await removeDir(workDir);
  }
}

describe('Dependency-Track BOM upload', () => {
  it('uploads the BOM with autoCreate and the API key, and records the success', async () => {
    const result = await run('copa-dt-ok');
    expect(result.code).toBe(0);
    expect(requests).toHaveLength(1);
    const [request] = requests as [BomRequest];
    expect(request).toMatchObject({
      method: 'PUT',
      path: '/api/v1/bom',
      apiKey: API_KEY,
      contentType: 'application/json',
    });
    expect(request.body).toMatchObject({
      projectName: IMAGE,
      projectVersion: PATCHED_TAG,
      autoCreate: true,
    });
    expect(Buffer.from(request.body.bom ?? '', 'base64').toString('utf8')).toBe(BOM);
    const group = await pushedGroup(pushgateway.url, 'copa-dt-ok');
    expect(valueOf(group, METRICS.dependencyTrackUploadLastSuccessTimestamp.name)).toBe(
      valueOf(group, METRICS.runLastTimestamp.name),
    );
    expect(valueOf(group, METRICS.dependencyTrackUploadFailureTotal.name)).toBeUndefined();
  });

  it('retries server errors with backoff, then succeeds', async () => {
    answers = [503, 500];
    const result = await run('copa-dt-retry');
    expect(result.code).toBe(0);
    expect(requests).toHaveLength(3);
    expect(
      result.logs.filter((l) => l.event === 'retry' && l.target === 'dependency-track'),
    ).toHaveLength(2);
    expect(event(result, 'dependency_track_upload')?.result).toBe('uploaded');
    const group = await pushedGroup(pushgateway.url, 'copa-dt-retry');
    expect(valueOf(group, METRICS.dependencyTrackUploadLastSuccessTimestamp.name)).toBeGreaterThan(
      0,
    );
  });

  it('a persistent failure increments the failure counter, and the metrics are still pushed', async () => {
    answers = Array.from({ length: 100 }, () => 503);
    const first = await run('copa-dt-down', 'patched', 4);
    expect(first.code).toBe(0);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(event(first, 'dependency_track_upload')?.result).toBe('failed');
    expect(event(first, 'pushed')).toBeDefined();
    const second = await run('copa-dt-down', 'patched', 4);
    expect(second.code).toBe(0);
    const group = await pushedGroup(pushgateway.url, 'copa-dt-down');
    expect(valueOf(group, METRICS.dependencyTrackUploadFailureTotal.name, { image: IMAGE })).toBe(
      2,
    );
    expect(valueOf(group, METRICS.patchSuccessTotal.name)).toBe(2);
    expect(valueOf(group, METRICS.runLastOutcome.name, { outcome: 'patched' })).toBe(1);
  });

  it('a rejected API key (401) is not retried', async () => {
    answers = [401];
    const result = await run('copa-dt-unauthorized');
    expect(requests).toHaveLength(1);
    expect(String(event(result, 'dependency_track_upload')?.error)).toContain('HTTP 401');
    expect(
      valueOf(
        await pushedGroup(pushgateway.url, 'copa-dt-unauthorized'),
        METRICS.dependencyTrackUploadFailureTotal.name,
      ),
    ).toBe(1);
  });

  it('uploads nothing for a failed run', async () => {
    const result = await run('copa-dt-failed-run', 'push_failed');
    expect(result.code).toBe(0);
    expect(requests).toHaveLength(0);
    expect(
      valueOf(
        await pushedGroup(pushgateway.url, 'copa-dt-failed-run'),
        METRICS.dependencyTrackUploadFailureTotal.name,
      ),
    ).toBeUndefined();
  });
});
