/**
 * The collector's access to the API server, all through @kubernetes/client-node's KubeConfig
 * (kubeconfig, in-cluster service account, exec/OIDC auth) for the connection options:
 * - raw JSON lists (the generated list APIs deserialize whole lists into model classes, which
 *   costs time and memory the collector does not need: it keeps a projection only). A list that
 *   may be large (one `resourceVersion=0` answer from the watch cache, which ignores `limit`) is
 *   read as a stream with @streamparser/json, item by item, so that no whole list is ever held;
 * - watches, newline-delimited events, one JSON.parse per event. Not client-node's `Watch` (1.4):
 *   it throws away the body of a non-200 answer (`new Error(statusText)`), i.e. the API's
 *   `Status` message and reason, which are what an operator needs ("pods is forbidden: User
 *   ... cannot watch ..."); and its abort controller is only handed out with the response;
 * - the typed CoreV1Api for the few ConfigMap reads and writes.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { createInterface } from 'node:readline';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { JSONParser } from '@streamparser/json';
import { KubeApiError, statusError, toKubeApiError } from './errors.ts';

/** A raw Kubernetes object as received (plain JSON). */
export interface RawObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly creationTimestamp?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
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

/** The end of a streamed list: its metadata (the items went to `onItem`). */
export interface StreamedList {
  readonly resourceVersion: string;
  readonly continueToken: string | undefined;
  readonly items: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListQuery {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continueToken?: string;
  /** `0`: any version, served from the API server's watch cache; unset: a consistent read (etcd). */
  readonly resourceVersion?: string;
}

export type WatchQuery = Readonly<Record<string, string | number | boolean | undefined>>;

/** A list request gets no answer for this long: a dead connection. */
const LIST_TIMEOUT_MS = 60_000;
/** Error bodies are Status objects of a few hundred bytes: never buffer more than this. */
const MAX_ERROR_BODY = 64 * 1024;

export class KubeClient {
  readonly core: CoreV1Api;

  constructor(private readonly kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** One page of a list, parsed whole (pages are small). Throws KubeApiError. */
  async listPage(path: string, query: ListQuery): Promise<ListPage> {
    const what = `list ${path}`;
    const res = await this.get(this.url(path, listParams(query)), what, LIST_TIMEOUT_MS);
    // Decoded as it arrives: one copy of the body as a string, no Buffer concatenation.
    const chunks: string[] = [];
    res.setEncoding('utf8');
    for await (const chunk of res) chunks.push(chunk as string);
    let body: unknown;
    try {
      body = JSON.parse(chunks.join(''));
    } catch {
      throw new KubeApiError(`${what}: the response is not JSON`, res.statusCode);
    }
    const list = body as { items?: unknown; metadata?: ListMetadata };
    if (!Array.isArray(list.items))
      throw new KubeApiError(`${what}: the response has no items`, undefined);
    return { items: list.items as RawObject[], ...listEnd(list.metadata) };
  }

  /**
   * A list read as a stream: `onItem` gets every item as soon as it is parsed, and no more than
   * one item is held at a time. Throws KubeApiError (also for a body cut short).
   */
  async listStream(
    path: string,
    query: ListQuery,
    onItem: (object: RawObject) => void,
  ): Promise<StreamedList> {
    const what = `list ${path}`;
    const res = await this.get(this.url(path, listParams(query)), what, LIST_TIMEOUT_MS);
    // `$.items.*` emits each item; keepStack: false drops emitted items from the parser's array.
    const parser = new JSONParser({ paths: ['$.metadata', '$.items.*'], keepStack: false });
    let metadata: ListMetadata | undefined;
    let items = 0;
    let failure: Error | undefined;
    parser.onValue = ({ value, key }) => {
      if (key === 'metadata') metadata = value as ListMetadata;
      else {
        items++;
        onItem(value as RawObject);
      }
    };
    parser.onError = (error) => (failure ??= error);
    for await (const chunk of res) {
      parser.write(chunk as Buffer);
      if (failure !== undefined) break;
    }
    if (failure === undefined && !parser.isEnded)
      failure = new Error('the response ended before the list did');
    if (failure !== undefined) {
      res.destroy();
      throw new KubeApiError(`${what}: ${failure.message}`, undefined);
    }
    return { ...listEnd(metadata), items };
  }

  /**
   * Starts a watch. `onEvent` gets every event (exceptions it throws are the caller's to catch).
   * `onDone` is called exactly once: with a KubeApiError (a non-200 answer carries the Status's
   * message and reason), or null when the stream ended (`aborted` when through the controller).
   * The returned promise resolves with the controller once the server accepted the watch (HTTP
   * 200); the controller aborts the request in every state.
   */
  watch(
    path: string,
    query: WatchQuery,
    onEvent: (type: WatchEventType, object: RawObject) => void,
    onDone: (error: KubeApiError | null, aborted: boolean) => void,
  ): Promise<AbortController> {
    const what = `watch ${path}`;
    const controller = new AbortController();
    let finished = false;
    const done = (error: KubeApiError | null) => {
      if (finished) return;
      finished = true;
      onDone(error, controller.signal.aborted);
    };
    const params: Record<string, string> = { watch: 'true' };
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) params[key] = String(value);
    return this.get(this.url(path, params), what, undefined, controller.signal).then(
      (res) => {
        res.on('error', (error) =>
          done(controller.signal.aborted ? null : toKubeApiError(error, what)),
        );
        res.on('close', () => done(null));
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        // readline re-emits the input's errors: without a listener they would be uncaught.
        lines.on('error', (error) =>
          done(controller.signal.aborted ? null : toKubeApiError(error, what)),
        );
        lines.on('line', (line) => {
          if (finished || line === '') return;
          let event: { type?: unknown; object?: unknown };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            return; // not an event (client-node's Watch ignores these too)
          }
          onEvent(event.type as WatchEventType, (event.object ?? {}) as RawObject);
        });
        return controller;
      },
      (error: unknown) => {
        done(controller.signal.aborted ? null : toKubeApiError(error, what));
        return controller;
      },
    );
  }

