/**
 * The rule layout (promql-format.ts): every generated expression, formatted, parses to the same
 * tree as the one-line expression (the Prometheus grammar, @prometheus-io/lezer-promql), has the
 * same tokens in the same order (only whitespace differs), and breaks where Prometheus' own
 * formatter breaks. promtool check/test rules run on the formatted file (rules-scenarios.test.ts).
 */
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { formatPromql } from '../../src/observability/promql-format.ts';
import { observability } from './support/fixture.ts';

/** The parse tree: node names, and the text of every leaf. */
function tree(expr: string): string[] {
  const out: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      out.push(
        node.node.firstChild === null
          ? `${node.name}:${expr.slice(node.from, node.to)}`
          : node.name,
      );
    },
    leave: () => {
      out.push('<');
    },
  });
  return out;
}

const raw = observability.concerns.flatMap((concern) => [
  ...concern.records.map((rule) => [`${concern.name}: ${rule.record}`, rule.expr] as const),
  ...concern.alerts.map(
    (rule, index) => [`${concern.name}: ${rule.alert} #${index}`, rule.expr] as const,
  ),
]);

describe('formatted rule expressions', () => {
  it('are what the rule groups hold', () => {
    const generated = observability.groups.flatMap((group) =>
      (group.rules ?? []).map((rule) => String(rule.expr)),
    );
    // Sorted: records with their own interval sit in a group after their concern's (rules.ts).
    expect([...generated].sort()).toEqual(raw.map(([, expr]) => formatPromql(expr)).sort());
    expect(generated.filter((expr) => expr.includes('\n')).length).toBeGreaterThan(15);
  });

  it.each(raw)(
    '%s: parses to the same tree, with the same tokens, deterministically',
    (_name, expr) => {
      const formatted = formatPromql(expr);
      expect(tree(formatted)).toEqual(tree(expr));
      // Our string literals contain no whitespace, so "only whitespace changed" is exact here.
      expect(formatted.replace(/\s+/g, '')).toBe(expr.replace(/\s+/g, ''));
      expect(formatPromql(expr)).toBe(formatted);
    },
  );

  it.each(raw)(
    '%s: lines of at most 100 characters, except one unbreakable (range) selector',
    (_name, expr) => {
      for (const line of formatPromql(expr).split('\n')) {
        if (line.length > 100)
          expect(line.trim(), line).toMatch(/^[a-z_:]+\{[^{}]*\}(\[\w+\])?( offset \w+)?,?$/);
      }
    },
  );
});

describe('formatPromql', () => {
  const long = (name: string) =>
    `${name}{job="copa-fleet-collector", namespace="a-rather-long-fleet-namespace-name"}`;

  it('leaves an expression that fits on one line as it is', () => {
    expect(formatPromql('sum by (image) (rate(x[5m])) > 0')).toBe(
      'sum by (image) (rate(x[5m])) > 0',
    );
  });

  it('breaks an aggregation inside its parentheses and a binary operator onto its own line, operands one level deeper', () => {
    expect(
      formatPromql(
        `max by (image, severity) (${long('image_cve_sla_breaches')}) > on (image) group_left () ${long('fleet_inventory_sla_hours')}`,
      ),
    ).toBe(
      [
        '  max by (image, severity) (',
        `    ${long('image_cve_sla_breaches')}`,
        '  )',
        '> on (image) group_left ()',
        `  ${long('fleet_inventory_sla_hours')}`,
      ].join('\n'),
    );
  });

  it('keeps a chain of one operator on one level, and function arguments one per line', () => {
    expect(
      formatPromql(
        `${long('a')} or ${long('b')} or label_replace(${long('c')}, "x", "$1", "y", "(.*)")`,
      ),
    ).toBe(
      [
        `  ${long('a')}`,
        'or',
        `  ${long('b')}`,
        'or',
        '  label_replace(',
        `    ${long('c')},`,
        '    "x",',
        '    "$1",',
        '    "y",',
        '    "(.*)"',
        '  )',
      ].join('\n'),
    );
  });

  it('keeps an offset after what it modifies', () => {
    const formatted = formatPromql(
      `sum by (image) (${long('a')} offset 7d and on (image, cronjob) group by (image, cronjob) (${long('b')}))`,
    );
    expect(formatted).toContain(`${long('a')} offset 7d\n`);
    expect(formatted.replace(/\s+/g, '')).toBe(
      `sum by (image) (${long('a')} offset 7d and on (image, cronjob) group by (image, cronjob) (${long('b')}))`.replace(
        /\s+/g,
        '',
      ),
    );
  });

  it('refuses what does not parse', () => {
    expect(() => formatPromql('sum by (image (x)')).toThrow(/not valid PromQL/);
  });
});
