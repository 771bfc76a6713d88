/**
 * The one place that knows which series in Prometheus are this fleet's. Two copa-fleet
 * installations scraped by one Prometheus (two fleets, staging and production), or another
 * exporter with a same-named metric, must never read each other's series: every rule and panel
 * expression reads its inputs through `FleetQueries`, which puts the fleet's selector on each one
 * (kubernetes-mixin's `%(kubeStateMetricsSelector)s`, typed):
 *
 * - `q.series(METRICS.x, matchers?)`: a vocabulary metric with the selector of its `source`
 *   (collector or exporter, from src/shared/metrics.ts); `q.series(UPSTREAM.up)` and
 *   `q.series(UPSTREAM.pushTimeSeconds)` likewise. When a multi-cluster fleet's clusters run the
 *   collector in different namespaces, a collector series is a union of one selector per
 *   namespace (`FleetSelectors.collector`), which takes no `[range]` or `offset`: read ranges and
 *   offsets through `q.overTime(fn, metric, range)` and `q.offset(metric, offset)`, never by
 *   appending to `q.series(...)`.
 * - `q.record(RECORDS.x, matchers?)`: a recording rule's output; every record carries the
 *   fleet's `namespace` as a rule label (rules.ts), as prometheus-operator's
 *   `enforcedNamespaceLabel` would add it.
 * - the inventory joins (`q.inventory.*`, `q.inInventory`, `q.withCronjobTeam`, ...), built on those.
 * - the grouping of every aggregation and join: `q.by(...)`, `q.on(...)`, `q.agg(op, expr)` and
 *   `q.constant(n)`. In a multi-cluster fleet (inventory `clusters`) they add the cluster label
 *   (`prometheus.clusterLabel`), so the global query layer keeps the clusters apart everywhere: a
 *   drifted pod in two clusters is two findings, an aggregation is one value per cluster, and a
 *   constant (`vector(1)` of "no target is up") is one per expected cluster, so that a cluster that
 *   never reported is one too. Without `clusters` they are exactly `by (...)`, `on (...)`,
 *   `op(expr)` and `vector(n)`: the single-cluster output does not change.
 * - the views: `q.patchPipeline` (the patch cluster's collector series), `q.inCluster(name)` (one
 *   cluster's, for the global rules' per-cluster groups) and `q.filtered(...)` (dashboard variables).
 */
import type { FleetClusters } from '../model/clusters.ts';
import type { Fleet } from '../model/fleet.ts';
import { GLOBAL_RECORDS, JOBS, L, METRICS, UPSTREAM_METRICS } from '../shared/metrics.ts';
import { by, on, sel, type Matchers } from './promql.ts';
import type { RecordName } from './types.ts';

export type { Matchers } from './promql.ts';

/** Who produces a series, hence which selector scopes it. */
export type SeriesSource = 'collector' | 'exporter';

/** A series family the rules read: its name, its source and its labels (the vocabulary's MetricDef has all three). */
export interface SourcedMetric {
  readonly name: string;
  readonly source: SeriesSource;
  readonly labels: readonly string[];
}

/** Series of other components, scoped by the selector of the copa-fleet part they describe. */
export const UPSTREAM = {
  /** Prometheus' scrape health of the collector's targets (carries every target label). */
  up: { name: UPSTREAM_METRICS.up, source: 'collector', labels: [] },
  /** The Pushgateway's per-group push time: same target labels as the pushed exporter series. */
  pushTimeSeconds: {
    name: UPSTREAM_METRICS.pushTimeSeconds,
    source: 'exporter',
    labels: [L.cronjob],
  },
} as const satisfies Record<string, SourcedMetric>;

/** The clusters of a multi-cluster fleet, as the global rules see them. */
export interface ClusterScope {
  /** The label name (`prometheus.clusterLabel`). */
  readonly label: string;
  /** Every cluster's name, sorted: each runs a collector, so each must report. */
  readonly names: readonly string[];
  /** The cluster that runs the Copa CronJobs and the Pushgateway: the only source of exporter series. */
  readonly patch: string;
  /** The clusters that run inventoried workloads. */
  readonly workloads: readonly string[];
}

/** One alternative of a selector: equality and regex matchers. */
export interface ScopeMatchers {
  readonly matchers: Matchers;
  readonly regex: Matchers;
}

