/**
 * Digest drift and patch compliance: the registry image was patched, but running containers still
 * execute an older digest. Pods are not restarted when a tag moves, so only the running digest
 * (the collector's `running_container_digest_drift`) tells the truth.
 *
 * Compliance: a running container of an inventoried image is compliant when it runs the latest
 * patched digest of its image (or the image has none yet) and its digest carries no Critical CVE.
 * All containers of one pod that run one digest share both properties, so the non-compliant count
 * per (namespace, pod, image, digest) is the larger of the drifted and the Critical-CVE counts.
 */
import { ALERTS, L, METRICS, RECORDS } from '../../shared/metrics.ts';
import { statPanel, steps, tablePanel } from '../panels.ts';
import { by, copyLabel, INVENTORY, on, withImageTeam, workloadSeries } from '../promql.ts';
import type { Concern } from '../types.ts';

const { namespace, pod, container, image, digest, patchedDigest, exportedNamespace, exportedPod, team } = L;
const drift = workloadSeries(METRICS.containerDigestDrift.name);

/** Drift must last this long before the alert: time for a rollout after the patch. */
const UNPATCHED_DIGEST_FOR = '30m';

/**
 * A pod's containers of one digest, without relabelling: where the scrape did not honour the
 * collector's labels the workload's namespace/pod sit in `exported_*` (and the collector's own in
 * `namespace`/`pod`), where it did the `exported_*` labels are absent. Grouping by both sets keeps
 * the key exact either way, and saves three label_replace calls per series (the costliest part of
 * this group).
 */
const key = [namespace, exportedNamespace, pod, exportedPod, image, digest] as const;
const rawDrift = METRICS.containerDigestDrift.name;
const rawCritical = METRICS.runningContainersWithCriticalCve.name;
const inventoried = (expr: string) => `(${expr} and ${on(image)} ${INVENTORY.byImage})`;
/**
 * Throwaway label that keeps the two counts apart in one vector (`or` would drop the second of two
 * equal label sets), so one `max by` takes the larger per key; it never leaves the expression.
 */
const SOURCE = 'copa_fleet_source';
const drifted = `label_replace(count ${by(...key)} (${inventoried(`${rawDrift} == 1`)}), "${SOURCE}", "drift", "", "")`;
const withCritical = `label_replace(sum ${by(...key)} (${inventoried(`${rawCritical} > 0`)}), "${SOURCE}", "critical", "", "")`;
const nonCompliant = `sum(max ${by(...key)} (${drifted} or ${withCritical}))`;
const running = `sum(${inventoried(`sum ${by(image)} (${METRICS.runningContainers.name})`)})`;

export function driftConcern(): Concern {
  return {
    name: 'drift',
    records: [
      // Containers on a pre-patch digest (the seed counted containers with Critical CVEs instead).
      { record: RECORDS.digestDriftContainers, expr: `count(${rawDrift} == 1) or vector(0)` },
      {
        record: RECORDS.patchComplianceRatio,
        expr: `clamp_min(${running} - (${nonCompliant} or vector(0)), 0) / (${running} > 0)`,
      },
    ],
    alerts: [
      {
        alert: ALERTS.unpatchedDigest,
        // The workload namespace moves to exported_namespace: `namespace` is the fleet namespace on every alert.
        expr: withImageTeam(copyLabel(`count ${by(namespace, image)} (${drift} == 1)`, exportedNamespace, namespace)),
        for: UNPATCHED_DIGEST_FOR,
        severity: 'warning',
        summary: `Pods in {{ $labels.${exportedNamespace} }} still run an unpatched digest of {{ $labels.${image} }}`,
        description:
          `{{ $value }} running container(s) of {{ $labels.${image} }} in namespace {{ $labels.${exportedNamespace} }} have run a digest ` +
          `other than the latest patched one for more than ${UNPATCHED_DIGEST_FOR}. Roll the workloads out (team {{ $labels.${team} }}).`,
      },
    ],
    panels: [
      {
        row: 'overview',
        order: 30,
        panel: statPanel({
          title: 'Patch compliance',
          description:
            'Running containers of inventoried images that run the latest patched digest and carry no Critical CVE, over all running containers of inventoried images.',
          queries: [{ expr: RECORDS.patchComplianceRatio }],
          width: 5,
          height: 4,
          unit: 'percentunit',
          thresholds: [
            { value: null, color: 'red' },
            { value: 0.9, color: 'orange' },
            { value: 0.99, color: 'green' },
          ],
        }),
      },
      {
        row: 'overview',
        order: 40,
        panel: statPanel({
          title: 'Containers on a pre-patch digest',
          description: 'Running containers whose digest differs from the latest patched digest of their image (digest drift).',
          queries: [{ expr: RECORDS.digestDriftContainers }],
          width: 5,
          height: 4,
          thresholds: steps([1, 'orange']),
        }),
      },
      {
        row: 'overview',
        order: 70,
        panel: tablePanel({
          title: 'Containers on a pre-patch digest',
          description: `Each running container whose digest is not the latest patched digest of its image. PodsRunningUnpatchedDigest fires after ${UNPATCHED_DIGEST_FOR}.`,
          queries: [{ expr: `max ${by(namespace, pod, container, image, digest, patchedDigest)} (${drift} == 1)` }],
          width: 24,
          height: 8,
          hide: ['Value'],
          rename: { [digest]: 'running digest' },
          noValue: 'none',
        }),
      },
    ],
  };
}
