/**
 * A list+watch reflector that keeps only a projection of each object.
 *
 * Why not client-node's `makeInformer` / `ListWatch` (1.4): it caches every full object (a
 * VulnerabilityReport is tens to hundreds of kB; 2,000 of them would not fit the memory budget),
 * loads the whole list in one response, and leaves gaps that a long-running process must close:
 * - a non-410 error (list failure, watch refused, HTTP 500) calls the `error` callbacks and stops
 *   the informer for good: the caller must restart it, and it has no backoff;
 * - an in-stream ERROR event with a code other than 410 is ignored;
 * - its Watch overrides its own 30 s timeout signal, so a half-open connection hangs forever;
 * - it never asks for bookmarks or a server-side timeout.
 * This reflector keeps client-node's KubeConfig and Watch (the HTTP/auth layer) and replaces the
 * cache: paginated lists (`limit`/`continue`), a projection per object, re-list on 410 Gone
 * (HTTP or ERROR event) or expired continue tokens, watch restart from the last resourceVersion on
 * stream end, exponential backoff with jitter on every other error, a server-side `timeoutSeconds`,
 * bookmarks, and a client-side watchdog for silent connections.
 *
 * A re-list diffs against the projection: objects gone from the new list are removed (a delete
 * the watch missed), unchanged resourceVersions are skipped, so consumers never see an event twice.
 */
import type { CollectorResource } from '../../../src/shared/metrics.ts';
import type { Logger } from '../log.ts';
import { describeError } from '../log.ts';
import { backoffDelay, Sleeper } from './backoff.ts';
import { KubeApiError, statusError } from './errors.ts';
import type { KubeClient, RawObject, WatchEventType } from './kube-client.ts';

export interface ReflectorSpec<P> {
  readonly resource: CollectorResource;
  /** Collection path, e.g. `/api/v1/pods` or `/apis/batch/v1/namespaces/x/jobs`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly pageSize: number;
  /** The part of an object worth keeping. Exceptions skip the object (logged). */
  readonly project: (object: RawObject) => P;
}

/** Receives changes of the projections, in order. */
export interface ReflectorSink<P> {
  upsert(key: string, value: P, previous: P | undefined): void;
  remove(key: string, previous: P): void;
  /** After every complete list (the initial one and re-lists). */
  listed?(): void;
}

/** Health reporting, shared by every reflector. */
export interface ReflectorHealth {
  apiError(resource: CollectorResource, error: KubeApiError): void;
  watchRestart(resource: CollectorResource, reason: WatchEndReason): void;
  syncedChanged(resource: CollectorResource, synced: boolean): void;
}

export interface ReflectorTiming {
  readonly watchTimeoutSeconds: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
}

/** Why a watch ended (the `reason` of the watch-restart log line). */
export type WatchEndReason = 'closed' | 'expired' | 'stalled' | 'error' | 'relist';

interface Entry<P> {
  readonly rv: string;
  readonly value: P;
}

/** Continue tokens expire too (410): retry the whole list this many times. */
const MAX_LIST_RESTARTS = 3;
/** Client-side watchdog: this much silence beyond the server-side timeout means a dead connection. */
const WATCHDOG_SLACK_MS = 60_000;
/** Longest `stop()` waits for the loop to notice. */
const STOP_WAIT_MS = 2000;
/** A watch that ends sooner than this without events is treated like an error (backoff), never a hot loop. */
const MIN_HEALTHY_WATCH_MS = 1000;

