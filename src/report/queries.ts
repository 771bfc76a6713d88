/**
 * Every PromQL query the report runs, named. Metric and label names come from the vocabulary
 * (src/shared/metrics.ts); every series is read through the fleet's `FleetQueries`
 * (src/observability/queries.ts), the selectors the rules and the dashboard use, so a Prometheus
 * that holds two fleets (or another exporter's same-named metric) gives each fleet's report its own
 * series only; the joins and the recording rules' and alerts' expressions come from their concerns
 * (recorded.ts), so the report reads what the rules and the dashboard read.
 *
 * Point-in-time facts are instant queries at `--at` (5 min lookback). Per-CVE period facts use
 * `max_over_time` / instant queries at the period's ends, which read every sample (exact to the
 * scrape interval): `image_cve_age_hours` is the persisted SLA clock, so its last sample in the
 * period is the CVE's age when it was last seen, i.e. its time to remediate. Time-based facts
 * (drift hours, coverage, charts) are range queries at the report's resolution.
 *
 * The age at the last sample (`cveLastAge`) reads the 15-minute record of the same clock
 * (RECORDS.cveAgeHours15m, sla.ts) where it exists, and the raw series only for what the record
 * cannot answer: the period before the record's first sample (history from before the rule was
 * deployed) plus one interval at each edge. Where that is (`cveRecordCoverage`, one cheap series)
 * is asked first, so a period the record covers never pays the raw read (PromQL evaluates both
 * sides of an `or`: the split cannot be left to one query).
 */
import { runningContainersTotal } from '../observability/concerns/drift.ts';
import { successEvidence } from '../observability/concerns/run-evidence.ts';
import { CVE_AGE_RECORD_INTERVAL_SECONDS } from '../observability/concerns/sla.ts';
import { by, duration } from '../observability/promql.ts';
import { UPSTREAM, type FleetQueries, type SourcedMetric } from '../observability/queries.ts';
import type { ObservabilitySettings } from '../observability/settings.ts';
import {
  ALERTS,
  GLOBAL_RECORDS,
  L,
  METRICS,
  RECORDS,
  SEVERITY_BY_KEY,
  UPSTREAM_METRICS,
} from '../shared/metrics.ts';
import type { RangeSeries } from './prometheus-client.ts';
import { RecordedExpressions } from './recorded.ts';

const {
  image,
  cveId,
  severity,
  digest,
  cronjob,
  team,
  namespace,
  pod,
  container,
  patchedDigest,
  failureReason,
  thresholdHours,
} = L;

export interface ReportWindow {
  /** Unix seconds. */
  readonly at: number;
  readonly periodSeconds: number;
  readonly stepSeconds: number;
}

interface BaseSpec {
  readonly id: QueryId;
  readonly title: string;
  readonly promql: string;
}
export type QuerySpec =
  | (BaseSpec & { readonly kind: 'instant'; readonly time: number })
  | (BaseSpec & {
      readonly kind: 'range';
      readonly start: number;
      readonly end: number;
      readonly step: number;
    })
  | (BaseSpec & { readonly kind: 'series'; readonly start: number; readonly end: number });

export const QUERY_IDS = [
  'inventory',
  'inventoryAtEnd',
  'slaHours',
  'scheduleInterval',
  'criticalNow',
  'pastSlaNow',
  'failedRunsNow',
  'lastSuccessNow',
  'overdueNow',
  'driftNow',
  'cveRecordCoverage',
  'cveLastAge',
  'cveAtStart',
  'cveAtEnd',
  'runsSucceeded',
  'runsFailed',
  'driftRange',
  'complianceRange',
  'breachesPerDay',
  'collectorUp',
  'pushgatewayUp',
  'unscannedRange',
  'scanAgeMax',
  'exceptions',
] as const;
export type QueryId = (typeof QUERY_IDS)[number];

/** Names of series other features add (accepted-risk exceptions, watched silences): listed when present. */
export const OPTIONAL_SERIES_MATCHER = `{__name__=~"(copa_fleet|fleet|copa|image)_.*(exception|accepted|silence).*"}`;

