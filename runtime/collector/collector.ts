/**
 * Wires the collector together: one reflector per watched resource feeding the model, the state
 * store behind the SLA clock, the flush and tick timers, the metrics registry and the HTTP server.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import {
  DIGEST_RECORD_LABEL,
  PIPELINE_LABEL,
  VULNERABILITY_REPORT_API,
  type CollectorOptions,
} from '../../src/shared/contract.ts';
import { COLLECTOR_RESOURCES } from '../../src/shared/metrics.ts';
import type { CollectorTuning } from './config.ts';
import { CollectorHealth } from './health.ts';
import { KubeClient } from './kube/kube-client.ts';
import {
  Reflector,
  type ReflectorHealth,
  type ReflectorSink,
  type ReflectorSpec,
} from './kube/reflector.ts';
import type { Logger } from './log.ts';
import { createStores, FleetModel } from './model.ts';
import {
  projectConfigMapData,
  projectCronJob,
  projectDigestRecord,
  projectJob,
  projectPod,
  projectReport,
  type ConfigMapData,
} from './projections.ts';
import { pushgatewayCleanup, type PushgatewayCleanup } from './pushgateway-cleanup.ts';
import { CollectorServer } from './server.ts';
import { SilenceWatch } from './silences/silence-watch.ts';
import { SlaClock } from './sla-clock.ts';
import { StateStore } from './state-store.ts';
import { WallClock } from './wall-clock.ts';

const STATS_INTERVAL_MS = 10 * 60_000;

export interface CollectorConfig {
  readonly kubeConfig: KubeConfig;
  readonly options: CollectorOptions;
  readonly tuning: CollectorTuning;
  readonly log: Logger;
  /** Interface the HTTP server binds (default: all). */
  readonly host?: string;
  /** "Now" for ages, breaches and exceptions (default: the system clock). */
  readonly wallClock?: WallClock;
}

export class Collector {
  /** prom-client registry of the health metrics (the model's series render themselves: series.ts). */
  readonly registry = new Registry();
  private readonly stores: ReturnType<typeof createStores>;
  private readonly health: CollectorHealth;
  private readonly model: FleetModel;
  private readonly clock: SlaClock;
  private readonly state: StateStore;
  private readonly silences: SilenceWatch;
  private readonly reflectors: Reflector<unknown>[] = [];
  private readonly server: CollectorServer;
  private readonly pushgatewayCleanup: PushgatewayCleanup | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private initialReported = false;
  private readonly startedAt = Date.now();
  private readonly wallClock: WallClock;

