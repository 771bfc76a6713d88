/**
 * An in-process Kubernetes API server fake for tests and benchmarks: a `node:http` server on
 * 127.0.0.1 (a free port) that honours the parts of the API semantics that informers, controllers
 * and small clients rely on, so that the real `@kubernetes/client-node` can be pointed at it.
 *
 * What it implements (for every registered resource type, see RESOURCE_TYPES / `registerType`):
 * - list: `GET` collection, cluster-wide (`/api/v1/pods`) or per namespace, with `labelSelector`
 *   (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma = AND), `fieldSelector`
 *   (`metadata.name`, `metadata.namespace`, `=`/`==`/`!=`), `limit` + `continue` pagination over a
 *   consistent snapshot, and the list's `metadata.resourceVersion`. `resourceVersion=0` is served
 *   from the "watch cache": the whole collection in one body, `limit` ignored (as kube-apiserver
 *   v1.32 does), unless the fake runs without one (`watchCache: false`, like `--watch-cache=false`).
 * - watch: `GET ...?watch=true` (the deprecated `/watch/` path prefix is not served) streaming newline-delimited
 *   `ADDED` / `MODIFIED` / `DELETED` / `BOOKMARK` / `ERROR` events from `resourceVersion`
 *   (unset or `0`: synthetic `ADDED` events for the current state first), honouring the selectors,
 *   `timeoutSeconds` and `allowWatchBookmarks`. Watch-list (KEP-3157): `sendInitialEvents=true` with
 *   `resourceVersionMatch=NotOlderThan` and `allowWatchBookmarks=true` streams the collection as
 *   ADDED events, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"` at the list's
 *   resourceVersion, then the changes; `watchList: false` (or `watchCache: false`) rejects it with
 *   422 Invalid, as a server with the WatchList feature gate off. A `resourceVersion` older than the compaction point
 *   yields `410 Gone`, by default as an `ERROR` event carrying a `Status` with code 410 (what the
 *   watch cache does), or as an HTTP 410 response (`expiredWatchMode: 'http'`).
 * - get / create (`POST`) / update (`PUT`, optimistic concurrency on `metadata.resourceVersion`:
 *   409 Conflict) / patch (`application/merge-patch+json`, `application/strategic-merge-patch+json`
 *   treated as a merge patch, `application/json-patch+json`; a `metadata.resourceVersion` in a merge
 *   patch is a precondition: 409 on mismatch) / delete. `/status` subresources behave like the object.
 * - errors are `Status` objects (`kind: Status`, `code`, `reason`, `message`) like the real server.
 * - ConfigMaps larger than 1 MiB (keys plus values) are refused with 422 Invalid, like the real server.
 *
 * Server cost, for benchmarks (`cost`): consistent list pages (read from etcd) are answered after
 * a delay proportional to their size; answers from the watch cache (rv=0 lists, watch-list
 * initial events) are sent in 1 MB chunks, each after a (smaller) delay proportional to its size.
 *
 * Fault injection, for resilience tests: `expireWatches` (compaction + 410 to open watches),
 * `injectFault` (HTTP status or a dropped connection for matching requests, a number of times or
 * until cleared), `dropWatches` (close open watch connections mid-stream), `stopListening` /
 * `resumeListening` (connection refused on the same port), `bookmark`.
 *
 * Tests drive the state through the programmatic API (`create`, `update`, `apply`, `mergePatch`,
 * `remove`, `deleteNamespace`, `load` for large fixtures), which produces the same watch events as
 * HTTP writes, and inspect it with `get`, `list`, `requests`, `countRequests` and `openWatches`.
 * Objects are stored as their JSON bytes (plus metadata for selectors): lists and watches send
 * them without re-serialising, which keeps the fake out of the way in benchmarks.
 *
 * ```ts
 * const api = await FakeKubeApi.start();
 * const kubeconfigPath = api.writeKubeconfig(tmpDir);   // KUBECONFIG for a subprocess
 * api.create('pods', pod);
 * ...
 * await api.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

// ---------------------------------------------------------------- types

/** A Kubernetes object as the fake stores it (plain JSON). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMetadata;
  [key: string]: unknown;
}
export interface KubeMetadata {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface ResourceType {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** The resource types registered by default (more with `registerType`). Keys are the plurals. */
export const RESOURCE_TYPES = {
  pods: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  configmaps: {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
  },
  secrets: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  jobs: { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true },
  cronjobs: {
    group: 'batch',
    version: 'v1',
    plural: 'cronjobs',
    kind: 'CronJob',
    namespaced: true,
  },
  vulnerabilityreports: {
    group: 'aquasecurity.github.io',
    version: 'v1alpha1',
    plural: 'vulnerabilityreports',
    kind: 'VulnerabilityReport',
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export type Verb = 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'delete';

export interface FaultSpec {
  /** Plural of the resource the fault applies to; every resource when omitted. */
  readonly resource?: string;
  /** Verbs the fault applies to; every verb when omitted. */
  readonly verbs?: readonly Verb[];
  /** Respond with this HTTP status and a Status body (default 500)... */
  readonly status?: number;
  /** ...with this reason and message (default: ServiceUnavailable/InternalError, "injected fault (<status>)"). */
  readonly reason?: string;
  readonly message?: string;
  /** ...or destroy the connection without a response. */
  readonly drop?: boolean;
  /** How many matching requests fail; unlimited (until `clear()`) when omitted. */
  readonly times?: number;
}
export interface FaultHandle {
  /** Matching requests failed so far. */
  readonly hits: () => number;
  readonly clear: () => void;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly verb: Verb | 'discovery' | 'unknown';
  readonly resource?: string;
  /** Status sent, or 0 for a dropped connection. Watches record 200 when the stream starts. */
  status: number;
}

export interface FakeKubeApiOptions {
  /** `event` (default): a watch from an expired resourceVersion gets HTTP 200 and an ERROR event with code 410. `http`: an HTTP 410 response. */
  readonly expiredWatchMode?: 'event' | 'http';
  /** Send a BOOKMARK to watches that asked for them at this interval (ms); 0 (default): only on `bookmark()`. */
  readonly bookmarkIntervalMs?: number;
  /** Keep at most this many requests in `requests` (default 10,000). */
  readonly maxRequestLog?: number;
  /** Watch history kept per resource (default 100,000 events); older resourceVersions get 410, as after an etcd compaction. */
  readonly maxHistory?: number;
  /** Serve watch-list (default true); false: 422 Invalid, as with the WatchList feature gate off (before v1.32's beta). */
  readonly watchList?: boolean;
  /** Answer `resourceVersion=0` lists and watch-list from a watch cache (default true); false: as `--watch-cache=false`. */
  readonly watchCache?: boolean;
  /** Simulated server cost (default none). */
  readonly cost?: ServerCost;
}

/** Milliseconds per MB served: pages of consistent lists (etcd), and answers from the watch cache. */
export interface ServerCost {
  readonly etcdMsPerMb: number;
  readonly cacheMsPerMb: number;
}

/** The bookmark annotation that ends the initial events of a watch-list. */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

// ---------------------------------------------------------------- internals

interface Stored {
  /** The object's metadata (selectors and routing read it); the object itself lives as JSON only. */
  readonly meta: KubeMetadata;
  /** UTF-8 JSON of the object, encoded once per version (lists and watches send the same bytes). */
  readonly json: Buffer;
  readonly rv: number;
}
interface LoggedEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly stored: Stored;
}
interface TypeState {
  readonly type: ResourceType;
  /** Key `namespace/name` (or `name`). */
  readonly objects: Map<string, Stored>;
  readonly log: LoggedEvent[];
  /** Watches from a resourceVersion older than this get 410. */
  compactedRv: number;
}
interface Selector {
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
}
type LabelRequirement =
  | { readonly op: 'eq' | 'neq'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'notexists'; readonly key: string };
interface FieldRequirement {
  readonly field: 'metadata.name' | 'metadata.namespace';
  readonly op: 'eq' | 'neq';
  readonly value: string;
}
interface OpenWatch {
  readonly typeState: TypeState;
  readonly namespace: string | undefined;
  readonly selector: Selector;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
  readonly socket: Socket;
  lastRv: number;
  closed: boolean;
  timer?: NodeJS.Timeout;
  /** While a watch-list sends its initial events: the changes that follow them. */
  pending?: Buffer[];
}
interface Snapshot {
  readonly plural: string;
  readonly rv: number;
  readonly items: readonly Stored[];
  readonly createdAt: number;
}
interface Fault {
  readonly spec: FaultSpec;
  remaining: number;
  hits: number;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json';
const SNAPSHOT_TTL_MS = 5 * 60_000;
const COMMA = Buffer.from(',');
const LIST_END = Buffer.from(']}');
const EVENT_END = Buffer.from('}\n');
const MB = 1 << 20;

// ---------------------------------------------------------------- the fake

export class FakeKubeApi {
  /** Every request served (most recent last), for assertions such as "the collector re-listed". */
  readonly requests: RequestRecord[] = [];

  private readonly types = new Map<string, TypeState>();
  private readonly watches = new Set<OpenWatch>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly faults = new Set<Fault>();
  private readonly sockets = new Set<Socket>();
  private rv = 1000;
  private server: Server;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private expiredWatchMode: 'event' | 'http';
  private readonly maxRequestLog: number;
  private readonly maxHistory: number;
  private readonly watchList: boolean;
  private readonly watchCache: boolean;
  private readonly cost: ServerCost;
  private portNumber = 0;

  private constructor(options: FakeKubeApiOptions) {
    this.expiredWatchMode = options.expiredWatchMode ?? 'event';
    this.maxRequestLog = options.maxRequestLog ?? 10_000;
    this.maxHistory = options.maxHistory ?? 100_000;
    this.watchCache = options.watchCache ?? true;
    this.watchList = (options.watchList ?? true) && this.watchCache;
    this.cost = options.cost ?? { etcdMsPerMb: 0, cacheMsPerMb: 0 };
    for (const type of Object.values(RESOURCE_TYPES)) this.registerType(type);
    this.server = this.makeServer();
    if (options.bookmarkIntervalMs !== undefined && options.bookmarkIntervalMs > 0) {
      this.bookmarkTimer = setInterval(() => this.bookmark(), options.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    }
  }

  /** Starts a fake on 127.0.0.1 and a free port. */
  static async start(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(options);
    await api.listen(0);
    return api;
  }

  get port(): number {
    return this.portNumber;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** The current (latest) resourceVersion, as the server would report it. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Adds a resource type (e.g. a CRD). */
  registerType(type: ResourceType): void {
    this.types.set(type.plural, { type, objects: new Map(), log: [], compactedRv: 0 });
  }

  setExpiredWatchMode(mode: 'event' | 'http'): void {
    this.expiredWatchMode = mode;
  }

  /**
   * A kubeconfig for this server (YAML). `insecure-skip-tls-verify` is required by
   * @kubernetes/client-node for `http://` servers.
   */
  kubeconfig(namespace = 'default'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: fake',
      '  user:',
      '    token: fake-token',
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: fake',
      `    namespace: ${namespace}`,
      'current-context: fake',
      '',
    ].join('\n');
  }

  /** Writes `kubeconfig()` to `<dir>/kubeconfig` and returns the path (for `KUBECONFIG`). */
  writeKubeconfig(dir: string, namespace?: string): string {
    const path = join(dir, 'kubeconfig');
    writeFileSync(path, this.kubeconfig(namespace));
    return path;
  }

  // ------------------------------------------------------------ programmatic state access

  /** Creates an object (409 AlreadyExists if present). Returns the stored copy. */
  create(plural: string, object: KubeObject): KubeObject {
    const state = this.typeState(plural);
    const obj = clone(object);
    this.prepareNew(state, obj, obj.metadata.namespace);
    const key = objectKey(state.type, obj.metadata.namespace, obj.metadata.name);
    if (state.objects.has(key))
      throw new HttpError(409, 'AlreadyExists', `${plural} "${obj.metadata.name}" already exists`);
    return this.commit(state, key, obj, 'ADDED');
  }

  /**
   * Creates many objects at once, taking ownership of them (no defensive copies: for large
   * benchmark fixtures). Existing objects with the same name are replaced.
   */
  load(plural: string, objects: Iterable<KubeObject>): void {
    const state = this.typeState(plural);
    for (const obj of objects) {
      this.prepareNew(state, obj, obj.metadata.namespace);
      const key = objectKey(state.type, obj.metadata.namespace, obj.metadata.name);
      this.commit(state, key, obj, state.objects.has(key) ? 'MODIFIED' : 'ADDED', false);
    }
  }

  /** Replaces an object; `metadata.resourceVersion`, when set, must match (409 otherwise). */
  update(plural: string, object: KubeObject): KubeObject {
    const state = this.typeState(plural);
    const key = objectKey(state.type, object.metadata.namespace, object.metadata.name);
    const current = state.objects.get(key);
    if (current === undefined)
      throw new HttpError(404, 'NotFound', `${plural} "${object.metadata.name}" not found`);
    const wanted = object.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== String(current.rv)) {
      throw conflict(plural, object.metadata.name);
    }
    const obj = clone(object);
    preserveIdentity(obj, current.meta);
    return this.commit(state, key, obj, 'MODIFIED');
  }

  /** Creates or replaces (no precondition). */
  apply(plural: string, object: KubeObject): KubeObject {
    const existing = this.get(plural, object.metadata.namespace, object.metadata.name);
    if (existing === undefined) return this.create(plural, object);
    const { resourceVersion: _ignored, ...metadata } = object.metadata;
    return this.update(plural, { ...object, metadata });
  }

  /** Applies an RFC 7386 merge patch to an object. */
  mergePatch(
    plural: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
  ): KubeObject {
    return this.patchObject(plural, namespace, name, 'application/merge-patch+json', patch);
  }

  /** Deletes an object; false when it did not exist. */
  remove(plural: string, namespace: string | undefined, name: string): boolean {
    const state = this.typeState(plural);
    const key = objectKey(state.type, namespace, name);
    const current = state.objects.get(key);
    if (current === undefined) return false;
    this.commitDelete(state, key, current);
    return true;
  }

  /** Deletes every namespaced object in `namespace` (as the namespace controller does). */
  deleteNamespace(namespace: string): number {
    let count = 0;
    for (const state of this.types.values()) {
      if (!state.type.namespaced) continue;
      for (const [key, stored] of [...state.objects]) {
        if (stored.meta.namespace === namespace) {
          this.commitDelete(state, key, stored);
          count++;
        }
      }
    }
    return count;
  }

  get(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const state = this.typeState(plural);
    const stored = state.objects.get(objectKey(state.type, namespace, name));
    return stored === undefined ? undefined : parseStored(stored);
  }

  list(plural: string, namespace?: string): KubeObject[] {
    const state = this.typeState(plural);
    return [...state.objects.values()]
      .filter((s) => namespace === undefined || s.meta.namespace === namespace)
      .map(parseStored);
  }

  /** Number of open watch streams, optionally of one resource. */
  openWatches(plural?: string): number {
    let n = 0;
    for (const w of this.watches)
      if (!w.closed && (plural === undefined || w.typeState.type.plural === plural)) n++;
    return n;
  }

  /** Requests of a verb (and resource) served so far. */
  countRequests(verb: RequestRecord['verb'], plural?: string): number {
    return this.requests.filter(
      (r) => r.verb === verb && (plural === undefined || r.resource === plural),
    ).length;
  }

  // ------------------------------------------------------------ fault injection

  /**
   * Compacts the history of `plural` (every resource when omitted) up to now, so that a watch or
   * a continue token from an older resourceVersion gets 410 Gone, and ends the open watches of
   * that resource with an ERROR event carrying code 410 (what the API server does when a watcher
   * falls too far behind). Clients must re-list.
   */
  expireWatches(plural?: string): void {
    for (const state of this.types.values()) {
      if (plural !== undefined && state.type.plural !== plural) continue;
      state.compactedRv = this.rv;
      state.log.length = 0;
    }
    // Outstanding continue tokens expire too (a real server compacts the revision they read at).
    for (const [token, snap] of this.snapshots)
      if (plural === undefined || snap.plural === plural) this.snapshots.delete(token);
    for (const w of [...this.watches]) {
      if (plural !== undefined && w.typeState.type.plural !== plural) continue;
      this.sendEvent(
        w,
        'ERROR',
        JSON.stringify(
          statusBody(410, 'Expired', `too old resource version: ${w.lastRv} (${this.rv})`),
        ),
      );
      this.endWatch(w);
    }
  }

  /** Closes open watch connections of `plural` (every resource when omitted) mid-stream. */
  dropWatches(plural?: string, how: 'end' | 'destroy' = 'destroy'): void {
    for (const w of [...this.watches]) {
      if (plural !== undefined && w.typeState.type.plural !== plural) continue;
      if (how === 'destroy') {
        w.closed = true;
        this.watches.delete(w);
        if (w.timer !== undefined) clearTimeout(w.timer);
        w.socket.destroy();
      } else this.endWatch(w);
    }
  }

  /** Fails matching requests with an HTTP status or a dropped connection. */
  injectFault(spec: FaultSpec): FaultHandle {
    const fault: Fault = { spec, remaining: spec.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    this.faults.add(fault);
    return { hits: () => fault.hits, clear: () => this.faults.delete(fault) };
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(plural?: string): void {
    for (const w of this.watches) {
      if (
        !w.bookmarks ||
        w.pending !== undefined ||
        (plural !== undefined && w.typeState.type.plural !== plural)
      )
        continue;
      const { type } = w.typeState;
      w.lastRv = this.rv;
      this.sendEvent(
        w,
        'BOOKMARK',
        JSON.stringify({
          kind: type.kind,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: String(this.rv) },
        }),
      );
    }
  }

  /** Closes the listening socket and every connection: clients get "connection refused". */
  async stopListening(): Promise<void> {
    for (const w of [...this.watches]) {
      w.closed = true;
      if (w.timer !== undefined) clearTimeout(w.timer);
    }
    this.watches.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port after `stopListening`. */
  async resumeListening(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.portNumber);
  }

  async close(): Promise<void> {
    if (this.bookmarkTimer !== undefined) clearInterval(this.bookmarkTimer);
    if (this.server.listening) await this.stopListening();
  }

  // ------------------------------------------------------------ HTTP

  private makeServer(): Server {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        const e =
          error instanceof HttpError
            ? error
            : new HttpError(
                500,
                'InternalError',
                error instanceof Error ? error.message : String(error),
              );
        if (!res.headersSent) sendStatus(res, e.code, e.reason, e.message);
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.portNumber = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const route = parsePath(url.pathname, this.types);
    const method = req.method ?? 'GET';
    const verb =
      route.kind === 'resource'
        ? verbOf(method, route.name !== undefined, query.watch === 'true' || query.watch === '1')
        : route.kind;
    const record: RequestRecord = {
      method,
      path: url.pathname,
      query,
      verb,
      ...(route.kind === 'resource' && { resource: route.state.type.plural }),
      status: 0,
    };
    this.recordRequest(record);

    if (route.kind === 'resource') {
      for (const fault of this.faults) {
        const { spec } = fault;
        if (fault.remaining <= 0) continue;
        if (spec.resource !== undefined && spec.resource !== route.state.type.plural) continue;
        if (spec.verbs !== undefined && !spec.verbs.includes(verb as Verb)) continue;
        fault.remaining--;
        fault.hits++;
        if (spec.drop === true) {
          req.socket.destroy();
          return;
        }
        const code = spec.status ?? 500;
        record.status = code;
        sendStatus(
          res,
          code,
          spec.reason ?? (code === 503 ? 'ServiceUnavailable' : 'InternalError'),
          spec.message ?? `injected fault (${code})`,
        );
        return;
      }
    }

    if (route.kind === 'discovery') {
      record.status = 200;
      sendJson(res, 200, this.discovery(url.pathname));
      return;
    }
    if (route.kind === 'unknown') {
      record.status = 404;
      sendStatus(
        res,
        404,
        'NotFound',
        `the server could not find the requested resource (${url.pathname})`,
      );
      return;
    }

    const { state, namespace, name, subresource } = route;
    try {
      switch (verb) {
        case 'list':
          record.status = 200;
          await this.serveList(res, state, namespace, query);
          return;
        case 'watch':
          await this.serveWatch(req, res, state, namespace, query, record);
          return;
        case 'get': {
          const stored = state.objects.get(objectKey(state.type, namespace, name!));
          if (stored === undefined)
            throw new HttpError(404, 'NotFound', `${state.type.plural} "${name}" not found`);
          record.status = 200;
          sendBytes(res, 200, stored.json);
          return;
        }
        case 'create': {
          const body = (await readJson(req)) as KubeObject;
          if (!isObject(body) || !isObject(body.metadata))
            throw new HttpError(400, 'BadRequest', 'body must be an object with metadata');
          if (state.type.namespaced) body.metadata.namespace = namespace ?? body.metadata.namespace;
          const created = this.create(state.type.plural, body);
          record.status = 201;
          sendJson(res, 201, created);
          return;
        }
        case 'update': {
          const body = (await readJson(req)) as KubeObject;
          if (!isObject(body) || !isObject(body.metadata))
            throw new HttpError(400, 'BadRequest', 'body must be an object with metadata');
          if (body.metadata.name !== name)
            throw new HttpError(400, 'BadRequest', 'metadata.name does not match the URL');
          if (state.type.namespaced) body.metadata.namespace = namespace;
          const updated =
            subresource === undefined
              ? this.update(state.type.plural, body)
              : this.updateSubresource(state, body);
          record.status = 200;
          sendJson(res, 200, updated);
          return;
        }
        case 'patch': {
          const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
          const body = await readJson(req);
          const patched = this.patchObject(state.type.plural, namespace, name!, contentType, body);
          record.status = 200;
          sendJson(res, 200, patched);
          return;
        }
        case 'delete': {
          const key = objectKey(state.type, namespace, name!);
          const current = state.objects.get(key);
          if (current === undefined)
            throw new HttpError(404, 'NotFound', `${state.type.plural} "${name}" not found`);
          this.commitDelete(state, key, current);
          record.status = 200;
          sendBytes(res, 200, current.json);
          return;
        }
      }
    } catch (error) {
      if (error instanceof HttpError) record.status = error.code;
      throw error;
    }
  }

  private recordRequest(record: RequestRecord): void {
    this.requests.push(record);
    if (this.requests.length > this.maxRequestLog)
      this.requests.splice(0, this.requests.length - this.maxRequestLog);
  }

  private async serveList(
    res: ServerResponse,
    state: TypeState,
    namespace: string | undefined,
    query: Record<string, string>,
  ): Promise<void> {
    const selector = parseSelector(query.labelSelector, query.fieldSelector);
    const requested = query.limit !== undefined && query.limit !== '' ? Number(query.limit) : 0;
    if (!Number.isInteger(requested) || requested < 0)
      throw new HttpError(400, 'BadRequest', `invalid limit "${query.limit}"`);
    const hasContinue = query.continue !== undefined && query.continue !== '';
    if (hasContinue && query.resourceVersion !== undefined && query.resourceVersion !== '') {
      throw new HttpError(
        400,
        'BadRequest',
        'specifying resource version is not allowed when using continue',
      );
    }
    // resourceVersion=0 from the watch cache: the whole collection, limit ignored.
    const fromCache = this.watchCache && query.resourceVersion === '0';
    const limit = fromCache ? 0 : requested;
    let snapshot: Snapshot;
    let offset = 0;
    let token: string;
    if (query.continue !== undefined && query.continue !== '') {
      const decoded = decodeContinue(query.continue);
      const found = decoded === undefined ? undefined : this.snapshots.get(decoded.token);
      if (decoded === undefined || found === undefined) {
        throw new HttpError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      snapshot = found;
      offset = decoded.offset;
      token = decoded.token;
    } else {
      // Abandoned paginations must not pile up: continue tokens live 5 minutes (as after a compaction).
      for (const [t, snap] of this.snapshots)
        if (Date.now() - snap.createdAt > SNAPSHOT_TTL_MS) this.snapshots.delete(t);
      const items = [...state.objects.values()]
        .filter((s) => matches(s.meta, namespace, selector))
        .sort((a, b) => compareKeys(a.meta, b.meta));
      snapshot = { plural: state.type.plural, rv: this.rv, items, createdAt: Date.now() };
      token = randomUUID();
      if (limit > 0 && items.length > limit) this.snapshots.set(token, snapshot);
    }
    const end = limit > 0 ? Math.min(offset + limit, snapshot.items.length) : snapshot.items.length;
    const page = snapshot.items.slice(offset, end);
    const more = end < snapshot.items.length;
    if (!more) this.snapshots.delete(token);
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
    if (more) {
      metadata.continue = encodeContinue(token, end);
      metadata.remainingItemCount = snapshot.items.length - end;
    }
    const { type } = state;
    const head = `{"kind":${JSON.stringify(`${type.kind}List`)},"apiVersion":${JSON.stringify(apiVersionOf(type))},"metadata":${JSON.stringify(metadata)},"items":[`;
    const parts: Buffer[] = [Buffer.from(head)];
    page.forEach((s, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(s.json);
    });
    parts.push(LIST_END);
    const body = Buffer.concat(parts);
    if (fromCache) await sendPaced(res, body, this.cost.cacheMsPerMb);
    else {
      await sleep((this.cost.etcdMsPerMb * body.length) / MB);
      sendBytes(res, 200, body);
    }
  }

  private async serveWatch(
    req: IncomingMessage,
    res: ServerResponse,
    state: TypeState,
    namespace: string | undefined,
    query: Record<string, string>,
    record: RequestRecord,
  ): Promise<void> {
    const selector = parseSelector(query.labelSelector, query.fieldSelector);
    const from = query.resourceVersion ?? '';
    const fromRv = from === '' || from === '0' ? undefined : Number(from);
    if (fromRv !== undefined && !Number.isFinite(fromRv))
      throw new HttpError(400, 'BadRequest', `invalid resourceVersion "${from}"`);
    const initialEvents = query.sendInitialEvents === 'true';
    if (initialEvents) validateWatchList(query, this.watchList);
    else if (query.resourceVersionMatch !== undefined && query.resourceVersionMatch !== '') {
      throw new HttpError(
        422,
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      );
    }
    const expired = fromRv !== undefined && fromRv < state.compactedRv;
    if (expired && this.expiredWatchMode === 'http') {
      record.status = 410;
      sendStatus(res, 410, 'Expired', `too old resource version: ${fromRv} (${this.rv})`);
      return;
    }
    record.status = 200;
    res.writeHead(200, {
      'Content-Type': JSON_TYPE,
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache',
    });
    res.flushHeaders();
    const watch: OpenWatch = {
      typeState: state,
      namespace,
      selector,
      bookmarks: query.allowWatchBookmarks === 'true',
      res,
      socket: req.socket,
      lastRv: fromRv ?? this.rv,
      closed: false,
    };
    this.watches.add(watch);
    const cleanup = () => {
      watch.closed = true;
      this.watches.delete(watch);
      if (watch.timer !== undefined) clearTimeout(watch.timer);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
    const timeout = query.timeoutSeconds !== undefined ? Number(query.timeoutSeconds) : 0;
    if (Number.isFinite(timeout) && timeout > 0) {
      watch.timer = setTimeout(() => this.endWatch(watch), timeout * 1000);
      watch.timer.unref();
    }
    if (expired) {
      this.sendEvent(
        watch,
        'ERROR',
        JSON.stringify(
          statusBody(410, 'Expired', `too old resource version: ${fromRv} (${this.rv})`),
        ),
      );
      this.endWatch(watch);
      return;
    }
    if (initialEvents) {
      await this.sendInitialEvents(watch);
      return;
    }
    if (fromRv === undefined) {
      const items = [...state.objects.values()]
        .filter((s) => matches(s.meta, namespace, selector))
        .sort((a, b) => a.rv - b.rv);
      for (const s of items) this.sendEvent(watch, 'ADDED', s.json);
      watch.lastRv = this.rv;
    } else {
      for (const event of state.log) {
        if (event.rv > fromRv && matches(event.stored.meta, namespace, selector)) {
          this.sendEvent(watch, event.type, event.stored.json);
          watch.lastRv = event.rv;
        }
      }
    }
  }

  /**
   * Watch-list: the collection at this resourceVersion as ADDED events (from the "watch cache",
   * paced by its cost), the initial-events-end bookmark, then the changes that came meanwhile.
   */
  private async sendInitialEvents(watch: OpenWatch): Promise<void> {
    const { type, objects } = watch.typeState;
    const rv = this.rv;
    const items = [...objects.values()].filter((s) =>
      matches(s.meta, watch.namespace, watch.selector),
    );
    watch.pending = [];
    let batch: Buffer[] = [];
    let size = 0;
    const flush = async () => {
      await sleep((this.cost.cacheMsPerMb * size) / MB);
      if (!watch.closed) watch.res.write(Buffer.concat(batch));
      batch = [];
      size = 0;
    };
    for (const s of items) {
      const event = eventBytes('ADDED', s.json);
      batch.push(event);
      size += event.length;
      if (size >= MB) await flush();
      if (watch.closed) return;
    }
    const bookmark = {
      kind: type.kind,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(rv), annotations: { [INITIAL_EVENTS_END]: 'true' } },
    };
    batch.push(eventBytes('BOOKMARK', JSON.stringify(bookmark)));
    await flush();
    const pending = watch.pending;
    watch.pending = undefined;
    watch.lastRv = Math.max(watch.lastRv, rv);
    for (const event of pending) if (!watch.closed) watch.res.write(event);
  }

  private sendEvent(watch: OpenWatch, type: WatchEventType, objectJson: Buffer | string): void {
    if (watch.closed) return;
    const event = eventBytes(type, objectJson);
    if (watch.pending !== undefined && type !== 'ERROR') watch.pending.push(event);
    else watch.res.write(event);
  }

  private endWatch(watch: OpenWatch): void {
    if (watch.closed) return;
    watch.closed = true;
    this.watches.delete(watch);
    if (watch.timer !== undefined) clearTimeout(watch.timer);
    watch.res.end();
  }

  private discovery(path: string): unknown {
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'] };
    if (path === '/apis') {
      const groups = new Map<string, Set<string>>();
      for (const { type } of this.types.values()) {
        if (type.group === '') continue;
        const versions = groups.get(type.group) ?? new Set<string>();
        versions.add(type.version);
        groups.set(type.group, versions);
      }
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, versions]) => ({
          name,
          versions: [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
          preferredVersion: {
            groupVersion: `${name}/${[...versions][0]}`,
            version: [...versions][0],
          },
        })),
      };
    }
    const groupVersion = path === '/api/v1' ? 'v1' : path.replace(/^\/apis\//, '');
    const resources = [...this.types.values()]
      .filter(({ type }) => apiVersionOf(type) === groupVersion)
      .map(({ type }) => ({
        name: type.plural,
        singularName: type.kind.toLowerCase(),
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      }));
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
  }

  // ------------------------------------------------------------ store

  private typeState(plural: string): TypeState {
    const state = this.types.get(plural);
    if (state === undefined)
      throw new Error(`FakeKubeApi: unknown resource "${plural}" (register it with registerType)`);
    return state;
  }

  private prepareNew(state: TypeState, obj: KubeObject, namespace: string | undefined): void {
    if (typeof obj.metadata.name !== 'string' || obj.metadata.name === '')
      throw new HttpError(422, 'Invalid', 'metadata.name is required');
    if (state.type.namespaced) {
      obj.metadata.namespace = namespace ?? 'default';
    } else delete obj.metadata.namespace;
    obj.apiVersion = apiVersionOf(state.type);
    obj.kind = state.type.kind;
    obj.metadata.uid = obj.metadata.uid ?? randomUUID();
    obj.metadata.creationTimestamp =
      obj.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  private commit(
    state: TypeState,
    key: string,
    obj: KubeObject,
    type: 'ADDED' | 'MODIFIED',
    copy = true,
  ): KubeObject {
    if (state.type.plural === 'configmaps') checkConfigMapSize(obj);
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    obj.apiVersion = apiVersionOf(state.type);
    obj.kind = state.type.kind;
    const stored: Stored = { meta: obj.metadata, json: Buffer.from(JSON.stringify(obj)), rv };
    state.objects.set(key, stored);
    this.publish(state, { rv, type, stored });
    return copy ? parseStored(stored) : obj;
  }

  private commitDelete(state: TypeState, key: string, current: Stored): void {
    const rv = ++this.rv;
    state.objects.delete(key);
    const obj = parseStored(current);
    obj.metadata.resourceVersion = String(rv);
    this.publish(state, {
      rv,
      type: 'DELETED',
      stored: { meta: obj.metadata, json: Buffer.from(JSON.stringify(obj)), rv },
    });
  }

  private publish(state: TypeState, event: LoggedEvent): void {
    state.log.push(event);
    if (state.log.length > this.maxHistory) {
      const dropped = state.log.splice(0, state.log.length - this.maxHistory);
      state.compactedRv = dropped.at(-1)!.rv;
    }
    for (const w of this.watches) {
      if (w.typeState !== state || w.closed) continue;
      if (!matches(event.stored.meta, w.namespace, w.selector)) continue;
      this.sendEvent(w, event.type, event.stored.json);
      w.lastRv = event.rv;
    }
  }

  private updateSubresource(state: TypeState, body: KubeObject): KubeObject {
    return this.update(state.type.plural, body);
  }

  private patchObject(
    plural: string,
    namespace: string | undefined,
    name: string,
    contentType: string,
    patch: unknown,
  ): KubeObject {
    const state = this.typeState(plural);
    const key = objectKey(state.type, namespace, name);
    const current = state.objects.get(key);
    if (current === undefined)
      throw new HttpError(404, 'NotFound', `${plural} "${name}" not found`);
    let next: unknown;
    switch (contentType) {
      case 'application/merge-patch+json':
      case 'application/strategic-merge-patch+json': {
        if (!isObject(patch))
          throw new HttpError(400, 'BadRequest', 'a merge patch must be a JSON object');
        const wanted = isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
        const wantedText =
          typeof wanted === 'string' || typeof wanted === 'number'
            ? String(wanted)
            : JSON.stringify(wanted);
        if (wanted !== undefined && wanted !== null && wantedText !== String(current.rv))
          throw conflict(plural, name);
        next = mergePatch(parseStored(current), patch);
        break;
      }
      case 'application/json-patch+json':
        if (!Array.isArray(patch))
          throw new HttpError(400, 'BadRequest', 'a JSON patch must be an array of operations');
        next = jsonPatch(parseStored(current), patch);
        break;
      default:
        throw new HttpError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got "${contentType}")`,
        );
    }
    if (!isObject(next) || !isObject(next.metadata))
      throw new HttpError(422, 'Invalid', 'the patch removed metadata');
    const obj = next as KubeObject;
    preserveIdentity(obj, current.meta);
    return this.commit(state, key, obj, 'MODIFIED');
  }
}

// ---------------------------------------------------------------- routing

type Route =
  | {
      kind: 'resource';
      state: TypeState;
      namespace: string | undefined;
      name: string | undefined;
      subresource: string | undefined;
    }
  | { kind: 'discovery' }
  | { kind: 'unknown' };

function parsePath(pathname: string, types: ReadonlyMap<string, TypeState>): Route {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let rest: string[];
  let groupVersion: string;
  if (parts[0] === 'api') {
    if (parts.length <= 2) return { kind: 'discovery' };
    groupVersion = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length <= 3) return { kind: 'discovery' };
    groupVersion = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else return { kind: 'unknown' };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const state = plural === undefined ? undefined : types.get(plural);
  if (state === undefined || apiVersionOf(state.type) !== groupVersion || extra.length > 0)
    return { kind: 'unknown' };
  if (namespace !== undefined && !state.type.namespaced) return { kind: 'unknown' };
  if (name !== undefined && state.type.namespaced && namespace === undefined)
    return { kind: 'unknown' };
  return { kind: 'resource', state, namespace, name, subresource };
}

function verbOf(method: string, named: boolean, watch: boolean): Verb {
  switch (method) {
    case 'GET':
      return named ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      throw new HttpError(405, 'MethodNotAllowed', `method ${method} is not supported`);
  }
}

// ---------------------------------------------------------------- selectors

function parseSelector(
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
): Selector {
  return {
    labels: parseLabelSelector(labelSelector ?? ''),
    fields: parseFieldSelector(fieldSelector ?? ''),
  };
}

function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseLabelSelector(input: string): LabelRequirement[] {
  return splitTopLevel(input).map((term): LabelRequirement => {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set !== null)
      return {
        op: set[2] as 'in' | 'notin',
        key: set[1]!,
        values: set[3]!.split(',').map((v) => v.trim()),
      };
    const neq = /^([^!=]+)!=(.*)$/.exec(term);
    if (neq !== null) return { op: 'neq', key: neq[1]!.trim(), value: neq[2]!.trim() };
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (eq !== null) return { op: 'eq', key: eq[1]!.trim(), value: eq[2]!.trim() };
    if (term.startsWith('!')) return { op: 'notexists', key: term.slice(1).trim() };
    if (/^[A-Za-z0-9./_-]+$/.test(term)) return { op: 'exists', key: term };
    throw new HttpError(400, 'BadRequest', `unable to parse requirement: "${term}"`);
  });
}

function parseFieldSelector(input: string): FieldRequirement[] {
  return splitTopLevel(input).map((term) => {
    const m = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (m === null) throw new HttpError(400, 'BadRequest', `field label not supported: "${term}"`);
    return {
      field: m[1] as FieldRequirement['field'],
      op: m[2] === '!=' ? 'neq' : 'eq',
      value: m[3]!.trim(),
    };
  });
}

function matches(meta: KubeMetadata, namespace: string | undefined, selector: Selector): boolean {
  if (namespace !== undefined && meta.namespace !== namespace) return false;
  const labels = meta.labels ?? {};
  for (const r of selector.labels) {
    const value = labels[r.key];
    switch (r.op) {
      case 'eq':
        if (value !== r.value) return false;
        break;
      case 'neq':
        if (value === r.value) return false;
        break;
      case 'in':
        if (value === undefined || !r.values.includes(value)) return false;
        break;
      case 'notin':
        if (value !== undefined && r.values.includes(value)) return false;
        break;
      case 'exists':
        if (value === undefined) return false;
        break;
      case 'notexists':
        if (value !== undefined) return false;
        break;
    }
  }
  for (const f of selector.fields) {
    const value = f.field === 'metadata.name' ? meta.name : (meta.namespace ?? '');
    if ((value === f.value) !== (f.op === 'eq')) return false;
  }
  return true;
}

// ---------------------------------------------------------------- patches

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

/** RFC 6902 JSON patch (add, remove, replace, test, move, copy). */
export function jsonPatch(target: unknown, ops: readonly unknown[]): unknown {
  let doc = target;
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw new HttpError(400, 'BadRequest', 'invalid JSON patch operation');
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        doc = pointerSet(doc, op.path, clone(op.value), 'add');
        break;
      case 'replace':
        pointerGet(doc, op.path);
        doc = pointerSet(doc, op.path, clone(op.value), 'replace');
        break;
      case 'remove':
        doc = pointerRemove(doc, op.path);
        break;
      case 'test':
        if (JSON.stringify(pointerGet(doc, op.path)) !== JSON.stringify(op.value))
          throw new HttpError(422, 'Invalid', `test operation failed at ${op.path}`);
        break;
      case 'move': {
        const value = pointerGet(doc, op.from ?? '');
        doc = pointerRemove(doc, op.from ?? '');
        doc = pointerSet(doc, op.path, value, 'add');
        break;
      }
      case 'copy':
        doc = pointerSet(doc, op.path, clone(pointerGet(doc, op.from ?? '')), 'add');
        break;
      default:
        throw new HttpError(400, 'BadRequest', `unsupported JSON patch op "${String(raw.op)}"`);
    }
  }
  return doc;
}

function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new HttpError(400, 'BadRequest', `invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pointerGet(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const token of pointerTokens(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node) && token in node) node = node[token];
    else throw new HttpError(422, 'Invalid', `path ${pointer} does not exist`);
    if (node === undefined) throw new HttpError(422, 'Invalid', `path ${pointer} does not exist`);
  }
  return node;
}

function pointerSet(
  doc: unknown,
  pointer: string,
  value: unknown,
  mode: 'add' | 'replace',
): unknown {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return value;
  const parent = pointerGet(
    doc,
    `/${tokens
      .slice(0, -1)
      .map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/')}`.replace(/^\/$/, ''),
  );
  const last = tokens.at(-1)!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) parent[last] = value;
  else throw new HttpError(422, 'Invalid', `cannot set ${pointer}`);
  return doc;
}

function pointerRemove(doc: unknown, pointer: string): unknown {
  const tokens = pointerTokens(pointer);
  const parent = pointerGet(
    doc,
    `/${tokens
      .slice(0, -1)
      .map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/')}`.replace(/^\/$/, ''),
  );
  const last = tokens.at(-1)!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent) && last in parent) delete parent[last];
  else throw new HttpError(422, 'Invalid', `path ${pointer} does not exist`);
  return doc;
}

