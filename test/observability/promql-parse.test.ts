/**
 * Fast feedback: every PromQL expression of the rules and of the dashboard parses with the
 * Prometheus project's own grammar (@prometheus-io/lezer-promql), and reads only names of the
 * metric vocabulary (src/shared/metrics.ts): no metric, record or label name typed by hand.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { L, METRICS, RECORDS, UPSTREAM_METRICS } from '../../src/shared/metrics.ts';
import { observability } from './support/fixture.ts';
import { type NamedExpr, panelExprs, ruleExprs } from './support/queries.ts';

interface Parsed {
  readonly errors: string[];
  readonly metrics: string[];
  readonly labels: string[];
}

function parse(expr: string): Parsed {
  const errors: string[] = [];
  const metrics: string[] = [];
  const labels: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (node) => {
      const text = expr.slice(node.from, node.to);
      if (node.type.isError)
        errors.push(
          `at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`,
        );
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        metrics.push(text);
      if (node.name === 'LabelName') labels.push(text);
      if (node.name === 'UnquotedLabelMatcher' && text.startsWith('__name__')) {
        metrics.push(
          ...text
            .replace(/^__name__=~?"/, '')
            .replace(/"$/, '')
            .split('|'),
        );
      }
    },
  });
  return { errors, metrics, labels };
}

const knownMetrics = new Set<string>([
  ...Object.values(METRICS).map((metric) => metric.name),
  ...Object.values(RECORDS),
  ...Object.values(UPSTREAM_METRICS),
]);
const knownLabels = new Set<string>([...Object.values(L), '__name__']);

const rules = ruleExprs(observability);
const panels = panelExprs(observability.dashboard);

describe.each([
  ['rule', rules],
  ['dashboard', panels],
] as const)('%s expressions', (_kind, exprs: readonly NamedExpr[]) => {
  it('exist', () => {
    expect(exprs.length).toBeGreaterThan(10);
  });

  it.each(exprs.map((named) => [named.source, named.expr] as const))(
    '%s parses without errors',
    (_source, expr) => {
      expect(parse(expr).errors).toEqual([]);
    },
  );

  it('read only vocabulary metrics and labels', () => {
    const seen = new Set<string>();
    for (const { source, expr } of exprs) {
      const parsed = parse(expr);
      parsed.metrics.forEach((name) => seen.add(name));
      expect(
        parsed.metrics.filter((name) => !knownMetrics.has(name)),
        source,
      ).toEqual([]);
      expect(
        parsed.labels.filter((name) => !knownLabels.has(name)),
        source,
      ).toEqual([]);
    }
    // The walk does see selectors, recorded series and __name__ regexes.
    expect(seen).toContain(METRICS.inventoryImageInfo.name);
    expect(seen.size).toBeGreaterThan(8);
  });
});

describe('the parse check', () => {
  it('reports a broken expression and an unknown metric', () => {
    expect(parse('sum by (image (copa_patch_success_total)').errors).not.toEqual([]);
    expect(parse('rate(copa_patch_sucess_total[5m])').metrics).toEqual(['copa_patch_sucess_total']);
  });

  it('sees no Grafana variable left in panel queries', () => {
    for (const { source, expr } of panels) expect(expr, source).not.toMatch(/\$(\{|__)/);
  });
});