export interface FleetSelectors {
  /**
   * On the collector's series and its `up`: the union of these alternatives, exactly. One, except
   * in a multi-cluster fleet whose clusters run the collector in different namespaces: then one per
   * namespace, each also matching the clusters that use it, so that only this fleet's (cluster,
   * namespace) pairs are read. (A single `namespace=~"a|b"` would also read namespace `b` of a
   * cluster that runs this fleet in `a`: another fleet's collector there.)
   */
  readonly collector: readonly ScopeMatchers[];
  /** On the exporters' series (as the Pushgateway's scrape stores them) and `push_time_seconds`. */
  readonly exporter: Matchers;
  /** On the fleet's own recording rules' outputs (their `namespace` rule label). */
  readonly records: Matchers;
}

export function fleetSelectors(fleet: Fleet): FleetSelectors {
  const { namespace, inventory, clusters } = fleet;
  const configured = inventory.prometheus.selectors;
  const patchNamespace = clusters?.patch.namespace ?? namespace;
  const exporterDefault: Matchers = inventory.defaults.pushgateway.deploy
    ? { [L.job]: JOBS.exporter, [L.namespace]: patchNamespace }
    : { [L.job]: JOBS.exporter };
  // Multi-cluster: exporter series exist only in the patch cluster (its Pushgateway); reading them
  // there alone keeps another cluster's same-named job out.
  const patchCluster: Matchers =
    clusters === undefined ? {} : { [clusters.label]: clusters.patch.name };
  return {
    collector:
      configured.collector !== undefined
        ? [{ matchers: configured.collector, regex: {} }]
        : collectorDefaults(namespace, clusters),
    exporter: { ...(configured.exporter ?? exporterDefault), ...patchCluster },
    records: { [L.namespace]: namespace },
  };
}

/**
 * `{job, namespace}` of the collector targets. Clusters that share a namespace share one
 * alternative; only when the namespaces differ does each alternative name its clusters (the
 * selector is then exact per pair and as cheap as the number of distinct namespaces allows).
 */
function collectorDefaults(
  namespace: string,
  clusters: FleetClusters | undefined,
): ScopeMatchers[] {
  const byNamespace = new Map<string, string[]>();
  for (const cluster of clusters?.all ?? [])
    byNamespace.set(cluster.namespace, [
      ...(byNamespace.get(cluster.namespace) ?? []),
      cluster.name,
    ]);
  const only = clusters?.all[0]?.namespace ?? namespace;
  if (clusters === undefined || byNamespace.size <= 1)
    return [{ matchers: { [L.job]: JOBS.collector, [L.namespace]: only }, regex: {} }];
  // Cluster names are DNS labels (no regex metacharacters) and Prometheus anchors regex
  // matchers: the alternation matches exactly these names.
  return [...byNamespace]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([ns, names]) => {
      const matchers = { [L.job]: JOBS.collector, [L.namespace]: ns };
      return names.length === 1
        ? { matchers: { ...matchers, [clusters.label]: names[0] ?? '' }, regex: {} }
        : { matchers, regex: { [clusters.label]: names.join('|') } };
    });
}

export function clusterScope(fleet: Fleet): ClusterScope | undefined {
  const { clusters } = fleet;
  if (clusters === undefined) return undefined;
  return {
    label: clusters.label,
    names: clusters.all.map((cluster) => cluster.name),
    patch: clusters.patch.name,
    workloads: clusters.all.filter((cluster) => cluster.workloads).map((cluster) => cluster.name),
  };
}

/**
 * Labels a collector workload series (running_container_digest_drift, ...) carries for the
 * workload it describes. The collector is scraped with honorLabels, so these replace the target's
 * own `namespace`/`pod`/`container`: a selector matcher on them cannot be applied to the series.
 */
const WORKLOAD_LABELS: readonly string[] = [L.namespace, L.pod, L.container];
/** Prefix Prometheus gives a scraped label that collides with a target label (honor_labels: false). */
const EXPORTED_PREFIX = 'exported_';

/**
 * `scope` with `matchers` added, or undefined where no series can match both. The regex
 * alternatives are collectorDefaults' alternations of literal cluster names.
 */
function narrow(scope: ScopeMatchers, matchers: Matchers): ScopeMatchers | undefined {
  const regex: Record<string, string> = { ...scope.regex };
  for (const [name, value] of Object.entries(matchers)) {
    const fixed = scope.matchers[name];
    if (fixed !== undefined && fixed !== value) return undefined;
    const pattern = regex[name];
    if (pattern !== undefined) {
      if (!new RegExp(`^(?:${pattern})$`).test(value)) return undefined;
      delete regex[name];
    }
  }
  return { matchers: { ...scope.matchers, ...matchers }, regex };
}

/** The equality matchers every alternative has (same label, same value). */
function common(scopes: readonly ScopeMatchers[]): Matchers {
  const [first, ...rest] = scopes;
  if (first === undefined) return {};
  return Object.fromEntries(
    Object.entries(first.matchers).filter(([name, value]) =>
      rest.every((scope) => scope.matchers[name] === value),
    ),
  );
}

