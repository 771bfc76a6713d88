/**
 * Coverage: gaps must show as gaps, not as green. A scan older than the inventory's
 * `prometheus.scanMaxAgeHours` (from the collector's scan age per image: trivy-operator has no
 * scan-time metric), a namespace whose running pods have no VulnerabilityReport at all, and a
 * running inventoried image whose running digests have no report (the collector's
 * `fleet_unscanned_containers`: trivy-operator failed on it or skips it). The last one is Threat 3
 * itself; neither of the first two sees it (scan age needs a report to be old, the namespace check
 * needs the whole namespace to have none).
 */
import { ALERTS, L, METRICS } from '../../shared/metrics.ts';
import { barGaugePanel, noneIfCollected, statPanel, steps, tablePanel } from '../panels.ts';
import { copyLabel } from '../promql.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { image, namespace, exportedNamespace, team } = L;

/** The trivy-operator needs a while to scan a new namespace's workloads. */
const NAMESPACE_NOT_SCANNED_FOR = '1h';
/**
 * A new rollout's digest gets its report from trivy-operator's scan job within minutes (it scans
 * each new ReplicaSet); an hour without one is a gap, not a scan in flight.
 */
const IMAGE_NOT_SCANNED_FOR = '1h';
/** Scan age only grows between scans: the threshold is the grace, `for` just absorbs a rescan in flight. */
const SCAN_STALE_FOR = '15m';

export function coverageConcern(settings: ObservabilitySettings) {
  const maxAgeHours = settings.scanMaxAgeSeconds / 3600;
  const { q } = settings;
  const scanAge = q.series(METRICS.imageScanAgeSeconds);
  const unscanned = q.series(METRICS.namespaceUnscanned);
  /** `max` deduplicates the collector's replicas or scrape targets (they count the same containers). */
  const unscannedContainers = `max ${q.by(image)} (${q.series(METRICS.unscannedContainers)})`;
  return {
    name: 'coverage',
    records: [],
    alerts: [
      {
        alert: ALERTS.scanStale,
        outputLabels: [L.image, L.team],
        expr: q.withImageTeam(`max ${q.by(image)} (${scanAge}) > ${settings.scanMaxAgeSeconds}`),
        for: SCAN_STALE_FOR,
        severity: 'warning',
        summary: `Trivy scan of {{ $labels.${image} }} is stale`,
        description:
          `The newest VulnerabilityReport of the running image {{ $labels.${image} }} is {{ $value | humanizeDuration }} old ` +
          `(limit ${maxAgeHours} h): its CVE list and SLA clock are not current (team {{ $labels.${team} }}).`,
      },
      {
        alert: ALERTS.imageNotScanned,
        outputLabels: [L.image, L.team],
        expr: q.withImageTeam(`${unscannedContainers} > 0`),
        for: IMAGE_NOT_SCANNED_FOR,
        severity: 'warning',
        summary: `Running image {{ $labels.${image} }} was never scanned`,
        description:
          `{{ $value }} running container(s) of {{ $labels.${image} }} have run a digest without any VulnerabilityReport for ${IMAGE_NOT_SCANNED_FOR}: ` +
          `its CVEs are unknown, and those containers count as not known to be compliant (team {{ $labels.${team} }}).`,
      },
      {
        alert: ALERTS.namespaceNotScanned,
        outputLabels: [L.exportedNamespace],
        // The unscanned namespace moves to exported_namespace: `namespace` is the fleet namespace on every alert.
        expr: copyLabel(`max ${q.by(namespace)} (${unscanned}) > 0`, exportedNamespace, namespace),
        for: NAMESPACE_NOT_SCANNED_FOR,
        severity: 'warning',
        summary: `Namespace {{ $labels.${exportedNamespace} }} has running pods but no Trivy report`,
        description:
          `{{ $value }} running pod(s) in namespace {{ $labels.${exportedNamespace} }} and no VulnerabilityReport there for ` +
          `${NAMESPACE_NOT_SCANNED_FOR}: the trivy-operator does not watch it, so its CVEs are invisible to the SLA.`,
      },
    ],
    panels: {
      inventoriedImages: statPanel({
        title: 'Inventoried images',
        description: 'Enabled inventory entries (CronJobs), as the drift collector exports them.',
        queries: [{ expr: q.agg('count', q.inventory.byCronjob) }],
        width: 4,
        height: 4,
        thresholds: [{ value: null, color: 'blue' }],
      }),
      unscannedNamespaceCount: statPanel({
        title: 'Unscanned namespaces',
        description: 'Namespaces with running pods and no VulnerabilityReport at all.',
        // 0 only while the collector reports; absent ("No data") when it is down.
        queries: [
          {
            expr: `${q.agg('count', `max ${q.by(namespace)} (${unscanned}) > 0`)} or ${q.collectorZero}`,
          },
        ],
        width: 4,
        height: 4,
        thresholds: steps([1, 'orange']),
      }),
      scanAge: barGaugePanel({
        title: 'Scan age per running image',
        description: `Hours since the newest VulnerabilityReport of each running inventoried image. Red beyond ${maxAgeHours} h (TrivyScanStale).`,
        queries: [{ expr: `max ${q.by(image)} (${scanAge}) / 3600`, legend: `{{${image}}}` }],
        width: 8,
        height: 8,
        unit: 'h',
        thresholds: steps([maxAgeHours, 'red']),
      }),
      unscannedNamespaces: tablePanel({
        title: 'Namespaces with running pods and no Trivy report',
        description:
          'Coverage gaps: the trivy-operator does not scan these namespaces (NamespaceNotScanned).',
        queries: [{ expr: `max ${q.by(namespace)} (${unscanned}) > 0` }],
        width: 5,
        height: 8,
        rename: { Value: 'running pods' },
        noValue: noneIfCollected(),
      }),
      unscannedImages: tablePanel({
        title: 'Running inventoried images with unscanned digests',
        description: `Running containers whose digest has no VulnerabilityReport, per image: their CVEs are unknown, their compliance too (RunningImageNotScanned after ${IMAGE_NOT_SCANNED_FOR}).`,
        queries: [{ expr: `${unscannedContainers} > 0` }],
        width: 5,
        height: 8,
        rename: { Value: 'running containers' },
        noValue: noneIfCollected(),
      }),
    },
  } satisfies Concern;
}
