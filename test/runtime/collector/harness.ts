/**
 * Runs the collector as a real subprocess against the Kubernetes API fake and reads its
 * endpoints: the bundle runtime/build/copa-fleet-collector.mjs when it is built and newer than the
 * sources, otherwise runtime/collector/main.ts through tsx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectorArgs, CONFIGMAPS, type CollectorOptions } from '../../../src/shared/contract.ts';
import { COLLECTOR_ENV } from '../../../runtime/collector/config.ts';
import type { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { FLEET_NAMESPACE } from './fixtures.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BUNDLE = join(ROOT, 'runtime/build/copa-fleet-collector.mjs');
const SOURCES = [join(ROOT, 'runtime/collector'), join(ROOT, 'src/shared')];

/** Fast timers for tests (the defaults are production values). */
export const TEST_TUNING: Readonly<Record<keyof typeof COLLECTOR_ENV, string>> = {
  flushDelayMs: '20',
  stateWriteDelayMs: '100',
  tickMs: '200',
  watchTimeoutSeconds: '300',
  backoffInitialMs: '100',
  backoffMaxMs: '400',
  podsPageSize: '3',
  reportsPageSize: '2',
  breachPrewarmSeconds: '3600',
  breachMinExposureSeconds: '0.3',
  cveResumeWindowSeconds: '86400',
  missedScheduleGraceSeconds: '60',
  initialSyncTimeoutMs: '30000',
  shutdownTimeoutMs: '5000',
  pushgatewayCleanupIntervalMs: '300',
  silencePollMs: '200',
};

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

/** The command that runs the collector: the bundle when it is up to date, else the sources via tsx. */
export function collectorCommand(): { command: string; args: string[]; kind: 'bundle' | 'tsx' } {
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= Math.max(...SOURCES.map(newestMtime))) {
    return { command: process.execPath, args: [BUNDLE], kind: 'bundle' };
  }
  return {
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'runtime/collector/main.ts')],
    kind: 'tsx',
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RunningCollector {
  readonly url: string;
  readonly process: ChildProcess;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited(): Promise<number | null>;
}

export interface StartOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Flags for the node process itself (e.g. `--cpu-prof`), before the script. */
  readonly nodeArgs?: readonly string[];
  /** The namespace it runs in (its kubeconfig's and `--namespace`). Default: FLEET_NAMESPACE. */
  readonly namespace?: string;
  /** Run this bundle instead of `collectorCommand()`'s choice. */
  readonly bundle?: string;
  /** Optional command-line options (e.g. the Pushgateway cleanup). */
  readonly options?: Pick<
    CollectorOptions,
    'pushgatewayUrl' | 'pushgatewayCleanupGraceSeconds' | 'pushgatewayCredentialsDir'
  >;
}

/** Starts a collector against `api` and waits until its HTTP server answers. */
export async function startCollector(
  api: FakeKubeApi,
  options: StartOptions = {},
): Promise<RunningCollector> {
  const dir = mkdtempSync(join(tmpdir(), 'copa-collector-'));
  const namespace = options.namespace ?? FLEET_NAMESPACE;
  const kubeconfig = api.writeKubeconfig(dir, namespace);
  const port = await freePort();
  const { command, args } =
    options.bundle !== undefined
      ? { command: process.execPath, args: [options.bundle] }
      : collectorCommand();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    KUBECONFIG: kubeconfig,
  };
  for (const [key, value] of Object.entries(TEST_TUNING))
    env[COLLECTOR_ENV[key as keyof typeof COLLECTOR_ENV]] = value;
  Object.assign(env, options.env);
  const child = spawn(
    command,
    [
      ...(options.nodeArgs ?? []),
      ...args,
      ...collectorArgs({
        namespace,
        inventoryConfigMap: CONFIGMAPS.inventory,
        digestStore: CONFIGMAPS.patchedDigests,
        stateConfigMap: CONFIGMAPS.collectorState,
        port,
        ...options.options,
      }),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ unparsed: line });
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );
  void exit.then(() => rmSync(dir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  const collector: RunningCollector = {
    url,
    process: child,
    logs,
    stderr: () => stderr,
    exited: () => exit,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`collector exited with ${child.exitCode}: ${stderr}`);
      try {
        return (await fetch(`${url}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 20_000, what: 'collector /healthz' },
  );
  return collector;
}

/** Polls `condition` until it returns a truthy value (bounded); returns that value. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
      if (error instanceof Error && error.message.startsWith('collector exited')) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${options.what ?? 'a condition'} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

// ---------------------------------------------------------------- exposition parsing

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text format (enough of it for prom-client's output). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/.exec(line);
    if (match === null) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[3] ?? '';
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let m: RegExpExecArray | null;
    while ((m = labelRe.exec(body)) !== null)
      labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const raw = match[4]!;
    samples.push({
      name: match[1]!,
      labels,
      value:
        raw === 'NaN'
          ? Number.NaN
          : raw === '+Inf'
            ? Infinity
            : raw === '-Inf'
              ? -Infinity
              : Number(raw),
    });
  }
  return samples;
}

/** Scrapes `collector` until `check` stops throwing (it applies changes asynchronously); returns that scrape. */
export async function eventually(
  collector: { readonly url: string },
  check: (samples: Sample[]) => void,
  what: string,
  timeoutMs?: number,
): Promise<Sample[]> {
  let samples: Sample[] = [];
  await waitFor(
    async () => {
      samples = await scrape(collector.url);
      check(samples);
      return true;
    },
    { what, ...(timeoutMs !== undefined && { timeoutMs }) },
  );
  return samples;
}

export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

/** Samples of one metric whose labels include `match`. */
export function select(
  samples: readonly Sample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
  );
}

/** The value of exactly one matching sample, or undefined when there is none (throws when several match). */
export function valueOf(
  samples: readonly Sample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number | undefined {
  const found = select(samples, name, match);
  if (found.length > 1)
    throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(match)}`);
  return found[0]?.value;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
