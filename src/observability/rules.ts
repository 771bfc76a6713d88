/**
 * Concerns -> Prometheus rule groups: one group per concern, its recording rules first (later rules
 * of a group see earlier results at the same evaluation time), then its alerts; records with their
 * own `interval` go to one more group per interval; the global rules of a multi-cluster fleet hold
 * those groups once per cluster (`ruleGroups`). Every record gets
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
import { FLEET_WIDE_RECORDS, type ClusterScope } from './queries.ts';
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
 * `{ group }` in a multi-cluster fleet's global rules, whose joins the single-cluster rules do not
 * have (the collector computes those counts there): a costly rule in a group of its own, per
 * cluster like every group there. The single-cluster groups stay within the budget whole.
 */
export function globalGroup(
  clusters: ClusterScope | undefined,
  group: RuleGroupSuffix,
): { readonly group?: RuleGroupSuffix } {
  return clusters === undefined ? {} : { group };
}

/** Multi-cluster fleets: the concerns that read every cluster's series, built for one cluster (`q.inCluster`). */
export interface ClusterPartition {
  readonly cluster: string;
  readonly concerns: readonly Concern[];
}

/** A rule of the global rules that is computed once for all clusters: its result has no cluster label. */
function fleetWide(rule: RecordingRule | AlertDefinition): boolean {
  return 'record' in rule ? FLEET_WIDE_RECORDS.has(rule.record) : rule.fleetWide === true;
}

/**
 * The groups of a concern's rules: its own group, its split-off groups in the order their rules
 * come, then one group per record interval (sorted); each group name ends in `suffix`. Rules
 * `keep` rejects are left out; so are groups left empty.
 */
function concernGroups(
  settings: ObservabilitySettings,
  concern: Concern,
  keep: (rule: RecordingRule | AlertDefinition) => boolean,
  suffix = '',
): IRuleGroup[] {
  // The fleet's selector for records (queries.ts): two fleets' rules in one Prometheus write distinct series.
  const recordRule = (rule: RecordingRule): IRule => ({
    record: rule.record,
    expr: formatPromql(rule.expr),
    labels: { ...rule.labels, ...settings.q.selectors.records },
  });
  const records = concern.records.filter(keep);
  const groups = new Map<string, IRule[]>([[concern.name, []]]);
  const add = (split: RuleGroupSuffix | undefined, rule: IRule) => {
    const name = split === undefined ? concern.name : `${concern.name}-${split}`;
    const rules = groups.get(name);
    if (rules === undefined) groups.set(name, [rule]);
    else rules.push(rule);
  };
  for (const rule of records.filter((r) => r.interval === undefined))
    add(rule.group, recordRule(rule));
  for (const alert of concern.alerts.filter(keep)) add(alert.group, alertRule(settings, alert));
  const split = [...groups].map(([name, rules]): IRuleGroup => ({
    name: `${GROUP_PREFIX}.${name}${suffix}`,
    rules,
  }));
  // A group runs at one interval (the Prometheus rule-file format and the PrometheusRule CRD's
  // `interval`): `<concern>.every-<interval>`, and `...-<split>` for a record's own group there.
  const timed = new Map<string, IRuleGroup & { rules: IRule[] }>();
  for (const rule of records) {
    if (rule.interval === undefined) continue;
    const name = `${GROUP_PREFIX}.${concern.name}.every-${rule.interval}${rule.group === undefined ? '' : `-${rule.group}`}${suffix}`;
    const group = timed.get(name);
    if (group === undefined)
      timed.set(name, { name, interval: rule.interval, rules: [recordRule(rule)] });
    else group.rules.push(recordRule(rule));
  }
  return [...split, ...[...timed.values()].sort((a, b) => a.name.localeCompare(b.name))].filter(
    (group) => (group.rules ?? []).length > 0,
  );
}

/** The separator of a per-cluster group's name (`copa-fleet.drift@eu-1`): in no concern or cluster name. */
export const CLUSTER_GROUP_SEPARATOR = '@';

/**
 * The concerns' rule groups. Multi-cluster fleets (`partitions`): a concern that reads every
 * cluster's series evaluates per cluster, each of its groups once per cluster
 * (`copa-fleet.<group>@<cluster>`) with the rules built for that cluster, so that no group's cost
 * grows with the number of clusters (rule cost, docs/benchmarks.md section 7); its fleet-wide rules
 * (no cluster label in their result) evaluate once, in groups of the usual names before them.
 * Every grouping keeps the cluster label (queries.ts), so the rules of all clusters together write
 * exactly the series one rule over all clusters would. A rule reading another group's records reads
 * them as that group last wrote them, as between the split-off groups (types.ts RuleGroupSuffix);
 * the groups come in dependency order (fleet-wide, then each group of the concern for every
 * cluster), which is the order promtool evaluates them in.
 */
export function ruleGroups(
  settings: ObservabilitySettings,
  concerns: readonly Concern[],
  partitions: readonly ClusterPartition[] = [],
): IRuleGroup[] {
  return concerns.flatMap((concern) => {
    const pinned = partitions.flatMap(({ cluster, concerns: built }) => {
      const own = built.find((candidate) => candidate.name === concern.name);
      return own === undefined ? [] : [{ cluster, own }];
    });
    // Not built per cluster (the patch pipeline's concerns, and every concern of a single cluster).
    if (pinned.length === 0 || pinned.length < partitions.length)
      return concernGroups(settings, concern, () => true);
    // Group by group (in the concern's order), every cluster's copy together.
    const byGroup = new Map<string, IRuleGroup[]>();
    for (const { cluster, own } of pinned) {
      const suffix = `${CLUSTER_GROUP_SEPARATOR}${cluster}`;
      for (const group of concernGroups(settings, own, (rule) => !fleetWide(rule), suffix)) {
        const base = group.name.slice(0, -suffix.length);
        byGroup.set(base, [...(byGroup.get(base) ?? []), group]);
      }
    }
    return [...concernGroups(settings, concern, fleetWide), ...[...byGroup.values()].flat()];
  });
}