const DAY = 86_400;

/** Runs counted by a Pushgateway counter during the period (as pipeline.ts counts its 7 days). */
function runsInPeriod(
  q: FleetQueries,
  metric: SourcedMetric,
  labels: readonly string[],
  period: string,
): string {
  const counter = q.series(metric);
  const now = `sum ${q.by(...labels)} (${q.inInventory(counter)})`;
  const before = `sum ${q.by(...labels)} (${q.inInventory(`${counter} offset ${period}`)})`;
  return `(${now} - ${before}) >= 0 or ${now}`;
}

/**
 * The CVE key: one CVE of one image repository, whatever digest carries it; per cluster in a
 * multi-cluster fleet (the same CVE in two clusters is remediated in each).
 */
const perCve = (q: FleetQueries, expr: string) => `max ${q.by(image, cveId, severity)} (${expr})`;

/** The Pushgateway's own scrape health (FleetQueries.pushgatewaySelf). */
const pushgatewayUp = (q: FleetQueries): string => q.pushgatewaySelf(UPSTREAM_METRICS.up);

/**
 * When the 15-minute CVE age record held samples during the period, from its count record
 * (`cveRecordCoverage`): the first and last step of that range query with a value, Unix seconds.
 * A step t has a sample in [t - 15m, t], so the true first sample is at most t.
 */
export interface RecordCoverage {
  readonly firstStep: number;
  readonly lastStep: number;
}

const RECORD_INTERVAL = CVE_AGE_RECORD_INTERVAL_SECONDS;

/** The phase-one query: since when (and until when) the record exists in the period. */
export function recordCoverageQuery(
  window: ReportWindow,
  settings: ObservabilitySettings,
): QuerySpec {
  const { q } = settings;
  return {
    id: 'cveRecordCoverage',
    title: `Steps with a sample of ${RECORDS.cveAgeRecords15m} (the 15-minute CVE age record exists): decides which part of the period cveLastAge reads from the record`,
    promql: `max(last_over_time(${q.record(RECORDS.cveAgeRecords15m)}[${duration(RECORD_INTERVAL)}]))`,
    kind: 'range',
    start: window.at - window.periodSeconds,
    end: window.at,
    step: RECORD_INTERVAL,
  };
}

/** First and last step with a value; undefined when the record never existed in the period. */
export function recordCoverageOf(series: readonly RangeSeries[]): RecordCoverage | undefined {
  const values = series[0]?.values ?? [];
  const first = values[0];
  const last = values.at(-1);
  return first === undefined || last === undefined
    ? undefined
    : { firstStep: first[0], lastStep: last[0] };
}

/**
 * Per CVE, the age at its last sample in the period. From the record: its samples after
 * `head` = max(first step, start) + 15m (each covers the raw samples of the 15 minutes before it,
 * all inside the period). From the raw series: (start, head], and from one interval before the
 * record's last step to `at` (the evaluations after the last one, none yet, or the rule removed).
 * The max of overlapping parts is the same max: the age only grows while a CVE is carried. Raw
 * alone when the record is absent or covers less than two intervals of the period.
 */
function cveLastAge(
  q: FleetQueries,
  window: ReportWindow,
  coverage: RecordCoverage | undefined,
): { title: string; promql: string } {
  const ageOver = (range: number, at?: number) =>
    q.overTime('max_over_time', METRICS.imageCveAgeHours, duration(range), {}, at);
  const start = window.at - window.periodSeconds;
  const raw = perCve(q, ageOver(window.periodSeconds));
  const title = 'Per CVE seen in the period: age at its last sample, hours';
  if (coverage === undefined) return { title: `${title} (raw series: no record)`, promql: raw };
  const head = Math.ceil(Math.max(coverage.firstStep, start)) + RECORD_INTERVAL;
  const tailFrom = Math.floor(coverage.lastStep) - RECORD_INTERVAL;
  if (tailFrom - head < RECORD_INTERVAL)
    return { title: `${title} (raw series: the record covers too little)`, promql: raw };
  const part = (expr: string, name: string) =>
    `label_replace(${expr}, "report_part", "${name}", "", "")`;
  const parts = [
    part(ageOver(head - start, head), 'raw_before_record'),
    part(
      `max_over_time(${q.record(RECORDS.cveAgeHours15m)}[${duration(window.at - head)}])`,
      'record',
    ),
    part(ageOver(window.at - tailFrom), 'raw_after_record'),
  ];
  return {
    title: `${title}: ${RECORDS.cveAgeHours15m} after ${new Date(head * 1000).toISOString()}, the raw series before it and from ${new Date(tailFrom * 1000).toISOString()}`,
    promql: perCve(q, parts.join(' or ')),
  };
}

