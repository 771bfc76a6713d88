/**
 * Cardinality and rule cost of a realistic 200-image fleet, with every real part:
 * - the manifests and rules synth generates for a 200-image inventory (bench/fixtures.ts);
 * - the generated CronJobs (with a last schedule time), ~1,000 Pods (5 replicas per image, plus an istio sidecar that is not in the inventory), a
 *   fifth of the patched images with replicas still on the old digest, and one Trivy
 *   VulnerabilityReport per running digest with the fixtures' realistic vulnerability mix;
 * - the exporter bundle run once per image (bounded parallelism) with its CronJob's own arguments
 *   against a real Pushgateway, with a realistic outcome mix (mostly patched / up to date);
 * - the collector bundle against the Kubernetes API fake;
 * - a real Prometheus scraping both and evaluating the generated rules every 15 s (SCRAPE_SECONDS).
 *
 * Cardinality: series on the collector's /metrics and the exporter groups on the Pushgateway's
 * /metrics (including its per-group push_time_seconds / push_failure_time_seconds, excluding
 * its own process metrics), by metric. Rule cost: `prometheus_rule_group_last_duration_seconds`
 * per group, the maximum (and median) over 8 evaluations, beside the cost of the same
 * expressions as instant queries (no storage writes, no scheduling).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { inventorySchema } from '../src/inventory/schema.ts';
import { buildFleet, type FleetImage } from '../src/model/fleet.ts';
import {
  CONFIGMAPS,
  DIGEST_RECORD_LABEL,
  INVENTORY_CONFIGMAP_KEY,
  JOB_CONTAINERS,
  parseExporterReportArgs,
  type ExporterOptions,
} from '../src/shared/contract.ts';
import { JOBS, METRICS, type RunOutcome } from '../src/shared/metrics.ts';
import { renderFleet } from '../src/synth/render.ts';
import { COLLECTOR_ENV, DEFAULT_TUNING } from '../runtime/collector/config.ts';
import { FakeKubeApi, type KubeObject } from '../test/support/fake-kube-api.ts';
import { objectsOf } from '../test/support/fleet-fixtures.ts';
import {
  startPrometheus,
  startPushgateway,
  type RunningProcess,
} from '../test/support/processes.ts';
import * as fx from '../test/runtime/collector/fixtures.ts';
import {
  parseExposition,
  startCollector,
  waitFor,
  type RunningCollector,
  type Sample,
} from '../test/runtime/collector/harness.ts';
import {
  IMAGE as FIXTURE_IMAGE,
  PATCHED_DIGEST,
  PATCHED_REF,
  scenario,
  SOURCE_DIGEST,
  SOURCE_REF,
  type WorkFilesSpec,
} from '../test/runtime/exporter/fixtures.ts';
import { makeWorkDir, removeDir, runExporter } from '../test/runtime/exporter/harness.ts';
import {
  makePushgatewayAuth,
  type PushgatewayAuthFixture,
} from '../test/support/pushgateway-auth.ts';
import { inventoryYaml } from './fixtures.ts';

export const FLEET_IMAGES = 200;
const REPLICAS = 5;
const NAMESPACES = 10;
const EXPORTER_PARALLELISM = 8;
/**
 * Scrape and evaluation interval: twice as often as kube-prometheus-stack's default (30 s). At 5 s,
 * every evaluation overlapped a scrape on the 2 cores and group maxima doubled (docs/benchmarks.md).
 */
export const SCRAPE_SECONDS = 15;
/** Rule evaluations before the durations are read, and readings (one per evaluation) after. */
/**
 * Prometheus restores alert `for` state after its second evaluation and only then starts writing
 * ALERTS / ALERTS_FOR_STATE: the evaluation after that creates those series for every pending alert
 * at once (measured: one reading of 69 ms for first-runs, 10-20 ms after). Readings start after it.
 */
const WARMUP_EVALUATIONS = 5;

/**
 * Seconds before the readings: WARMUP_EVALUATIONS evaluations, or COPA_BENCH_WARMUP_MINUTES. A
 * 15-minute group reads 15 minutes of samples only once that much was scraped, and its last
 * evaluation is the one read: with 31 minutes, every 15-minute group last ran over a full window
 * (steady state), whatever its offset in the interval.
 */