export class Reflector<P> {
  private readonly items = new Map<string, Entry<P>>();
  private resourceVersion = '';
  private stopped = false;
  private everSynced = false;
  private current = false;
  private relistPending = false;
  private controller: AbortController | undefined;
  private endRequested: WatchEndReason | undefined;
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly spec: ReflectorSpec<P>,
    private readonly sink: ReflectorSink<P>,
    private readonly health: ReflectorHealth,
    private readonly timing: ReflectorTiming,
    private readonly log: Logger,
  ) {}

  get resource(): CollectorResource {
    return this.spec.resource;
  }

  /** True once a first complete list was applied (stays true). */
  get hasSynced(): boolean {
    return this.everSynced;
  }

  /** True while the projection is complete and a watch keeps it current. */
  get isCurrent(): boolean {
    return this.current;
  }

  get size(): number {
    return this.items.size;
  }

  start(): void {
    if (this.loop === undefined) this.loop = this.run();
  }

  /** Forces a full re-list (e.g. when the interpretation of objects changed). */
  relist(): void {
    this.relistPending = true;
    this.endWatch('relist');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller?.abort();
    this.sleeper.wake();
    // A watch request still connecting cannot be aborted (client-node hands out its controller
    // only with the response): do not let shutdown wait for it.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
    this.setCurrent(false);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.relistPending) {
          this.relistPending = false;
          this.resourceVersion = '';
        }
        if (this.resourceVersion === '') await this.list();
        if (this.stopped) break;
        if (this.relistPending) continue;
        const started = Date.now();
        const { reason, events } = await this.watchOnce();
        if (this.stopped) break;
        failures = 0;
        if (reason === 'expired' || reason === 'relist') this.resourceVersion = '';
        this.health.watchRestart(this.spec.resource, reason);
        this.log.info('watch restart', { resource: this.spec.resource, reason, resourceVersion: this.resourceVersion || undefined });
        if (reason === 'closed' && events === 0 && Date.now() - started < MIN_HEALTHY_WATCH_MS) {
          await this.sleeper.sleep(backoffDelay(1, this.timing.backoffInitialMs, this.timing.backoffMaxMs));
        }
      } catch (error) {
        if (this.stopped) break;
        const apiError = error instanceof KubeApiError ? error : new KubeApiError(describeError(error), undefined);
        if (apiError.gone) {
          // HTTP 410 on the watch request: our resourceVersion is too old. Re-list at once.
          this.resourceVersion = '';
          this.health.watchRestart(this.spec.resource, 'expired');
          this.log.info('watch restart', { resource: this.spec.resource, reason: 'expired', error: apiError.message });
          continue;
        }
        failures++;
        this.setCurrent(false);
        this.health.apiError(this.spec.resource, apiError);
        const delay = backoffDelay(failures, this.timing.backoffInitialMs, this.timing.backoffMaxMs);
        this.log.warn('api error', { resource: this.spec.resource, error: apiError.message, status: apiError.statusCode, retryInMs: delay, attempt: failures });
        await this.sleeper.sleep(delay);
      }
    }
  }

  /** A complete, paginated list; applies it as a diff against the projection. */
  private async list(): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const seen = new Set<string>();
      let continueToken: string | undefined;
      let resourceVersion = '';
      try {
        do {
          const page = await this.client.listPage(this.spec.path, {
            ...(this.spec.labelSelector !== undefined && { labelSelector: this.spec.labelSelector }),
            ...(this.spec.fieldSelector !== undefined && { fieldSelector: this.spec.fieldSelector }),
            limit: this.spec.pageSize,
            ...(continueToken !== undefined && { continueToken }),
          });
          if (this.stopped) return;
          for (const object of page.items) {
            const key = this.apply('ADDED', object);
            if (key !== undefined) seen.add(key);
          }
          continueToken = page.continueToken;
          resourceVersion = page.resourceVersion;
        } while (continueToken !== undefined);
      } catch (error) {
        if (error instanceof KubeApiError && error.gone && attempt < MAX_LIST_RESTARTS) {
          this.log.info('list restart', { resource: this.spec.resource, reason: 'continue token expired' });
          continue;
        }
        throw error;
      }
      for (const [key, entry] of [...this.items]) {
        if (!seen.has(key)) {
          this.items.delete(key);
          this.sink.remove(key, entry.value);
        }
      }
      this.resourceVersion = resourceVersion;
      const first = !this.everSynced;
      this.everSynced = true;
      this.sink.listed?.();
      this.log.info(first ? 'synced' : 'relisted', { resource: this.spec.resource, objects: this.items.size, resourceVersion, ms: Date.now() - started });
      return;
    }
  }

  /** Applies one object change; returns its key (undefined for objects without a name). */
  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: RawObject): string | undefined {
    const name = object.metadata?.name;
    if (name === undefined) return undefined;
    const key = object.metadata?.namespace === undefined ? name : `${object.metadata.namespace}/${name}`;
    const rv = object.metadata?.resourceVersion ?? '';
    const previous = this.items.get(key);
    if (type === 'DELETED') {
      if (previous !== undefined) {
        this.items.delete(key);
        this.sink.remove(key, previous.value);
      }
      return key;
    }
    if (previous !== undefined && rv !== '' && previous.rv === rv) return key;
    let value: P;
    try {
      value = this.spec.project(object);
    } catch (error) {
      this.log.warn('object skipped', { resource: this.spec.resource, object: key, error: describeError(error) });
      return key;
    }
    this.items.set(key, { rv, value });
    this.sink.upsert(key, value, previous?.value);
    return key;
  }

  private watchOnce(): Promise<{ reason: WatchEndReason; events: number }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let events = 0;
      let inStreamError: KubeApiError | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      this.endRequested = undefined;
      const timeoutSeconds = Math.round(this.timing.watchTimeoutSeconds * (1 + Math.random()));
      const armWatchdog = () => {
        if (watchdog !== undefined) clearTimeout(watchdog);
        watchdog = setTimeout(() => this.endWatch('stalled'), timeoutSeconds * 1000 + WATCHDOG_SLACK_MS);
        watchdog.unref();
      };
      const finish = (error: KubeApiError | null) => {
        if (settled) return;
        settled = true;
        if (watchdog !== undefined) clearTimeout(watchdog);
        this.controller = undefined;
        if (inStreamError !== undefined) reject(inStreamError);
        else if (this.endRequested !== undefined) resolve({ reason: this.endRequested, events });
        else if (error !== null) reject(error);
        else resolve({ reason: 'closed', events });
      };
      const onEvent = (type: WatchEventType, object: RawObject) => {
        if (settled) return;
        events++;
        armWatchdog();
        try {
          if (type === 'ERROR') {
            const error = statusError(object, `watch ${this.spec.path}`);
            if (error.gone) this.endWatch('expired');
            else {
              inStreamError = error;
              this.endWatch('error');
            }
            return;
          }
          if (type === 'BOOKMARK') {
            const rv = object.metadata?.resourceVersion;
            if (rv !== undefined && rv !== '') this.resourceVersion = rv;
            return;
          }
          this.apply(type, object);
          const rv = object.metadata?.resourceVersion;
          if (rv !== undefined && rv !== '') this.resourceVersion = rv;
        } catch (error) {
          this.log.error('event handler failed', { resource: this.spec.resource, error: describeError(error) });
        }
      };
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.spec.labelSelector,
        fieldSelector: this.spec.fieldSelector,
      };
      this.client
        .watch(this.spec.path, query, onEvent, (error) => finish(error))
        .then((controller) => {
          if (settled) return;
          this.controller = controller;
          if (this.stopped || this.endRequested !== undefined) {
            controller.abort();
            return;
          }
          this.setCurrent(true);
          armWatchdog();
        })
        .catch((error: unknown) => finish(new KubeApiError(describeError(error), undefined)));
    });
  }

  private endWatch(reason: WatchEndReason): void {
    this.endRequested ??= reason;
    this.controller?.abort();
  }


  private setCurrent(current: boolean): void {
    if (this.current === current) return;
    this.current = current;
    this.health.syncedChanged(this.spec.resource, current);
  }
}
