/**
 * Coverage: gaps must show as gaps, not as green. A scan older than the inventory's
 * `prometheus.scanMaxAgeHours` (from the collector's scan age per image: trivy-operator has no
 * scan-time metric), a namespace whose running pods have no VulnerabilityReport at all, and a
 * running inventoried image without any scan.
 */
import { ALERTS, L, METRICS } from '../../shared/metrics.ts';
import { barGaugePanel, statPanel, steps, tablePanel } from '../panels.ts';
import { by, copyLabel, on } from '../promql.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { image, namespace, exportedNamespace, team } = L;

/** The trivy-operator needs a while to scan a new namespace's workloads. */
const NAMESPACE_NOT_SCANNED_FOR = '1h';
/** Scan age only grows between scans: the threshold is the grace, `for` just absorbs a rescan in flight. */
const SCAN_STALE_FOR = '15m';

export function coverageConcern(settings: ObservabilitySettings) {
  const maxAgeHours = settings.scanMaxAgeSeconds / 3600;
  const { q } = settings;
  const scanAge = q.series(METRICS.imageScanAgeSeconds);
  const unscanned = q.series(METRICS.namespaceUnscanned);
  return {
    name: 'coverage',
    records: [],
    alerts: [
      {
        alert: ALERTS.scanStale,
        outputLabels: [L.image, L.team],
        expr: q.withImageTeam(`max ${by(image)} (${scanAge}) > ${settings.scanMaxAgeSeconds}`),
        for: SCAN_STALE_FOR,
        severity: 'warning',
        summary: `Trivy scan of {{ $labels.${image} }} is stale`,
        description:
          `The newest VulnerabilityReport of the running image {{ $labels.${image} }} is {{ $value | humanizeDuration }} old ` +
          `(limit ${maxAgeHours} h): its CVE list and SLA clock are not current (team {{ $labels.${team} }}).`,
      },
      {
        alert: ALERTS.namespaceNotScanned,
        outputLabels: [L.exportedNamespace],
        // The unscanned namespace moves to exported_namespace: `namespace` is the fleet namespace on every alert.
        expr: copyLabel(`max ${by(namespace)} (${unscanned}) > 0`, exportedNamespace, namespace),
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
        queries: [{ expr: `count(${q.inventory.byCronjob})` }],
        width: 4,
        height: 4,
        thresholds: [{ value: null, color: 'blue' }],
      }),
      unscannedNamespaceCount: statPanel({
        title: 'Unscanned namespaces',
        description: 'Namespaces with running pods and no VulnerabilityReport at all.',
        queries: [{ expr: `count(max ${by(namespace)} (${unscanned}) > 0) or vector(0)` }],
        width: 4,
        height: 4,
        thresholds: steps([1, 'orange']),
      }),
      scanAge: barGaugePanel({
        title: 'Scan age per running image',
        description: `Hours since the newest VulnerabilityReport of each running inventoried image. Red beyond ${maxAgeHours} h (TrivyScanStale).`,
        queries: [{ expr: `max ${by(image)} (${scanAge}) / 3600`, legend: `{{${image}}}` }],
        width: 8,
        height: 8,
        unit: 'h',
        thresholds: steps([maxAgeHours, 'red']),
      }),
      unscannedNamespaces: tablePanel({
        title: 'Namespaces with running pods and no Trivy report',
        description: 'Coverage gaps: the trivy-operator does not scan these namespaces (NamespaceNotScanned).',
        queries: [{ expr: `max ${by(namespace)} (${unscanned}) > 0` }],
        width: 5,
        height: 8,
        rename: { Value: 'running pods' },
        noValue: 'none',
      }),
      unscannedImages: tablePanel({
        title: 'Running inventoried images without any scan',
        description: 'Images with running containers and no VulnerabilityReport: their CVEs are unknown.',
        queries: [{ expr: `sum ${by(image)} (${q.series(METRICS.runningContainers)}) unless ${on(image)} ${scanAge}` }],
        width: 5,
        height: 8,
        rename: { Value: 'running containers' },
        noValue: 'none',
      }),
    },
  } satisfies Concern;
}
