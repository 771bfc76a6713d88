/**
 * Starts real binaries for tests: on 127.0.0.1, a free port, a fresh temp dir; waits until the
 * HTTP readiness endpoint answers 200; stops them (SIGTERM, then SIGKILL) and removes the dir.
 *
 *   const pg = await startPushgateway();            // pg.url = http://127.0.0.1:<port>
 *   const prom = await startPrometheus({ configYaml, rulesFiles: { 'rules.yaml': text } });
 *   const am = await startAlertmanager({ configYaml });
 *   afterAll(() => Promise.all([pg.stop(), prom.stop(), am.stop()]));
 *
 * Processes left running when the test worker exits are killed (SIGKILL) as a last resort.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';

export const BINARIES = {
  pushgateway: '/usr/bin/prometheus-pushgateway',
  prometheus: '/usr/bin/prometheus',
  alertmanager: '/usr/bin/prometheus-alertmanager',
} as const;

export interface RunningProcess {
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The process's temp dir (config, data); removed by stop(). */
  readonly dir: string;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  /** Arguments, given the port and the temp dir. */
  readonly args: (ctx: { port: number; dir: string }) => readonly string[];
  /** Writes files into the temp dir before start (configs). */
  readonly prepare?: (dir: string) => Promise<void>;
  /** A fixed port (e.g. one reserved earlier to start the process "later"); default: a free one. */
  readonly port?: number;
  /** HTTP path that answers 200 when the process is ready. */
  readonly readyPath: string;
  /** Headers of the readiness request (a credential, when the process checks one). */
  readonly readyHeaders?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A TCP port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function startProcess(spec: ProcessSpec): Promise<RunningProcess> {
  const dir = await mkdtemp(join(tmpdir(), `copa-fleet-${spec.name}-`));
  await spec.prepare?.(dir);
  // A busy fixed port would let the readiness probe reach whatever already listens there.
  if (spec.port !== undefined && !(await portIsFree(spec.port))) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${spec.name}: port ${spec.port} is already in use`);
  }
  const port = spec.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(spec.command, [...spec.args({ port, dir })], {
    cwd: dir,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      spawnError = error;
      running.delete(child);
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited === undefined && spawnError === undefined) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exit;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (spawnError !== undefined || exited !== undefined) {
      await rm(dir, { recursive: true, force: true });
      const how =
        spawnError !== undefined
          ? spawnError.message
          : `exited with ${exited?.code ?? exited?.signal}`;
      throw new Error(`${spec.name} (${spec.command}) ${how} before it was ready:\n${output}`);
    }
    try {
      const response = await fetch(`${url}${spec.readyPath}`, {
        signal: AbortSignal.timeout(1_000),
        headers: { ...spec.readyHeaders },
      });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.name} was not ready at ${url}${spec.readyPath} in time:\n${output}`);
    }
    await sleep(100);
  }
  return { name: spec.name, port, url, dir, pid: child.pid ?? -1, output: () => output, stop };
}

export interface PushgatewayOptions {
  readonly port?: number;
  /** `--persistence.file` (outside the process's temp dir, so that it outlives stop()); default: in memory only. */
  readonly persistenceFile?: string;
  /** `--persistence.interval`, e.g. `1s`. */
  readonly persistenceInterval?: string;
  /** `--web.config.file` (exporter-toolkit: basic_auth_users, TLS). */
  readonly webConfigFile?: string;
  /** Then every path needs a credential, `/-/ready` too: the readiness check's `authorization` header. */
  readonly readyAuthorization?: string;
}

/** The Debian prometheus-pushgateway, in-memory only unless a persistence file is given. */
export function startPushgateway(options: PushgatewayOptions = {}): Promise<RunningProcess> {
  return startProcess({
    name: 'pushgateway',
    command: BINARIES.pushgateway,
    ...(options.port !== undefined && { port: options.port }),
    args: ({ port }) => [
      `--web.listen-address=127.0.0.1:${port}`,
      `--persistence.file=${options.persistenceFile ?? ''}`,
      ...(options.persistenceInterval !== undefined
        ? [`--persistence.interval=${options.persistenceInterval}`]
        : []),
      ...(options.webConfigFile !== undefined
        ? [`--web.config.file=${options.webConfigFile}`]
        : []),
      '--log.level=warn',
    ],
    readyPath: '/-/ready',
    ...(options.readyAuthorization !== undefined && {
      readyHeaders: { authorization: options.readyAuthorization },
    }),
  });
}

export interface PrometheusOptions {
  /** prometheus.yml; its `rule_files` is replaced by the files below. */
  readonly configYaml: string;
  /** File name -> content, written next to the config and listed in `rule_files`. */
  readonly rulesFiles?: Readonly<Record<string, string>>;
  readonly port?: number;
  readonly extraArgs?: readonly string[];
}

export function startPrometheus(options: PrometheusOptions): Promise<RunningProcess> {
  return startProcess({
    name: 'prometheus',
    command: BINARIES.prometheus,
    ...(options.port !== undefined && { port: options.port }),
    prepare: async (dir) => {
      const config = (parse(options.configYaml) ?? {}) as Record<string, unknown>;
      const rules = Object.entries(options.rulesFiles ?? {});
      for (const [name, content] of rules) await writeFile(join(dir, name), content);
      if (rules.length > 0) config.rule_files = rules.map(([name]) => join(dir, name));
      await writeFile(join(dir, 'prometheus.yml'), stringify(config));
    },
    args: ({ port, dir }) => [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ],
    readyPath: '/-/ready',
  });
}

export interface AlertmanagerOptions {
  readonly configYaml: string;
  readonly port?: number;
  readonly extraArgs?: readonly string[];
  /** `--web.route-prefix` (every path, the API's included, is served under it; e.g. Grafana's `/api/alertmanager/grafana`). */
  readonly routePrefix?: string;
}

export function startAlertmanager(options: AlertmanagerOptions): Promise<RunningProcess> {
  return startProcess({
    name: 'alertmanager',
    command: BINARIES.alertmanager,
    ...(options.port !== undefined && { port: options.port }),
    prepare: (dir) => writeFile(join(dir, 'alertmanager.yml'), options.configYaml),
    args: ({ port, dir }) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // No gossip cluster: a test instance stands alone (and must not bind a second port).
      '--cluster.listen-address=',
      '--log.level=warn',
      ...(options.routePrefix !== undefined ? [`--web.route-prefix=${options.routePrefix}`] : []),
      ...(options.extraArgs ?? []),
    ],
    readyPath: `${options.routePrefix ?? ''}/-/ready`,
  });
}