  constructor(private readonly config: CollectorConfig) {
    const { options, tuning, log } = config;
    const wallClock = (this.wallClock = config.wallClock ?? new WallClock(undefined));
    const client = new KubeClient(config.kubeConfig);
    this.health = new CollectorHealth(this.registry);
    const stores = createStores();
    this.stores = stores;
    this.clock = new SlaClock(tuning.cveResumeWindowSeconds);
    this.state = new StateStore({
      core: client.core,
      namespace: options.namespace,
      name: options.stateConfigMap,
      clock: this.clock,
      health: this.health,
      log,
      writeDelayMs: tuning.stateWriteDelayMs,
      backoffInitialMs: tuning.backoffInitialMs,
      backoffMaxMs: tuning.backoffMaxMs,
    });
    this.model = new FleetModel({
      fleetNamespace: options.namespace,
      tuning,
      clock: this.clock,
      stores,
      log,
      clockChanged: (urgent) => this.state.schedule(urgent),
      requestFlush: () => this.requestFlush(),
      now: () => wallClock.now(),
      startedAt: wallClock.now(),
    });

    this.silences = new SilenceWatch({
      log,
      ...(tuning.silencePollMs > 0 && { intervalMsOverride: tuning.silencePollMs }),
    });

    const ns = encodeURIComponent(options.namespace);
    const pipeline = `${PIPELINE_LABEL.key}=${PIPELINE_LABEL.value}`;
    const model = this.model;
    this.add(
      client,
      {
        resource: COLLECTOR_RESOURCES.pods,
        path: '/api/v1/pods',
        pageSize: tuning.podsPageSize,
        project: (o) => projectPod(o, options.namespace),
      },
      {
        upsert: (key, pod, prev) => model.upsertPod(key, pod, prev),
        remove: (key, prev) => model.removePod(key, prev),
        listed: () => model.setSynced('pods'),
      },
    );
    const { group, version, plural } = VULNERABILITY_REPORT_API;
    this.add(
      client,
      {
        resource: COLLECTOR_RESOURCES.vulnerabilityReports,
        path: `/apis/${group}/${version}/${plural}`,
        pageSize: tuning.reportsPageSize,
        project: projectReport,
      },
      {
        upsert: (key, report, prev) => model.upsertReport(key, report, prev),
        remove: (key, prev) => model.removeReport(key, prev),
        listed: () => model.setSynced('reports'),
      },
    );
    this.add(
      client,
      {
        resource: COLLECTOR_RESOURCES.jobs,
        path: `/apis/batch/v1/namespaces/${ns}/jobs`,
        labelSelector: pipeline,
        pageSize: tuning.podsPageSize,
        project: projectJob,
      },
      {
        upsert: (_key, job, prev) => model.upsertJob(job, prev),
        remove: (_key, prev) => model.removeJob(prev),
      },
    );
    this.add(
      client,
      {
        resource: COLLECTOR_RESOURCES.cronJobs,
        path: `/apis/batch/v1/namespaces/${ns}/cronjobs`,
        labelSelector: pipeline,
        pageSize: tuning.podsPageSize,
        project: projectCronJob,
      },
      {
        upsert: (_key, cron) => model.upsertCronJob(cron),
        remove: (_key, prev) => model.removeCronJob(prev),
      },
    );
    const cleanup = (this.pushgatewayCleanup = pushgatewayCleanup(
      options,
      tuning,
      this.registry,
      log,
    ));
    this.add(
      client,
      this.configMapSpec(COLLECTOR_RESOURCES.inventory, options.inventoryConfigMap),
      {
        upsert: (_key, data) => {
          model.setInventory(data);
          cleanup?.setInventory(data);
          this.silences.configure(data);
        },
        remove: () => {
          model.setInventory(undefined);
          this.silences.configure(undefined);
        },
        listed: () => model.setSynced('inventory'),
      },
    );
    this.add(client, this.configMapSpec(COLLECTOR_RESOURCES.patchedDigests, options.digestStore), {
      upsert: (_key, data) => model.setPatchedDigests(data),
      remove: () => model.setPatchedDigests(undefined),
    });
    // Listed by label; trusted by name (digest-records.ts). Label selection cannot be narrowed by
    // RBAC resourceNames, so the collector may list the fleet namespace's ConfigMaps (not Secrets).
    this.add(
      client,
      {
        resource: COLLECTOR_RESOURCES.digestRecords,
        path: `/api/v1/namespaces/${ns}/configmaps`,
        labelSelector: `${DIGEST_RECORD_LABEL.key}=${DIGEST_RECORD_LABEL.value}`,
        pageSize: tuning.podsPageSize,
        project: projectDigestRecord,
      },
      {
        upsert: (_key, record) => model.upsertDigestRecord(record.name, record.data),
        remove: (_key, prev) => model.removeDigestRecord(prev.name),
      },
    );

    this.server = new CollectorServer(
      {
        contentType: this.registry.contentType,
        render: () => this.renderMetrics(),
        missing: () => this.missing(),
      },
      log,
    );
  }

  /** Starts everything; resolves with the HTTP port once the server listens. */
  async start(): Promise<number> {
    const port = await this.server.listen(this.config.options.port, this.config.host);
    for (const reflector of this.reflectors) reflector.start();
    void this.state.load().then(() => {
      if (!this.stopping) this.model.clockLoaded();
    });
    this.tickTimer = setInterval(() => this.tick(), this.config.tuning.tickMs);
    this.pushgatewayCleanup?.start();
    this.statsTimer = setInterval(
      () => this.config.log.info('stats', this.stats()),
      STATS_INTERVAL_MS,
    );
    this.statsTimer.unref();
    return port;
  }