export function reportQueries(
  window: ReportWindow,
  settings: ObservabilitySettings,
  coverage?: RecordCoverage,
): QuerySpec[] {
  const { q } = settings;
  const recorded = new RecordedExpressions(settings);
  const SUCCESS_EVIDENCE = successEvidence(q);
  const age = q.series(METRICS.imageCveAgeHours);
  const { at, periodSeconds, stepSeconds } = window;
  const start = at - periodSeconds;
  const P = duration(periodSeconds);
  const instant = (id: QueryId, title: string, promql: string, time = at): QuerySpec => ({
    id,
    title,
    promql,
    kind: 'instant',
    time,
  });
  const range = (
    id: QueryId,
    title: string,
    promql: string,
    step = stepSeconds,
    from = start,
  ): QuerySpec => ({ id, title, promql, kind: 'range', start: from, end: at, step });
  // Single-cluster: the collector's per-pod drift. Multi-cluster: a workload cluster's collector
  // knows no patched digests; the global layer's join (drift.ts globalDrift), per (cluster,
  // exported_namespace, image, running digest), valued at the container count.
  const drift =
    q.clusters === undefined
      ? `max ${by(namespace, pod, container, image, digest, patchedDigest)} (${q.series(METRICS.containerDigestDrift)} == 1)`
      : recorded.record(GLOBAL_RECORDS.driftedDigestContainers);
  const multi = q.clusters !== undefined;
  const breachKey = q.by(image, cveId, thresholdHours);
  const breaches = q.series(METRICS.slaBreachTotal);
  // The patch pipeline's facts start from the patch cluster's inventory (its CronJobs alone run).
  const patchInventory = `group ${q.by(image, cronjob)} (${q.series(METRICS.inventoryImageInfo, q.patchCluster)})`;
  const compliance = recorded.record(RECORDS.patchComplianceRatio);
  // Multi-cluster: one ratio per cluster; the chart is the fleet's, weighted by each cluster's
  // running containers (the clusters with a ratio at that step).
  const running = runningContainersTotal(q);
  const fleetCompliance =
    q.clusters === undefined
      ? compliance
      : `sum(${compliance} * ${q.on()} ${running}) / sum(${running} and ${q.on()} ${compliance})`;
  // A bucket per day ending at each step; shorter periods get one bucket.
  const bucket = Math.min(DAY, periodSeconds);
  const B = duration(bucket);

  return [
    instant(
      'inventory',
      'Inventory entries during the period',
      // Plain `by`: one inventory, which every cluster's collector exports alike.
      `max ${by(image, cronjob, team)} (${q.overTime('last_over_time', METRICS.inventoryImageInfo, P)})`,
    ),
    instant('inventoryAtEnd', 'Inventory entries at the report time', q.inventory.byCronjobTeam),
    instant(
      'slaHours',
      'SLA hours per image and severity (last known in the period)',
      `max ${q.by(image, severity)} (${q.overTime('last_over_time', METRICS.inventorySlaHours, P)})`,
    ),
    instant(
      'scheduleInterval',
      'Schedule interval per image, seconds (last known in the period)',
      `max ${q.by(image)} (${q.overTime('last_over_time', METRICS.inventoryScheduleIntervalSeconds, P)})`,
    ),

    instant(
      'criticalNow',
      'Critical CVEs on running digests: age in hours (SLA clock)',
      `max ${q.by(image, digest, cveId)} (${q.series(METRICS.imageCveAgeHours, { [severity]: SEVERITY_BY_KEY.critical })})`,
    ),
    instant(
      'pastSlaNow',
      "CVEs older than their image's SLA hours for the severity: age in hours",
      `${perCve(q, age)} > ${q.on(image, severity)} group_left () max ${q.by(image, severity)} (${q.series(METRICS.inventorySlaHours)})`,
    ),
    instant(
      'failedRunsNow',
      `Last run failed (the ${ALERTS.jobFailed} expression)`,
      recorded.alert(ALERTS.jobFailed),
    ),
    instant('lastSuccessNow', 'Last successful Copa run per CronJob (Unix time)', SUCCESS_EVIDENCE),
    instant(
      'overdueNow',
      'Inventoried CronJobs without a successful run within their schedule interval: seconds since the last success (or 0 when none ever)',
      `((time() - ${SUCCESS_EVIDENCE}) > ${q.on(image)} group_left () max ${q.by(image)} (${q.series(METRICS.inventoryScheduleIntervalSeconds)}) and ${q.on(image, cronjob)} ${patchInventory})` +
        ` or ${q.on(image, cronjob)} (0 * (${patchInventory} unless ${q.on(image, cronjob)} ${SUCCESS_EVIDENCE}))`,
    ),
    instant(
      'driftNow',
      `Running containers on a digest other than the latest patched one${multi ? ` (${GLOBAL_RECORDS.driftedDigestContainers}: containers per cluster, namespace, image and running digest)` : ''}`,
      drift,
    ),

    ((last) => instant('cveLastAge', last.title, last.promql))(cveLastAge(q, window, coverage)),
    instant('cveAtStart', 'Per CVE open at the period start: age, hours', perCve(q, age), start),
    instant('cveAtEnd', 'Per CVE open at the report time: age, hours', perCve(q, age)),
    instant(
      'runsSucceeded',
      'Successful Copa runs (patched or up to date) in the period, per image',
      runsInPeriod(q, METRICS.patchSuccessTotal, [image], P),
    ),
    instant(
      'runsFailed',
      'Failed Copa runs in the period, per image and failure_reason',
      runsInPeriod(q, METRICS.patchFailureTotal, [image, failureReason], P),
    ),

    range('driftRange', 'Containers on a pre-patch digest over the period', drift),
    range(
      'complianceRange',
      `Patch compliance ratio over the period (${RECORDS.patchComplianceRatio}${multi ? ', per cluster, weighted by its running containers' : ''})`,
      fleetCompliance,
    ),
    range(
      'breachesPerDay',
      `SLA breaches counted per ${B} (image_patch_sla_breach_total steps; a counter reset counts nothing)`,
      `sum(clamp_min(max ${breachKey} (${breaches}) - max ${breachKey} (${q.offset(METRICS.slaBreachTotal, B)}), 0) or max ${breachKey} (${breaches})) or vector(0)`,
      bucket,
      start + bucket,
    ),
    range(
      'collectorUp',
      `Drift collector scrape health${multi ? ', per cluster' : ''}`,
      q.agg('max', q.series(UPSTREAM.up)),
    ),
    range(
      'pushgatewayUp',
      `Pushgateway scrape health${multi ? ` (the patch cluster, ${q.clusters?.patch})` : ''}`,
      q.agg('max', pushgatewayUp(q)),
    ),
    range(
      'unscannedRange',
      'Namespaces with running pods and no VulnerabilityReport: running pods',
      `max ${q.by(namespace)} (${q.series(METRICS.namespaceUnscanned)}) > 0`,
    ),
    instant(
      'scanAgeMax',
      'Oldest scan per running image during the period, seconds',
      `max ${q.by(image)} (${q.overTime('max_over_time', METRICS.imageScanAgeSeconds, P)})`,
    ),
    {
      id: 'exceptions',
      title: 'Accepted-risk exception and silence series during the period',
      promql: OPTIONAL_SERIES_MATCHER,
      kind: 'series',
      start,
      end: at,
    },
  ];
}
