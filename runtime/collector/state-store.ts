/**
 * Persists the SLA clock in STATE_SHARDS ConfigMaps (format: state-format.ts): the key of an image
 * lives in shard `stateShardOf(image)`, named `stateShardName(base, index)` and labelled
 * STATE_SHARD_LABEL. A ConfigMap holds at most 1 MiB; one ConfigMap held about 25,000 (image, CVE)
 * entries, the shards hold 32 times that.
 *
 * - Read once at start-up (the collector is the only writer; watching its own writes would only
 *   echo them back): every shard, and the unsharded ConfigMap of earlier versions
 *   (`base` itself) too, all by name. Start-up waits for it, retrying with backoff: metrics that
 *   depend on the clock are not exported before it is loaded, so a restart never resets a clock.
 * - Migration: an image found only in the unsharded ConfigMap (or in a shard other than its own)
 *   is loaded and written to its shard; its old key is deleted only after that write succeeded, so
 *   a crash in between loses nothing (the next start finds it again). Where an image is in its own
 *   shard, that value wins: it was written whole, after the old one.
 * - Written with a debounce (many clock changes, one request per changed shard), urgently after a
 *   counted SLA breach, and on shutdown. A write is a JSON merge patch of the changed keys of one
 *   shard (null deletes a key), with `metadata.resourceVersion` as a precondition. On 409 Conflict
 *   the shard is read back, its entries are merged into the clock (earliest first-seen, union of
 *   counted breaches) and the write is retried. A missing shard is created (with everything the
 *   clock holds for it when it was deleted behind our back).
 */
import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import {
  PIPELINE_LABEL,
  STATE_SHARD_LABEL,
  STATE_SHARDS,
  stateShardName,
} from '../../src/shared/contract.ts';
import { COLLECTOR_RESOURCES } from '../../src/shared/metrics.ts';
import { backoffDelay, Sleeper } from './kube/backoff.ts';
import { KubeApiError, toKubeApiError } from './kube/errors.ts';
import type { ReflectorHealth } from './kube/reflector.ts';
import { describeError, type Logger } from './log.ts';
import type { SlaClock } from './sla-clock.ts';
import {
  decodeImageClock,
  encodeImageClock,
  stateKey,
  stateShardOf,
  type ImageClock,
} from './state-format.ts';

export interface StateStoreOptions {
  readonly core: CoreV1Api;
  readonly namespace: string;
  /** Base name: the shards are `<name>-00` ... and `<name>` is the unsharded ConfigMap of earlier versions. */
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
/** Shards read at once at start-up: each may be several hundred kB. */
const READ_CONCURRENCY = 4;

interface Shard {
  readonly index: number;
  readonly name: string;
  /** Undefined until the shard is known to exist (read or created). */
  resourceVersion: string | undefined;
  /** Current value length per key, to watch the shard's size. */
  readonly sizes: Map<string, number>;
  warnedSize: boolean;
}

/** Statistics of the last write (logged; read by the benchmark). */
export interface StateWriteStats {
  readonly shards: number;
  readonly keys: number;
  readonly requestBytes: number;
  readonly ms: number;
}

export class StateStore {
  private readonly shards: Shard[];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private readonly sleeper = new Sleeper();
  /** Images read from a ConfigMap other than their shard, not yet written to it. */
  private readonly migrating = new Set<string>();
  /** Keys to delete once `migrating` is empty: ConfigMap name -> keys. */
  private readonly stale = new Map<string, Set<string>>();
  private lastWrite: StateWriteStats | undefined;

  constructor(private readonly options: StateStoreOptions) {
    this.shards = Array.from({ length: STATE_SHARDS }, (_, index) => ({
      index,
      name: stateShardName(options.name, index),
      resourceVersion: undefined,
      sizes: new Map(),
      warnedSize: false,
    }));
  }