  /** Graceful shutdown: stop the watches, write pending state, close the server. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const { log, tuning } = this.config;
    log.info('shutting down');
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.silences.stop();
    await Promise.all([...this.reflectors.map((r) => r.stop()), this.pushgatewayCleanup?.stop()]);
    if (this.model.hasDirty) this.model.flush();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), tuning.shutdownTimeoutMs)),
    );
    const result = await Promise.race([this.state.flush().then(() => 'flushed' as const), timeout]);
    clearTimeout(timer);
    if (result === 'timeout')
      log.warn('state not flushed before the shutdown timeout', {
        timeoutMs: tuning.shutdownTimeoutMs,
      });
    this.state.stop();
    await this.server.close();
    log.info('stopped');
  }

  /** The /metrics body in chunks: health metrics (prom-client), then every series store. */
  async *renderMetrics(): AsyncGenerator<string> {
    const now = this.wallClock.now();
    yield `${await this.registry.metrics()}\n`;
    for (const store of Object.values(this.stores)) yield* store.render(now);
    yield* this.silences.render(now);
  }

  /** What readiness still waits for: every list, the state, then the first computation of the series. */
  missing(): string[] {
    const missing: string[] = this.reflectors.filter((r) => !r.hasSynced).map((r) => r.resource);
    if (!this.clock.loaded) missing.push(COLLECTOR_RESOURCES.state);
    if (missing.length === 0 && !this.initialReported) missing.push('metrics');
    return missing;
  }

  private add<P>(client: KubeClient, spec: ReflectorSpec<P>, sink: ReflectorSink<P>): void {
    // Every completed list may complete readiness: let a flush check it.
    const listed = () => {
      sink.listed?.();
      this.requestFlush();
    };
    // A watch (re)established may complete the picture: record the sync time without waiting for a tick.
    const health: ReflectorHealth = {
      apiError: (resource, error) => this.health.apiError(resource, error),
      watchRestart: (resource, reason) => this.health.watchRestart(resource, reason),
      syncedChanged: (resource, synced) => {
        this.health.syncedChanged(resource, synced);
        if (synced) this.markSyncedIfCurrent();
      },
    };
    const reflector = new Reflector(
      client,
      spec,
      { ...sink, listed },
      health,
      this.config.tuning,
      this.config.log,
    );
    this.reflectors.push(reflector);
  }

  private configMapSpec(
    resource: ReflectorSpec<ConfigMapData>['resource'],
    name: string,
  ): ReflectorSpec<ConfigMapData> {
    return {
      resource,
      path: `/api/v1/namespaces/${encodeURIComponent(this.config.options.namespace)}/configmaps`,
      fieldSelector: `metadata.name=${name}`,
      pageSize: 10,
      project: projectConfigMapData,
    };
  }

  /** Series counts, tracked objects and memory: the `stats` log line. */
  stats(): Record<string, unknown> {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const mb = (bytes: number) => Math.round(bytes / 1048576);
    return {
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      series: Object.fromEntries(Object.values(this.stores).map((s) => [s.def.name, s.size])),
      objects: Object.fromEntries(this.reflectors.map((r) => [r.resource, r.size])),
      clockEntries: this.clock.size,
      rssMb: mb(memory.rss),
      heapUsedMb: mb(memory.heapUsed),
      heapTotalMb: mb(memory.heapTotal),
      externalMb: mb(memory.external),
    };
  }

  private requestFlush(): void {
    if (this.flushTimer !== undefined || this.stopping) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.model.flush();
      if (
        !this.initialReported &&
        this.model.complete &&
        this.clock.loaded &&
        !this.model.hasDirty &&
        this.reflectors.every((r) => r.hasSynced)
      ) {
        this.initialReported = true;
        this.config.log.info('initial sync complete', {
          ms: Date.now() - this.startedAt,
          ...this.stats(),
        });
      }
      this.markSyncedIfCurrent();
    }, this.config.tuning.flushDelayMs);
  }

  private tick(): void {
    this.wallClock.refresh();
    this.model.tick();
    this.markSyncedIfCurrent();
  }

  /** copa_fleet_collector_last_sync_timestamp_seconds: every watch current, the state loaded, nothing left to recompute. */
  private markSyncedIfCurrent(): void {
    if (
      this.clock.loaded &&
      this.initialReported &&
      !this.model.hasDirty &&
      this.reflectors.every((r) => r.isCurrent)
    )
      this.health.markSynced(Date.now());
  }
}
