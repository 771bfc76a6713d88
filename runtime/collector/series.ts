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

/**
 * A formatted label set, `{a="x",b="y"}`, whole or in two parts that are concatenated when
 * rendered: series with many siblings share their common part (e.g. `image=...,digest=...}` of
 * every CVE of one digest), which keeps tens of thousands of series to a few MB.
 */
export type Labels = string | readonly [string, string];

export interface Series {
  readonly labels: Labels;
  value: SeriesValue;
  /** ms since the epoch when the series appeared. */
  readonly since: number;
}

export type LabelValues<D extends MetricDef> = Readonly<Record<D['labels'][number], string>>;

/** `{a="x",b="y"}` in the metric's label order, escaped as the text format requires. */
export function formatLabels<D extends MetricDef>(def: D, values: LabelValues<D>): string {
  if (def.labels.length === 0) return '';
  const parts: string[] = ['{'];
  for (const label of def.labels)
    parts.push(
      label,
      '="',
      escapeLabelValue((values as Readonly<Record<string, string>>)[label]!),
      '",',
    );
  parts[parts.length - 1] = '"}';
  // join() yields one flat string; `+=` or a template would keep a rope of cons cells per series alive.
  return parts.join('');
}

/**
 * The label set split in two after the first `split` labels: `{a="x",` and `b="y"}`. `share`
 * (e.g. an interning function) lets equal parts be one string.
 */
export function formatLabelParts<D extends MetricDef>(
  def: D,
  values: LabelValues<D>,
  split: number,
  share: (part: string) => string = (p) => p,
): readonly [string, string] {
  const head: string[] = ['{'];
  const tail: string[] = [];
  def.labels.forEach((label, i) =>
    (i < split ? head : tail).push(
      label,
      '="',
      escapeLabelValue((values as Readonly<Record<string, string>>)[label]!),
      '",',
    ),
  );
  tail[tail.length - 1] = '"}';
  return [share(head.join('')), share(tail.join(''))];
}

/** The label set as one string. */
export function labelsText(labels: Labels): string {
  return typeof labels === 'string' ? labels : labels[0] + labels[1];
}

function escapeLabelValue(value: string): string {
  return /[\\\n"]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
    : value;
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
  private readonly groups = new Map<string, readonly Series[]>();
  private readonly header: string;

  constructor(readonly def: MetricDef) {
    this.header = `# HELP ${def.name} ${escapeHelp(def.help)}\n# TYPE ${def.name} ${def.type}\n`;
  }

  /** Replaces every series of `group` (none: deletes the group). */
  replaceGroup(group: string, series: Iterable<Series>): void {
    const list = Array.isArray(series) ? (series as Series[]) : [...series];
    if (list.length === 0) this.groups.delete(group);
    else this.groups.set(group, list);
  }

  /** Replaces `group` with one series (or deletes the group when `value` is undefined). */
  setSingle(group: string, labels: string, value: SeriesValue | undefined, now: number): void {
    if (value === undefined) {
      this.groups.delete(group);
      return;
    }
    const current = this.groups.get(group);
    if (current?.length === 1 && current[0]!.labels === labels) current[0]!.value = value;
    else this.groups.set(group, [{ labels, value, since: now }]);
  }

  getGroup(group: string): readonly Series[] | undefined {
    return this.groups.get(group);
  }

  /** The series of `group` by their label text (for carrying state over a recomputation). */
  groupByLabels(group: string): Map<string, Series> {
    return new Map((this.groups.get(group) ?? []).map((s) => [labelsText(s.labels), s]));
  }

  deleteGroup(group: string): void {
    this.groups.delete(group);
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  get size(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.length;
    return n;
  }

  /**
   * The metric in the Prometheus text format (HELP, TYPE, one line per series), in chunks of
   * about `chunkBytes`: a scrape of tens of MB never exists as one string.
   */
  *render(nowMs: number, chunkBytes = 64 * 1024): Generator<string> {
    const name = this.def.name;
    let lines: string[] = [this.header];
    let bytes = this.header.length;
    for (const group of this.groups.values()) {
      for (const series of group) {
        const { labels } = series;
        const text = typeof labels === 'string' ? labels : labels[0] + labels[1];
        const line = `${name}${text} ${formatValue(valueAt(series.value, nowMs))}\n`;
        lines.push(line);
        bytes += line.length;
        if (bytes >= chunkBytes) {
          yield lines.join('');
          lines = [];
          bytes = 0;
        }
      }
    }
    if (lines.length > 0) yield lines.join('');
  }
}