function without(matchers: Matchers, names: readonly string[]): Matchers {
  return Object.fromEntries(Object.entries(matchers).filter(([name]) => !names.includes(name)));
}

/**
 * Records without the cluster label: facts of the patch cluster that hold for every cluster (the
 * latest patched digests). A rule pinned to one cluster (`inCluster`) reads them whole, and the
 * global rules compute them once, not once per cluster (rules.ts).
 */
export const FLEET_WIDE_RECORDS: ReadonlySet<RecordName> = new Set([GLOBAL_RECORDS.patchedDigests]);

export class FleetQueries {
  /**
   * @param clusters multi-cluster fleets only: the cluster label joins every grouping.
   * @param filter regex matchers put on every series and record read (the dashboard's `$cluster` variable).
   * @param pin multi-cluster fleets only: the one cluster whose collector series and records are
   *   read (`inCluster`).
   */
  constructor(
    readonly selectors: FleetSelectors,
    readonly clusters?: ClusterScope,
    private readonly filter: Matchers = {},
    private readonly pin?: string,
  ) {}

  /** The same queries with `regex` matchers on every series and record (dashboard variables). */
  filtered(regex: Matchers): FleetQueries {
    return new FleetQueries(this.selectors, this.clusters, { ...this.filter, ...regex }, this.pin);
  }

  /**
   * The same queries for one cluster of a multi-cluster fleet: every collector series and every
   * per-cluster record is read from `cluster` alone, exactly (an equality matcher, so each selector
   * reads that cluster's series only). Because every grouping keeps the cluster label, a rule built
   * with it computes exactly that cluster's part of the same rule over all clusters: the global
   * rules evaluate per cluster (rules.ts), so a group's cost is one cluster's, whatever their
   * number. Exporter series (the patch cluster's), FLEET_WIDE_RECORDS and explicit cluster
   * matchers (`q.patchCluster`) are read as asked.
   */
  inCluster(cluster: string): FleetQueries {
    const scope = this.clusters;
    if (scope === undefined || !scope.names.includes(cluster))
      throw new Error(`inCluster: ${cluster} is not a cluster of this fleet`);
    return new FleetQueries(this.selectors, scope, this.filter, cluster);
  }

  /** The pinned cluster's matcher (none unless `inCluster`). */
  private get pinned(): Matchers {
    return this.pin === undefined || this.clusters === undefined
      ? {}
      : { [this.clusters.label]: this.pin };
  }

  /**
   * Matchers that keep a collector series to the patch cluster (none in a single-cluster fleet):
   * for rules about the patch pipeline that start from the inventory (every cluster's collector
   * exports it, only the patch cluster runs the CronJobs).
   */
  get patchCluster(): Matchers {
    return this.clusters === undefined ? {} : { [this.clusters.label]: this.clusters.patch };
  }

  /**
   * The same queries with every collector series kept to the patch cluster: for the concerns of the
   * patch pipeline (CronJobs, exporters, Pushgateway), whose series exist only there. Their joins
   * with the inventory (which every collector exports) then read one cluster's copy, not all.
   * A view pinned by `inCluster` gives the same: the patch pipeline is the patch cluster's, whichever
   * cluster's rules ask.
   */
  get patchPipeline(): FleetQueries {
    const scope = this.clusters;
    if (scope === undefined) return this;
    const patch = { [scope.label]: scope.patch };
    // The alternatives of other clusters' namespaces drop out (narrow).
    const collector = this.selectors.collector.flatMap((alt) => narrow(alt, patch) ?? []);
    return new FleetQueries({ ...this.selectors, collector }, scope, this.filter);
  }

  /** The grouping labels of an aggregation or join: `labels`, after the cluster label in a multi-cluster fleet. */
  private grouping(labels: readonly string[]): string[] {
    return this.clusters === undefined
      ? [...labels]
      : [this.clusters.label, ...labels.filter((label) => label !== this.clusters?.label)];
  }

  /** `by (labels)`, per cluster in a multi-cluster fleet. */
  readonly by = (...labels: readonly string[]): string => by(...this.grouping(labels));

  /** `on (labels)`, per cluster in a multi-cluster fleet (`on ()` becomes `on (cluster)`). */
  readonly on = (...labels: readonly string[]): string => on(...this.grouping(labels));

  /** An aggregation over everything: `op(expr)`, or `op by (cluster) (expr)` in a multi-cluster fleet. */
  readonly agg = (op: 'count' | 'sum' | 'max' | 'min' | 'group', expr: string): string =>
    this.clusters === undefined ? `${op}(${expr})` : `${op} ${this.by()} (${expr})`;

