/**
 * Series kept ready for the scrape. Each metric's series are grouped (by image, namespace or
 * CronJob): an event recomputes only the groups it affects and replaces them whole, so series of
 * pods, images or CVEs that disappeared disappear with them.
 *
 * A scrape must stay cheap with tens of thousands of series (one per running digest x CVE): the
 * label set of a series is formatted once, when the series is created, and a scrape only
 * concatenates `name + labels + value`. prom-client's registry re-escapes and re-joins every
 * label of every series on every scrape (about 15x slower at 40,000 series), so it serves only
 * the handful of health metrics; the stores render the same text format themselves.
 *
 * Values that grow with time (ages) reference their origin and are computed at scrape time.
 */
import type { MetricDef } from '../../src/shared/metrics.ts';

/** Where an age is counted from (Unix seconds). Mutable: the SLA clock's entries are origins. */
export interface AgeOrigin {
  readonly firstSeen: number;
}

/** A number, or an age: (now - origin) / unitSeconds, never negative. */
export type SeriesValue = number | { readonly origin: AgeOrigin; readonly unitSeconds: number };

export interface Series {
  /** The formatted label set, `{a="x",b="y"}` (also the series' key in its group). */
  readonly labels: string;
  value: SeriesValue;
  /** ms since the epoch when the series appeared. */
  readonly since: number;
}

export type LabelValues<D extends MetricDef> = Readonly<Record<D['labels'][number], string>>;

/** `{a="x",b="y"}` in the metric's label order, escaped as the text format requires. */
export function formatLabels<D extends MetricDef>(def: D, values: LabelValues<D>): string {
  if (def.labels.length === 0) return '';
  let text = '{';
  for (let i = 0; i < def.labels.length; i++) {
    const label = def.labels[i]!;
    const value = (values as Readonly<Record<string, string>>)[label]!;
    text += `${i === 0 ? '' : ','}${label}="${escapeLabelValue(value)}"`;
  }
  return `${text}}`;
}

function escapeLabelValue(value: string): string {
  return /[\\\n"]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function valueAt(value: SeriesValue, nowMs: number): number {
  if (typeof value === 'number') return value;
  return Math.max(0, (nowMs / 1000 - value.origin.firstSeen) / value.unitSeconds);
}

export class SeriesStore {
  private readonly groups = new Map<string, Map<string, Series>>();
  private readonly header: string;

  constructor(readonly def: MetricDef) {
    this.header = `# HELP ${def.name} ${escapeHelp(def.help)}\n# TYPE ${def.name} ${def.type}\n`;
  }

  /** Replaces every series of `group` (an empty map deletes the group). */
  replaceGroup(group: string, series: Map<string, Series>): void {
    if (series.size === 0) this.groups.delete(group);
    else this.groups.set(group, series);
  }

  /** Replaces `group` with one series (or deletes the group when `value` is undefined). */
  setSingle(group: string, labels: string, value: SeriesValue | undefined, now: number): void {
    if (value === undefined) {
      this.groups.delete(group);
      return;
    }
    const existing = this.groups.get(group);
    const current = existing?.size === 1 ? existing.get(labels) : undefined;
    if (current !== undefined) current.value = value;
    else this.groups.set(group, new Map([[labels, { labels, value, since: now }]]));
  }

  getGroup(group: string): ReadonlyMap<string, Series> | undefined {
    return this.groups.get(group);
  }

  deleteGroup(group: string): void {
    this.groups.delete(group);
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  get size(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.size;
    return n;
  }

  /** The metric in the Prometheus text format (HELP, TYPE, one line per series). */
  render(nowMs: number): string {
    const name = this.def.name;
    const lines: string[] = [this.header];
    for (const group of this.groups.values()) {
      for (const series of group.values()) lines.push(`${name}${series.labels} ${formatValue(valueAt(series.value, nowMs))}\n`);
    }
    return lines.join('');
  }
}
