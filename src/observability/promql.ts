/**
 * PromQL syntax helpers shared by the concerns: grouping clauses, selectors, label copies and
 * duration literals (the fleet-scoped series and inventory joins are queries.ts's). Only PromQL that
 * Prometheus 2.42 evaluates is used (e.g. no `limitk`, no rule-group labels): promtool 2.42 checks it.
 */

/** Label matchers: label name -> value. */
export type Matchers = Readonly<Record<string, string>>;

/** A PromQL string literal: PromQL double-quoted strings take Go's escapes, a superset of JSON's. */
function quote(value: string): string {
  return JSON.stringify(value);
}

/** `by (a, b)` */
export function by(...labels: readonly string[]): string {
  return `by (${labels.join(', ')})`;
}

/** `on (a, b)` */
export function on(...labels: readonly string[]): string {
  return `on (${labels.join(', ')})`;
}

/**
 * `metric{label="value", ..., label=~"regex"}`; values are quoted (selector values come from the
 * inventory). `moreRegex`: further regex matchers, which may name a label of `regex` again (a
 * series must match both).
 */
export function sel(
  metric: string,
  matchers: Matchers = {},
  regex: Matchers = {},
  ...moreRegex: readonly Matchers[]
): string {
  const parts = [
    ...Object.entries(matchers).map(([name, value]) => `${name}=${quote(value)}`),
    ...[regex, ...moreRegex].flatMap((set) =>
      Object.entries(set).map(([name, value]) => `${name}=~${quote(value)}`),
    ),
  ];
  return parts.length === 0 ? metric : `${metric}{${parts.join(', ')}}`;
}

/** `label_replace(expr, "dst", "$1", "src", "(.*)")`: copies a label. */
export function copyLabel(expr: string, dst: string, src: string): string {
  return `label_replace(${expr}, "${dst}", "$1", "${src}", "(.*)")`;
}

/** A Prometheus duration literal in the largest unit that divides it (`1d`, `26h`, `90m`). Whole seconds only. */
export function duration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new Error(`duration: ${seconds} is not a whole number of seconds`);
  if (seconds === 0) return '0s';
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
