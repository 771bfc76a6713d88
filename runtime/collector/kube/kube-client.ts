/**
 * The collector's access to the API server, all through @kubernetes/client-node's KubeConfig
 * (kubeconfig, in-cluster service account, exec/OIDC auth):
 * - paginated raw JSON lists (the generated list APIs deserialize whole lists into model classes,
 *   which costs time and memory the collector does not need: it keeps a projection only);
 * - watches through client-node's `Watch` (newline-delimited events, one JSON.parse per event);
 * - the typed CoreV1Api for the few ConfigMap reads and writes.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { isAbortError, KubeApiError, statusError, toKubeApiError } from './errors.ts';

/** A raw Kubernetes object as received (plain JSON). */
export interface RawObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly creationTimestamp?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind?: string; readonly name?: string }[];
  };
  readonly [key: string]: unknown;
}

export interface ListPage {
  readonly items: readonly RawObject[];
  readonly resourceVersion: string;
  /** The continue token of the next page, or undefined on the last page. */
  readonly continueToken: string | undefined;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListQuery {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continueToken?: string;
}

const LIST_TIMEOUT_MS = 60_000;

export class KubeClient {
  readonly core: CoreV1Api;
  private readonly watcher: Watch;

  constructor(private readonly kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.watcher = new Watch(kc);
  }

  /** One page of a list. Throws KubeApiError. */
  async listPage(path: string, query: ListQuery): Promise<ListPage> {
    const cluster = this.kc.getCurrentCluster();
    if (cluster === null) throw new KubeApiError('no current cluster in the kubeconfig', undefined);
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    if (query.labelSelector !== undefined) url.searchParams.set('labelSelector', query.labelSelector);
    if (query.fieldSelector !== undefined) url.searchParams.set('fieldSelector', query.fieldSelector);
    if (query.limit !== undefined) url.searchParams.set('limit', String(query.limit));
    if (query.continueToken !== undefined) url.searchParams.set('continue', query.continueToken);
    const options: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(options);
    const body = await getJson(url, options, `list ${path}`);
    const list = body as { items?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown } };
    if (!Array.isArray(list.items)) throw new KubeApiError(`list ${path}: the response has no items`, undefined);
    const next = list.metadata?.continue;
    return {
      items: list.items as RawObject[],
      resourceVersion: typeof list.metadata?.resourceVersion === 'string' ? list.metadata.resourceVersion : '',
      continueToken: typeof next === 'string' && next !== '' ? next : undefined,
    };
  }

  /**
   * Starts a watch. `onEvent` gets every event (exceptions it throws are the caller's to catch:
   * client-node's Watch swallows them). `onDone` is called exactly once, with an error or null
   * when the server closed the stream. Returns the controller that aborts the stream.
   */
  async watch(
    path: string,
    query: Readonly<Record<string, string | number | boolean | undefined>>,
    onEvent: (type: WatchEventType, object: RawObject) => void,
    onDone: (error: KubeApiError | null, aborted: boolean) => void,
  ): Promise<AbortController> {
    let finished = false;
    const done = (error: unknown) => {
      if (finished) return;
      finished = true;
      if (error === null || error === undefined) onDone(null, false);
      else if (isAbortError(error)) onDone(null, true);
      else onDone(toKubeApiError(error, `watch ${path}`), false);
    };
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params[key] = String(value);
    try {
      return await this.watcher.watch(path, params, (type: string, object: RawObject) => onEvent(type as WatchEventType, object), done);
    } catch (error) {
      done(error);
      return new AbortController();
    }
  }
}

function getJson(url: URL, options: https.RequestOptions, what: string): Promise<unknown> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: 'GET',
        agent: options.agent,
        auth: options.auth,
        headers: { ...options.headers, Accept: 'application/json' },
        timeout: LIST_TIMEOUT_MS,
      },
      (res) => {
        // Decoded as it arrives: one copy of the body as a string, no Buffer concatenation.
        const chunks: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => chunks.push(chunk));
        res.on('error', (error) => reject(toKubeApiError(error, what)));
        res.on('end', () => {
          const text = chunks.join('');
          chunks.length = 0;
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            if (parsed === undefined) reject(new KubeApiError(`${what}: the response is not JSON`, status));
            else resolve(parsed);
          } else if (parsed !== undefined && (parsed as { kind?: unknown }).kind === 'Status') {
            const error = statusError(parsed, what);
            reject(error.statusCode === undefined ? new KubeApiError(error.message, status, error.reason) : error);
          } else reject(new KubeApiError(`${what}: HTTP ${status}`, status));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${LIST_TIMEOUT_MS} ms`)));
    req.on('error', (error) => reject(toKubeApiError(error, what)));
    req.end();
  });
}
