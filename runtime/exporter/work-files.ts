/** Reads the evidence files of the shared work dir; a missing file is a value, never an exception. */
import { open, readFile } from 'node:fs/promises';
import type { jobFiles } from '../../src/shared/contract.ts';
import type { CopaExit } from './classify.ts';
import { parseExitRecord } from './exit-code.ts';
import { parseTrivyReport, type TrivyReportResult } from './trivy-report.ts';
import { parseVex, type VexResult } from './vex.ts';

/** Copa's log can be long; its last part holds the error. */
export const COPA_LOG_TAIL_BYTES = 1024 * 1024;

export interface WorkFiles {
  readonly scanBefore: TrivyReportResult;
  readonly scanAfter: TrivyReportResult;
  readonly copaExit: CopaExit;
  readonly copaLog: string;
  readonly vex: VexResult;
}

export async function readWorkFiles(files: ReturnType<typeof jobFiles>): Promise<WorkFiles> {
  const [before, after, exit, logText, vex] = await Promise.all([
    readOptional(files.scanBefore),
    readOptional(files.scanAfter),
    readOptional(files.copaExitCode),
    readTail(files.copaLog, COPA_LOG_TAIL_BYTES).catch(() => undefined),
    readOptional(files.vex),
  ]);
  let copaExit: CopaExit = { kind: 'missing' };
  if (exit.kind === 'error') copaExit = { kind: 'invalid', text: exit.error };
  if (exit.kind === 'text')
    copaExit = parseExitRecord(exit.text) ?? { kind: 'invalid', text: exit.text };
  return {
    scanBefore: report(before),
    scanAfter: report(after),
    copaExit,
    copaLog: logText ?? '',
    vex:
      vex.kind === 'missing'
        ? { status: 'missing' }
        : vex.kind === 'error'
          ? { status: 'invalid', error: vex.error }
          : parseVex(vex.text),
  };
}

export async function fileExists(path: string): Promise<boolean> {
  return (await readOptional(path)).kind === 'text';
}

/** A file's text, its absence, or why it could not be read (unreadable evidence is classified, never a crash). */
type FileRead =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly error: string };

async function readOptional(path: string): Promise<FileRead> {
  try {
    return { kind: 'text', text: await readFile(path, 'utf8') };
  } catch (error) {
    if (isNotFound(error)) return { kind: 'missing' };
    return { kind: 'error', error: error instanceof Error ? error.message : String(error) };
  }
}

function report(file: FileRead): TrivyReportResult {
  if (file.kind === 'missing') return { status: 'missing' };
  if (file.kind === 'error') return { status: 'invalid', error: `unreadable: ${file.error}` };
  return parseTrivyReport(file.text);
}

async function readTail(path: string, maxBytes: number): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT'
  );
}
