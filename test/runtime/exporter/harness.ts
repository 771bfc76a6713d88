/**
 * Test harness for the bundled exporter: a minimal Kubernetes API (GET pod, PATCH configmap with
 * JSON merge-patch semantics, recording each patch's Content-Type and body), a work dir with the
 * pod's evidence files, and a runner that starts runtime/build/copa-fleet-exporter.mjs as a real
 * Node subprocess and collects its JSON log lines.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EXPORTER_ENV,
  exporterReportArgs,
  jobFiles,
  type ExporterOptions,
} from '../../../src/shared/contract.ts';
import { JOBS, PUSH_GROUPING_LABEL } from '../../../src/shared/metrics.ts';
import type { WorkFilesSpec } from './fixtures.ts';

export const EXPORTER_BUNDLE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'runtime',
  'build',
  'copa-fleet-exporter.mjs',
);

export function requireBundle(): string {
  if (!existsSync(EXPORTER_BUNDLE))
    throw new Error(`${EXPORTER_BUNDLE} is missing: run \`npm run build:runtime\` first`);
  return EXPORTER_BUNDLE;
}

// ------------------------------------------------------------------ minimal Kubernetes API

export interface RecordedPatch {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

export class MiniKubeApi {
  readonly pods = new Map<string, () => unknown>();
  readonly configMaps = new Map<
    string,
    { metadata: { name: string; namespace: string }; data: Record<string, string> }
  >();
  readonly patches: RecordedPatch[] = [];
  podReads = 0;
  /** HTTP statuses to answer the next configmap PATCHes with, in order. */
  readonly patchFailures: number[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<MiniKubeApi> {
    // Requests arrive only once start() has returned, after `api` below is initialised.
    const server = createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = new MiniKubeApi(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    return api;
  }

  /** Serves `pod`; a function gets the number of earlier reads of this pod (a pod that progresses). */
  setPod(namespace: string, name: string, pod: object | ((readCount: number) => unknown)): void {
    let reads = 0;
    this.pods.set(
      `${namespace}/${name}`,
      typeof pod === 'function' ? () => (pod as (n: number) => unknown)(reads++) : () => pod,
    );
  }

  setConfigMap(namespace: string, name: string, data: Record<string, string>): void {
    this.configMaps.set(`${namespace}/${name}`, {
      metadata: { name, namespace },
      data: { ...data },
    });
  }

  async writeKubeconfig(dir: string): Promise<string> {
    const path = join(dir, 'kubeconfig');
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: mini, cluster: {server: "' +
          this.url +
          '", insecure-skip-tls-verify: true}}]',
        'users: [{name: mini, user: {token: test-token}}]',
        'contexts: [{name: mini, context: {cluster: mini, user: mini}}]',
        'current-context: mini',
        '',
      ].join('\n'),
    );
    return path;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
    const configMap = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && pod !== null) {
      const provider = this.pods.get(`${pod[1]}/${pod[2]}`);
      if (provider === undefined) return status(res, 404, 'NotFound', `pods "${pod[2]}" not found`);
      this.podReads++;
      return json(res, 200, provider());
    }
    if (req.method === 'PATCH' && configMap !== null) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      this.patches.push({ path: url.pathname, contentType: req.headers['content-type'], body });
      const failure = this.patchFailures.shift();
      if (failure !== undefined) return status(res, failure, 'InternalError', 'injected failure');
      if (req.headers['content-type'] !== 'application/merge-patch+json')
        return status(res, 415, 'UnsupportedMediaType', 'expected a JSON merge patch');
      const stored = this.configMaps.get(`${configMap[1]}/${configMap[2]}`);
      if (stored === undefined)
        return status(res, 404, 'NotFound', `configmaps "${configMap[2]}" not found`);
      const data = (body as { data?: Record<string, string | null> }).data ?? {};
      for (const [key, value] of Object.entries(data)) {
        if (value === null) delete stored.data[key];
        else stored.data[key] = value;
      }
      return json(res, 200, { apiVersion: 'v1', kind: 'ConfigMap', ...stored });
    }
    return status(res, 404, 'NotFound', `no route for ${req.method} ${url.pathname}`);
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason, message });
}

