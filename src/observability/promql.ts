/**
 * PromQL building blocks shared by the concerns: the inventory joins and duration literals. Every
 * metric and label name comes from the vocabulary (src/shared/metrics.ts). Only PromQL that
 * Prometheus 2.42 evaluates is used (e.g. no `limitk`, no rule-group labels): promtool 2.42 checks it.
 */
import { L, METRICS } from '../shared/metrics.ts';

const { image, cronjob, team } = L;
const info = METRICS.inventoryImageInfo.name;

/** `by (a, b)` */
export function by(...labels: readonly string[]): string {
  return `by (${labels.join(', ')})`;
}

/** `on (a, b)` */
export function on(...labels: readonly string[]): string {
  return `on (${labels.join(', ')})`;
}

/** `metric{label="value", ...}` (values are ours, never user input: no escaping needed beyond quotes). */
export function sel(metric: string, matchers: Readonly<Record<string, string>> = {}, regex: Readonly<Record<string, string>> = {}): string {
  const parts = [
    ...Object.entries(matchers).map(([name, value]) => `${name}="${value}"`),
    ...Object.entries(regex).map(([name, value]) => `${name}=~"${value}"`),
  ];
  return parts.length === 0 ? metric : `${metric}{${parts.join(', ')}}`;
}

/** `label_replace(expr, "dst", "$1", "src", "(.*)")`: copies a label. */
export function copyLabel(expr: string, dst: string, src: string): string {
  return `label_replace(${expr}, "${dst}", "$1", "${src}", "(.*)")`;
}

/** Prefix Prometheus gives a scraped label that collides with a target label (honor_labels: false). */
const EXPORTED_PREFIX = 'exported_';

/**
 * A collector series that names a workload (`namespace`, `pod`, `container` labels), read the same
 * whether or not the scrape honours its labels: without `honorLabels`, Prometheus moves them to
 * `exported_namespace` etc. and puts the collector's own pod there; this copies them back. Where
 * the scrape honours them, no `exported_*` label exists and the `(.+)` regex changes nothing.
 */
export function workloadSeries(metric: string): string {
  let expr = metric;
  for (const label of [L.namespace, L.pod, L.container]) {
    expr = `label_replace(${expr}, "${label}", "$1", "${EXPORTED_PREFIX}${label}", "(.+)")`;
  }
  return expr;
}

/** A Prometheus duration literal in the largest unit that divides it (`1d`, `26h`, `90m`). Whole seconds only. */
export function duration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`duration: ${seconds} is not a whole number of seconds`);
  if (seconds === 0) return '0s';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * The inventory as the collector exports it (one `fleet_inventory_image_info` per enabled image),
 * deduplicated across collector pods and scrape targets. Exporter series are always joined with
 * it, so Pushgateway groups of removed images count for nothing.
 */
export const INVENTORY = {
  /** (image, cronjob) pairs: scope for Pushgateway series. */
  byCronjob: `group ${by(image, cronjob)} (${info})`,
  /** (image, cronjob, team): scope and team for Pushgateway series. */
  byCronjobTeam: `group ${by(image, cronjob, team)} (${info})`,
  /** (image, team): team of per-image collector series. synth refuses two teams for one repository. */
  byImageTeam: `group ${by(image, team)} (${info})`,
  byImage: `group ${by(image)} (${info})`,
} as const;

/**
 * `0` while the collector reports (it exports the inventory once pods, reports and the inventory
 * are listed), nothing while it is down: `count(...) or collectorZero` reads 0 only when the
 * collector looked and found nothing, and is absent ("No data") when it cannot look. (`or
 * vector(0)` would show a reassuring 0 with the collector down.)
 */
export const collectorZero = `0 * group(${info})`;

/** Keeps series of inventoried CronJobs only (`and on (image, cronjob)`). */
export function inInventory(expr: string): string {
  return `(${expr} and ${on(image, cronjob)} ${INVENTORY.byCronjob})`;
}

/** Adds the owning team to per-(image, cronjob) series; drops series of removed CronJobs. */
export function withCronjobTeam(expr: string): string {
  return `(${expr}) * ${on(image, cronjob)} group_left (${team}) ${INVENTORY.byCronjobTeam}`;
}

/** Adds the owning team to per-image series; drops series of images not in the inventory. */
export function withImageTeam(expr: string): string {
  return `(${expr}) * ${on(image)} group_left (${team}) ${INVENTORY.byImageTeam}`;
}

/** Per-image schedule interval plus `extraSeconds` (the collector exports the interval). */
export function intervalPlus(extraSeconds: number, multiple = 1): string {
  const interval = `max ${by(image)} (${METRICS.inventoryScheduleIntervalSeconds.name})`;
  return multiple === 1 ? `(${interval} + ${extraSeconds})` : `(${multiple} * ${interval} + ${extraSeconds})`;
}