  /**
   * `vector(value)`; in a multi-cluster fleet one sample per cluster of `clusters` (default: every
   * cluster), labelled with its name: the expected clusters, so that one that never reported is
   * still a result ("not up", "0 findings") rather than nothing.
   */
  readonly constant = (
    value: number,
    clusters: readonly string[] | undefined = this.clusters?.names,
  ): string => {
    const scope = this.clusters;
    if (scope === undefined || clusters === undefined) return `vector(${value})`;
    const expected =
      this.pin === undefined ? clusters : clusters.filter((name) => name === this.pin);
    if (expected.length === 0)
      throw new Error(`constant: cluster ${this.pin} is not among ${clusters.join(', ')}`);
    const each = expected.map(
      (name) =>
        `label_replace(vector(${value}), ${JSON.stringify(scope.label)}, ${JSON.stringify(name)}, "", "")`,
    );
    return each.length === 1 ? (each[0] as string) : `(${each.join(' or ')})`;
  };

  /**
   * `metric{<its source's selector>, matchers, regex}`. A collector series that names a workload
   * (a `namespace` label in the vocabulary) is read through `workload()` instead.
   */
  readonly series = (
    metric: SourcedMetric,
    matchers: Matchers = {},
    regex: Matchers = {},
  ): string => {
    if (metric.source === 'collector' && metric.labels.includes(L.namespace))
      return this.workload(metric, matchers, regex);
    if (metric.source === 'exporter')
      return sel(metric.name, { ...this.selectors.exporter, ...matchers }, this.filter, regex);
    return this.union(matchers, (scope) =>
      sel(metric.name, scope.matchers, scope.regex, this.filter, regex),
    );
  };

  /**
   * `fn(metric{...}[range])` of a collector or exporter series that names no workload, read with
   * its source's selector: the range form of `series` (a union of selectors is no vector selector,
   * so the function is applied to each alternative; the alternatives hold disjoint series).
   */
  readonly overTime = (
    fn: string,
    metric: SourcedMetric,
    range: string,
    matchers: Matchers = {},
    /** Evaluation time of the range (`@ <unix seconds>`). */
    at?: number,
    regex: Matchers = {},
  ): string =>
    this.eachSelector(
      metric,
      matchers,
      (selector) => `${fn}(${selector}[${range}]${at === undefined ? '' : ` @ ${at}`})`,
      regex,
    );

  /** `metric{...} offset <offset>`: the `offset` form of `series` (see `overTime`). */
  readonly offset = (metric: SourcedMetric, offset: string, matchers: Matchers = {}): string =>
    this.eachSelector(metric, matchers, (selector) => `${selector} offset ${offset}`);

  /** `wrap` of each vector selector `series` would union (a workload series is a join: no selector to wrap). */
  private eachSelector(
    metric: SourcedMetric,
    matchers: Matchers,
    wrap: (selector: string) => string,
    regex: Matchers = {},
  ): string {
    if (metric.source === 'collector' && metric.labels.includes(L.namespace))
      throw new Error(`${metric.name} names a workload: it is a join, not a vector selector`);
    if (metric.source === 'exporter')
      return wrap(
        sel(metric.name, { ...this.selectors.exporter, ...matchers }, this.filter, regex),
      );
    return this.union(matchers, (scope) =>
      wrap(sel(metric.name, scope.matchers, scope.regex, this.filter, regex)),
    );
  }

  /**
   * `each(alternative)` of every collector selector alternative narrowed by `matchers`, `or`ed (one:
   * no parentheses, today's expression). An alternative that `matchers` contradicts (e.g.
   * `q.patchCluster` against another cluster's namespace) is left out, never overwritten: that would
   * pair the patch cluster with another cluster's namespace.
   */
  private union(matchers: Matchers, each: (scope: ScopeMatchers) => string): string {
    const parts = this.selectors.collector.flatMap((scope) => {
      const narrowed = narrow(scope, { ...this.pinned, ...matchers });
      return narrowed === undefined ? [] : [each(narrowed)];
    });
    if (parts.length === 0)
      throw new Error(
        `no collector selector of this fleet admits ${JSON.stringify(matchers)}: a cluster outside the inventory?`,
      );
    return parts.length === 1 ? (parts[0] as string) : `(${parts.join(' or ')})`;
  }

  /** This fleet's output of a recording rule. */
  readonly record = (name: RecordName, matchers: Matchers = {}): string =>
    sel(
      name,
      {
        ...this.selectors.records,
        ...(FLEET_WIDE_RECORDS.has(name) ? {} : this.pinned),
        ...matchers,
      },
      this.filter,
    );

