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
 *
 * Multi-cluster fleets: a workload cluster has no patched-digest records (they live in the patch
 * cluster), and nothing writes across clusters. The global rules join each cluster's running
 * digests (`fleet_running_digest_containers`, per namespace and digest) with the patched digests
 * the patch cluster's exporters push (`copa_patched_image_info`, pushed at the end of the run that
 * also writes the record): drift is known as soon as the Pushgateway was scraped and the sample
 * remote-written, within the same `for` as today. Where the global layer holds no patched digests,
 * PatchedDigestsUnavailable fires per workload cluster instead of a silent "no drift"
 * (docs/design.md "Multi-cluster fleets").
 */
import { ALERTS, GLOBAL_RECORDS, L, METRICS, RECORDS } from '../../shared/metrics.ts';
import { noneIfCollected, statPanel, steps, tablePanel } from '../panels.ts';
import { by, copyLabel, on } from '../promql.ts';
import { UPSTREAM, type FleetQueries, type SourcedMetric } from '../queries.ts';
import type { ObservabilitySettings } from '../settings.ts';
import { globalGroup } from '../rules.ts';
import type { AlertDefinition, Concern, RecordingRule, RuleGroupSuffix } from '../types.ts';

const { namespace, pod, container, image, digest, patchedDigest, exportedNamespace, team } = L;

/** Drift must last this long before the alert: time for a rollout after the patch. */
const UNPATCHED_DIGEST_FOR = '30m';

/**
 * Multi-cluster drift, per (cluster, namespace, image, running digest), valued at the container
 * count: running digests that are none of the image's latest patched digests, for images that have
 * one. The patched digests are the patch cluster's and hold for every cluster, so that side of the
 * join is grouped without the cluster label on purpose (plain `by`/`on`, not `q.by`/`q.on`).
 */
function globalDrift(q: FleetQueries): {
  records: RecordingRule[];
  drifted: string;
  critical: string;
  unavailable: string;
} {
  const scope = q.clusters;
  if (scope === undefined) throw new Error('globalDrift: not a multi-cluster fleet');
  // The exporters' series are the patch cluster's: so is the inventory they are joined with.
  const patchedExpr = `group ${by(image, digest)} (${q.patchPipeline.inInventory(q.series(METRICS.patchedImageInfo))})`;
  const patched = q.record(GLOBAL_RECORDS.patchedDigests);
  // Per (cluster, workload namespace, image, digest), replicas deduplicated. The workload namespace
  // travels in exported_namespace: a record's `namespace` is the fleet's (rule label).
  const perWorkload = (metric: SourcedMetric) =>
    `max ${q.by(exportedNamespace, image, digest)} (${copyLabel(q.series(metric), exportedNamespace, namespace)})`;
  const driftedExpr = `(${perWorkload(METRICS.runningDigestContainers)} unless ${on(image, digest)} ${patched}) and ${on(image)} group ${by(image)} (${patched})`;
  const inPatchCluster = { [scope.label]: scope.patch };
  // Known: the patch cluster's pushed series reach the global layer, or the patch cluster reports
  // and no CronJob has been scheduled yet (nothing patched, nothing to know).
  const known =
    `group(${q.series(UPSTREAM.pushTimeSeconds)})` +
    ` or (group(${q.series(UPSTREAM.up, inPatchCluster)} == 1) unless group(${q.series(METRICS.cronjobLastScheduleTimestamp, inPatchCluster)}))`;
  const unavailable = `group ${q.by()} (${q.series(METRICS.runningDigestContainers)}) unless ${on()} (${known})`;
  return {
    // The join once per evaluation; the records, the alert and the table read its result.
    records: [
      { record: GLOBAL_RECORDS.patchedDigests, expr: patchedExpr },
      { record: GLOBAL_RECORDS.driftedDigestContainers, expr: driftedExpr },
    ],
    drifted: q.record(GLOBAL_RECORDS.driftedDigestContainers),
    critical: perWorkload(METRICS.runningDigestCriticalContainers),
    unavailable,
  };
}

/** PodsRunningUnpatchedDigest over `drifted` (containers per namespace and image). */
function unpatchedAlert(
  q: FleetQueries,
  drifted: string,
  group?: RuleGroupSuffix,
): AlertDefinition {
  return {
    alert: ALERTS.unpatchedDigest,
    outputLabels: [L.image, L.exportedNamespace, L.team],
    ...(group !== undefined && { group }),
    // The workload namespace moves to exported_namespace: `namespace` is the fleet namespace on every alert.
    expr: q.withImageTeam(drifted),
    for: UNPATCHED_DIGEST_FOR,
    severity: 'warning',
    summary: `Pods in {{ $labels.${exportedNamespace} }} still run an unpatched digest of {{ $labels.${image} }}`,
    description:
      `{{ $value }} running container(s) of {{ $labels.${image} }} in namespace {{ $labels.${exportedNamespace} }} have run a digest ` +
      `other than the latest patched one for more than ${UNPATCHED_DIGEST_FOR}. Roll the workloads out (team {{ $labels.${team} }}).`,
  };
}

/** Running containers of inventoried images; `max` deduplicates the collector's replicas or scrape targets (they count the same containers). */
export function runningContainersTotal(q: FleetQueries): string {
  return q.agg('sum', `max ${q.by(image)} (${q.series(METRICS.runningContainers)})`);
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
  return `(${q.agg('max', q.series(METRICS.complianceUnknownContainers))} or 0 * ${q.agg('max', q.series(METRICS.noncompliantContainers))})`;
}

