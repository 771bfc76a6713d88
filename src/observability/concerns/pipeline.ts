/**
 * Copa pipeline health: run counts and success rate over 7 days (the failed last run is
 * job-failures.ts's, in its own rule group). The counters come from the
 * Pushgateway, where the exporter accumulates them across runs (one group per CronJob), so:
 * - every series is scoped to the inventory by (image, cronjob): a removed image's group, which the
 *   Pushgateway keeps forever, counts for nothing;
 * - "runs in the last 7 days" is the counter minus its value 7 days ago, or the whole counter when
 *   the series is younger than that (`increase()` would miss a counter's first run, because a
 *   pushed counter appears at 1, not 0). A counter that went down (the Pushgateway lost its state)
 *   counts from its new start.
 */
import { L, METRICS, RECORDS } from '../../shared/metrics.ts';
import { barGaugePanel, statPanel, steps, timeseriesPanel } from '../panels.ts';
import type { FleetQueries, SourcedMetric } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { image, cronjob, failureReason } = L;
const WINDOW = '7d';

/** Runs counted by `counter` in the last WINDOW, by `labels`, inventoried CronJobs only. */
function runsInWindow(q: FleetQueries, counter: SourcedMetric, labels: readonly string[]): string {
  const now = `sum ${q.by(...labels)} (${q.inInventory(q.series(counter))})`;
  const before = `sum ${q.by(...labels)} (${q.inInventory(`${q.series(counter)} offset ${WINDOW}`)})`;
  return `(${now} - ${before}) >= 0 or ${now}`;
}

export function pipelineConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  const succeeded = q.record(RECORDS.patchSuccessIncrease7d);
  const failed = q.record(RECORDS.patchFailureIncrease7d);
  const succeededByImage = `sum ${q.by(image)} (${succeeded})`;
  const failedByImage = `sum ${q.by(image)} (${failed})`;
  /** Missing on one side means zero runs of that kind; both sides `by (image)` so their label sets match. */
  const succeededOrZero = `(${succeededByImage} or 0 * ${failedByImage})`;
  const failedOrZero = `(${failedByImage} or 0 * ${succeededByImage})`;
  const overdueHours = (settings.longestScheduleInterval + settings.missingRunGraceSeconds) / 3600;
  return {
    name: 'pipeline',
    records: [
      {
        record: RECORDS.patchSuccessIncrease7d,
        expr: runsInWindow(q, METRICS.patchSuccessTotal, [image]),
      },
      {
        record: RECORDS.patchFailureIncrease7d,
        expr: runsInWindow(q, METRICS.patchFailureTotal, [image, failureReason]),
      },
      {
        record: RECORDS.patchSuccessRate7d,
        // Success and failure counters carry different labels: both sides are aggregated by image
        // first (the seed divided them as they were, which matches nothing).
        expr: `${succeededOrZero} / (${succeededOrZero} + ${failedOrZero} > 0)`,
      },
    ],
    alerts: [],
    panels: {
      successRate: statPanel({
        title: 'Copa success rate (7 d)',
        description:
          'Successful runs (patched or up to date) over all runs of inventoried images in the last 7 days.',
        queries: [
          {
            expr: `${q.agg('sum', succeeded)} / (${q.agg('sum', succeeded)} + (${q.agg('sum', failed)} or ${q.constant(0, q.clusters && [q.clusters.patch])}))`,
          },
        ],
        width: 6,
        height: 8,
        unit: 'percentunit',
        thresholds: [
          { value: null, color: 'red' },
          { value: 0.9, color: 'orange' },
          { value: 0.99, color: 'green' },
        ],
      }),
      runs: timeseriesPanel({
        title: 'Copa runs: succeeded and failed (trailing 7 d)',
        description: 'Runs of inventoried images in the 7 days before each point.',
        queries: [
          { expr: q.agg('sum', succeeded), legend: 'succeeded' },
          { expr: q.agg('sum', failed), legend: 'failed' },
        ],
        width: 9,
        height: 8,
      }),
      failuresByReason: timeseriesPanel({
        title: 'Copa failures by reason (trailing 7 d)',
        description:
          'Failed runs of inventoried images in the 7 days before each point, by failure_reason.',
        queries: [
          { expr: `sum ${q.by(failureReason)} (${failed})`, legend: `{{${failureReason}}}` },
        ],
        width: 9,
        height: 8,
        stacked: true,
      }),
      successRateByImage: barGaugePanel({
        title: 'Success rate by image (7 d)',
        description: `${RECORDS.patchSuccessRate7d}: successful over all runs of each image in the last 7 days.`,
        queries: [{ expr: q.record(RECORDS.patchSuccessRate7d), legend: `{{${image}}}` }],
        width: 8,
        height: 10,
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [
          { value: null, color: 'red' },
          { value: 0.8, color: 'orange' },
          { value: 1, color: 'green' },
        ],
      }),
      hoursSinceSuccess: barGaugePanel({
        title: 'Hours since the last successful run',
        description: `Per inventoried CronJob. Red beyond ${overdueHours} h (the longest schedule interval plus the grace).`,
        queries: [
          {
            expr: `(time() - max ${q.by(image, cronjob)} (${q.inInventory(q.series(METRICS.runLastSuccessTimestamp))})) / 3600`,
            legend: `{{${image}}} ({{${cronjob}}})`,
          },
        ],
        width: 8,
        height: 10,
        unit: 'h',
        thresholds: steps([overdueHours, 'red']),
      }),
      runDuration: timeseriesPanel({
        title: 'Copa run duration',
        description: 'Wall time of the last run per image, scan to push.',
        queries: [
          {
            expr: `max ${q.by(image)} (${q.inInventory(q.series(METRICS.runDurationSeconds))})`,
            legend: `{{${image}}}`,
          },
        ],
        width: 12,
        height: 8,
        unit: 's',
      }),
      fixableVulnerabilities: barGaugePanel({
        title: 'Fixable vulnerabilities in the registry image, before and after the patch',
        description:
          "From the exporter's scans of the last run: the source image (before) and the pushed patched image (after).",
        queries: [
          {
            expr: `sum ${q.by(L.stage, L.severity)} (${q.inInventory(q.series(METRICS.imageVulnerabilities))})`,
            legend: `{{${L.stage}}} {{${L.severity}}}`,
          },
        ],
        width: 12,
        height: 8,
      }),
    },
  } satisfies Concern;
}
