/**
 * Retries with exponential backoff until a deadline: the exporter has a fixed grace period after
 * the run ends (the pod's terminationGracePeriodSeconds) and must give up cleanly inside it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, log } from './log.ts';

export interface RetryOptions {
  /** Epoch milliseconds after which no new attempt starts. */
  readonly deadline: number;
  /** What is being retried, for the log lines. */
  readonly target: string;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Errors for which another attempt cannot help (e.g. 4xx answers). Default: every error is retried. */
  readonly isPermanent?: (error: unknown) => boolean;
}

export const DEFAULT_INITIAL_DELAY_MS = 250;
export const DEFAULT_MAX_DELAY_MS = 4_000;

export class RetriesExhaustedError extends Error {
  constructor(
    readonly target: string,
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(
      `${target}: gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorMessage(lastError)}`,
    );
    this.name = 'RetriesExhaustedError';
  }
}

/** Runs `attempt(remainingMs)` until it resolves; throws RetriesExhaustedError past the deadline. */
export async function retryUntil<T>(
  options: RetryOptions,
  attempt: (remainingMs: number) => Promise<T>,
): Promise<T> {
  let delay = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const maxDelay = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt(Math.max(1, options.deadline - Date.now()));
    } catch (error) {
      const permanent = options.isPermanent?.(error) ?? false;
      const remaining = options.deadline - Date.now();
      if (permanent || remaining <= delay) {
        throw new RetriesExhaustedError(options.target, attempts, error);
      }
      log('warn', {
        event: 'retry',
        target: options.target,
        attempt: attempts,
        error: errorMessage(error),
        nextDelayMs: delay,
      });
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

/** Per-request timeout: never longer than what is left, never longer than `capMs`. */
export function requestTimeout(remainingMs: number, capMs = 5_000): AbortSignal {
  return AbortSignal.timeout(Math.max(1, Math.min(remainingMs, capMs)));
}
