/**
 * Structured logging: one JSON object per line on stdout, so that `kubectl logs` of the exporter
 * sidecar reads as a record of decisions (what was classified, pushed, retried, recorded).
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface LogRecord {
  readonly event: string;
  readonly [field: string]: unknown;
}

export function log(level: LogLevel, record: LogRecord): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, ...record })}\n`);
}

/** The message of any thrown value (never a stack trace: these lines are read by operators). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error && !error.message.includes(cause.message)
      ? `${error.message}: ${cause.message}`
      : error.message;
  }
  return String(error);
}
