/**
 * The report's two-cluster scenario: 7 days (September 1-8, 2026) of a fleet in two clusters as a
 * central Prometheus receiving remote write holds them (every series carries the `cluster` external
 * label of the cluster's Prometheus), with known truth:
 *
 * - eu-1 runs the patch pipeline (Copa CronJobs, Pushgateway) and workloads; us-1 runs workloads.
 *   Both run 2 containers of payments/api (namespace payments) and 2 of web/frontend (namespace web).
 * - payments/api is patched daily at 02:00 in eu-1 (the exporter pushes copa_patched_image_info):
 *   digest B until Sep 5 12:00, then C. eu-1 rolls out C at once; us-1 keeps running B: drift in
 *   us-1 only, 2 containers, from Sep 5 12:00 to the end (60 h).
 * - CVE-2026-5001 (Critical, SLA 24 h) on payments/api in both clusters: in eu-1 first seen Sep 2
 *   00:00, remediated Sep 2 10:00 (10 h, within SLA); in us-1 first seen Sep 2 06:00, remediated
 *   Sep 4 06:00 (48 h, past SLA from Sep 3 06:00).
 * - CVE-2026-5004 Critical on payments/api in both clusters from Sep 7 18:00, open at the end (6 h);
 *   CVE-2026-5002 Critical on web/frontend in us-1 only from Sep 7 12:00, open at the end (12 h).
 * - us-1's collector is down Sep 3 00:00-06:00 (up 0, no collector series); eu-1's stays up.
 * - us-1's scan of web/frontend goes stale Sep 6 00:00 - Sep 7 12:00 (up to 37 h); eu-1's does not.
 * - Namespace batch in us-1 runs 3 pods without a VulnerabilityReport Sep 4 00:00 - Sep 5 00:00.
 * - A us-1 job with the exporter's name and namespace (not the fleet's Pushgateway: exporter series
 *   exist only in the patch cluster) counts 1000 successful runs: any of it in the report is a leak.
 *
 * Both clusters' collector pods have the same `instance` (pod IP and port): the per-cluster join
 * of the collector's workload series with its `up` must keep them apart.
 */
import { JOBS, METRICS, UPSTREAM_METRICS } from '../../../src/shared/metrics.ts';
import type { ScriptedSeries, Timeline } from './openmetrics.ts';
import { sep, SEPT_1 } from './scenario.ts';

const H = 3600;
export const MC_END = sep(8);
export const MC_TIMELINE: Timeline = { start: SEPT_1, end: MC_END, scrapeSeconds: 120 };
export const CLUSTERS = ['eu-1', 'us-1'] as const;
export type ClusterName = (typeof CLUSTERS)[number];
export const PATCH_CLUSTER: ClusterName = 'eu-1';
const NAMESPACE = 'copa-fleet';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

export const MC_IMAGES = [
  {
    image: 'registry.example.com/payments/api',
    cronjob: 'copa-payments-api',
    team: 'payments',
    namespace: 'payments',
    sla: { Critical: 24, High: 72 },
  },
  {
    image: 'registry.example.com/web/frontend',
    cronjob: 'copa-web-frontend',
    team: 'web',
    namespace: 'web',
    sla: { Critical: 24 },
  },
] as const;
const [API, FRONTEND] = MC_IMAGES;
const CONTAINERS = 2;

export const MC_DRIFT = {
  cluster: 'us-1' as ClusterName,
  image: API.image,
  namespace: API.namespace,
  from: sep(5, 12),
  running: digest('b'),
  patched: digest('c'),
  containers: CONTAINERS,
} as const;
const FRONTEND_DIGEST = digest('f');

