/**
 * The shapes a concern (the monitoring-mixin unit) is made of: its recording rules, its alerts and
 * its dashboard panels, together. assemble.ts turns a list of concerns into the outputs.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { ALERTS, AlertSeverity, RECORDS } from '../shared/metrics.ts';

export type AlertName = (typeof ALERTS)[keyof typeof ALERTS];
export type RecordName = (typeof RECORDS)[keyof typeof RECORDS];

export interface RecordingRule {
  readonly record: RecordName;
  readonly expr: string;
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
  /** Static labels besides severity and namespace (they also keep same-named rules distinct). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Go templates over the expression's output labels (`$labels`) and value (`$value`). */
  readonly summary: string;
  readonly description: string;
}

/** The three rows of the dashboard, in order. */
export const ROWS = {
  overview: 'Fleet overview',
  sla: 'SLA tracking',
  pipeline: 'Copa pipeline health',
} as const;
export type RowId = keyof typeof ROWS;

export interface PanelDefinition {
  readonly row: RowId;
  /** Position inside its row: panels are laid out by ascending order. */
  readonly order: number;
  readonly panel: cog.Builder<dashboard.Panel>;
}

export interface Concern {
  /** Short name: the rule group is `copa-fleet.<name>`. */
  readonly name: string;
  readonly records: readonly RecordingRule[];
  readonly alerts: readonly AlertDefinition[];
  readonly panels: readonly PanelDefinition[];
}