  /**
   * A collector workload series of this fleet, read the same whether or not the scrape honours its
   * labels. Scope: its target's `instance` must be one of this fleet's collector targets (`up` with
   * the full collector selector: `up` always carries the target's own labels), the other selector
   * matchers apply directly. Labels: without honorLabels, Prometheus moves the workload's
   * `namespace` etc. to `exported_namespace` and puts the collector pod's there; the label_replaces
   * copy them back (where the scrape honours them, no `exported_*` label exists and `(.+)` changes nothing).
   */
  private workload(metric: SourcedMetric, matchers: Matchers, regex: Matchers): string {
    const raw = sel(
      metric.name,
      {
        ...without(common(this.selectors.collector), WORKLOAD_LABELS),
        ...this.pinned,
        ...matchers,
      },
      this.filter,
      regex,
    );
    // Per cluster: two clusters' collector pods may have the same `instance` (pod IP and port).
    // The targets carry the (cluster, namespace) pairs exactly: `up` has its target's own labels.
    const targets = `group ${this.by(L.instance)} (${this.series(UPSTREAM.up)})`;
    let expr = `(${raw} and ${this.on(L.instance)} ${targets})`;
    // Only the labels the family has: for the others no `exported_*` label exists, the copy is a no-op.
    for (const label of WORKLOAD_LABELS.filter((name) => metric.labels.includes(name)))
      expr = `label_replace(${expr}, "${label}", "$1", "${EXPORTED_PREFIX}${label}", "(.+)")`;
    return expr;
  }

  /**
   * The inventory as the collector exports it (one `fleet_inventory_image_info` per enabled image),
   * deduplicated across collector pods and scrape targets. Exporter series are always joined with
   * it, so Pushgateway groups of removed images count for nothing.
   */
  get inventory() {
    const info = this.series(METRICS.inventoryImageInfo);
    return {
      /** (image, cronjob) pairs: scope for Pushgateway series. */
      byCronjob: `group ${this.by(L.image, L.cronjob)} (${info})`,
      /** (image, cronjob, team): scope and team for Pushgateway series. */
      byCronjobTeam: `group ${this.by(L.image, L.cronjob, L.team)} (${info})`,
      /** (image, team): team of per-image collector series. synth refuses two teams for one repository. */
      byImageTeam: `group ${this.by(L.image, L.team)} (${info})`,
      byImage: `group ${this.by(L.image)} (${info})`,
    } as const;
  }

  /**
   * `0` while the collector reports (it exports the inventory once pods, reports and the inventory
   * are listed), nothing while it is down: `count(...) or q.collectorZero` reads 0 only when this
   * fleet's collector looked and found nothing, and is absent ("No data") when it cannot look.
   * (`or vector(0)` would show a reassuring 0 with the collector down.)
   */
  get collectorZero(): string {
    return `0 * ${this.agg('group', this.series(METRICS.inventoryImageInfo))}`;
  }

  /**
   * A series of the generated Pushgateway's own scrape (its `up`, its `process_start_time_seconds`):
   * its target carries the exporter selector's labels (it runs in the fleet namespace) but its own
   * scrape job, the Service name.
   */
  readonly pushgatewaySelf = (name: string): string =>
    sel(name, { ...this.selectors.exporter, [L.job]: JOBS.pushgateway });

  /** Keeps series of inventoried CronJobs only (`and on (image, cronjob)`). */
  readonly inInventory = (expr: string): string =>
    `(${expr} and ${this.on(L.image, L.cronjob)} ${this.inventory.byCronjob})`;

  /** Adds the owning team to per-(image, cronjob) series; drops series of removed CronJobs. */
  readonly withCronjobTeam = (expr: string): string =>
    `(${expr}) * ${this.on(L.image, L.cronjob)} group_left (${L.team}) ${this.inventory.byCronjobTeam}`;

  /** Adds the owning team to per-image series; drops series of images not in the inventory. */
  readonly withImageTeam = (expr: string): string =>
    `(${expr}) * ${this.on(L.image)} group_left (${L.team}) ${this.inventory.byImageTeam}`;

  /** Per-image schedule interval plus `extraSeconds` (the collector exports the interval). */
  readonly intervalPlus = (extraSeconds: number, multiple = 1): string => {
    const interval = `max ${this.by(L.image)} (${this.series(METRICS.inventoryScheduleIntervalSeconds)})`;
    return multiple === 1
      ? `(${interval} + ${extraSeconds})`
      : `(${multiple} * ${interval} + ${extraSeconds})`;
  };
}