function warmupSeconds(): number {
  const minutes = process.env.COPA_BENCH_WARMUP_MINUTES;
  if (minutes === undefined) return WARMUP_EVALUATIONS * SCRAPE_SECONDS;
  const value = Number(minutes);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`COPA_BENCH_WARMUP_MINUTES=${minutes}: expected a positive number of minutes`);
  return Math.round(value * 60);
}
const READINGS = 8;
/** Rules listed by cost in the report. */
const SLOWEST_RULES = 8;

/** Mostly patched or up to date, one in ten failing in one of four ways. */
export function outcomeOf(i: number): RunOutcome {
  const failures: RunOutcome[] = ['push_failed', 'scan_failed', 'oom_killed', 'patch_failed'];
  if (i % 10 === 9) return failures[((i / 10) % failures.length) | 0]!;
  return i % 3 === 0 ? 'up_to_date' : 'patched';
}

const sourceDigestOf = (image: FleetImage) => fx.digestOf(`${image.image}:source`);
const patchedDigestOf = (image: FleetImage) => fx.digestOf(`${image.image}:patched`);
/** A fifth of the patched images still have two of their five replicas on the old digest. */
const drifts = (i: number) => outcomeOf(i) === 'patched' && i % 5 === 1;

/** The exporter fixtures' evidence of `outcome`, rewritten for `image`. */
function evidenceFor(image: FleetImage, outcome: RunOutcome): WorkFilesSpec {
  const rewrite = (text: string | undefined) =>
    text
      ?.replaceAll(PATCHED_REF, image.patchedRef)
      .replaceAll(SOURCE_REF, image.sourceRef)
      .replaceAll(FIXTURE_IMAGE, image.image)
      .replaceAll(PATCHED_DIGEST, patchedDigestOf(image))
      .replaceAll(SOURCE_DIGEST, sourceDigestOf(image));
  const files = scenario(outcome).files as Readonly<Record<string, string | undefined>>;
  return Object.fromEntries(Object.entries(files).map(([key, text]) => [key, rewrite(text)]));
}

function workloads(images: readonly FleetImage[]): { pods: KubeObject[]; reports: KubeObject[] } {
  const pods: KubeObject[] = [];
  const reports: KubeObject[] = [];
  const [registryOf, repositoryOf] = [
    (ref: string) => ref.split('/')[0]!,
    (ref: string) => ref.split('/').slice(1).join('/'),
  ];
  images.forEach((image, i) => {
    const namespace = `team-${i % NAMESPACES}`;
    const patched = outcomeOf(i) === 'patched';
    const running = new Set<string>();
    for (let r = 0; r < REPLICAS; r++) {
      const digest =
        patched && !(drifts(i) && r < 2) ? patchedDigestOf(image) : sourceDigestOf(image);
      running.add(digest);
      pods.push(
        fx.pod({
          namespace,
          name: `svc-${i}-7d9f8-${r}`,
          realistic: true,
          containers: [
            { name: 'app', image: image.sourceRef, imageID: `${image.image}@${digest}` },
            {
              name: 'istio-proxy',
              image: 'docker.io/istio/proxyv2:1.22.0',
              imageID: `docker.io/istio/proxyv2@${fx.digestOf('istio')}`,
            },
          ],
        }),
      );
    }
    for (const digest of running) {
      // The patched digest keeps only the unfixable part of the source's vulnerabilities.
      const count = 50 + ((i * 37) % 251);
      reports.push(
        fx.vulnerabilityReport({
          namespace,
          name: `replicaset-svc-${i}-${digest.slice(7, 12)}-app`,
          registry:
            registryOf(image.image) === 'docker.io' ? 'index.docker.io' : registryOf(image.image),
          repository: repositoryOf(image.image),
          tag: image.tag,
          digest,
          updateTimestamp: new Date(Date.now() - (i % 20) * 3600_000).toISOString(),
          vulnerabilities: fx.vulnerabilityMix(
            i,
            digest === patchedDigestOf(image) ? Math.round(count / 4) : count,
          ),
        }),
      );
    }
  });
  return { pods, reports };
}

export interface MetricCount {
  readonly metric: string;
  readonly source: 'collector' | 'pushgateway';
  readonly series: number;
}

