/**
 * The expressions behind the recording rules and alerts the report reuses, taken from the concerns
 * that own them with the fleet's own settings (one source of truth: when a rule's expression or the
 * fleet's selectors change, the report follows).
 *
 * Why the report evaluates the expressions on raw series instead of reading the recorded series:
 * a recorded series exists only from the moment the rule was deployed, carries whatever
 * expression was deployed then, and is absent from blocks backfilled with
 * `promtool tsdb create-blocks-from openmetrics` (backfilling it too would need
 * `create-blocks-from rules`, a second pass against a running Prometheus). The raw series the
 * exporter and the collector write are the evidence; evaluated at any past time they give the
 * number the rule would have recorded.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { concernsFor } from '../observability/assemble.ts';
import type { ObservabilitySettings } from '../observability/settings.ts';
import type { AlertName, RecordName } from '../observability/types.ts';

/** The rules of one fleet, with every reference to one of its records replaced by that record's expression. */
export class RecordedExpressions {
  /** Each record's rules: one, or several that write disjoint series told apart by static labels (shards). */
  private readonly records: ReadonlyMap<string, readonly RecordRule[]>;
  private readonly alerts: ReadonlyMap<string, readonly string[]>;

  constructor(private readonly settings: ObservabilitySettings) {
    const concerns = concernsFor(settings);
    const records = new Map<string, RecordRule[]>();
    for (const rule of concerns.flatMap((concern) => concern.records))
      records.set(rule.record, [
        ...(records.get(rule.record) ?? []),
        { expr: rule.expr, labels: rule.labels ?? {} },
      ]);
    this.records = records;
    const alerts = new Map<string, string[]>();
    for (const rule of concerns.flatMap((concern) => concern.alerts))
      alerts.set(rule.alert, [...(alerts.get(rule.alert) ?? []), rule.expr]);
    this.alerts = alerts;
  }

  /**
   * The expression a recording rule evaluates, on raw series alone. A record written by several
   * rules (shards) is the union of their results, each with its static labels, as recorded.
   */
  record(record: RecordName): string {
    const rules = this.records.get(record);
    if (rules === undefined) throw new Error(`no concern records ${record}`);
    return this.union(rules, false);
  }

  private union(rules: readonly RecordRule[], fleetLabels: boolean): string {
    const one = (rule: RecordRule) => {
      const expr = this.inline(rule.expr);
      const labels = { ...rule.labels, ...(fleetLabels ? this.settings.q.selectors.records : {}) };
      return Object.keys(labels).length === 0 ? expr : withLabels(expr, labels);
    };
    const [first, ...rest] = rules;
    if (first === undefined) throw new Error('no rule to inline');
    return rest.length === 0
      ? one(first)
      : `(${[first, ...rest].map((r) => `(${one(r)})`).join(' or ')})`;
  }

  /** The expression of the (single) alerting rule `alert`, on raw series alone. */
  alert(alert: AlertName): string {
    const exprs = this.alerts.get(alert) ?? [];
    if (exprs.length !== 1)
      throw new Error(`expected one rule for ${alert}, found ${exprs.length}`);
    return this.inline(exprs[0]!);
  }

  /**
   * Replaces each selector of a record (found in the parse tree, so a name inside a string or a
   * longer name is never touched) by `(its expression)` with the record's rule labels set, as
   * Prometheus sets them on the recorded series (rules.ts: the fleet's record selector). Only the
   * form `q.record(name)` writes, this fleet's record at the evaluation time, can be inlined: a
   * selector with other matchers, a range or a modifier would need more than a substitution, so
   * it is refused rather than inlined wrongly.
   */
  inline(expr: string): string {
    const references: Array<{ from: number; to: number; rules: readonly RecordRule[] }> = [];
    parser.parse(expr).iterate({
      enter: (node) => {
        if (node.type.isError) throw new Error(`not valid PromQL at ${node.from}: ${expr}`);
        if (node.name !== 'VectorSelector') return;
        const name = node.node.getChild('Identifier');
        const metric = name === null ? '' : expr.slice(name.from, name.to);
        const rules = this.records.get(metric);
        if (rules === undefined) return false;
        const extra = this.checkReference(expr, node.node);
        // Matchers beyond the fleet's selector pick the rules whose static labels they name.
        const picked = rules.filter((rule) =>
          [...extra].every(([label, value]) => rule.labels[label] === value),
        );
        if (picked.length === 0)
          throw new Error(
            `cannot inline ${expr.slice(node.from, node.to)}: expected exactly this fleet's record selector ${JSON.stringify(this.settings.q.selectors.records)}, or with labels a rule of ${metric} sets (a shard)`,
          );
        references.push({ from: node.from, to: node.to, rules: picked });
        return false;
      },
    });
    let result = expr;
    for (const { from, to, rules } of references.reverse())
      result = `${result.slice(0, from)}${this.union(rules, true)}${result.slice(to)}`;
    return result;
  }

  /** Checks that a record reference can be inlined; returns its matchers beyond the fleet's selector. */
  private checkReference(expr: string, selector: SyntaxNode): Map<string, string> {
    const text = expr.slice(selector.from, selector.to);
    const matchers = new Map<string, string>();
    for (
      let matcher = selector.getChild('LabelMatchers')?.firstChild ?? null;
      matcher !== null;
      matcher = matcher.nextSibling
    ) {
      const label = matcher.getChild('LabelName');
      const op = matcher.getChild('MatchOp');
      const value = matcher.getChild('StringLiteral');
      const quoted = value === null ? '' : expr.slice(value.from, value.to);
      if (
        label === null ||
        op === null ||
        !quoted.startsWith('"') ||
        expr.slice(op.from, op.to) !== '='
      )
        throw new Error(`cannot inline ${text}: only equality matchers with double-quoted values`);
      matchers.set(expr.slice(label.from, label.to), JSON.parse(quoted) as string);
    }
    const expected = Object.entries(this.settings.q.selectors.records);
    if (expected.some(([label, value]) => matchers.get(label) !== value)) {
      throw new Error(
        `cannot inline ${text}: expected exactly this fleet's record selector ${JSON.stringify(this.settings.q.selectors.records)}`,
      );
    }
    for (const [label] of expected) matchers.delete(label);
    // lezer attaches `[range]`, `offset` and `@` to the enclosing expression: look at what follows.
    if (/^\s*(\[|offset\b|@)/.test(expr.slice(selector.to)))
      throw new Error(`cannot inline ${text}: a range or modifier follows it`);
    return matchers;
  }
}

interface RecordRule {
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** `(expr)` with rule labels, which replace labels of the same name, as on a recorded series. */
function withLabels(expr: string, labels: Readonly<Record<string, string>>): string {
  let result = `(${expr})`;
  for (const [label, value] of Object.entries(labels))
    result = `label_replace(${result}, ${JSON.stringify(label)}, ${JSON.stringify(value)}, "", "")`;
  return result;
}