// ------------------------------------------------------------------ work dir

export async function makeWorkDir(files: WorkFilesSpec): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'copa-fleet-work-'));
  const paths = jobFiles(dir);
  for (const key of ['scanBefore', 'scanAfter', 'copaLog', 'copaExit', 'vex', 'bom'] as const) {
    const content = files[key];
    const path = key === 'copaExit' ? paths.copaExitCode : paths[key];
    if (content !== undefined) await writeFile(path, content);
  }
  return dir;
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

// ------------------------------------------------------------------ running the bundle

export interface ExporterRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The JSON log lines (stdout). */
  readonly logs: readonly Record<string, unknown>[];
  readonly stderr: string;
}

export interface RunOptions {
  readonly options: ExporterOptions;
  readonly workDir: string;
  readonly kubeconfig: string;
  readonly podName?: string;
  readonly podNamespace?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Send SIGTERM once this log event has been written... */
  readonly sigtermOn?: string;
  /** ...or after this many ms. */
  readonly sigtermAfterMs?: number;
  /** Called for every JSON log line, as it arrives. */
  readonly onLog?: (record: Record<string, unknown>) => void;
  /** Kill the process if it has not exited by then (a hung exporter fails the test). */
  readonly timeoutMs?: number;
}

export const POD_NAME = 'copa-app-1a2b3c-29012345-x7k2p';
export const POD_NAMESPACE = 'copa-fleet';

export async function runExporter(run: RunOptions): Promise<ExporterRun> {
  const child = spawn(process.execPath, [requireBundle(), ...exporterReportArgs(run.options)], {
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: run.kubeconfig,
      [EXPORTER_ENV.podName]: run.podName ?? POD_NAME,
      [EXPORTER_ENV.podNamespace]: run.podNamespace ?? POD_NAMESPACE,
      [EXPORTER_ENV.workDir]: run.workDir,
      ...run.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        logs.push(record);
        run.onLog?.(record);
        if (run.sigtermOn !== undefined && record.event === run.sigtermOn) child.kill('SIGTERM');
      } catch {
        throw new Error(`exporter wrote a non-JSON line to stdout: ${line}`);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const sigterm =
    run.sigtermAfterMs !== undefined
      ? setTimeout(() => child.kill('SIGTERM'), run.sigtermAfterMs)
      : undefined;
  const kill = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs ?? 45_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(sigterm);
  clearTimeout(kill);
  return { code, signal, logs, stderr };
}

export function event(run: ExporterRun, name: string): Record<string, unknown> | undefined {
  return run.logs.find((l) => l.event === name);
}

// ------------------------------------------------------------------ reading the Pushgateway

export interface PushedSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every series of a CronJob's group, grouping labels (job, cronjob, instance) removed. */
export async function pushedGroup(
  pushgatewayUrl: string,
  cronjob: string,
  authorization?: string,
): Promise<PushedSeries[]> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const answer = (await (await fetch(`${pushgatewayUrl}/api/v1/metrics`, { headers })).json()) as {
    data: { labels: Record<string, string>; [name: string]: unknown }[];
  };
  const group = answer.data.find(
    (g) => g.labels.job === JOBS.exporter && g.labels[PUSH_GROUPING_LABEL] === cronjob,
  );
  if (group === undefined) return [];
  const series: PushedSeries[] = [];
  for (const [name, family] of Object.entries(group)) {
    if (
      name === 'labels' ||
      typeof family !== 'object' ||
      family === null ||
      !('metrics' in family)
    )
      continue;
    for (const metric of (
      family as { metrics: { labels: Record<string, string>; value: string }[] }
    ).metrics) {
      const { job: _job, cronjob: _cronjob, instance: _instance, ...labels } = metric.labels;
      series.push({ name, labels, value: Number(metric.value) });
    }
  }
  return series;
}

/** The value of the one series of `name` whose labels include `labels`; undefined when absent. */
export function valueOf(
  series: readonly PushedSeries[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const matching = series.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matching.length > 1)
    throw new Error(`${matching.length} series of ${name} match ${JSON.stringify(labels)}`);
  return matching[0]?.value;
}
