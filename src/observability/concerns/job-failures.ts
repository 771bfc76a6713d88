/**
 * Failed runs: the last run of an inventoried CronJob failed, by `failure_reason`: what the
 * exporter classified, or, for failures it cannot see (pod never started, image pull, deadline,
 * missed schedule), what the collector saw of the Job. A rule group of its own: a bad day fails
 * many images at once, and every firing alert costs Prometheus a template expansion per label and
 * annotation on every evaluation (docs/benchmarks.md), which must not hold up the 7-day statistics.
 */
import { ALERTS, FAILURE_REASONS, L, METRICS } from '../../shared/metrics.ts';
import { noneIfCollected, tablePanel } from '../panels.ts';
import { copyLabel } from '../promql.ts';
import type { FleetQueries } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { image, cronjob, failureReason, outcome } = L;

/** The failure reasons of the last run: the exporter's outcome, or what the collector saw of the Job. */
function lastRunFailures(q: FleetQueries): string {
  return (
    `max ${q.by(image, cronjob, failureReason)} (` +
    copyLabel(
      `${q.series(METRICS.runLastOutcome, {}, { [outcome]: FAILURE_REASONS.join('|') })} == 1`,
      failureReason,
      outcome,
    ) +
    `) or max ${q.by(image, cronjob, failureReason)} (${q.series(METRICS.jobLastFailure)} == 1)`
  );
}

export function jobFailuresConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  return {
    name: 'job-failures',
    records: [],
    alerts: [
      {
        alert: ALERTS.jobFailed,
        outputLabels: [L.image, L.cronjob, L.team, L.failureReason],
        expr: q.withCronjobTeam(lastRunFailures(q)),
        severity: 'warning',
        summary: `Copa run for {{ $labels.${image} }} failed: {{ $labels.${failureReason} }}`,
        description:
          `The last run of CronJob ${settings.cronjobNamespace}/{{ $labels.${cronjob} }} ({{ $labels.${image} }}) ended with ` +
          `failure_reason={{ $labels.${failureReason} }}. The image gets no patches until a run succeeds.`,
      },
    ],
    panels: {
      lastRunFailed: tablePanel({
        title: 'Images whose last run failed',
        description:
          'The failure reason of the last run, from the exporter or, for failures it cannot see (pod never started, image pull, deadline), the collector.',
        queries: [{ expr: q.withCronjobTeam(lastRunFailures(q)) }],
        width: 8,
        height: 10,
        hide: ['Value'],
        noValue: noneIfCollected(),
      }),
    },
  } satisfies Concern;
}
