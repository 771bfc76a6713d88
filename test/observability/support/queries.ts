/**
 * Every PromQL expression the outputs contain: rule expressions, and dashboard panel queries with
 * Grafana's variables replaced the way Grafana would for a 1-day view over 5-minute scrapes.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { Observability } from '../../../src/observability/assemble.ts';

export interface NamedExpr {
  /** Where it comes from (rule or panel), for failure messages. */
  readonly source: string;
  readonly expr: string;
}

/** Grafana's built-in interval variables, as Grafana would expand them (5 m scrapes, 1 d range). */
const GRAFANA_VARIABLES: Readonly<Record<string, string>> = {
  __rate_interval: '20m',
  __interval: '5m',
  __range: '1d',
};

export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(
    /\$\{?(__[a-z_]+)\}?/g,
    (match, name: string) => GRAFANA_VARIABLES[name] ?? match,
  );
}

export function ruleExprs(observability: Observability): NamedExpr[] {
  return observability.groups.flatMap((group) =>
    (group.rules ?? []).map((rule) => ({
      source: `${group.name}: ${rule.alert ?? rule.record}`,
      expr: String(rule.expr),
    })),
  );
}

interface TargetLike {
  readonly expr?: string;
  readonly refId?: string;
}

/** Panels of the dashboard (rows excluded). */
export function panelsOf(model: dashboard.Dashboard): dashboard.Panel[] {
  return (model.panels ?? []).filter((panel): panel is dashboard.Panel => panel.type !== 'row');
}

export function panelExprs(model: dashboard.Dashboard): NamedExpr[] {
  return panelsOf(model).flatMap((panel) =>
    ((panel.targets ?? []) as TargetLike[]).map((target) => ({
      source: `panel "${panel.title}" ${target.refId ?? ''}`.trim(),
      expr: substituteGrafanaVariables(target.expr ?? ''),
    })),
  );
}