export interface McCve {
  readonly cluster: ClusterName;
  readonly image: string;
  readonly cveId: string;
  readonly firstSeen: number;
  readonly gone?: number;
}
export const MC_CVES: readonly McCve[] = [
  {
    cluster: 'eu-1',
    image: API.image,
    cveId: 'CVE-2026-5001',
    firstSeen: sep(2),
    gone: sep(2, 10),
  },
  {
    cluster: 'us-1',
    image: API.image,
    cveId: 'CVE-2026-5001',
    firstSeen: sep(2, 6),
    gone: sep(4, 6),
  },
  { cluster: 'eu-1', image: API.image, cveId: 'CVE-2026-5004', firstSeen: sep(7, 18) },
  { cluster: 'us-1', image: API.image, cveId: 'CVE-2026-5004', firstSeen: sep(7, 18) },
  { cluster: 'us-1', image: FRONTEND.image, cveId: 'CVE-2026-5002', firstSeen: sep(7, 12) },
];
export const MC_OUTAGE = { cluster: 'us-1' as ClusterName, from: sep(3), to: sep(3, 6) } as const;
export const MC_UNSCANNED = {
  cluster: 'us-1' as ClusterName,
  namespace: 'batch',
  pods: 3,
  from: sep(4),
  to: sep(5),
} as const;
/** us-1's scan of web/frontend is not refreshed Sep 6 00:00 - Sep 7 12:00 (37 h old at most); eu-1's is. */
export const MC_STALE_SCAN = {
  cluster: 'us-1' as ClusterName,
  image: FRONTEND.image,
  from: sep(6),
  to: sep(7, 12),
} as const;
/** Runs at 02:00 every day from Sep 1; the success counters start at this. */
const SUCCESS_BASE = 10;

const up = (cluster: ClusterName, t: number): boolean =>
  !(cluster === MC_OUTAGE.cluster && t >= MC_OUTAGE.from && t < MC_OUTAGE.to);
/** The patched digest the exporter last pushed for payments/api at t. */
const patchedApi = (t: number): string =>
  t >= MC_DRIFT.from ? MC_DRIFT.patched : MC_DRIFT.running;
/** The digest the cluster's api containers run at t: us-1 never rolls out C. */
const runningApi = (cluster: ClusterName, t: number): string =>
  cluster === MC_DRIFT.cluster ? MC_DRIFT.running : patchedApi(t);
const runsBefore = (t: number): number => Math.max(0, Math.floor((t - sep(1, 2)) / 86_400) + 1);
const open = (c: McCve, t: number): boolean =>
  t >= c.firstSeen && (c.gone === undefined || t < c.gone);