  private url(path: string, params: Readonly<Record<string, string>>): URL {
    const cluster = this.kc.getCurrentCluster();
    if (cluster === null) throw new KubeApiError('no current cluster in the kubeconfig', undefined);
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url;
  }

  /** A GET whose answer is 2xx (returned unread), or a KubeApiError from the Status body. */
  private async get(
    url: URL,
    what: string,
    timeoutMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const options: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(options);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method: 'GET',
          agent: options.agent,
          auth: options.auth,
          headers: { ...options.headers, Accept: 'application/json' },
          ...(timeoutMs !== undefined && { timeout: timeoutMs }),
          ...(signal !== undefined && { signal }),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(res);
            return;
          }
          readErrorBody(res).then(
            (text) => reject(errorFromBody(text, status, what)),
            (error: unknown) => reject(toKubeApiError(error, what)),
          );
        },
      );
      if (timeoutMs !== undefined)
        req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
      req.on('error', (error) => reject(toKubeApiError(error, what)));
      req.end();
    });
  }
}

interface ListMetadata {
  readonly resourceVersion?: unknown;
  readonly continue?: unknown;
}

function listParams(query: ListQuery): Record<string, string> {
  const params: Record<string, string> = {};
  if (query.labelSelector !== undefined) params.labelSelector = query.labelSelector;
  if (query.fieldSelector !== undefined) params.fieldSelector = query.fieldSelector;
  if (query.limit !== undefined) params.limit = String(query.limit);
  if (query.continueToken !== undefined) params.continue = query.continueToken;
  if (query.resourceVersion !== undefined) params.resourceVersion = query.resourceVersion;
  return params;
}

function listEnd(metadata: ListMetadata | undefined): {
  resourceVersion: string;
  continueToken: string | undefined;
} {
  const next = metadata?.continue;
  return {
    resourceVersion: typeof metadata?.resourceVersion === 'string' ? metadata.resourceVersion : '',
    continueToken: typeof next === 'string' && next !== '' ? next : undefined,
  };
}

async function readErrorBody(res: http.IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) {
    text += chunk as string;
    if (text.length > MAX_ERROR_BODY) {
      res.destroy();
      break;
    }
  }
  return text;
}

/** A non-2xx answer: the Status's message and reason when the body is one, else the bare status. */
function errorFromBody(text: string, status: number, what: string): KubeApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    (parsed as { kind?: unknown }).kind === 'Status'
  ) {
    const error = statusError(parsed, what);
    return error.statusCode === undefined
      ? new KubeApiError(error.message, status, error.reason)
      : error;
  }
  return new KubeApiError(
    `${what}: HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trim(),
    status,
  );
}
