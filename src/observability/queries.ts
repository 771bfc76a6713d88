/**
 * The one place that knows which series in Prometheus are this fleet's. Two copa-fleet
 * installations scraped by one Prometheus (two fleets, staging and production), or another
 * exporter with a same-named metric, must never read each other's series: every rule and panel
 * expression reads its inputs through `FleetQueries`, which puts the fleet's selector on each one
 * (kubernetes-mixin's `%(kubeStateMetricsSelector)s`, typed):
 *
 * - `q.series(METRICS.x, matchers?)`: a vocabulary metric with the selector of its `source`
 *   (collector or exporter, from src/shared/metrics.ts); `q.series(UPSTREAM.up)` and
 *   `q.series(UPSTREAM.pushTimeSeconds)` likewise.
 * - `q.record(RECORDS.x, matchers?)`: a recording rule's output; every record carries the
 *   fleet's `namespace` as a rule label (rules.ts), as prometheus-operator's
 *   `enforcedNamespaceLabel` would add it.
 * - the inventory joins (`q.inventory.*`, `q.inInventory`, `q.withCronjobTeam`, ...), built on those.
 */
import type { Fleet } from '../model/fleet.ts';
import { JOBS, L, METRICS, UPSTREAM_METRICS } from '../shared/metrics.ts';
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
  pushTimeSeconds: { name: UPSTREAM_METRICS.pushTimeSeconds, source: 'exporter', labels: [L.cronjob] },
} as const satisfies Record<string, SourcedMetric>;

export interface FleetSelectors {
  /** On the collector's series and its `up`. */
  readonly collector: Matchers;
  /** On the exporters' series (as the Pushgateway's scrape stores them) and `push_time_seconds`. */
  readonly exporter: Matchers;
  /** On the fleet's own recording rules' outputs (their `namespace` rule label). */
  readonly records: Matchers;
}

/**
 * The defaults are the target labels prometheus-operator gives a ServiceMonitor's targets: `job` =
 * the Service name, `namespace` = the Service's namespace. The collector and the generated
 * Pushgateway run in the fleet namespace; an external Pushgateway's namespace is unknown, so the
 * exporter default is then `job` alone (the pushed grouping key, kept by honorLabels).
 */
export function fleetSelectors(fleet: Fleet): FleetSelectors {
  const { namespace, inventory } = fleet;
  const configured = inventory.prometheus.selectors;
  const exporterDefault: Matchers = inventory.defaults.pushgateway.deploy ? { [L.job]: JOBS.exporter, [L.namespace]: namespace } : { [L.job]: JOBS.exporter };
  return {
    collector: configured.collector ?? { [L.job]: JOBS.collector, [L.namespace]: namespace },
    exporter: configured.exporter ?? exporterDefault,
    records: { [L.namespace]: namespace },
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

function without(matchers: Matchers, names: readonly string[]): Matchers {
  return Object.fromEntries(Object.entries(matchers).filter(([name]) => !names.includes(name)));
}

export class FleetQueries {
  constructor(readonly selectors: FleetSelectors) {}

  /**
   * `metric{<its source's selector>, matchers, regex}`. A collector series that names a workload
   * (a `namespace` label in the vocabulary) is read through `workload()` instead.
   */
  readonly series = (metric: SourcedMetric, matchers: Matchers = {}, regex: Matchers = {}): string => {
    if (metric.source === 'collector' && metric.labels.includes(L.namespace)) return this.workload(metric, matchers, regex);
    return sel(metric.name, { ...this.selectors[metric.source], ...matchers }, regex);
  };

  /** This fleet's output of a recording rule. */
  readonly record = (name: RecordName, matchers: Matchers = {}): string => sel(name, { ...this.selectors.records, ...matchers });

  /**
   * A collector workload series of this fleet, read the same whether or not the scrape honours its
   * labels. Scope: its target's `instance` must be one of this fleet's collector targets (`up` with
   * the full collector selector: `up` always carries the target's own labels), the other selector
   * matchers apply directly. Labels: without honorLabels, Prometheus moves the workload's
   * `namespace` etc. to `exported_namespace` and puts the collector pod's there; the label_replaces
   * copy them back (where the scrape honours them, no `exported_*` label exists and `(.+)` changes nothing).
   */
  private workload(metric: SourcedMetric, matchers: Matchers, regex: Matchers): string {
    const { collector } = this.selectors;
    const raw = sel(metric.name, { ...without(collector, WORKLOAD_LABELS), ...matchers }, regex);
    const targets = `group ${by(L.instance)} (${sel(UPSTREAM.up.name, collector)})`;
    let expr = `(${raw} and ${on(L.instance)} ${targets})`;
    for (const label of WORKLOAD_LABELS) expr = `label_replace(${expr}, "${label}", "$1", "${EXPORTED_PREFIX}${label}", "(.+)")`;
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
      byCronjob: `group ${by(L.image, L.cronjob)} (${info})`,
      /** (image, cronjob, team): scope and team for Pushgateway series. */
      byCronjobTeam: `group ${by(L.image, L.cronjob, L.team)} (${info})`,
      /** (image, team): team of per-image collector series. synth refuses two teams for one repository. */
      byImageTeam: `group ${by(L.image, L.team)} (${info})`,
      byImage: `group ${by(L.image)} (${info})`,
    } as const;
  }

  /**
   * `0` while the collector reports (it exports the inventory once pods, reports and the inventory
   * are listed), nothing while it is down: `count(...) or q.collectorZero` reads 0 only when this
   * fleet's collector looked and found nothing, and is absent ("No data") when it cannot look.
   * (`or vector(0)` would show a reassuring 0 with the collector down.)
   */
  get collectorZero(): string {
    return `0 * group(${this.series(METRICS.inventoryImageInfo)})`;
  }

  /**
   * A series of the generated Pushgateway's own scrape (its `up`, its `process_start_time_seconds`):
   * its target carries the exporter selector's labels (it runs in the fleet namespace) but its own
   * scrape job, the Service name.
   */
  readonly pushgatewaySelf = (name: string): string => sel(name, { ...this.selectors.exporter, [L.job]: JOBS.pushgateway });

  /** Keeps series of inventoried CronJobs only (`and on (image, cronjob)`). */
  readonly inInventory = (expr: string): string => `(${expr} and ${on(L.image, L.cronjob)} ${this.inventory.byCronjob})`;

  /** Adds the owning team to per-(image, cronjob) series; drops series of removed CronJobs. */
  readonly withCronjobTeam = (expr: string): string => `(${expr}) * ${on(L.image, L.cronjob)} group_left (${L.team}) ${this.inventory.byCronjobTeam}`;

  /** Adds the owning team to per-image series; drops series of images not in the inventory. */
  readonly withImageTeam = (expr: string): string => `(${expr}) * ${on(L.image)} group_left (${L.team}) ${this.inventory.byImageTeam}`;

  /** Per-image schedule interval plus `extraSeconds` (the collector exports the interval). */
  readonly intervalPlus = (extraSeconds: number, multiple = 1): string => {
    const interval = `max ${by(L.image)} (${this.series(METRICS.inventoryScheduleIntervalSeconds)})`;
    return multiple === 1 ? `(${interval} + ${extraSeconds})` : `(${multiple} * ${interval} + ${extraSeconds})`;
  };
}
