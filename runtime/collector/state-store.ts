/**
 * Persists the SLA clock in the collector's state ConfigMap (format: state-format.ts).
 *
 * - Read once at start-up (the collector is the only writer; watching its own writes would only
 *   echo them back). Start-up waits for it, retrying with backoff: metrics that depend on the
 *   clock are not exported before it is loaded, so a restart never resets a clock.
 * - Written with a debounce (many clock changes, one request), urgently after a counted SLA breach,
 *   and on shutdown. A write is a JSON merge patch of the changed keys only (null deletes a key),
 *   with `metadata.resourceVersion` as a precondition. On 409 Conflict the ConfigMap is read back,
 *   its entries are merged into the clock (earliest first-seen, union of counted breaches) and the
 *   write is retried. A missing ConfigMap is created.
 */
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { PIPELINE_LABEL } from '../../src/shared/contract.ts';
import { COLLECTOR_RESOURCES } from '../../src/shared/metrics.ts';
import { backoffDelay, Sleeper } from './kube/backoff.ts';
import { KubeApiError, toKubeApiError } from './kube/errors.ts';
import type { ReflectorHealth } from './kube/reflector.ts';
import { describeError, type Logger } from './log.ts';
import type { SlaClock } from './sla-clock.ts';
import { decodeImageClock, encodeImageClock, stateKey, type ImageClock } from './state-format.ts';

export interface StateStoreOptions {
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly name: string;
  readonly clock: SlaClock;
  readonly health: Pick<ReflectorHealth, 'apiError'>;
  readonly log: Logger;
  readonly writeDelayMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
}

/** ConfigMaps are limited to 1 MiB; warn well before. */
const SIZE_WARNING_BYTES = 800 * 1024;
const MAX_CONFLICT_RETRIES = 5;

export class StateStore {
  private resourceVersion: string | undefined;
  /** Current value length per key, to watch the ConfigMap size. */
  private readonly sizes = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private warnedSize = false;
  private readonly sleeper = new Sleeper();

  constructor(private readonly options: StateStoreOptions) {}