export interface RuleCost {
  readonly group: string;
  /** Record or alert name, with the static labels that tell same-named rules apart. */
  readonly rule: string;
  readonly maxMs: number;
  readonly medianMs: number;
}

interface RulesApiGroup {
  readonly name: string;
  readonly rules: readonly {
    readonly name: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly evaluationTime: number;
  }[];
}

export interface FleetMetricsFigures {
  readonly images: number;
  readonly pods: number;
  readonly reports: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly exporterSeconds: number;
  readonly byMetric: readonly MetricCount[];
  readonly totalSeries: number;
  readonly cveAgeSeries: number;
  /** Series outside image_cve_age_hours, per image. */
  readonly perImageOutsideCveAge: number;
  readonly cveAgeSeverities: readonly string[];
  readonly severitiesInScope: readonly string[];
  /** Group name -> max of `prometheus_rule_group_last_duration_seconds` over the readings, ms. */
  readonly ruleGroupsMs: Readonly<Record<string, number>>;
  /** Group name -> median of the readings, ms. */
  readonly ruleGroupsMedianMs: Readonly<Record<string, number>>;
  /** The costliest rules by median of each rule's own `evaluationTime` (/api/v1/rules) over the readings, ms. */
  readonly slowestRules: readonly RuleCost[];
  /** Group name -> sum over its rules of the fastest of 3 instant queries of the rule's expression, ms. */
  readonly ruleQueryMs: Readonly<Record<string, number>>;
  readonly ruleSeries: number;
  /** Share of the readings' wall time in which some task waited for a CPU (other load on the VM), if known. */
  readonly cpuStallShare: number | undefined;
  /** Per group: the samples its expressions read as queries (`stats=all` totalQueryableSamples), independent of the load. */
  readonly ruleQuerySamples: Readonly<Record<string, number>>;
  /** The 1-minute load average at the end of the readings. */
  readonly loadAfterReadings: number;
  /** Seconds of evaluations before the readings (COPA_BENCH_WARMUP_MINUTES). */
  readonly warmupSeconds: number;
}

/** Microseconds some task of this machine waited for a CPU (/proc/pressure/cpu), if the kernel reports it. */
function cpuStallMicros(): number | undefined {
  try {
    return Number(
      /some .*total=(\d+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? Number.NaN,
    );
  } catch {
    return undefined;
  }
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        await fn(items[index]!, index);
      }
    }),
  );
}

export interface FleetMetricsOptions {
  /**
   * Multi-cluster: this many clusters (the first one the patch cluster). Each gets its own
   * Prometheus with a `cluster` external label, scraping the collector (and, in the patch cluster,
   * the Pushgateway) and remote-writing into a central Prometheus that evaluates the generated
   * global rules (global/prometheus): every cluster runs the whole fleet, so the central one holds
   * `clusters` x the single-cluster series.
   */
  readonly clusters?: number;
  /** Skip the exporter runs (rule-cost experiments on collector series only). */
  readonly skipExporters?: boolean;
}

