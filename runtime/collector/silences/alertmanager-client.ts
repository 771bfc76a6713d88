/**
 * Reads the silences of one Alertmanager: `GET <url>/api/v2/silences` (Alertmanager API v2; the
 * Grafana-managed Alertmanager serves the same under `/api/alertmanager/grafana/api/v2/`), with an
 * optional bearer token (read from its mounted file before every request, so a rotated Secret
 * applies at once) and an optional CA bundle for TLS.
 */
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { WatchedAlertmanager } from '../../../src/shared/contract.ts';
import type { Matcher } from './matchers.ts';

/** A silence as the API returns it (gettableSilence), reduced to what the watch reads. */
export interface Silence {
  readonly id: string;
  readonly state: 'active' | 'pending' | 'expired';
  readonly matchers: readonly Matcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class AlertmanagerError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'AlertmanagerError';
  }
}

export function silencesUrl(am: WatchedAlertmanager): URL {
  return new URL(`${am.url.replace(/\/+$/, '')}/api/v2/silences`);
}

export async function fetchSilences(
  am: WatchedAlertmanager,
  timeoutMs: number,
): Promise<Silence[]> {
  const url = silencesUrl(am);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (am.bearerTokenFile !== undefined)
    headers.Authorization = `Bearer ${(await readFile(am.bearerTokenFile, 'utf8')).trim()}`;
  const ca = am.caFile !== undefined ? await readFile(am.caFile) : undefined;
  const body = await get(url, headers, ca, timeoutMs);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new AlertmanagerError(`GET ${url.pathname}: the answer is not JSON`);
  }
  if (!Array.isArray(json))
    throw new AlertmanagerError(`GET ${url.pathname}: expected an array of silences`);
  return json.map((item, index) => parseSilence(item, `${url.pathname}[${index}]`));
}

function get(
  url: URL,
  headers: Record<string, string>,
  ca: Buffer | undefined,
  timeoutMs: number,
): Promise<string> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      { method: 'GET', headers, timeout: timeoutMs, ...(ca !== undefined && { ca }) },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_BODY_BYTES)
            req.destroy(
              new AlertmanagerError(
                `GET ${url.pathname}: answer larger than ${MAX_BODY_BYTES} bytes`,
              ),
            );
          else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 200) resolve(text);
          else
            reject(
              new AlertmanagerError(
                `GET ${url.pathname}: HTTP ${status} ${text.slice(0, 200).trim()}`.trim(),
                status,
              ),
            );
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new AlertmanagerError(`GET ${url.pathname}: no answer within ${timeoutMs} ms`)),
    );
    req.on('error', (error) =>
      reject(
        error instanceof AlertmanagerError
          ? error
          : new AlertmanagerError(`GET ${url.pathname}: ${error.message}`),
      ),
    );
    req.end();
  });
}

function parseSilence(item: unknown, where: string): Silence {
  const s = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  const status = (typeof s.status === 'object' && s.status !== null ? s.status : {}) as Record<
    string,
    unknown
  >;
  const state = status.state;
  if (
    typeof s.id !== 'string' ||
    (state !== 'active' && state !== 'pending' && state !== 'expired') ||
    !Array.isArray(s.matchers)
  ) {
    throw new AlertmanagerError(`${where}: not a silence (id, status.state, matchers)`);
  }
  const time = (value: unknown, field: string) => {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) throw new AlertmanagerError(`${where}.${field}: not a date-time`);
    return ms / 1000;
  };
  const matchers = s.matchers.map((m: unknown, i: number): Matcher => {
    const r = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    if (typeof r.name !== 'string' || typeof r.value !== 'string')
      throw new AlertmanagerError(`${where}.matchers[${i}]: name and value must be strings`);
    // isEqual is optional in the API (default true); isRegex is required but read defensively.
    return {
      name: r.name,
      value: r.value,
      isRegex: r.isRegex === true,
      isEqual: r.isEqual !== false,
    };
  });
  return {
    id: s.id,
    state,
    matchers,
    startsAt: time(s.startsAt, 'startsAt'),
    endsAt: time(s.endsAt, 'endsAt'),
    createdBy: typeof s.createdBy === 'string' ? s.createdBy : '',
    comment: typeof s.comment === 'string' ? s.comment : '',
  };
}