  /** Reads the ConfigMap into the clock, retrying until it succeeds or `stop()` is called. */
  async load(): Promise<void> {
    const { namespace, name, clock, log } = this.options;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const cm = await this.read();
        const images: [string, ImageClock][] = [];
        let skipped = 0;
        for (const [key, value] of Object.entries(cm?.data ?? {})) {
          const decoded = decodeImageClock(value);
          if (decoded === undefined || stateKey(decoded.image) !== key) {
            skipped++;
            continue;
          }
          images.push([decoded.image, decoded.cves]);
          this.sizes.set(key, value.length);
        }
        clock.load(images);
        log.info('state loaded', { configmap: name, exists: cm !== undefined, images: images.length, entries: clock.size, skippedKeys: skipped });
        return;
      } catch (error) {
        const apiError = toKubeApiError(error, `read configmap ${namespace}/${name}`);
        this.options.health.apiError(COLLECTOR_RESOURCES.state, apiError);
        const delay = backoffDelay(attempt, this.options.backoffInitialMs, this.options.backoffMaxMs);
        log.warn('api error', { resource: COLLECTOR_RESOURCES.state, error: apiError.message, status: apiError.statusCode, retryInMs: delay, attempt });
        await this.sleeper.sleep(delay);
      }
    }
  }

  /** Schedules a write of the clock's changes (`urgent`: now rather than after the debounce). */
  schedule(urgent = false): void {
    if (this.stopped || !this.options.clock.hasDirty) return;
    if (urgent) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      void this.write();
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.options.writeDelayMs);
  }

  /** Writes every pending change now (used on shutdown). Resolves when the write ended. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sleeper.wake(); // a write backing off after an error retries now
    while (this.writing !== undefined) await this.writing;
    if (this.options.clock.hasDirty) await this.write(true);
  }

  /** Stops retries and timers (call `flush` first for a final write). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sleeper.wake();
  }

  private write(final = false): Promise<void> {
    if (this.writing !== undefined) {
      // One write at a time; the running one re-schedules what changed meanwhile.
      return this.writing;
    }
    this.writing = this.writeOnce(final).finally(() => {
      this.writing = undefined;
      if (this.options.clock.hasDirty && !this.stopped) this.schedule();
    });
    return this.writing;
  }

  private async writeOnce(final: boolean): Promise<void> {
    const { clock, log, name, namespace } = this.options;
    const pending = clock.takeDirty();
    if (pending.size === 0) return;
    const data: Record<string, string | null> = {};
    for (const [image, cves] of pending) data[stateKey(image)] = cves === undefined || cves.size === 0 ? null : encodeImageClock(image, cves);
    const started = Date.now();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.send(data);
          break;
        } catch (error) {
          const apiError = toKubeApiError(error, `write configmap ${namespace}/${name}`);
          if (!apiError.conflict || attempt >= MAX_CONFLICT_RETRIES) throw apiError;
          // Someone else wrote: fold their entries in, recompute our values, retry.
          log.info('state write conflict', { configmap: name, attempt });
          const current = await this.read();
          this.resourceVersion = current?.metadata?.resourceVersion;
          for (const [key, value] of Object.entries(current?.data ?? {})) {
            const decoded = decodeImageClock(value);
            if (decoded !== undefined && pending.has(decoded.image) && key === stateKey(decoded.image)) clock.mergeRemote(decoded.image, decoded.cves);
          }
          for (const [image] of pending) {
            const cves = clock.entries(image);
            data[stateKey(image)] = cves === undefined || cves.size === 0 ? null : encodeImageClock(image, new Map(cves));
          }
        }
      }
      this.failures = 0;
      for (const [key, value] of Object.entries(data)) {
        if (value === null) this.sizes.delete(key);
        else this.sizes.set(key, value.length);
      }
      const bytes = [...this.sizes].reduce((sum, [key, length]) => sum + key.length + length, 0);
      log.info('state written', { configmap: name, keys: Object.keys(data).length, entries: clock.size, bytes, ms: Date.now() - started });
      if (bytes > SIZE_WARNING_BYTES && !this.warnedSize) {
        this.warnedSize = true;
        log.warn('state configmap is large', { configmap: name, bytes, limitBytes: 1024 * 1024 });
      }
    } catch (error) {
      const apiError = error instanceof KubeApiError ? error : toKubeApiError(error, `write configmap ${namespace}/${name}`);
      this.failures++;
      clock.markDirty(pending.keys());
      this.options.health.apiError(COLLECTOR_RESOURCES.state, apiError);
      const delay = backoffDelay(this.failures, this.options.backoffInitialMs, this.options.backoffMaxMs);
      log.warn('api error', { resource: COLLECTOR_RESOURCES.state, error: describeError(apiError), status: apiError.statusCode, retryInMs: final ? undefined : delay });
      if (!final && !this.stopped) {
        await this.sleeper.sleep(delay);
      }
    }
  }

  private async send(data: Record<string, string | null>): Promise<void> {
    const { core, namespace, name } = this.options;
    if (this.resourceVersion === undefined) {
      const body: V1ConfigMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace, labels: { [PIPELINE_LABEL.key]: PIPELINE_LABEL.value } },
        data: Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => e[1] !== null)),
      };
      try {
        const created = await core.createNamespacedConfigMap({ namespace, body });
        this.resourceVersion = created.metadata?.resourceVersion;
        return;
      } catch (error) {
        // 409 AlreadyExists (created meanwhile) is resolved like any other conflict: read, merge, patch.
        throw toKubeApiError(error, `create configmap ${namespace}/${name}`);
      }
    }
    const patch = { metadata: { resourceVersion: this.resourceVersion }, data };
    try {
      const patched = await core.patchNamespacedConfigMap({ name, namespace, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      this.resourceVersion = patched.metadata?.resourceVersion;
    } catch (error) {
      const apiError = toKubeApiError(error, `patch configmap ${namespace}/${name}`);
      if (apiError.notFound) {
        // Deleted behind our back: recreate it with everything we hold.
        this.resourceVersion = undefined;
        const all = this.options.clock;
        for (const image of all.trackedImages()) {
          const cves = all.entries(image);
          if (cves !== undefined && cves.size > 0) data[stateKey(image)] = encodeImageClock(image, new Map(cves));
        }
        await this.send(data);
        return;
      }
      throw apiError;
    }
  }

  private async read(): Promise<V1ConfigMap | undefined> {
    const { core, namespace, name } = this.options;
    try {
      const cm = await core.readNamespacedConfigMap({ name, namespace });
      this.resourceVersion = cm.metadata?.resourceVersion;
      return cm;
    } catch (error) {
      const apiError = toKubeApiError(error, `read configmap ${namespace}/${name}`);
      if (apiError.notFound) {
        this.resourceVersion = undefined;
        return undefined;
      }
      throw apiError;
    }
  }
}