export async function benchFleetMetrics(
  collectorBundle: string,
  options: FleetMetricsOptions = {},
): Promise<FleetMetricsFigures> {
  const progress = (msg: string) => process.stderr.write(`bench fleet metrics: ${msg}\n`);
  const clusterNames = Array.from({ length: options.clusters ?? 0 }, (_, i) => `cluster-${i + 1}`);
  const inventory = parse(inventoryYaml(FLEET_IMAGES)) as Record<string, unknown>;
  // COPA_BENCH_CLUSTER_NAMESPACES=1: every second workload cluster runs the fleet in its own
  // namespace (clusters[].namespace), so the global collector selectors are two alternatives.
  const ownNamespace = (i: number): string | undefined =>
    process.env.COPA_BENCH_CLUSTER_NAMESPACES === '1' && i % 2 === 1
      ? `${String((inventory.defaults as { namespace?: string } | undefined)?.namespace ?? 'copa-fleet')}-own`
      : undefined;
  if (clusterNames.length > 0)
    inventory.clusters = clusterNames.map((name, i) => ({
      name,
      roles: i === 0 ? ['patch', 'workloads'] : ['workloads'],
      ...(ownNamespace(i) !== undefined && { namespace: ownNamespace(i) }),
    }));
  const fleet = buildFleet(inventorySchema.parse(inventory));
  const files = renderFleet(fleet);
  const objects = objectsOf(files);
  const generated = (kind: string, name: string) => {
    const found = objects.find(
      ({ object }) => object.kind === kind && object.metadata.name === name,
    );
    if (found === undefined) throw new Error(`synth generated no ${kind} ${name}`);
    return found.object as unknown as KubeObject;
  };
  const exporterOptionsOf = (image: FleetImage, pushgatewayUrl: string): ExporterOptions => {
    const cronJob = generated('CronJob', image.name) as unknown as {
      spec: {
        jobTemplate: {
          spec: { template: { spec: { initContainers: { name: string; args: string[] }[] } } };
        };
      };
    };
    const exporter = cronJob.spec.jobTemplate.spec.template.spec.initContainers.find(
      (c) => c.name === JOB_CONTAINERS.exporter,
    );
    if (exporter === undefined) throw new Error('no exporter container');
    // The generated Pushgateway authenticates: the exporter reads the bench's credential directory
    // instead of the CronJob's mounted Secret (as the end-to-end tests do).
    return {
      ...parseExporterReportArgs(exporter.args.slice(1)),
      pushgatewayUrl,
      pushgatewayCredentialsDir: auth!.clients.exporter.dir,
    };
  };
  const inventoryData = (
    generated('ConfigMap', CONFIGMAPS.inventory).data as Record<string, string>
  )[INVENTORY_CONFIGMAP_KEY]!;
  const severitiesInScope = (JSON.parse(inventoryData) as { severitiesInScope: string[] })
    .severitiesInScope;

  const workDir = mkdtempSync(join(tmpdir(), 'copa-bench-fleet-'));
  const api = await FakeKubeApi.start({ maxRequestLog: 1000 });
  let pushgateway: RunningProcess | undefined;
  let auth: PushgatewayAuthFixture | undefined;
  let collector: RunningCollector | undefined;
  let prometheus: RunningProcess | undefined;
  const clusterPrometheus: RunningProcess[] = [];
  try {
    for (const name of [CONFIGMAPS.inventory, CONFIGMAPS.patchedDigests, CONFIGMAPS.collectorState])
      api.create('configmaps', generated('ConfigMap', name));
    // Each CronJob's own patched-digest record, as synth generates it (the exporter patches it; it must exist).
    const records = objects.filter(
      ({ object }) =>
        object.kind === 'ConfigMap' &&
        object.metadata.labels?.[DIGEST_RECORD_LABEL.key] === DIGEST_RECORD_LABEL.value,
    );
    for (const record of records) api.create('configmaps', record.object);
    // The generated CronJobs, each scheduled last night (failed runs: no last success).
    const lastNight = new Date(Date.now() - 6 * 3600_000).toISOString();
    api.load(
      'cronjobs',
      fleet.images.map((image, i) => {
        const cronJob = generated('CronJob', image.name);
        const failedRun = outcomeOf(i) !== 'patched' && outcomeOf(i) !== 'up_to_date';
        return {
          ...cronJob,
          status: {
            lastScheduleTime: lastNight,
            ...(!failedRun && { lastSuccessfulTime: lastNight }),
          },
        };
      }),
    );
    const { pods, reports } = workloads(fleet.images);
    api.load('pods', pods);
    api.load('vulnerabilityreports', reports);
    progress(`${fleet.images.length} images, ${pods.length} pods, ${reports.length} reports`);

    auth = await makePushgatewayAuth();
    pushgateway = await startPushgateway({
      webConfigFile: auth.webConfigFile,
      readyAuthorization: auth.clients.prometheus.header,
    });
    const kubeconfig = api.writeKubeconfig(workDir, fleet.namespace);
    const outcomes: Record<string, number> = {};
    const started = performance.now();
    await mapLimit(
      options.skipExporters === true ? [] : fleet.images,
      EXPORTER_PARALLELISM,
      async (image, i) => {
        const outcome = outcomeOf(i);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        const podName = `${image.name}-29400000-${i}`;
        const jobPod = scenario(outcome).pod(Date.now() - 10 * 60 * 1000) as unknown as KubeObject;
        api.create('pods', {
          ...jobPod,
          metadata: { ...jobPod.metadata, name: podName, namespace: fleet.namespace },
        });
        const dir = await makeWorkDir(evidenceFor(image, outcome));
        const result = await runExporter({
          options: exporterOptionsOf(image, pushgateway!.url),
          workDir: dir,
          kubeconfig,
          podName,
          podNamespace: fleet.namespace,
        });
        await removeDir(dir);
        api.remove('pods', fleet.namespace, podName);
        if (result.code !== 0)
          throw new Error(
            `exporter for ${image.image} (${outcome}) exited ${result.code}:\n${result.stderr}`,
          );
      },
    );
    const exporterSeconds = (performance.now() - started) / 1000;
    progress(
      `${fleet.images.length} exporter runs in ${exporterSeconds.toFixed(1)} s (${EXPORTER_PARALLELISM} at a time)`,
    );

    const env: Record<string, string> = Object.fromEntries(
      Object.entries(COLLECTOR_ENV).map(([key, variable]) => [
        variable,
        String(DEFAULT_TUNING[key as keyof typeof DEFAULT_TUNING]),
      ]),
    );
    collector = await startCollector(api, { env, bundle: collectorBundle });
    const running = METRICS.runningContainers.name;
    await waitFor(
      async () =>
        (await (await fetch(`${collector!.url}/metrics`)).text()).split(`${running}{`).length - 1 >=
        fleet.images.length,
      { timeoutMs: 60_000, intervalMs: 100, what: 'collector series of every image' },
    );

    const collectorSamples = parseExposition(
      await (await fetch(`${collector.url}/metrics`)).text(),
    );
    const pushed = parseExposition(
      await (
        await fetch(`${pushgateway.url}/metrics`, {
          headers: { authorization: auth.clients.prometheus.header },
        })
      ).text(),
    ).filter((s) => s.labels.job === JOBS.exporter);
    const counts = new Map<string, MetricCount>();
    const add = (samples: readonly Sample[], source: MetricCount['source']) => {
      for (const s of samples) {
        const key = `${source} ${s.name}`;
        counts.set(key, { metric: s.name, source, series: (counts.get(key)?.series ?? 0) + 1 });
      }
    };
    add(collectorSamples, 'collector');
    add(pushed, 'pushgateway');
    const byMetric = [...counts.values()].sort(
      (a, b) => b.series - a.series || a.metric.localeCompare(b.metric),
    );
    const totalSeries = collectorSamples.length + pushed.length;
    const cveAge = collectorSamples.filter((s) => s.name === METRICS.imageCveAgeHours.name);
    const cveAgeSeverities = [...new Set(cveAge.map((s) => s.labels.severity ?? ''))].sort();
    progress(`${totalSeries} series (${cveAge.length} image_cve_age_hours)`);

    const generatedRules = files.find(
      (f) =>
        f.path ===
        (clusterNames.length > 0
          ? 'global/prometheus/copa-fleet.rules.yaml'
          : 'prometheus/copa-fleet.rules.yaml'),
    );
    if (generatedRules === undefined) throw new Error('synth wrote no plain rule file');
    // COPA_BENCH_RULES=<file>: a hand-edited rule file against the same fleet (tuning experiments).
    const override = process.env.COPA_BENCH_RULES;
    const rules =
      override === undefined
        ? generatedRules
        : { path: override, content: readFileSync(override, 'utf8') };
    if (override !== undefined)
      progress(`rules from ${override} (COPA_BENCH_RULES), not the generated ones`);
    const target = (url: string) => url.replace(/^http:\/\//, '');
    // `namespace`: the target label a ServiceMonitor in the fleet namespace gives its targets (the rules' selectors match it).
    const collectorScrape = {
      job_name: JOBS.collector,
      honor_labels: true,
      static_configs: [
        { targets: [target(collector.url)], labels: { namespace: fleet.namespace } },
      ],
    };
    const pushgatewayScrape = {
      job_name: JOBS.pushgateway,
      honor_labels: true,
      basic_auth: {
        username: auth.clients.prometheus.username,
        password_file: join(auth.clients.prometheus.dir, 'password'),
      },
      static_configs: [
        { targets: [target(pushgateway.url)], labels: { namespace: fleet.namespace } },
      ],
    };
    if (clusterNames.length > 0) {
      prometheus = await startPrometheus({
        configYaml: stringify({ global: { evaluation_interval: `${SCRAPE_SECONDS}s` } }),
        rulesFiles: { 'copa-fleet.rules.yaml': rules.content },
        extraArgs: ['--web.enable-remote-write-receiver'],
      });
      for (const [i, name] of clusterNames.entries()) {
        const namespace = ownNamespace(i);
        const clusterCollector =
          namespace === undefined
            ? collectorScrape
            : {
                ...collectorScrape,
                static_configs: [{ targets: [target(collector.url)], labels: { namespace } }],
              };
        const scrape = i === 0 ? [clusterCollector, pushgatewayScrape] : [clusterCollector];
        clusterPrometheus.push(
          await startPrometheus({
            configYaml: stringify({
              global: { scrape_interval: `${SCRAPE_SECONDS}s`, external_labels: { cluster: name } },
              scrape_configs: scrape,
              remote_write: [{ url: `${prometheus.url}/api/v1/write` }],
            }),
          }),
        );
      }
      progress(
        `${clusterNames.length} cluster Prometheus servers remote-writing into the central one`,
      );
    } else
      prometheus = await startPrometheus({
        configYaml: stringify({
          global: {
            scrape_interval: `${SCRAPE_SECONDS}s`,
            evaluation_interval: `${SCRAPE_SECONDS}s`,
          },
          scrape_configs: [collectorScrape, pushgatewayScrape],
        }),
        rulesFiles: { 'copa-fleet.rules.yaml': rules.content },
      });
    const readings: Record<string, number[]> = {};
    const ruleReadings = new Map<string, { group: string; rule: string; ms: number[] }>();
    const readRuleCosts = async () => {
      const body = (await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as {
        data: { groups: RulesApiGroup[] };
      };
      for (const group of body.data.groups) {
        group.rules.forEach((rule, index) => {
          const tags = Object.entries(rule.labels ?? {})
            .filter(([k]) => k !== 'severity' && k !== 'namespace')
            .map(([k, v]) => `${k}=${v}`);
          const key = `${group.name}#${index}`;
          let entry = ruleReadings.get(key);
          if (entry === undefined)
            ruleReadings.set(
              key,
              (entry = {
                group: group.name,
                rule: tags.length === 0 ? rule.name : `${rule.name}{${tags.join(',')}}`,
                ms: [],
              }),
            );
          entry.ms.push(rule.evaluationTime * 1000);
        });
      }
    };
    const readDurations = async () => {
      const self = parseExposition(await (await fetch(`${prometheus!.url}/metrics`)).text());
      return self.filter((s) => s.name === 'prometheus_rule_group_last_duration_seconds');
    };
    const warmup = warmupSeconds();
    progress(
      `Prometheus evaluating the generated rules every ${SCRAPE_SECONDS} s; waiting ${warmup} s before the readings`,
    );
    for (let waited = 0; waited < warmup; waited += 60) {
      await new Promise((r) => setTimeout(r, Math.min(60, warmup - waited) * 1000));
      if (warmup > 120) progress(`  warm-up: ${Math.min(warmup, waited + 60)} of ${warmup} s`);
    }
    const stallBefore = cpuStallMicros();
    const readingsStarted = performance.now();
    for (let reading = 0; reading < READINGS; reading++) {
      for (const s of await readDurations()) {
        const group = (s.labels.rule_group ?? '').split(';').at(-1) ?? '';
        // 0 until the group's first evaluation (a 15-minute group may not run during the readings):
        // no reading, not a 0 ms one.
        const values = (readings[group] ??= []);
        if (s.value > 0) values.push(s.value * 1000);
      }
      await readRuleCosts();
      await new Promise((r) => setTimeout(r, SCRAPE_SECONDS * 1000));
    }
    const stallAfter = cpuStallMicros();
    const loadAfterReadings = loadavg()[0] ?? Number.NaN;
    const cpuStallShare =
      stallBefore === undefined || stallAfter === undefined
        ? undefined
        : (stallAfter - stallBefore) / 1000 / (performance.now() - readingsStarted);
    // The same expressions as queries (no storage writes, no group scheduling): the pure PromQL cost.
    const ruleGroups = (
      parse(rules.content) as { groups: { name: string; rules: { expr: string }[] }[] }
    ).groups;
    const queryMs: Record<string, number> = {};
    // Samples each group's expressions read (`stats=all`): independent of the machine's load.
    const querySamples: Record<string, number> = {};
    for (const group of ruleGroups) {
      let sum = 0;
      let samples = 0;
      for (const rule of group.rules) {
        let best = Infinity;
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          const response = await fetch(
            `${prometheus.url}/api/v1/query?stats=all&query=${encodeURIComponent(rule.expr)}`,
          );
          const body = await response.text();
          best = Math.min(best, performance.now() - t);
          if (i === 0)
            samples +=
              (
                JSON.parse(body) as {
                  data?: { stats?: { samples?: { totalQueryableSamples?: number } } };
                }
              ).data?.stats?.samples?.totalQueryableSamples ?? Number.NaN;
        }
        sum += best;
        if (best > 5)
          progress(`  ${group.name}: ${best.toFixed(1)} ms for ${rule.expr.slice(0, 140)}`);
      }
      queryMs[group.name] = sum;
      querySamples[group.name] = samples;
    }
    progress(
      `rule groups as queries, samples read: ${Object.entries(querySamples)
        .map(([g, n]) => `${g}=${n}`)
        .join(', ')}`,
    );
    progress(
      `rule groups as queries (sum of fastest of 3, HTTP included): ${Object.entries(queryMs)
        .map(([g, ms]) => `${g}=${ms.toFixed(1)}ms`)
        .join(', ')}`,
    );
    const ruleGroupsMs = Object.fromEntries(
      Object.entries(readings).map(([g, values]) => [
        g,
        values.length === 0 ? 0 : Math.max(...values),
      ]),
    );
    const ruleGroupsMedianMs = Object.fromEntries(
      Object.entries(readings).map(([g, values]) => [g, median(values)]),
    );
    const headSeries =
      parseExposition(await (await fetch(`${prometheus.url}/metrics`)).text()).find(
        (s) => s.name === 'prometheus_tsdb_head_series',
      )?.value ?? Number.NaN;
    const slowestRules = [...ruleReadings.values()]
      .map(({ group, rule, ms }): RuleCost => ({
        group,
        rule,
        maxMs: Math.max(...ms),
        medianMs: median(ms),
      }))
      .sort((a, b) => b.medianMs - a.medianMs)
      .slice(0, SLOWEST_RULES);
    progress(
      `slowest rules (median/max): ${slowestRules.map((r) => `${r.group}/${r.rule}=${r.medianMs.toFixed(1)}/${r.maxMs.toFixed(1)}ms`).join(', ')}`,
    );
    for (const [group, values] of Object.entries(readings))
      progress(`  ${group} readings: ${values.map((ms) => ms.toFixed(1)).join(' ')} ms`);
    progress(
      `rule groups: ${Object.entries(ruleGroupsMs)
        .map(([g, ms]) => `${g}=${ms.toFixed(1)}ms`)
        .join(', ')}`,
    );

    return {
      images: fleet.images.length,
      pods: pods.length,
      reports: reports.length,
      outcomes,
      exporterSeconds,
      byMetric,
      totalSeries,
      cveAgeSeries: cveAge.length,
      perImageOutsideCveAge: (totalSeries - cveAge.length) / fleet.images.length,
      cveAgeSeverities,
      severitiesInScope,
      ruleGroupsMs,
      ruleGroupsMedianMs,
      slowestRules,
      ruleQueryMs: queryMs,
      ruleSeries: headSeries,
      cpuStallShare,
      ruleQuerySamples: querySamples,
      loadAfterReadings,
      warmupSeconds: warmup,
    };
  } finally {
    await Promise.allSettled([
      prometheus?.stop(),
      collector?.stop(),
      pushgateway?.stop(),
      ...clusterPrometheus.map((p) => p.stop()),
    ]);
    await api.close();
    if (auth !== undefined) rmSync(auth.root, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }
}
