/**
 * Dependency-Track BOM uploads (only when `dependencyTrack` is configured). The exporter uploads the
 * patched image's BOM after a run and accumulates failures (after its retries) in a counter. The
 * uploads are failing when the counter grew within the last schedule interval plus grace and the
 * latest run uploaded nothing successfully (its last-success time is older than the run's start).
 */
import { ALERTS, L, METRICS } from '../../shared/metrics.ts';
import { barGaugePanel, steps } from '../panels.ts';
import { duration } from '../promql.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { image, cronjob, team } = L;

export function dependencyTrackConcern(settings: ObservabilitySettings) {
  const window = duration(settings.longestScheduleInterval + settings.missingRunGraceSeconds);
  const { q } = settings;
  const perCronjob = (expr: string) => `max ${q.by(image, cronjob)} (${expr})`;
  const failures = q.series(METRICS.dependencyTrackUploadFailureTotal);
  const now = perCronjob(failures);
  const before = perCronjob(`${failures} offset ${window}`);
  // Grew within the window, or appeared within it (a pushed counter starts at 1).
  const failedRecently = `(${now} - ${before} > 0 or (${now} > 0 unless ${q.on(image, cronjob)} ${before}))`;
  const latestRunStart = `(${perCronjob(q.series(METRICS.runLastTimestamp))} - ${perCronjob(q.series(METRICS.runDurationSeconds))})`;
  const uploadedInLatestRun = `${perCronjob(q.series(METRICS.dependencyTrackUploadLastSuccessTimestamp))} >= ${q.on(image, cronjob)} ${latestRunStart}`;
  return {
    name: 'dependency-track',
    records: [],
    alerts: [
      {
        alert: ALERTS.dependencyTrackUploadFailing,
        outputLabels: [L.image, L.cronjob, L.team],
        expr: q.withCronjobTeam(
          `${failedRecently} unless ${q.on(image, cronjob)} (${uploadedInLatestRun})`,
        ),
        severity: 'warning',
        summary: `Dependency-Track BOM upload failing for {{ $labels.${image} }}`,
        description:
          `{{ $value }} BOM upload(s) of {{ $labels.${image} }} (CronJob ${settings.cronjobNamespace}/{{ $labels.${cronjob} }}) to Dependency-Track ` +
          `failed after all retries within the last ${window}, and the latest run uploaded none (team {{ $labels.${team} }}).`,
      },
    ],
    panels: {
      uploadFailures: barGaugePanel({
        title: 'Dependency-Track upload failures',
        description:
          'BOM uploads that failed after all retries, accumulated across runs, per inventoried image.',
        queries: [
          { expr: `sum ${q.by(image)} (${q.inInventory(failures)})`, legend: `{{${image}}}` },
        ],
        width: 12,
        height: 6,
        thresholds: steps([1, 'orange']),
      }),
    },
  } satisfies Concern;
}
