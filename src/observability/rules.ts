/**
 * Concerns -> Prometheus rule groups: one group per concern, its recording rules first (later rules
 * of a group see earlier results at the same evaluation time), then its alerts; records with their
 * own `interval` go to one more group per interval. Every record gets
 * the fleet's record selector as labels (`namespace` = the fleet namespace). Expressions are laid
 * out for reading (promql-format.ts). Every alert gets
 * its severity, `namespace` = the fleet namespace (so the AlertmanagerConfig's injected namespace
 * matcher routes it) and a `runbook_url`. The same groups feed the PrometheusRule and the plain
 * rule file.
 */
import type { IRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule';
import type { IRuleGroup } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RuleGroup';
import { L } from '../shared/metrics.ts';
import { formatPromql } from './promql-format.ts';
import type { ClusterScope } from './queries.ts';
import type { ObservabilitySettings } from './settings.ts';
import type {
  AlertDefinition,
  AlertName,
  Concern,
  RecordingRule,
  RuleGroupSuffix,
} from './types.ts';

/** Prefix of every rule group name. */
export const GROUP_PREFIX = 'copa-fleet';

/** Annotation keys (Prometheus / Alertmanager conventions). */
export const ANNOTATIONS = {
  summary: 'summary',
  description: 'description',
  runbookUrl: 'runbook_url',
} as const;

/** The runbook of an alert, relative to docs/runbooks/. */
export function runbookFile(alert: AlertName): string {
  return `${alert}.md`;
}

export function runbookUrl(settings: ObservabilitySettings, alert: AlertName): string {
  return `${settings.runbookBaseUrl}/${runbookFile(alert)}`;
}

function alertRule(settings: ObservabilitySettings, definition: AlertDefinition): IRule {
  return {
    alert: definition.alert,
    expr: formatPromql(definition.expr),
    ...(definition.for !== undefined && { for: definition.for }),
    labels: {
      [L.severity]: definition.severity,
      ...definition.labels,
      [L.namespace]: settings.namespace,
    },
    annotations: {
      [ANNOTATIONS.summary]: definition.summary,
      [ANNOTATIONS.description]: definition.description,
      [ANNOTATIONS.runbookUrl]: runbookUrl(settings, definition.alert),
    },
  };
}

/**
 * `{ group }` in a multi-cluster fleet's global rules, whose joins read every cluster's series
 * (the single-cluster groups stay within the budget whole): spread a rule over a group of its own.
 */
export function globalGroup(
  clusters: ClusterScope | undefined,
  group: RuleGroupSuffix,
): { readonly group?: RuleGroupSuffix } {
  return clusters === undefined ? {} : { group };
}

export function ruleGroups(
  settings: ObservabilitySettings,
  concerns: readonly Concern[],
): IRuleGroup[] {
  // The fleet's selector for records (queries.ts): two fleets' rules in one Prometheus write distinct series.
  const recordRule = (rule: RecordingRule): IRule => ({
    record: rule.record,
    expr: formatPromql(rule.expr),
    labels: { ...rule.labels, ...settings.q.selectors.records },
  });
  return concerns.flatMap((concern) => {
    // The concern's own group first, then its split-off groups in the order their rules come.
    const groups = new Map<string, IRule[]>([[concern.name, []]]);
    const add = (suffix: RuleGroupSuffix | undefined, rule: IRule) => {
      const name = suffix === undefined ? concern.name : `${concern.name}-${suffix}`;
      const rules = groups.get(name);
      if (rules === undefined) groups.set(name, [rule]);
      else rules.push(rule);
    };
    for (const rule of concern.records.filter((r) => r.interval === undefined))
      add(rule.group, recordRule(rule));
    for (const alert of concern.alerts) add(alert.group, alertRule(settings, alert));
    const split = [...groups].map(([name, rules]): IRuleGroup => ({
      name: `${GROUP_PREFIX}.${name}`,
      rules,
    }));
    // A group runs at one interval (the Prometheus rule-file format and the PrometheusRule CRD's
    // `interval`): `<concern>.every-<interval>`, and `...-<suffix>` for a record's own group there.
    const timed = new Map<string, IRuleGroup & { rules: IRule[] }>();
    for (const rule of concern.records) {
      if (rule.interval === undefined) continue;
      const name = `${GROUP_PREFIX}.${concern.name}.every-${rule.interval}${rule.group === undefined ? '' : `-${rule.group}`}`;
      const group = timed.get(name);
      if (group === undefined)
        timed.set(name, { name, interval: rule.interval, rules: [recordRule(rule)] });
      else group.rules.push(recordRule(rule));
    }
    return [...split, ...[...timed.values()].sort((a, b) => a.name.localeCompare(b.name))].filter(
      (group) => (group.rules ?? []).length > 0,
    );
  });
}