export function driftConcern(settings: ObservabilitySettings) {
  const { q } = settings;
  const running = runningContainersTotal(q);
  const unknown = complianceUnknownContainers(q);
  const global = q.clusters === undefined ? undefined : globalDrift(q);
  const drift = q.series(METRICS.containerDigestDrift);
  const driftedContainers =
    global === undefined
      ? `count(${drift} == 1) or ${q.collectorZero}`
      : `sum ${q.by()} (${global.drifted}) or ${q.collectorZero}`;
  const nonCompliant =
    global === undefined
      ? `max(${q.series(METRICS.noncompliantContainers)})`
      : // Drifted, or on a digest with a Critical CVE (the collector's per-digest count, as in
        // fleet_noncompliant_containers), each container once: the drifted ones plus the Critical
        // ones not drifted (both are properties of a cluster's digest, counted per namespace); 0 in
        // a cluster with neither.
        `((sum ${q.by()} (${global.drifted}) or ${q.constant(0)})` +
        ` + (sum ${q.by()} (${global.critical} unless ${q.on(exportedNamespace, image, digest)} ${global.drifted}) or ${q.constant(0)}))`;
  const driftedByNamespace = copyLabel(
    `count ${q.by(namespace, image)} (${drift} == 1)`,
    exportedNamespace,
    namespace,
  );
  const scope = q.clusters;
  // Multi-cluster: the global join costs more than one group's budget (docs/benchmarks.md section
  // 7); the compliance ratios and the alerts, which read its records, evaluate in groups of their own.
  const splitGroup = (group: RuleGroupSuffix) => globalGroup(q.clusters, group);
  const unavailableAlert =
    global === undefined || scope === undefined
      ? []
      : [
          {
            alert: ALERTS.patchedDigestsUnavailable,
            expr: global.unavailable,
            ...splitGroup('alerts'),
            for: UNPATCHED_DIGEST_FOR,
            severity: 'critical' as const,
            outputLabels: [scope.label],
            summary: `Drift in cluster {{ $labels.${q.clusters?.label} }} is unknown: no patched digests from the patch cluster`,
            description:
              `Cluster {{ $labels.${q.clusters?.label} }} runs inventoried images, but the global query layer has held no patched digests of the patch cluster ` +
              `"${q.clusters?.patch}" (its Pushgateway's series) for ${UNPATCHED_DIGEST_FOR}: PodsRunningUnpatchedDigest and patch compliance cannot see drift there.`,
          },
        ];
  return {
    name: 'drift',
    records: [
      ...(global?.records ?? []),
      // Containers on a pre-patch digest (the seed counted containers with Critical CVEs instead).
      // Absent, not 0, without the collector: the stat must not turn green while nobody looks.
      { record: RECORDS.digestDriftContainers, expr: driftedContainers },
      {
        record: RECORDS.patchComplianceRatio,
        // Known compliant only: a never-scanned container is not counted compliant. No `or vector(0)`:
        // without the collector's counts the ratio is absent, never a false 100 %.
        expr: `clamp_min(${running} - ${nonCompliant} - ${unknown}, 0) / (${running} > 0)`,
        ...splitGroup('compliance'),
      },
      {
        record: RECORDS.patchComplianceUnknownRatio,
        // The explicit "unknown" part of the same denominator, shown next to the ratio.
        expr: `clamp_max(${unknown} / (${running} > 0), 1)`,
        ...splitGroup('compliance'),
      },
    ],
    alerts: [
      // Multi-cluster: in the alerts' group, which the global rules evaluate per cluster (rules.ts).
      // Prometheus expands an alert's label and annotation templates for every alert instance on
      // every evaluation, which costs far more than the query for one (cluster, namespace, image)
      // each (rule cost, docs/benchmarks.md section 7).
      global === undefined
        ? unpatchedAlert(q, driftedByNamespace)
        : unpatchedAlert(q, `sum ${q.by(exportedNamespace, image)} (${global.drifted})`, 'alerts'),
      ...unavailableAlert,
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
        description:
          'Running containers whose digest differs from the latest patched digest of their image (digest drift).',
        queries: [{ expr: q.record(RECORDS.digestDriftContainers) }],
        width: 4,
        height: 4,
        thresholds: steps([1, 'orange']),
      }),
      driftedContainers:
        global === undefined
          ? tablePanel({
              title: 'Containers on a pre-patch digest',
              description: `Each running container whose digest is not the latest patched digest of its image. PodsRunningUnpatchedDigest fires after ${UNPATCHED_DIGEST_FOR}.`,
              queries: [
                {
                  expr: `max ${q.by(namespace, pod, container, image, digest, patchedDigest)} (${drift} == 1)`,
                },
              ],
              width: 24,
              height: 8,
              hide: ['Value'],
              rename: { [digest]: 'running digest' },
              noValue: noneIfCollected(),
            })
          : tablePanel({
              title: 'Containers on a pre-patch digest',
              description: `Running containers per cluster, namespace and running digest that is not a latest patched digest of their image. PodsRunningUnpatchedDigest fires after ${UNPATCHED_DIGEST_FOR}.`,
              queries: [{ expr: global.drifted }],
              width: 24,
              height: 8,
              hide: [namespace],
              rename: {
                [digest]: 'running digest',
                [exportedNamespace]: 'namespace',
                Value: 'containers',
              },
              noValue: noneIfCollected(),
            }),
    },
  } satisfies Concern;
}
