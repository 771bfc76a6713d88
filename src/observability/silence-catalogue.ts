/**
 * What the collector's silence watch needs (SilenceWatchSettings in src/shared/contract.ts): the
 * Alertmanagers of `alerting.silenceWatch` with the mount paths of their Secrets, and every
 * generated alerting rule as a silence sees it: its fixed labels (alertname, severity, namespace,
 * static labels) and the labels its expression sets, with where their values come from. The
 * collector then decides from a silence's matchers alone whether it would mute one of them.
 */
import type { Fleet } from '../model/fleet.ts';
import {
  silenceWatchMount,
  type SilenceWatchSettings,
  type WatchedAlert,
  type WatchedLabelValues,
} from '../shared/contract.ts';
import { FAILURE_REASONS, L, SEVERITIES } from '../shared/metrics.ts';
import { concernsFor } from './assemble.ts';
import { observabilitySettings } from './settings.ts';

/** Values of the labels the rules' expressions set, where they are known. Any other label: `any`. */
const DYNAMIC_VALUES: Readonly<Record<string, WatchedLabelValues>> = {
  [L.image]: 'image',
  [L.team]: 'team',
  [L.cronjob]: 'cronjob',
  [L.cveSeverity]: SEVERITIES,
  [L.failureReason]: FAILURE_REASONS,
};

export function watchedAlerts(fleet: Fleet): WatchedAlert[] {
  const settings = observabilitySettings(fleet);
  return concernsFor(settings).flatMap((concern) =>
    concern.alerts.map((alert) => ({
      alertname: alert.alert,
      severity: alert.severity,
      // The same labels, in the same precedence, as the rule (rules.ts alertRule).
      labels: {
        [L.alertname]: alert.alert,
        [L.severity]: alert.severity,
        ...alert.labels,
        [L.namespace]: settings.namespace,
      },
      // Multi-cluster: every per-cluster expression also sets the cluster label (queries.ts), to any cluster's name.
      dynamic: Object.fromEntries(
        [
          ...alert.outputLabels,
          ...(fleet.clusters === undefined || alert.fleetWide === true
            ? []
            : [fleet.clusters.label]),
        ].map((label) => [label, DYNAMIC_VALUES[label] ?? 'any']),
      ),
    })),
  );
}

/** Undefined when no Alertmanager is named: the collector then watches nothing. */
export function silenceWatchSettings(fleet: Fleet): SilenceWatchSettings | undefined {
  const watch = fleet.inventory.alerting.silenceWatch;
  if (watch.alertmanagers.length === 0) return undefined;
  const alerts = watchedAlerts(fleet);
  const known = new Set<string>([
    ...Object.values(L),
    ...alerts.flatMap((a) => Object.keys(a.labels)),
  ]);
  return {
    alertmanagers: watch.alertmanagers.map((am, index) => ({
      url: am.url,
      ...(am.bearerToken !== undefined && { bearerTokenFile: silenceWatchMount(index).tokenFile }),
      ...(am.ca !== undefined && { caFile: silenceWatchMount(index).caFile }),
    })),
    intervalSeconds: watch.intervalSeconds,
    ticketPattern: watch.ticketPattern,
    alerts,
    knownLabels: [...known].sort(),
    externalLabels: Object.fromEntries(
      Object.entries(watch.externalLabels).sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  };
}
