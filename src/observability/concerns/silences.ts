/**
 * Silence governance. Alertmanager has no maximum silence duration (its maintainers declined one),
 * so a `CriticalCVESLABreach` silenced "for the maintenance window" and never un-silenced would
 * never fire again. The drift collector polls the silences of each Alertmanager of
 * `alerting.silenceWatch` and exports one series set per active or pending silence whose matchers
 * would mute a copa-fleet alert (runtime/collector/silences/). Here: the alert on such a silence
 * that lasts too long without a ticket reference, the alert on an Alertmanager it cannot read, and
 * the "Muted" panel, which reads the series directly so that it shows even a silence that mutes
 * CopaAlertSilencedTooLong itself.
 */
import { ALERT_SEVERITIES, ALERTS, L, METRICS } from '../../shared/metrics.ts';
import { noneIfCollected, statPanel, tablePanel } from '../panels.ts';
import { duration } from '../promql.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { AlertDefinition, Concern } from '../types.ts';

const { alertmanager, silenceId, silenceState, createdBy, ticket, mutedAlerts, mutedSeverity } = L;
const key = [alertmanager, silenceId] as const;
/** Every alert severity but critical, as a regex (the selectors take equality and regex matchers). */
const NOT_CRITICAL = ALERT_SEVERITIES.filter((severity) => severity !== 'critical').join('|');
/** The watch polls every minute by default: an Alertmanager unreadable for this long is a failure, not a blip. */
const DOWN_FOR = '10m';

/**
 * Seconds from the earlier of the silence's start and now to its end: over the limit exactly when
 * it ends more than the limit after it started, or after now (ends - min(starts, now) > limit).
 * `max by` deduplicates collector replicas and scrape targets.
 */
function span(settings: ObservabilitySettings): string {
  const { q } = settings;
  return `max ${q.by(...key)} (${q.series(METRICS.silenceEndsAt)}) - max ${q.by(...key)} (clamp_max(${q.series(METRICS.silenceStartsAt)}, time()))`;
}

function tooLong(
  settings: ObservabilitySettings,
  severity: 'critical' | 'warning',
): AlertDefinition {
  const { q } = settings;
  // A silence that mutes a critical alert is critical itself; every other one warns.
  const selector =
    severity === 'critical'
      ? q.series(METRICS.silenceInfo, { [ticket]: 'false', [mutedSeverity]: 'critical' })
      : q.series(METRICS.silenceInfo, { [ticket]: 'false' }, { [mutedSeverity]: NOT_CRITICAL });
  const hours = settings.silenceMaxSeconds / 3600;
  return {
    alert: ALERTS.silencedTooLong,
    expr: `((${span(settings)}) > ${settings.silenceMaxSeconds}) * ${q.on(...key)} group_left (${createdBy}, ${mutedAlerts}) max ${q.by(...key, createdBy, mutedAlerts)} (${selector})`,
    severity,
    outputLabels: [alertmanager, silenceId, createdBy, mutedAlerts],
    summary: `Silence {{ $labels.${silenceId} }} mutes copa-fleet alerts for too long without a ticket`,
    description:
      `Silence {{ $labels.${silenceId} }} on {{ $labels.${alertmanager} }} (created by {{ $labels.${createdBy} }}) mutes {{ $labels.${mutedAlerts} }} ` +
      `until {{ $value | humanizeDuration }} after it started (or after now), longer than ${hours} h, and its comment names no ticket.`,
  };
}

export function silencesConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  const hours = settings.silenceMaxSeconds / 3600;
  const info = q.series(METRICS.silenceInfo);
  const up = q.series(METRICS.silenceWatchUp);
  return {
    name: 'silences',
    records: [],
    alerts: [
      tooLong(settings, 'critical'),
      tooLong(settings, 'warning'),
      {
        alert: ALERTS.silenceWatchDown,
        expr: `min ${q.by(alertmanager)} (${up}) == 0`,
        for: DOWN_FOR,
        severity: 'warning',
        outputLabels: [alertmanager],
        summary: `The silences of {{ $labels.${alertmanager} }} cannot be read`,
        description:
          `For ${DOWN_FOR}, the drift collector could not read the silences of {{ $labels.${alertmanager} }} (polled every ${duration(settings.silencePollSeconds)}). ` +
          'The silence series show what was last read: a silence created or extended since is not seen.',
      },
    ],
    panels: {
      muted: tablePanel({
        title: 'Muted',
        description:
          'Active and pending Alertmanager silences that would mute copa-fleet alerts: who muted what, until when, with or without a ticket reference. ' +
          `Red: no ticket and longer than ${hours} h (CopaAlertSilencedTooLong). Read from the collector's series, so it shows even a silence that mutes CopaAlertSilencedTooLong itself.`,
        queries: [
          {
            expr: `max ${q.by(...key, silenceState, createdBy, ticket, mutedAlerts, mutedSeverity)} (${info})`,
          },
          { expr: `(max ${q.by(...key)} (${q.series(METRICS.silenceEndsAt)}) - time()) / 3600` },
          { expr: `(${span(settings)}) / 3600` },
        ],
        unit: 'h',
        width: 18,
        height: 8,
        hide: ['Value #A'],
        rename: {
          'Value #B': 'Ends in (h)',
          'Value #C': 'Length (h)',
          [silenceId]: 'Silence',
          [createdBy]: 'Created by',
          [mutedAlerts]: 'Mutes',
          [mutedSeverity]: 'Highest severity',
        },
        colorColumn: 'Length (h)',
        thresholds: [
          { value: null, color: 'green' },
          { value: hours, color: 'red' },
        ],
        sortDesc: 'Length (h)',
        noValue: noneIfCollected('Nothing muted'),
      }),
      unreadable: statPanel({
        title: 'Alertmanagers unreadable',
        description:
          'Alertmanagers of the silence watch whose last poll failed (their silences may be out of date).',
        // 0 only while the collector reports; absent ("No data") when it is down.
        queries: [
          {
            expr: `${q.agg('count', `min ${q.by(alertmanager)} (${up}) == 0`)} or ${q.collectorZero}`,
          },
        ],
        width: 6,
        height: 8,
        thresholds: [
          { value: null, color: 'green' },
          { value: 1, color: 'red' },
        ],
      }),
    },
  } satisfies Concern;
}
