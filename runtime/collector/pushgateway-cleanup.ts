/**
 * Deletes the Pushgateway groups of decommissioned images. The Pushgateway never forgets a group
 * (it is a cache, not a store with expiry), so an image removed from the inventory would keep its
 * last outcome, counters and heartbeat forever. The collector knows the inventory: a group of the
 * exporter's job whose CronJob is no longer in it, and whose last push (`push_time_seconds`, which
 * the Pushgateway adds to every group) is at least the grace old, is deleted with
 * `DELETE /metrics/job/<job>/cronjob/<name>`.
 *
 * The last push time, not the moment this process noticed the removal, starts the grace: it
 * survives collector restarts and needs no state. Nothing is deleted before the inventory has been
 * read once (an unread inventory is not an empty one). A failed request is counted and retried at
 * the next pass. Series: copa_fleet_pushgateway_{stale_groups,groups_deleted_total,cleanup_failures_total}.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CollectorOptions } from '../../src/shared/contract.ts';
import type { CollectorTuning } from './config.ts';
import { JOBS, METRICS, PUSH_GROUPING_LABEL, type MetricKey } from '../../src/shared/metrics.ts';
import { basicAuthHeaders } from '../exporter/basic-auth.ts';
import { checkedFetch } from '../exporter/http.ts';
import { groupPath } from '../exporter/pushgateway.ts';
import { parseInventoryConfigMap } from './inventory.ts';
import { describeError, type Logger } from './log.ts';
import type { ConfigMapData } from './projections.ts';

export interface PushgatewayCleanupOptions {
  readonly url: string;
  readonly graceSeconds: number;
  /** Time between passes (the first runs at start). */
  readonly intervalMs: number;
  /** Per-request timeout. */
  readonly requestTimeoutMs?: number;
  /** The collector's credential (a mounted basic-auth Secret, basic-auth.ts); absent: unauthenticated. */
  readonly credentialsDir?: string;
  readonly registry: Registry;
  readonly log: Logger;
  /** Epoch ms; injected by tests. */
  readonly now?: () => number;
}

/** The collector metrics this module produces (only while the cleanup is on). */
export const PUSHGATEWAY_CLEANUP_METRIC_KEYS = [
  'pushgatewayStaleGroups',
  'pushgatewayGroupsDeletedTotal',
  'pushgatewayCleanupFailuresTotal',
] as const satisfies readonly MetricKey[];

/** The collector's cleanup, when its command line turns it on (a Pushgateway URL and a grace). */
export function pushgatewayCleanup(
  options: CollectorOptions,
  tuning: CollectorTuning,
  registry: Registry,
  log: Logger,
): PushgatewayCleanup | undefined {
  const {
    pushgatewayUrl: url,
    pushgatewayCleanupGraceSeconds: graceSeconds,
    pushgatewayCredentialsDir: credentialsDir,
  } = options;
  if (url === undefined || graceSeconds === undefined) return undefined;
  log.info('pushgateway cleanup on', {
    url,
    graceSeconds,
    intervalMs: tuning.pushgatewayCleanupIntervalMs,
    authenticated: credentialsDir !== undefined,
  });
  return new PushgatewayCleanup({
    url,
    graceSeconds,
    intervalMs: tuning.pushgatewayCleanupIntervalMs,
    registry,
    log,
    ...(credentialsDir !== undefined && { credentialsDir }),
  });
}

export interface CleanupPass {
  /** False when nothing could be decided (inventory not read yet, or the groups could not be listed). */
  readonly ran: boolean;
  readonly deleted: readonly string[];
  /** Out of the inventory, still within the grace. */
  readonly waiting: readonly string[];
  readonly failures: number;
}

interface Group {
  readonly cronjob: string;
  /** Epoch ms of the last push; undefined when the Pushgateway did not say. */
  readonly pushedAt: number | undefined;
}

export class PushgatewayCleanup {
  private cronjobs: ReadonlySet<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CleanupPass> | undefined;
  private readonly stale: Gauge;
  private readonly deletedTotal: Counter;
  private readonly failuresTotal: Counter;
  private readonly now: () => number;
  private readonly base: string;