export function multiClusterSeries(): ScriptedSeries[] {
  const series: ScriptedSeries[] = [];
  for (const cluster of CLUSTERS) {
    const collector = {
      cluster,
      job: JOBS.collector,
      instance: '10.0.0.5:9090',
      namespace: NAMESPACE,
    };
    const live = (f: (t: number) => number | undefined) => (t: number) =>
      up(cluster, t) ? f(t) : undefined;
    series.push({
      name: UPSTREAM_METRICS.up,
      labels: collector,
      value: (t) => (up(cluster, t) ? 1 : 0),
    });
    series.push({
      name: METRICS.complianceUnknownContainers.name,
      labels: collector,
      value: live(() => 0),
    });
    for (const img of MC_IMAGES) {
      const { image, cronjob, team } = img;
      series.push({
        name: METRICS.inventoryImageInfo.name,
        labels: { ...collector, image, cronjob, team },
        value: live(() => 1),
      });
      series.push({
        name: METRICS.inventoryScheduleIntervalSeconds.name,
        labels: { ...collector, image },
        value: live(() => 86_400),
      });
      for (const [severity, hours] of Object.entries(img.sla))
        series.push({
          name: METRICS.inventorySlaHours.name,
          labels: { ...collector, image, severity },
          value: live(() => hours),
        });
      series.push({
        name: METRICS.runningContainers.name,
        labels: { ...collector, image },
        value: live(() => CONTAINERS),
      });
      series.push({
        name: METRICS.imageScanAgeSeconds.name,
        labels: { ...collector, image },
        value: live((t) =>
          cluster === MC_STALE_SCAN.cluster &&
          image === MC_STALE_SCAN.image &&
          t >= MC_STALE_SCAN.from &&
          t < MC_STALE_SCAN.to
            ? t - MC_STALE_SCAN.from + 3600
            : 3600,
        ),
      });
    }
    // Running digests per namespace (honorLabels: the workload's namespace): api's change at the rollout.
    for (const d of new Set([MC_DRIFT.running, MC_DRIFT.patched]))
      series.push({
        name: METRICS.runningDigestContainers.name,
        labels: { ...collector, namespace: API.namespace, image: API.image, digest: d },
        value: live((t) => (runningApi(cluster, t) === d ? CONTAINERS : undefined)),
      });
    series.push({
      name: METRICS.runningDigestContainers.name,
      labels: {
        ...collector,
        namespace: FRONTEND.namespace,
        image: FRONTEND.image,
        digest: FRONTEND_DIGEST,
      },
      value: live(() => CONTAINERS),
    });
    for (const cve of MC_CVES.filter((c) => c.cluster === cluster)) {
      const digests =
        cve.image === FRONTEND.image
          ? [FRONTEND_DIGEST]
          : [
              ...new Set([
                runningApi(cluster, cve.firstSeen),
                runningApi(cluster, cve.gone ?? MC_END),
              ]),
            ];
      for (const d of digests)
        series.push({
          name: METRICS.imageCveAgeHours.name,
          labels: {
            ...collector,
            image: cve.image,
            digest: d,
            cve_id: cve.cveId,
            severity: 'Critical',
          },
          from: cve.firstSeen,
          ...(cve.gone !== undefined && { to: cve.gone - 1 }),
          value: live((t) =>
            open(cve, t) && (cve.image === FRONTEND.image || runningApi(cluster, t) === d)
              ? (t - cve.firstSeen) / H
              : undefined,
          ),
        });
    }
    if (cluster === MC_UNSCANNED.cluster)
      series.push({
        name: METRICS.namespaceUnscanned.name,
        labels: { ...collector, namespace: MC_UNSCANNED.namespace },
        from: MC_UNSCANNED.from,
        to: MC_UNSCANNED.to - 1,
        value: live(() => MC_UNSCANNED.pods),
      });
    if (cluster === PATCH_CLUSTER) series.push(...patchClusterSeries());
    else
      series.push({
        name: METRICS.patchSuccessTotal.name,
        labels: {
          cluster,
          job: JOBS.exporter,
          instance: '10.0.0.6:9091',
          namespace: NAMESPACE,
          cronjob: API.cronjob,
          image: API.image,
        },
        value: () => 1000,
      });
  }
  return series;
}

/** The Pushgateway of eu-1 and the exporter groups it holds: every run succeeds. */
function patchClusterSeries(): ScriptedSeries[] {
  const cluster = PATCH_CLUSTER;
  const target = { cluster, instance: '10.0.0.6:9091', namespace: NAMESPACE };
  const series: ScriptedSeries[] = [
    { name: UPSTREAM_METRICS.up, labels: { ...target, job: JOBS.pushgateway }, value: () => 1 },
  ];
  for (const { image, cronjob } of MC_IMAGES) {
    const group = { ...target, job: JOBS.exporter, cronjob, image };
    const lastRun = (t: number) => (runsBefore(t) === 0 ? undefined : sep(runsBefore(t), 2) + 300);
    series.push(
      {
        name: METRICS.patchSuccessTotal.name,
        labels: { ...group, copa_version: '0.14.2' },
        value: (t) => SUCCESS_BASE + runsBefore(t),
      },
      { name: METRICS.runLastTimestamp.name, labels: group, value: lastRun },
      {
        name: METRICS.runLastSuccessTimestamp.name,
        labels: group,
        value: (t) => lastRun(t) ?? sep(1) - 86_400 + 2 * H + 300,
      },
      {
        name: METRICS.runLastOutcome.name,
        labels: { ...group, outcome: 'patched' },
        value: () => 1,
      },
    );
    if (image === API.image)
      for (const d of [MC_DRIFT.running, MC_DRIFT.patched])
        series.push({
          name: METRICS.patchedImageInfo.name,
          labels: { ...group, tag: '3.8.1-patched', digest: d },
          value: (t) => (patchedApi(t) === d ? 1 : undefined),
        });
  }
  return series;
}
