/**
 * Everything the concerns need from the fleet, resolved once: the selectors of its series, thresholds
 * in seconds, the SLA severities in scope, and the distinct schedule intervals. One place turns inventory values into
 * rule parameters, so no concern re-derives (or hard-codes) a threshold.
 */
import type { Fleet } from '../model/fleet.ts';
import { scanFreshness } from '../model/scan-freshness.ts';
import { SEVERITIES, type Severity } from '../shared/metrics.ts';
import { clusterScope, FleetQueries, fleetSelectors } from './queries.ts';

export interface ObservabilitySettings {
  /** Fleet namespace: every generated object lives here, and every alert carries it as `namespace`. */
  readonly namespace: string;
  /** Namespace of the Copa CronJobs (a multi-cluster fleet's patch cluster may run them in its own, `clusters[].namespace`). */
  readonly cronjobNamespace: string;
  /** This fleet's series: every rule and panel expression reads its inputs through it. */
  readonly q: FleetQueries;
  readonly runbookBaseUrl: string;
  /** TrivyScanStale threshold (model/scan-freshness.ts: beyond trivy-operator's report TTL). */
  readonly scanMaxAgeSeconds: number;
  /** Added to an image's schedule interval before CopaPatchJobMissing. */
  readonly missingRunGraceSeconds: number;
  /**
   * How long after a scheduled time the run's push can legitimately arrive: the Job may start up to
   * startingDeadlineSeconds late and runs for at most activeDeadlineSeconds. PushgatewayGroupStale
   * waits this long past the schedule interval.
   */
  readonly pushLatenessSeconds: number;
  /** Severities that at least one image has SLA hours for (SEVERITIES order). */
  readonly slaSeverities: readonly Severity[];
  /** Critical SLA hours of the fleet defaults: the SLA table colours ages at 1x (orange) and 2x (red). */
  readonly defaultCriticalSlaHours: number;
  /** Longest schedule interval of the fleet, seconds. */
  readonly longestScheduleInterval: number;
  readonly dependencyTrackEnabled: boolean;
  /** The generated Pushgateway is deployed (and scraped as job copa-fleet-pushgateway). */
  readonly pushgatewayDeployed: boolean;
  /** At least one Alertmanager in `alerting.silenceWatch.alertmanagers`. */
  readonly silenceWatchEnabled: boolean;
  /** CopaAlertSilencedTooLong threshold (`alerting.silenceWatch.maxHours`). */
  readonly silenceMaxSeconds: number;
  /** Seconds between two polls of an Alertmanager. */
  readonly silencePollSeconds: number;
}

const HOUR = 3600;
/** Used for the SLA table colours when the inventory's defaults track no Critical SLA. */
const FALLBACK_CRITICAL_SLA_HOURS = 24;

export function observabilitySettings(fleet: Fleet): ObservabilitySettings {
  const { inventory } = fleet;
  const severities = new Set<Severity>();
  for (const image of fleet.images) {
    for (const severity of Object.keys(image.slaHours) as Severity[]) severities.add(severity);
  }
  const intervals = [...new Set(fleet.images.map((image) => image.scheduleIntervalSeconds))].sort(
    (a, b) => a - b,
  );
  return {
    namespace: fleet.namespace,
    cronjobNamespace: fleet.clusters?.patch.namespace ?? fleet.namespace,
    q: new FleetQueries(fleetSelectors(fleet), clusterScope(fleet)),
    runbookBaseUrl: inventory.alerting.runbookBaseUrl.replace(/\/+$/, ''),
    scanMaxAgeSeconds: Math.round(scanFreshness(inventory).scanMaxAgeHours * HOUR),
    missingRunGraceSeconds: Math.round(inventory.prometheus.missingRunGraceHours * HOUR),
    pushLatenessSeconds:
      inventory.defaults.job.startingDeadlineSeconds + inventory.defaults.job.activeDeadlineSeconds,
    slaSeverities: SEVERITIES.filter((severity) => severities.has(severity)),
    defaultCriticalSlaHours: inventory.defaults.sla.critical ?? FALLBACK_CRITICAL_SLA_HOURS,
    longestScheduleInterval: intervals.at(-1) ?? 24 * HOUR,
    dependencyTrackEnabled: inventory.dependencyTrack !== undefined,
    pushgatewayDeployed: inventory.defaults.pushgateway.deploy,
    silenceWatchEnabled: inventory.alerting.silenceWatch.alertmanagers.length > 0,
    silenceMaxSeconds: Math.round(inventory.alerting.silenceWatch.maxHours * HOUR),
    silencePollSeconds: inventory.alerting.silenceWatch.intervalSeconds,
  };
}
