/**
 * Digest drift and patch compliance: the registry image was patched, but running containers still
 * execute an older digest. Pods are not restarted when a tag moves, so only the running digest
 * (the collector's `running_container_digest_drift`) tells the truth.
 *
 * Compliance: a running container of an inventoried image is compliant when it runs the latest
 * patched digest of its image (or the image has none yet) and its digest carries no Critical CVE.
 * The collector counts the others (`fleet_noncompliant_containers`, each container once): joining
 * the per-container drift with the per-pod Critical series in PromQL cost a read of every pod's
 * series per evaluation (rule cost, docs/benchmarks.md).
 */
import { ALERTS, L, METRICS, RECORDS } from '../../shared/metrics.ts';
import { noneIfCollected, statPanel, steps, tablePanel } from '../panels.ts';
import { by, copyLabel } from '../promql.ts';
import type { FleetQueries } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import type { Concern } from '../types.ts';

const { namespace, pod, container, image, digest, patchedDigest, exportedNamespace, team } = L;

/** Drift must last this long before the alert: time for a rollout after the patch. */
const UNPATCHED_DIGEST_FOR = '30m';

/** Running containers of inventoried images; `max` deduplicates the collector's replicas or scrape targets (they count the same containers). */
export function runningContainersTotal(q: FleetQueries): string {
  return `sum(max ${by(image)} (${q.series(METRICS.runningContainers)}))`;
}

/** Red below 90 %, orange below 99 %: the compliance stats (strict, and with accepted risk: exceptions.ts). */
export const COMPLIANCE_THRESHOLDS = [
  { value: null, color: 'red' },
  { value: 0.9, color: 'orange' },
  { value: 0.99, color: 'green' },
] as const;

/**
 * Running containers never scanned and not known non-compliant: not known to be compliant, in
 * every compliance ratio (strict and with accepted risk). 0 where the collector exports its
 * non-compliant count but not this one (history recorded before this series existed, e.g. in a
 * 30-day report), never from nothing.
 */
export function complianceUnknownContainers(q: FleetQueries): string {
  return `(max(${q.series(METRICS.complianceUnknownContainers)}) or 0 * max(${q.series(METRICS.noncompliantContainers)}))`;
}

export function driftConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  const drift = q.series(METRICS.containerDigestDrift);
  const running = runningContainersTotal(q);
  const nonCompliant = `max(${q.series(METRICS.noncompliantContainers)})`;
  const unknown = complianceUnknownContainers(q);
  return {
    name: 'drift',
    records: [
      // Containers on a pre-patch digest (the seed counted containers with Critical CVEs instead).
      // Absent, not 0, without the collector: the stat must not turn green while nobody looks.
      { record: RECORDS.digestDriftContainers, expr: `count(${drift} == 1) or ${q.collectorZero}` },
      {
        record: RECORDS.patchComplianceRatio,
        // Known compliant only: a never-scanned container is not counted compliant. No `or vector(0)`:
        // without the collector's counts the ratio is absent, never a false 100 %.
        expr: `clamp_min(${running} - ${nonCompliant} - ${unknown}, 0) / (${running} > 0)`,
      },
      {
        record: RECORDS.patchComplianceUnknownRatio,
        // The explicit "unknown" part of the same denominator, shown next to the ratio.
        expr: `clamp_max(${unknown} / (${running} > 0), 1)`,
      },
    ],
    alerts: [
      {
        alert: ALERTS.unpatchedDigest,
        outputLabels: [L.image, L.exportedNamespace, L.team],
        // The workload namespace moves to exported_namespace: `namespace` is the fleet namespace on every alert.
        expr: q.withImageTeam(copyLabel(`count ${by(namespace, image)} (${drift} == 1)`, exportedNamespace, namespace)),
        for: UNPATCHED_DIGEST_FOR,
        severity: 'warning',
        summary: `Pods in {{ $labels.${exportedNamespace} }} still run an unpatched digest of {{ $labels.${image} }}`,
        description:
          `{{ $value }} running container(s) of {{ $labels.${image} }} in namespace {{ $labels.${exportedNamespace} }} have run a digest ` +
          `other than the latest patched one for more than ${UNPATCHED_DIGEST_FOR}. Roll the workloads out (team {{ $labels.${team} }}).`,
      },
    ],
    panels: {
      patchCompliance: statPanel({
        title: 'Patch compliance',
        description:
          'Compliant: running containers of inventoried images that run the latest patched digest and whose scanned digest carries no Critical CVE, over all running containers of inventoried images. ' +
          'Containers whose digest was never scanned are not counted compliant (see "Compliance unknown").',
        queries: [{ expr: q.record(RECORDS.patchComplianceRatio) }],
        width: 4,
        height: 4,
        unit: 'percentunit',
        thresholds: COMPLIANCE_THRESHOLDS,
      }),
      complianceUnknown: statPanel({
        title: 'Compliance unknown',
        description:
          'Running containers of inventoried images whose digest has no VulnerabilityReport (and that are not on a pre-patch digest), over all of them: ' +
          'neither known compliant nor known non-compliant (RunningImageNotScanned).',
        queries: [{ expr: q.record(RECORDS.patchComplianceUnknownRatio) }],
        width: 4,
        height: 4,
        unit: 'percentunit',
        thresholds: steps([0.000001, 'orange']),
      }),
      driftedContainerCount: statPanel({
        title: 'Containers on a pre-patch digest',
        description: 'Running containers whose digest differs from the latest patched digest of their image (digest drift).',
        queries: [{ expr: q.record(RECORDS.digestDriftContainers) }],
        width: 4,
        height: 4,
        thresholds: steps([1, 'orange']),
      }),
      driftedContainers: tablePanel({
        title: 'Containers on a pre-patch digest',
        description: `Each running container whose digest is not the latest patched digest of its image. PodsRunningUnpatchedDigest fires after ${UNPATCHED_DIGEST_FOR}.`,
        queries: [{ expr: `max ${by(namespace, pod, container, image, digest, patchedDigest)} (${drift} == 1)` }],
        width: 24,
        height: 8,
        hide: ['Value'],
        rename: { [digest]: 'running digest' },
        noValue: noneIfCollected(),
      }),
    },
  } satisfies Concern;
}
