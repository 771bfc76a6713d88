/**
 * One error type for everything the Kubernetes API can do wrong, so that the reflector and the
 * state store decide the same way: `gone` (410: re-list), `conflict` (409: re-read and retry),
 * `notFound`, every other HTTP status, and network failures (refused, reset, timeout, stalled).
 */
import { ApiException } from '@kubernetes/client-node';

export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or undefined for a network failure. */
    readonly statusCode: number | undefined,
    /** Kubernetes Status reason (`Expired`, `Conflict`, ...) when the server sent one. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  get gone(): boolean {
    return this.statusCode === 410;
  }
  get conflict(): boolean {
    return this.statusCode === 409;
  }
  get notFound(): boolean {
    return this.statusCode === 404;
  }
}

interface StatusLike {
  readonly code?: unknown;
  readonly reason?: unknown;
  readonly message?: unknown;
}

/** Normalises errors from client-node's generated API, node-fetch and node:http. */
export function toKubeApiError(error: unknown, what: string): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (error instanceof ApiException) {
    const body = parseBody(error.body);
    const message = typeof body?.message === 'string' ? body.message : `HTTP ${error.code}`;
    return new KubeApiError(
      `${what}: ${message}`,
      error.code,
      typeof body?.reason === 'string' ? body.reason : undefined,
    );
  }
  if (typeof error === 'object' && error !== null) {
    const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
    if (typeof e.statusCode === 'number')
      return new KubeApiError(
        `${what}: HTTP ${e.statusCode} ${typeof e.message === 'string' ? e.message : ''}`.trim(),
        e.statusCode,
      );
    const code = typeof e.code === 'string' ? ` (${e.code})` : '';
    return new KubeApiError(
      `${what}: ${typeof e.message === 'string' ? e.message : JSON.stringify(error)}${code}`,
      undefined,
    );
  }
  return new KubeApiError(`${what}: ${String(error)}`, undefined);
}

/** A Kubernetes `Status` object (from a response body or a watch ERROR event) as an error. */
export function statusError(status: unknown, what: string): KubeApiError {
  const s = (typeof status === 'object' && status !== null ? status : {}) as StatusLike;
  const code = typeof s.code === 'number' ? s.code : undefined;
  const message = typeof s.message === 'string' ? s.message : 'unknown error';
  return new KubeApiError(
    `${what}: ${message}`,
    code,
    typeof s.reason === 'string' ? s.reason : undefined,
  );
}

function parseBody(body: unknown): StatusLike | undefined {
  if (typeof body === 'object' && body !== null) return body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