// ---------------------------------------------------------------- helpers

function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

function objectKey(type: ResourceType, namespace: string | undefined, name: string): string {
  return type.namespaced ? `${namespace ?? 'default'}/${name}` : name;
}

function compareKeys(a: KubeMetadata, b: KubeMetadata): number {
  const ka = `${a.namespace ?? ''}/${a.name}`;
  const kb = `${b.namespace ?? ''}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function preserveIdentity(obj: KubeObject, current: KubeMetadata): void {
  obj.metadata.name = current.name;
  if (current.namespace !== undefined) obj.metadata.namespace = current.namespace;
  obj.metadata.uid = current.uid;
  obj.metadata.creationTimestamp = current.creationTimestamp;
}

/** The API server's ConfigMap validation (core.MaxSecretSize): keys plus values of data and binaryData at most 1 MiB, else 422. */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
function checkConfigMapSize(obj: KubeObject): void {
  let bytes = 0;
  for (const field of ['data', 'binaryData'] as const) {
    const entries = obj[field];
    if (!isObject(entries)) continue;
    for (const [k, v] of Object.entries(entries))
      bytes += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  if (bytes > CONFIGMAP_MAX_BYTES)
    throw new HttpError(
      422,
      'Invalid',
      `ConfigMap "${obj.metadata.name}" is invalid: []: Too long: must have at most ${CONFIGMAP_MAX_BYTES} bytes`,
    );
}

function conflict(plural: string, name: string): HttpError {
  return new HttpError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, statusBody(code, reason, message));
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  sendRaw(res, code, JSON.stringify(body));
}

function sendRaw(res: ServerResponse, code: number, body: string): void {
  sendBytes(res, code, Buffer.from(body));
}

function sendBytes(res: ServerResponse, code: number, body: Buffer): void {
  res.writeHead(code, { 'Content-Type': JSON_TYPE, 'Content-Length': body.length });
  res.end(body);
}

function eventBytes(type: WatchEventType, objectJson: Buffer | string): Buffer {
  return Buffer.concat([
    Buffer.from(`{"type":"${type}","object":`),
    typeof objectJson === 'string' ? Buffer.from(objectJson) : objectJson,
    EVENT_END,
  ]);
}

/** The checks kube-apiserver makes of a watch-list request (ValidateListOptions). */
function validateWatchList(query: Readonly<Record<string, string>>, supported: boolean): void {
  const invalid = (field: string, detail: string) =>
    new HttpError(
      422,
      'Invalid',
      `ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden: ${detail}`,
    );
  if (!supported)
    throw invalid(
      'sendInitialEvents',
      'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
    );
  if (query.resourceVersionMatch !== 'NotOlderThan')
    throw invalid(
      'resourceVersionMatch',
      'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    );
  if (query.allowWatchBookmarks !== 'true')
    throw invalid(
      'allowWatchBookmarks',
      'allowWatchBookmarks must be set to true when sendInitialEvents is provided',
    );
}

const sleep = (ms: number) =>
  ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

/** A body in 1 MB chunks, each after `msPerMb` of its size (the watch cache encoding as it sends). */
async function sendPaced(res: ServerResponse, body: Buffer, msPerMb: number): Promise<void> {
  if (msPerMb <= 0) {
    sendBytes(res, 200, body);
    return;
  }
  res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Content-Length': body.length });
  for (let offset = 0; offset < body.length && !res.destroyed; offset += MB) {
    const chunk = body.subarray(offset, offset + MB);
    await sleep((msPerMb * chunk.length) / MB);
    res.write(chunk);
  }
  res.end();
}

function parseStored(stored: Stored): KubeObject {
  return JSON.parse(stored.json.toString('utf8')) as KubeObject;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

function encodeContinue(token: string, offset: number): string {
  return Buffer.from(JSON.stringify({ t: token, o: offset })).toString('base64url');
}

function decodeContinue(value: string): { token: string; offset: number } | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as {
      t?: unknown;
      o?: unknown;
    };
    return typeof parsed.t === 'string' && typeof parsed.o === 'number'
      ? { token: parsed.t, offset: parsed.o }
      : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
