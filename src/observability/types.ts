/**
 * The shapes a concern (the monitoring-mixin unit) is made of: its recording rules, its alerts and
 * its named dashboard panels, together. assemble.ts turns a list of concerns into the outputs;
 * dashboard.ts holds the dashboard's layout.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { ALERTS, AlertSeverity, GLOBAL_RECORDS, RECORDS } from '../shared/metrics.ts';

export type AlertName = (typeof ALERTS)[keyof typeof ALERTS];
export type RecordName =
  (typeof RECORDS)[keyof typeof RECORDS] | (typeof GLOBAL_RECORDS)[keyof typeof GLOBAL_RECORDS];

/**
 * A rule group of its own within the concern's rules (`copa-fleet.<concern>-<group>`, after the
 * concern's group): Prometheus evaluates the rules of a group one after the other and the groups
 * concurrently, so a costly part split off keeps every group within the rule-cost budget
 * (docs/benchmarks.md). A rule there reads the concern's records as their group last wrote them
 * (at most one evaluation interval old; promtool evaluates the groups in file order).
 */
export type RuleGroupSuffix = 'compliance' | 'alerts' | 'age' | `cves-${string}`;

export interface RecordingRule {
  readonly record: RecordName;
  readonly expr: string;
  /** A group of its own among the concern's (see RuleGroupSuffix); with `interval`, among the groups of that interval. */
  readonly group?: RuleGroupSuffix;
  /**
   * Evaluation interval (Prometheus duration) when the record must not follow the global one: the
   * record then goes to its own group `copa-fleet.<concern>.every-<interval>` with `interval` set
   * (rules.ts). Rules of one interval keep their order, so a later one sees an earlier one's result.
   */
  readonly interval?: string;
  /** Static labels besides the fleet's record selector (they keep same-named records of one fleet distinct). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertDefinition {
  readonly alert: AlertName;
  readonly expr: string;
  /** Prometheus duration; omitted where the expression already contains its own grace. */
  readonly for?: string;
  readonly severity: AlertSeverity;
  /**
   * Labels the expression's result carries (besides severity, namespace and `labels`). The silence
   * watch matches silences against them; the rule scenarios check them against what Prometheus
   * really outputs (test/observability/silence-catalogue.test.ts).
   */
  readonly outputLabels: readonly string[];
  /**
   * Multi-cluster fleets: the expression aggregates over the clusters (an alert about an inventory
   * fact, once per fleet), so its result carries no cluster label. Default: per cluster.
   */
  readonly fleetWide?: true;
  readonly group?: RuleGroupSuffix;
  /** Static labels besides severity and namespace (they also keep same-named rules distinct). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Go templates over the expression's output labels (`$labels`) and value (`$value`). */
  readonly summary: string;
  readonly description: string;
}

/** A dashboard panel, built by a concern; dashboard.ts decides where it goes. */
export type PanelBuilder = cog.Builder<dashboard.Panel>;

export interface Concern {
  /** Short name: the rule group is `copa-fleet.<name>`, the file `concerns/<name>.ts`. */
  readonly name: string;
  readonly records: readonly RecordingRule[];
  readonly alerts: readonly AlertDefinition[];
  /** The concern's panels by name; dashboard.ts's LAYOUT places each exactly once. */
  readonly panels: Readonly<Record<string, PanelBuilder>>;
}