  constructor(private readonly options: PushgatewayCleanupOptions) {
    const { registry } = options;
    this.now = options.now ?? Date.now;
    this.base = options.url.replace(/\/+$/, '');
    this.stale = new Gauge({
      name: METRICS.pushgatewayStaleGroups.name,
      help: METRICS.pushgatewayStaleGroups.help,
      registers: [registry],
    });
    this.deletedTotal = new Counter({
      name: METRICS.pushgatewayGroupsDeletedTotal.name,
      help: METRICS.pushgatewayGroupsDeletedTotal.help,
      registers: [registry],
    });
    this.failuresTotal = new Counter({
      name: METRICS.pushgatewayCleanupFailuresTotal.name,
      help: METRICS.pushgatewayCleanupFailuresTotal.help,
      registers: [registry],
    });
  }

  /** The inventory ConfigMap's data, as the collector's informer sees it; an invalid one keeps the previous. */
  setInventory(data: ConfigMapData | undefined): void {
    if (data === undefined) return; // a deleted ConfigMap is no proof that every image was removed
    const parsed = parseInventoryConfigMap(data);
    if (parsed.ok) this.cronjobs = new Set(parsed.inventory.cronjobs.keys());
  }

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  /** One pass; concurrent calls share the pass in progress. */
  runOnce(): Promise<CleanupPass> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<CleanupPass> {
    const inventory = this.cronjobs;
    if (inventory === undefined) return { ran: false, deleted: [], waiting: [], failures: 0 };
    let groups: Group[];
    try {
      groups = await this.listGroups();
    } catch (error) {
      this.failuresTotal.inc();
      this.options.log.warn('pushgateway cleanup: cannot list groups', {
        url: this.base,
        error: describeError(error),
      });
      return { ran: false, deleted: [], waiting: [], failures: 1 };
    }
    const graceMs = this.options.graceSeconds * 1000;
    const now = this.now();
    const deleted: string[] = [];
    const waiting: string[] = [];
    let failures = 0;
    for (const group of groups) {
      if (inventory.has(group.cronjob)) continue;
      // No push time: never delete on a guess; the Pushgateway sets it on every push.
      if (group.pushedAt === undefined || now - group.pushedAt < graceMs) {
        waiting.push(group.cronjob);
        continue;
      }
      try {
        await this.request(groupPath(group.cronjob), 'DELETE');
        deleted.push(group.cronjob);
        this.deletedTotal.inc();
        this.options.log.info('pushgateway cleanup: group deleted', {
          cronjob: group.cronjob,
          lastPush: new Date(group.pushedAt).toISOString(),
        });
      } catch (error) {
        failures += 1;
        waiting.push(group.cronjob);
        this.failuresTotal.inc();
        this.options.log.warn('pushgateway cleanup: delete failed', {
          cronjob: group.cronjob,
          error: describeError(error),
        });
      }
    }
    this.stale.set(waiting.length);
    return { ran: true, deleted, waiting, failures };
  }

  /** The exporter job's groups, from `GET /api/v1/metrics` (each group's labels and `push_time_seconds`). */
  private async listGroups(): Promise<Group[]> {
    const response = await this.request('/api/v1/metrics', 'GET');
    const json = await response.json();
    const data = isObject(json) && Array.isArray(json.data) ? json.data : undefined;
    if (data === undefined)
      throw new Error('unexpected answer from the Pushgateway /api/v1/metrics (no data array)');
    const groups: Group[] = [];
    for (const entry of data) {
      if (!isObject(entry) || !isObject(entry.labels)) continue;
      const { job, [PUSH_GROUPING_LABEL]: cronjob } = entry.labels;
      if (job !== JOBS.exporter || typeof cronjob !== 'string' || cronjob === '') continue;
      groups.push({ cronjob, pushedAt: pushTime(entry.push_time_seconds) });
    }
    return groups;
  }

  private async request(path: string, method: 'GET' | 'DELETE'): Promise<Response> {
    // Read per request: a rotated Secret is picked up without a restart.
    const auth = await basicAuthHeaders(this.options.credentialsDir);
    return checkedFetch(`${this.base}${path}`, {
      method,
      signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      headers: { accept: 'application/json', ...auth },
    });
  }
}

function pushTime(family: unknown): number | undefined {
  if (!isObject(family) || !Array.isArray(family.metrics)) return undefined;
  const metric: unknown = family.metrics[0];
  if (!isObject(metric) || typeof metric.value !== 'string') return undefined;
  const seconds = Number(metric.value);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
