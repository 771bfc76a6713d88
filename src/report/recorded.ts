/**
 * The expressions behind the recording rules, taken from the concerns that own them (one source of
 * truth: when a rule's expression changes, the report follows).
 *
 * Why the report evaluates the expressions on raw series instead of reading the recorded series:
 * a recorded series exists only from the moment the rule was deployed, carries whatever
 * expression was deployed then, and is absent from blocks backfilled with
 * `promtool tsdb create-blocks-from openmetrics` (backfilling it too would need
 * `create-blocks-from rules`, a second pass against a running Prometheus). The raw series the
 * exporter and the collector write are the evidence; evaluated at any past time they give the
 * number the rule would have recorded.
 */
import { concernsFor } from '../observability/assemble.ts';
import type { ObservabilitySettings } from '../observability/settings.ts';
import type { AlertName, RecordName } from '../observability/types.ts';
import { RECORDS, SEVERITIES } from '../shared/metrics.ts';

/**
 * Recording rules do not depend on the fleet's thresholds (only alerts and panels do), so any
 * settings give the same record expressions; these are neutral values.
 */
const NEUTRAL_SETTINGS: ObservabilitySettings = {
  namespace: 'copa-fleet',
  runbookBaseUrl: 'https://example.invalid',
  scanMaxAgeSeconds: 86_400,
  missingRunGraceSeconds: 7_200,
  pushLatenessSeconds: 3_600,
  slaSeverities: SEVERITIES,
  defaultCriticalSlaHours: 24,
  longestScheduleInterval: 86_400,
  dependencyTrackEnabled: false,
  pushgatewayDeployed: true,
};

let records: ReadonlyMap<RecordName, string> | undefined;

const RECORD_NAMES = Object.values(RECORDS) as RecordName[];

/**
 * The expression a recording rule evaluates, with every recorded series it reads replaced by that
 * rule's own expression (so it runs on raw series alone).
 */
export function recordExpr(record: RecordName): string {
  records ??= new Map(concernsFor(NEUTRAL_SETTINGS).flatMap((concern) => concern.records.map((rule) => [rule.record, rule.expr] as const)));
  const expr = records.get(record);
  if (expr === undefined) throw new Error(`no concern records ${record}`);
  return inlineRecords(expr);
}

function inlineRecords(expr: string): string {
  let result = expr;
  for (const name of RECORD_NAMES) {
    // A metric name ends where a character that cannot be part of one follows.
    const pattern = new RegExp(`(?<![A-Za-z0-9_:])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_:])`, 'g');
    if (pattern.test(result)) result = result.replace(pattern, () => `(${recordExpr(name)})`);
  }
  return result;
}

/** The expression of the (single) alerting rule `alert`. */
export function alertExpr(alert: AlertName): string {
  const rules = concernsFor(NEUTRAL_SETTINGS).flatMap((concern) => concern.alerts.filter((a) => a.alert === alert));
  if (rules.length !== 1) throw new Error(`expected one rule for ${alert}, found ${rules.length}`);
  return inlineRecords(rules[0]!.expr);
}
