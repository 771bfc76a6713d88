/** `copa-fleet-exporter exec`, run from the bundle and through its launcher, as a real subprocess. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exporterExecArgs, jobFiles } from '../../../src/shared/contract.ts';
import { EXPORTER_BUNDLE, removeDir, requireBundle } from './harness.ts';

const LAUNCHER = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'runtime',
  'build',
  'bin',
  'copa-fleet-exporter',
);
let dir: string;

beforeAll(async () => {
  requireBundle();
  dir = await mkdtemp(join(tmpdir(), 'copa-fleet-exec-'));
});
afterAll(() => removeDir(dir));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function execArgs(name: string, command: string[]): { args: string[]; log: string; exit: string } {
  const files = jobFiles(join(dir, name));
  // The generator's own builder, pointed at a temp dir instead of /work.
  const args = exporterExecArgs(command).map((a) => a.replace(/^\/work\//, `${dir}/${name}-`));
  return {
    args,
    log: `${dir}/${name}-${files.copaLog.split('/').at(-1)}`,
    exit: `${dir}/${name}-${files.copaExitCode.split('/').at(-1)}`,
  };
}

function run(
  args: string[],
  onStdout?: (text: string, kill: (signal: NodeJS.Signals) => void) => void,
  entry = EXPORTER_BUNDLE,
): Promise<Result> {
  const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout?.(stdout, (signal) => child.kill(signal));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('copa-fleet-exporter exec', () => {
  it('tees the output to the log and its own streams, records and returns the exit code', async () => {
    const { args, log, exit } = execArgs('code', [
      'sh',
      '-c',
      'echo patched-out; echo patched-err >&2; exit 3',
    ]);
    const result = await run(args);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('patched-out\n');
    expect(result.stderr).toBe('patched-err\n');
    const logText = await readFile(log, 'utf8');
    expect(logText).toContain('patched-out\n');
    expect(logText).toContain('patched-err\n');
    expect(await readFile(exit, 'utf8')).toBe('3\n');
  });

  it('records a signal, and exits 128 + its number', async () => {
    const { args, exit } = execArgs('signal', ['sh', '-c', 'kill -KILL $$']);
    expect((await run(args)).code).toBe(137);
    expect(await readFile(exit, 'utf8')).toBe('signal:SIGKILL\n');
  });

  it('passes SIGTERM on to the command', async () => {
    const { args, exit } = execArgs('term', ['sh', '-c', 'echo started; exec sleep 30']);
    let sent = false;
    const result = await run(args, (text, kill) => {
      if (!sent && text.includes('started')) {
        sent = true;
        kill('SIGTERM');
      }
    });
    expect(result.code).toBe(143);
    expect(await readFile(exit, 'utf8')).toBe('signal:SIGTERM\n');
  });

  it('a command that cannot start is exit code 127, with the reason in the log', async () => {
    const { args, log, exit } = execArgs('missing', ['/nonexistent/copa', 'patch']);
    expect((await run(args)).code).toBe(127);
    expect(await readFile(exit, 'utf8')).toBe('127\n');
    expect(await readFile(log, 'utf8')).toContain('cannot start /nonexistent/copa');
  });

  it('without a command it is a usage error (exit 2) with a one-line reason', async () => {
    const result = await run([
      'exec',
      '--log',
      join(dir, 'x.log'),
      '--exit-code',
      join(dir, 'x.exit'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'copa-fleet-exporter exec: missing the command to run after --',
    );
  });

  it('the launcher of RUNTIME_BIN runs the bundle', async () => {
    const { args, exit } = execArgs('launcher', ['true']);
    expect((await run(args, undefined, LAUNCHER)).code).toBe(0);
    expect(await readFile(exit, 'utf8')).toBe('0\n');
  });
});
