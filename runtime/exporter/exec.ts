/**
 * `copa-fleet-exporter exec --log FILE --exit-code FILE -- COMMAND…`: runs Copa, copies its
 * stdout/stderr both to the container's own output (kubectl logs) and to the log file in the
 * shared work dir, records how it ended in the exit-code file, and exits with the child's code
 * (128 + signal number when it was killed). SIGTERM/SIGINT are passed on to the child.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import type { ExporterExecOptions } from '../../src/shared/contract.ts';
import { formatExitRecord, type ExitRecord } from './exit-code.ts';

/** Exit code when the command cannot be started (as a shell would report "command not found"). */
export const EXIT_COMMAND_NOT_STARTED = 127;

export async function runExec(options: ExporterExecOptions): Promise<number> {
  const logFile = createWriteStream(options.logFile, { flags: 'a' });
  const [command, ...args] = options.command as [string, ...string[]];
  const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'pipe'] });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onTerm = forward('SIGTERM');
  const onInt = forward('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    logFile.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    logFile.write(chunk);
  });

  const record = await new Promise<ExitRecord>((resolve) => {
    child.once('error', (error) => {
      const line = `copa-fleet-exporter exec: cannot start ${command}: ${error.message}\n`;
      process.stderr.write(line);
      logFile.write(line);
      resolve({ kind: 'code', code: EXIT_COMMAND_NOT_STARTED });
    });
    child.once('close', (code, signal) =>
      resolve(signal !== null ? { kind: 'signal', signal } : { kind: 'code', code: code ?? 1 }),
    );
  });
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  await new Promise<void>((resolve) => logFile.end(resolve));
  // Write then rename: the reporter never reads a half-written file.
  const temporary = `${options.exitCodeFile}.tmp`;
  await writeFile(temporary, formatExitRecord(record));
  await rename(temporary, options.exitCodeFile);
  return record.kind === 'code'
    ? record.code
    : 128 + (constants.signals[record.signal as NodeJS.Signals] ?? 0);
}