  /** Reads the shards (and the unsharded ConfigMap) into the clock, retrying until it succeeds or `stop()` is called. */
  async load(): Promise<void> {
    const { namespace, name, clock, log } = this.options;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const shards = await this.readShards();
        const legacy = await this.read(name);
        const loaded = this.absorb(shards, legacy);
        clock.load(loaded.images);
        clock.markDirty(this.migrating);
        log.info('state loaded', {
          configmap: name,
          shards: shards.length,
          images: loaded.images.size,
          entries: clock.size,
          migratedImages: this.migrating.size,
          skippedKeys: loaded.skipped,
          bytes: this.bytes(),
        });
        if (this.migrating.size > 0 || this.stale.size > 0) this.schedule(true);
        return;
      } catch (error) {
        const apiError = toKubeApiError(error, `read state configmaps ${namespace}/${name}*`);
        this.options.health.apiError(COLLECTOR_RESOURCES.state, apiError);
        const delay = backoffDelay(
          attempt,
          this.options.backoffInitialMs,
          this.options.backoffMaxMs,
        );
        log.warn('api error', {
          resource: COLLECTOR_RESOURCES.state,
          error: apiError.message,
          status: apiError.statusCode,
          retryInMs: delay,
          attempt,
        });
        await this.sleeper.sleep(delay);
      }
    }
  }

  /** Schedules a write of the clock's changes (`urgent`: now rather than after the debounce). */
  schedule(urgent = false): void {
    if (this.stopped || (!this.options.clock.hasDirty && this.stale.size === 0)) return;
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
    if (this.options.clock.hasDirty || this.stale.size > 0) await this.write(true);
  }

  /** Stops retries and timers (call `flush` first for a final write). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sleeper.wake();
  }

  /** Bytes of keys and values over every shard, as last read or written. */
  bytes(): number {
    let total = 0;
    for (const shard of this.shards) total += shardBytes(shard);
    return total;
  }

  /** Bytes of the largest shard. */
  largestShardBytes(): number {
    return Math.max(0, ...this.shards.map(shardBytes));
  }

  get lastWriteStats(): StateWriteStats | undefined {
    return this.lastWrite;
  }

  /** Sorts what was read into the clock's images, the migrations and the keys to delete after them. */
  private absorb(
    shards: readonly V1ConfigMap[],
    legacy: V1ConfigMap | undefined,
  ): { images: Map<string, ImageClock>; skipped: number } {
    const own = new Map<string, ImageClock>();
    const moved = new Map<string, ImageClock>();
    let skipped = 0;
    const foreign = (cm: string, key: string, image: string, cves: ImageClock) => {
      let keys = this.stale.get(cm);
      if (keys === undefined) this.stale.set(cm, (keys = new Set()));
      keys.add(key);
      const earlier = moved.get(image);
      moved.set(image, earlier === undefined ? cves : mergeEarliest(earlier, cves));
    };
    for (const cm of shards) {
      const cmName = cm.metadata?.name ?? '';
      const shard = this.shards.find((s) => s.name === cmName)!;
      shard.resourceVersion = cm.metadata?.resourceVersion;
      for (const [key, value] of Object.entries(cm.data ?? {})) {
        const decoded = decodeImageClock(value);
        if (decoded === undefined || stateKey(decoded.image) !== key) {
          skipped++;
          continue;
        }
        shard.sizes.set(key, value.length);
        if (stateShardOf(decoded.image) === shard.index) own.set(decoded.image, decoded.cves);
        else foreign(cmName, key, decoded.image, decoded.cves);
      }
    }
    for (const [key, value] of Object.entries(legacy?.data ?? {})) {
      const decoded = decodeImageClock(value);
      if (decoded === undefined || stateKey(decoded.image) !== key) {
        skipped++;
        continue;
      }
      foreign(this.options.name, key, decoded.image, decoded.cves);
    }
    const images = new Map(own);
    for (const [image, cves] of moved) {
      if (images.has(image)) continue; // its own shard was written after the old key
      images.set(image, cves);
      this.migrating.add(image);
    }
    return { images, skipped };
  }

  private write(final = false): Promise<void> {
    if (this.writing !== undefined) {
      // One write at a time; the running one re-schedules what changed meanwhile.
      return this.writing;
    }
    this.writing = this.writeOnce(final).finally(() => {
      this.writing = undefined;
      if (
        (this.options.clock.hasDirty || (this.stale.size > 0 && this.migrating.size === 0)) &&
        !this.stopped
      )
        this.schedule();
    });
    return this.writing;
  }

  private async writeOnce(final: boolean): Promise<void> {
    const { clock, log, name } = this.options;
    const pending = clock.takeDirty();
    const byShard = new Map<number, string[]>();
    for (const image of pending.keys()) {
      const index = stateShardOf(image);
      const list = byShard.get(index);
      if (list === undefined) byShard.set(index, [image]);
      else list.push(image);
    }
    const started = Date.now();
    let failed: KubeApiError | undefined;
    let keys = 0;
    let requestBytes = 0;
    for (const index of [...byShard.keys()].sort((a, b) => a - b)) {
      const shard = this.shards[index]!;
      const images = byShard.get(index)!;
      try {
        requestBytes += await this.writeShard(shard, images);
        keys += images.length;
        for (const image of images) this.migrating.delete(image);
      } catch (error) {
        failed =
          error instanceof KubeApiError
            ? error
            : toKubeApiError(error, `write configmap ${shard.name}`);
        clock.markDirty(images);
      }
    }
    if (failed === undefined && this.migrating.size === 0 && this.stale.size > 0) {
      try {
        await this.deleteStaleKeys();
      } catch (error) {
        failed = toKubeApiError(error, 'delete migrated state keys');
      }
    }
    if (failed !== undefined) {
      this.failures++;
      this.options.health.apiError(COLLECTOR_RESOURCES.state, failed);
      const delay = backoffDelay(
        this.failures,
        this.options.backoffInitialMs,
        this.options.backoffMaxMs,
      );
      log.warn('api error', {
        resource: COLLECTOR_RESOURCES.state,
        error: describeError(failed),
        status: failed.statusCode,
        retryInMs: final ? undefined : delay,
      });
      if (!final && !this.stopped) await this.sleeper.sleep(delay);
      return;
    }
    this.failures = 0;
    if (keys === 0) return;
    this.lastWrite = { shards: byShard.size, keys, requestBytes, ms: Date.now() - started };
    log.info('state written', {
      configmap: name,
      ...this.lastWrite,
      entries: clock.size,
      bytes: this.bytes(),
      largestShardBytes: this.largestShardBytes(),
    });
    for (const index of byShard.keys()) {
      const shard = this.shards[index]!;
      const bytes = shardBytes(shard);
      if (bytes > SIZE_WARNING_BYTES && !shard.warnedSize) {
        shard.warnedSize = true;
        log.warn('state shard is large', { configmap: shard.name, bytes, limitBytes: 1024 * 1024 });
      }
    }
  }

  /** Writes the current entries of `images` (all of `shard`) and returns the bytes sent. */
  private async writeShard(shard: Shard, images: readonly string[]): Promise<number> {
    const { clock, log } = this.options;
    const data = this.values(images);
    let sent = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        sent += await this.send(shard, data);
        break;
      } catch (error) {
        const apiError = toKubeApiError(error, `write configmap ${shard.name}`);
        if (!apiError.conflict || attempt >= MAX_CONFLICT_RETRIES) throw apiError;
        // Someone else wrote (or created the shard meanwhile): fold their entries in, recompute ours, retry.
        log.info('state write conflict', { configmap: shard.name, attempt });
        const current = await this.read(shard.name);
        shard.resourceVersion = current?.metadata?.resourceVersion;
        const mine = new Set(images);
        for (const [key, value] of Object.entries(current?.data ?? {})) {
          const decoded = decodeImageClock(value);
          if (decoded !== undefined && mine.has(decoded.image) && key === stateKey(decoded.image))
            clock.mergeRemote(decoded.image, decoded.cves);
        }
        Object.assign(data, this.values(images));
      }
    }
    for (const [key, value] of Object.entries(data)) {
      if (value === null) shard.sizes.delete(key);
      else shard.sizes.set(key, value.length);
    }
    return sent;
  }

  /** The ConfigMap values of `images` now (null: delete the key). */
  private values(images: Iterable<string>): Record<string, string | null> {
    const data: Record<string, string | null> = {};
    for (const image of images) {
      const cves = this.options.clock.entries(image);
      data[stateKey(image)] =
        cves === undefined || cves.size === 0 ? null : encodeImageClock(image, cves);
    }
    return data;
  }

  private async send(shard: Shard, data: Record<string, string | null>): Promise<number> {
    const { core, namespace } = this.options;
    if (shard.resourceVersion === undefined) {
      const body: V1ConfigMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: shard.name,
          namespace,
          labels: {
            [PIPELINE_LABEL.key]: PIPELINE_LABEL.value,
            [STATE_SHARD_LABEL]: String(shard.index),
          },
        },
        data: Object.fromEntries(
          Object.entries(data).filter((e): e is [string, string] => e[1] !== null),
        ),
      };
      try {
        const created = await core.createNamespacedConfigMap({ namespace, body });
        shard.resourceVersion = created.metadata?.resourceVersion;
        return JSON.stringify(body).length;
      } catch (error) {
        // 409 AlreadyExists (created meanwhile) is resolved like any other conflict: read, merge, patch.
        throw toKubeApiError(error, `create configmap ${namespace}/${shard.name}`);
      }
    }
    const patch = { metadata: { resourceVersion: shard.resourceVersion }, data };
    try {
      const patched = await core.patchNamespacedConfigMap(
        { name: shard.name, namespace, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      shard.resourceVersion = patched.metadata?.resourceVersion;
      return JSON.stringify(patch).length;
    } catch (error) {
      const apiError = toKubeApiError(error, `patch configmap ${namespace}/${shard.name}`);
      if (apiError.notFound) {
        // Deleted behind our back: recreate it with everything we hold for it.
        shard.resourceVersion = undefined;
        shard.sizes.clear();
        const all = this.options.clock
          .trackedImages()
          .filter((image) => stateShardOf(image) === shard.index);
        Object.assign(data, this.values(all));
        return this.send(shard, data);
      }
      throw apiError;
    }
  }

  /** Deletes the keys that were migrated to their shards (no precondition: deleting a key commutes with other writes). */
  private async deleteStaleKeys(): Promise<void> {
    const { core, namespace, log } = this.options;
    for (const [cm, keys] of [...this.stale].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const body = { data: Object.fromEntries([...keys].map((key) => [key, null])) };
      try {
        const patched = await core.patchNamespacedConfigMap(
          { name: cm, namespace, body },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        const shard = this.shards.find((s) => s.name === cm);
        if (shard !== undefined) {
          shard.resourceVersion = patched.metadata?.resourceVersion;
          for (const key of keys) shard.sizes.delete(key);
        }
      } catch (error) {
        const apiError = toKubeApiError(error, `patch configmap ${namespace}/${cm}`);
        if (!apiError.notFound) throw apiError;
      }
      this.stale.delete(cm);
      log.info('state migrated', { from: cm, keys: keys.size });
    }
  }

  /**
   * Reads every shard by name (absent ones are skipped), a few at a time. By name rather than a
   * list by label: RBAC scopes `get` to the shard names, while a list could only be granted on
   * every ConfigMap of the namespace. The shard count is fixed, so a list would find no more.
   */
  private async readShards(): Promise<V1ConfigMap[]> {
    const found: V1ConfigMap[] = [];
    for (let start = 0; start < this.shards.length; start += READ_CONCURRENCY) {
      const batch = await Promise.all(
        this.shards.slice(start, start + READ_CONCURRENCY).map((shard) => this.read(shard.name)),
      );
      for (const cm of batch) if (cm !== undefined) found.push(cm);
    }
    return found;
  }

  private async read(name: string): Promise<V1ConfigMap | undefined> {
    const { core, namespace } = this.options;
    try {
      return await core.readNamespacedConfigMap({ name, namespace });
    } catch (error) {
      const apiError = toKubeApiError(error, `read configmap ${namespace}/${name}`);
      if (apiError.notFound) return undefined;
      throw apiError;
    }
  }
}

function shardBytes(shard: Shard): number {
  let bytes = 0;
  for (const [key, length] of shard.sizes) bytes += key.length + length;
  return bytes;
}

/** Two copies of one image's clock: per CVE the earlier first-seen, with its counted breaches united. */
function mergeEarliest(a: ImageClock, b: ImageClock): ImageClock {
  const result: ImageClock = new Map(a);
  for (const [cve, theirs] of b) {
    const ours = result.get(cve);
    if (ours === undefined) result.set(cve, theirs);
    else {
      const breached = [...new Set([...ours.breached, ...theirs.breached])].sort((x, y) => x - y);
      result.set(cve, { ...(theirs.firstSeen < ours.firstSeen ? theirs : ours), breached });
    }
  }
  return result;
}
