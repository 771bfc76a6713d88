/**
 * Pushgateway freshness: the Pushgateway keeps a group's last push forever, so a CronJob whose
 * exporter stopped pushing keeps showing its old numbers. Its own `push_time_seconds` (one per
 * group, with the grouping label `cronjob`) says how old they are. A push is due once per schedule
 * interval, at the end of a run, which may start `startingDeadlineSeconds` late and last
 * `activeDeadlineSeconds`. Groups of CronJobs no longer in the inventory are ignored.
 */
import { ALERTS, JOBS, L } from '../../shared/metrics.ts';
import { barGaugePanel, steps } from '../panels.ts';
import { UPSTREAM } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { image, cronjob, team } = L;

export function pushgatewayConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  const pushAge = `time() - max ${q.by(cronjob)} (${q.series(UPSTREAM.pushTimeSeconds)})`;
  // Per inventoried CronJob: the age after which its group is stale, with its image and team.
  const threshold = `${q.inventory.byCronjobTeam} * ${q.on(image)} group_left () ${q.intervalPlus(settings.pushLatenessSeconds)}`;
  const lateHours = (settings.longestScheduleInterval + settings.pushLatenessSeconds) / 3600;
  return {
    name: 'pushgateway',
    records: [],
    alerts: [
      {
        alert: ALERTS.pushgatewayGroupStale,
        outputLabels: [L.image, L.cronjob, L.team],
        expr: `(${pushAge}) > ${q.on(cronjob)} group_left (${image}, ${team}) (${threshold})`,
        severity: 'warning',
        summary: `Pushgateway group of {{ $labels.${image} }} is stale`,
        description:
          `The Pushgateway group job="${JOBS.exporter}", cronjob="{{ $labels.${cronjob} }}" ({{ $labels.${image} }}) was last pushed ` +
          `{{ $value | humanizeDuration }} ago, later than one schedule interval plus ${settings.pushLatenessSeconds / 60} min: ` +
          `its run metrics are stale (team {{ $labels.${team} }}).`,
      },
    ],
    panels: {
      groupAge: barGaugePanel({
        title: 'Pushgateway group age',
        description: `Hours since each inventoried CronJob's group was last pushed. Red beyond ${lateHours} h (PushgatewayGroupStale for the longest interval).`,
        queries: [
          {
            expr: `(${pushAge}) / 3600 and ${q.on(cronjob)} ${q.inventory.byCronjob}`,
            legend: `{{${cronjob}}}`,
          },
        ],
        width: 12,
        height: 6,
        unit: 'h',
        thresholds: steps([lateHours, 'red']),
      }),
    },
  } satisfies Concern;
}
