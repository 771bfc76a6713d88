/**
 * A minimal client of the Prometheus HTTP query API (`/api/v1/query`, `/api/v1/query_range`),
 * which Thanos Query and Grafana Mimir serve too (Mimir under its `/prometheus` prefix: pass the
 * prefix in the URL). Queries go as POST form bodies (the API accepts both; long PromQL does not
 * fit every proxy's URL limit). node:https rather than fetch: fetch takes no CA bundle without
 * undici internals, and an auditor's Prometheus often sits behind a private CA.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PrometheusConnection {
  /** Base URL, e.g. `https://prometheus.example.com` or `https://mimir.example.com/prometheus`. */
  readonly url: string;
  readonly bearerToken?: string;
  /** PEM CA bundle for https. */
  readonly ca?: string;
  /** Extra request headers (e.g. `X-Scope-OrgID` for a Mimir tenant). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface InstantSample {
  readonly metric: Readonly<Record<string, string>>;
  /** [unix seconds, value text] */
  readonly value: readonly [number, string];
}

export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: ReadonlyArray<readonly [number, string]>;
}

/** Prometheus could not be reached, refused, or answered with an error: exit 1. */
export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
}

interface ApiResponse {
  readonly status: 'success' | 'error';
  readonly data?: unknown;
  readonly errorType?: string;
  readonly error?: string;
}

export class PrometheusClient {
  constructor(private readonly connection: PrometheusConnection) {}

  get url(): string {
    return this.connection.url;
  }

  async instant(query: string, time: number): Promise<InstantSample[]> {
    const data = await this.post('/api/v1/query', { query, time: String(time) });
    if (data.resultType === 'scalar') {
      const [t, v] = data.result as [number, string];
      return [{ metric: {}, value: [t, v] }];
    }
    if (data.resultType !== 'vector')
      throw new PrometheusError(`expected a vector from ${query}, got ${data.resultType}`);
    return data.result as InstantSample[];
  }

  async range(query: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const data = await this.post('/api/v1/query_range', {
      query,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    if (data.resultType !== 'matrix')
      throw new PrometheusError(`expected a matrix from ${query}, got ${data.resultType}`);
    return data.result as RangeSeries[];
  }

  /** Label sets of the series matching `match` with samples in [start, end] (the series API). */
  async series(match: string, start: number, end: number): Promise<Array<Record<string, string>>> {
    const data = await this.postRaw('/api/v1/series', {
      'match[]': match,
      start: String(start),
      end: String(end),
    });
    return data as Array<Record<string, string>>;
  }

  /** GET a JSON API path; undefined when the server does not serve it (Thanos, Mimir: no runtimeinfo). */
  async optionalGet(path: string): Promise<unknown> {
    try {
      const { status, body } = await this.send('GET', path);
      if (status !== 200) return undefined;
      const parsed = JSON.parse(body) as ApiResponse;
      return parsed.status === 'success' ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private async post(
    path: string,
    form: Record<string, string>,
  ): Promise<{ resultType: string; result: unknown }> {
    return (await this.postRaw(path, form)) as { resultType: string; result: unknown };
  }

  private async postRaw(path: string, form: Record<string, string>): Promise<unknown> {
    const { status, body } = await this.send('POST', path, new URLSearchParams(form).toString());
    let parsed: ApiResponse;
    try {
      parsed = JSON.parse(body) as ApiResponse;
    } catch {
      throw new PrometheusError(
        `${this.connection.url}${path} answered HTTP ${status} with something other than the Prometheus API's JSON: ${body.slice(0, 200)}`,
      );
    }
    if (parsed.status !== 'success' || parsed.data === undefined) {
      throw new PrometheusError(
        `${this.connection.url}${path} answered HTTP ${status}: ${parsed.errorType ?? 'error'}: ${parsed.error ?? 'no error text'} (query: ${form.query})`,
      );
    }
    return parsed.data;
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
  ): Promise<{ status: number; body: string }> {
    const { url, bearerToken, ca, headers, timeoutMs } = this.connection;
    const target = new URL(url.replace(/\/+$/, '') + path);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method,
          timeout: timeoutMs,
          ...(ca !== undefined && target.protocol === 'https:' && { ca }),
          headers: {
            accept: 'application/json',
            ...headers,
            ...(bearerToken !== undefined && { authorization: `Bearer ${bearerToken}` }),
            ...(body !== undefined && {
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
            }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new PrometheusError(
            `no answer from ${target.origin} within ${timeoutMs / 1000} s (--timeout)`,
          ),
        ),
      );
      req.on('error', (error) =>
        reject(
          error instanceof PrometheusError
            ? error
            : new PrometheusError(`cannot reach ${target.origin}: ${error.message}`),
        ),
      );
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}
