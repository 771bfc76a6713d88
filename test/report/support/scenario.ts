/**
 * The report's proof scenario: 30 days (September 2026) of a three-image fleet, scripted as the
 * series the drift collector, the exporters (through the Pushgateway) and Prometheus' own `up`
 * would have written, with known truth:
 *
 * - payments/api (Critical SLA 24 h, High 72 h): CVE-2026-1001 Critical Sep 2 00:00-10:00 (10 h);
 *   CVE-2026-1002 High Sep 3 06:00 - Sep 4 06:00 (24 h); CVE-2026-1003 High from Sep 29 00:00,
 *   open at the end (48 h); CVE-2026-1004 Critical from Sep 30 12:00, open at the end (12 h).
 * - web/frontend (Critical 24 h, High 72 h): CVE-2026-2001 Critical Sep 5 01:00 - Sep 7 01:00
 *   (48 h): the one breach, due Sep 6 01:00.
 * - data/etl (Critical 12 h): CVE-2026-3001 Critical, first seen Aug 31 18:00 (before the data
 *   starts), fixed Sep 1 03:00 (9 h). Its Copa runs fail (push_failed) every day Sep 14-20, the
 *   failed week. From Sep 28 00:00 its pod etl-worker-0 keeps the pre-patch digest (the drifted
 *   deployment), still at the end. Its scan is not refreshed Sep 25 04:00 - Sep 28 04:00 (72 h).
 * - The collector is down Sep 16 00:00-06:00 (no collector series, up = 0).
 * - Namespace batch runs 2 pods without any VulnerabilityReport Sep 20 00:00 - Sep 22 00:00.
 * - Every image runs daily at 02:00; 2 containers of api and frontend, 1 of etl.
 *
 * The fleet lives in namespace copa-fleet: its collector's and Pushgateway's targets carry the
 * target labels prometheus-operator gives them (`job` = the Service, `namespace`), which the
 * default selectors match; the workload series carry the workload's `namespace` (honorLabels).
 * The same Prometheus also holds a second fleet, STAGING (namespace copa-fleet-staging, same job
 * names, the same image and CronJob name), whose every figure differs: any of its series read
 * into the copa-fleet report changes an asserted figure, and its own report shows only it.
 */
import { CVE_AGE_RECORD_INTERVAL_SECONDS } from '../../../src/observability/concerns/sla.ts';
import { JOBS, L, METRICS, RECORDS, UPSTREAM_METRICS } from '../../../src/shared/metrics.ts';
import type { ScriptedSeries, Timeline } from './openmetrics.ts';

const H = 3600;
const D = 86_400;
export const SEPT_1 = Date.UTC(2026, 8, 1) / 1000;
/** Unix time of September `day` (1-based), `hour` UTC. */
export const sep = (day: number, hour = 0): number => SEPT_1 + (day - 1) * D + hour * H;
export const END = sep(31);
export const TIMELINE: Timeline = { start: SEPT_1, end: END, scrapeSeconds: 120 };

export const FLEET_NAMESPACE = 'copa-fleet';
const COLLECTOR = { job: JOBS.collector, instance: '10.0.0.5:9090', namespace: FLEET_NAMESPACE };
const PUSHGATEWAY = { job: JOBS.exporter, instance: '10.0.0.6:9091', namespace: FLEET_NAMESPACE };
const digest = (c: string) => `sha256:${c.repeat(64)}`;

export interface ScenarioImage {
  readonly image: string;
  readonly cronjob: string;
  readonly team: string;
  readonly sla: Readonly<Record<string, number>>;
  readonly namespace: string;
  readonly pods: readonly string[];
  readonly container: string;
  /** Patched digests over time: [from, digest]; the first is the running digest before any patch. */
  readonly digests: ReadonlyArray<readonly [number, string]>;
  /** Daily run at 02:00: the failure reason of the run that day, or undefined for success. */
  readonly failure?: (day: number) => string | undefined;
  readonly successBase: number;
}

export interface ScenarioCve {
  readonly image: string;
  readonly cveId: string;
  readonly severity: 'Critical' | 'High';
  readonly firstSeen: number;
  /** When no running container carries it any more (undefined: open at the end). */
  readonly gone?: number;
}

export const IMAGES: readonly ScenarioImage[] = [
  {
    image: 'registry.example.com/payments/api',
    cronjob: 'copa-payments-api',
    team: 'payments',
    sla: { Critical: 24, High: 72 },
    namespace: 'payments',
    pods: ['api-0', 'api-1'],
    container: 'api',
    digests: [
      [SEPT_1, digest('a')],
      [sep(2, 10), digest('b')],
      [sep(4, 6), digest('c')],
    ],
    successBase: 40,
  },
  {
    image: 'registry.example.com/web/frontend',
    cronjob: 'copa-web-frontend',
    team: 'web',
    sla: { Critical: 24, High: 72 },
    namespace: 'web',
    pods: ['frontend-0', 'frontend-1'],
    container: 'frontend',
    digests: [
      [SEPT_1, digest('d')],
      [sep(7, 1), digest('e')],
    ],
    successBase: 40,
  },
  {
    image: 'registry.example.com/data/etl',
    cronjob: 'copa-data-etl',
    team: 'data',
    sla: { Critical: 12 },
    namespace: 'data',
    pods: ['etl-worker-0'],
    container: 'etl',
    digests: [
      [SEPT_1, digest('1')],
      [sep(1, 3), digest('2')],
      [sep(28), digest('3')],
    ],
    failure: (day) => (day >= 14 && day <= 20 ? 'push_failed' : undefined),
    successBase: 20,
  },
];

export const CVES: readonly ScenarioCve[] = [
  {
    image: IMAGES[0]!.image,
    cveId: 'CVE-2026-1001',
    severity: 'Critical',
    firstSeen: sep(2),
    gone: sep(2, 10),
  },
  {
    image: IMAGES[0]!.image,
    cveId: 'CVE-2026-1002',
    severity: 'High',
    firstSeen: sep(3, 6),
    gone: sep(4, 6),
  },
  { image: IMAGES[0]!.image, cveId: 'CVE-2026-1003', severity: 'High', firstSeen: sep(29) },
  { image: IMAGES[0]!.image, cveId: 'CVE-2026-1004', severity: 'Critical', firstSeen: sep(30, 12) },
  {
    image: IMAGES[1]!.image,
    cveId: 'CVE-2026-2001',
    severity: 'Critical',
    firstSeen: sep(5, 1),
    gone: sep(7, 1),
  },
  {
    image: IMAGES[2]!.image,
    cveId: 'CVE-2026-3001',
    severity: 'Critical',
    firstSeen: sep(1) - 6 * H,
    gone: sep(1, 3),
  },
];

export const COLLECTOR_OUTAGE = [sep(16), sep(16, 6)] as const;
export const UNSCANNED = { namespace: 'batch', pods: 2, from: sep(20), to: sep(22) } as const;
export const STALE_SCAN = { image: IMAGES[2]!.image, from: sep(25, 4), to: sep(28, 4) } as const;
/** etl-worker-0 stays on the digest patched Sep 1 03:00 after the Sep 28 patch. */
export const DRIFT = {
  image: IMAGES[2]!,
  pod: 'etl-worker-0',
  from: sep(28),
  running: digest('2'),
  patched: digest('3'),
} as const;

const collectorUp = (t: number) => !(t >= COLLECTOR_OUTAGE[0] && t < COLLECTOR_OUTAGE[1]);
const fromCollector = (f: (t: number) => number | undefined) => (t: number) =>
  collectorUp(t) ? f(t) : undefined;
const digestAt = (img: ScenarioImage, t: number): string =>
  ([...img.digests].reverse().find(([from]) => from <= t) ?? img.digests[0]!)[1];
const patchedAt = (img: ScenarioImage, t: number): string | undefined => {
  const patches = img.digests.slice(1).filter(([from]) => from <= t);
  return patches.at(-1)?.[1];
};
/** The digest each pod runs: the patched one, except the drifted pod. */
const runningDigest = (img: ScenarioImage, pod: string, t: number): string =>
  img === DRIFT.image && pod === DRIFT.pod && t >= DRIFT.from ? DRIFT.running : digestAt(img, t);
const cveOpen = (c: ScenarioCve, t: number) =>
  t >= c.firstSeen && (c.gone === undefined || t < c.gone);

/** Runs (at 02:00 each day) that ended before t: [day, failure reason or undefined]. */
function runsBefore(img: ScenarioImage, t: number): Array<readonly [number, string | undefined]> {
  const result: Array<readonly [number, string | undefined]> = [];
  for (let day = 1; sep(day, 2) <= t; day++) result.push([day, img.failure?.(day)]);
  return result;
}

export function scenarioSeries(): ScriptedSeries[] {
  const series: ScriptedSeries[] = [];
  series.push({
    name: UPSTREAM_METRICS.up,
    labels: COLLECTOR,
    value: (t) => (collectorUp(t) ? 1 : 0),
  });
  series.push({
    name: UPSTREAM_METRICS.up,
    labels: { job: JOBS.pushgateway, instance: PUSHGATEWAY.instance, namespace: FLEET_NAMESPACE },
    value: () => 1,
  });
  series.push({
    name: METRICS.collectorLastSyncTimestamp.name,
    labels: COLLECTOR,
    value: fromCollector((t) => t - 10),
  });
  series.push({
    name: METRICS.noncompliantContainers.name,
    labels: COLLECTOR,
    value: fromCollector((t) =>
      IMAGES.reduce((n, img) => n + img.pods.filter((pod) => noncompliant(img, pod, t)).length, 0),
    ),
  });
  for (const img of IMAGES) {
    const { image, cronjob, team } = img;
    series.push({
      name: METRICS.inventoryImageInfo.name,
      labels: { ...COLLECTOR, image, cronjob, team },
      value: fromCollector(() => 1),
    });
    series.push({
      name: METRICS.inventoryScheduleIntervalSeconds.name,
      labels: { ...COLLECTOR, image },
      value: fromCollector(() => D),
    });
    for (const [severity, hours] of Object.entries(img.sla))
      series.push({
        name: METRICS.inventorySlaHours.name,
        labels: { ...COLLECTOR, image, severity },
        value: fromCollector(() => hours),
      });
    series.push({
      name: METRICS.runningContainers.name,
      labels: { ...COLLECTOR, image },
      value: fromCollector(() => img.pods.length),
    });
    series.push({
      name: METRICS.imageScanAgeSeconds.name,
      labels: { ...COLLECTOR, image },
      value: fromCollector((t) => {
        // Daily rescans at 04:00, none during the stale window.
        let scan = Math.floor((t - 4 * H - SEPT_1) / D) * D + SEPT_1 + 4 * H;
        if (image === STALE_SCAN.image && t >= STALE_SCAN.from && t < STALE_SCAN.to)
          scan = STALE_SCAN.from;
        return Math.max(0, t - scan);
      }),
    });
    series.push({
      name: METRICS.cronjobLastScheduleTimestamp.name,
      labels: { ...COLLECTOR, image, cronjob },
      value: fromCollector((t) =>
        runsBefore(img, t).length === 0 ? undefined : sep(runsBefore(img, t).at(-1)![0], 2),
      ),
    });
    // Per-pod series: the drift, and the digest each pod runs.
    for (const pod of img.pods) {
      series.push({
        name: METRICS.containerDigestDrift.name,
        labels: {
          ...COLLECTOR,
          namespace: img.namespace,
          pod,
          container: img.container,
          image,
          digest: DRIFT.running,
          patched_digest: DRIFT.patched,
        },
        from: DRIFT.from,
        value: fromCollector((t) =>
          img === DRIFT.image && pod === DRIFT.pod && t >= DRIFT.from ? 1 : undefined,
        ),
      });
    }
    // Exporter series through the Pushgateway: one group per CronJob.
    const group = { ...PUSHGATEWAY, cronjob, image };
    const successes = (t: number) =>
      img.successBase + runsBefore(img, t).filter(([, f]) => f === undefined).length;
    series.push({
      name: METRICS.patchSuccessTotal.name,
      labels: { ...group, copa_version: '0.14.2' },
      value: successes,
    });
    const reasons = new Set(
      Array.from({ length: 30 }, (_, i) => img.failure?.(i + 1)).filter(
        (r): r is string => r !== undefined,
      ),
    );
    for (const reason of reasons) {
      series.push({
        name: METRICS.patchFailureTotal.name,
        labels: { ...group, [L.failureReason]: reason, copa_version: '0.14.2' },
        value: (t) => {
          const n = runsBefore(img, t).filter(([, f]) => f === reason).length;
          return n === 0 ? undefined : n;
        },
      });
    }
    series.push({
      name: METRICS.runLastTimestamp.name,
      labels: group,
      value: (t) =>
        runsBefore(img, t).length === 0 ? undefined : sep(runsBefore(img, t).at(-1)![0], 2) + 300,
    });
    series.push({
      name: METRICS.runLastSuccessTimestamp.name,
      labels: group,
      value: (t) => {
        const last = runsBefore(img, t)
          .filter(([, f]) => f === undefined)
          .at(-1);
        return last === undefined ? sep(1) - D + 2 * H + 300 : sep(last[0], 2) + 300;
      },
    });
    for (const outcome of ['patched', ...reasons]) {
      series.push({
        name: METRICS.runLastOutcome.name,
        labels: { ...group, outcome },
        value: (t) => {
          const last = runsBefore(img, t).at(-1);
          const current = last === undefined ? 'patched' : (last[1] ?? 'patched');
          return current === outcome ? 1 : undefined;
        },
      });
    }
  }
  for (const cve of CVES) {
    const img = IMAGES.find((i) => i.image === cve.image)!;
    // One series per running digest that carries the CVE (the digests running while it is open).
    const digests = new Set<string>();
    for (let t = Math.max(cve.firstSeen, SEPT_1); t < (cve.gone ?? END); t += H)
      for (const pod of img.pods) digests.add(runningDigest(img, pod, t));
    for (const d of digests) {
      series.push({
        name: METRICS.imageCveAgeHours.name,
        labels: {
          ...COLLECTOR,
          image: cve.image,
          digest: d,
          cve_id: cve.cveId,
          severity: cve.severity,
        },
        from: cve.firstSeen,
        ...(cve.gone !== undefined && { to: cve.gone - 1 }),
        value: fromCollector((t) =>
          cveOpen(cve, t) && img.pods.some((pod) => runningDigest(img, pod, t) === d)
            ? (t - cve.firstSeen) / H
            : undefined,
        ),
      });
    }
    const slaHours = img.sla[cve.severity]!;
    const due = cve.firstSeen + slaHours * H;
    if ((cve.gone ?? END) > due) {
      // The breach counter: 0 an hour before due, 1 from due, while the CVE is carried.
      series.push({
        name: METRICS.slaBreachTotal.name,
        labels: {
          ...COLLECTOR,
          image: cve.image,
          cve_id: cve.cveId,
          threshold_hours: String(slaHours),
        },
        from: due - H,
        ...(cve.gone !== undefined && { to: cve.gone - 1 }),
        value: fromCollector((t) => (t >= due ? 1 : 0)),
      });
      series.push({
        name: METRICS.imageCveSlaBreaches.name,
        labels: { ...COLLECTOR, image: cve.image, severity: cve.severity },
        from: due,
        ...(cve.gone !== undefined && { to: cve.gone - 1 }),
        value: fromCollector(() => 1),
      });
    }
  }
  series.push({
    name: METRICS.namespaceUnscanned.name,
    labels: { ...COLLECTOR, namespace: UNSCANNED.namespace },
    from: UNSCANNED.from,
    to: UNSCANNED.to - 1,
    value: fromCollector(() => UNSCANNED.pods),
  });
  return [...series, ...stagingSeries()];
}

/**
 * The second fleet: payments/api again (CronJob copa-payments-api, team staging, Critical SLA 48 h,
 * a 2-day schedule), with CVE-2026-9001 Critical open all month, a drifted pod in staging-apps,
 * every run failing (image_pull_failed), an unscanned namespace staging-batch, its collector always
 * up and its Pushgateway always down.
 */
export const STAGING = {
  namespace: 'copa-fleet-staging',
  image: IMAGES[0]!.image,
  cronjob: IMAGES[0]!.cronjob,
  team: 'staging',
  slaHours: 48,
  scheduleIntervalSeconds: 2 * D,
  cveId: 'CVE-2026-9001',
  digest: digest('f'),
  drift: {
    namespace: 'staging-apps',
    pod: 'api-staging-0',
    container: 'api',
    patched: digest('9'),
  },
  failureReason: 'image_pull_failed',
  unscanned: { namespace: 'staging-batch', pods: 3 },
} as const;

function stagingSeries(): ScriptedSeries[] {
  const { namespace, image, cronjob, team } = STAGING;
  const collector = { job: JOBS.collector, instance: '10.1.0.5:9090', namespace };
  const group = { job: JOBS.exporter, instance: '10.1.0.6:9091', namespace, cronjob, image };
  const runs = (t: number) =>
    Math.max(0, Math.floor((t - sep(1, 2)) / STAGING.scheduleIntervalSeconds) + 1);
  return [
    { name: UPSTREAM_METRICS.up, labels: collector, value: () => 1 },
    {
      name: UPSTREAM_METRICS.up,
      labels: { job: JOBS.pushgateway, instance: group.instance, namespace },
      value: () => 0,
    },
    {
      name: METRICS.inventoryImageInfo.name,
      labels: { ...collector, image, cronjob, team },
      value: () => 1,
    },
    {
      name: METRICS.inventoryScheduleIntervalSeconds.name,
      labels: { ...collector, image },
      value: () => STAGING.scheduleIntervalSeconds,
    },
    {
      name: METRICS.inventorySlaHours.name,
      labels: { ...collector, image, severity: 'Critical' },
      value: () => STAGING.slaHours,
    },
    { name: METRICS.runningContainers.name, labels: { ...collector, image }, value: () => 1 },
    { name: METRICS.noncompliantContainers.name, labels: collector, value: () => 1 },
    {
      name: METRICS.imageScanAgeSeconds.name,
      labels: { ...collector, image },
      value: (t) => t - SEPT_1 + 10 * D,
    },
    {
      name: METRICS.imageCveAgeHours.name,
      labels: {
        ...collector,
        image,
        digest: STAGING.digest,
        cve_id: STAGING.cveId,
        severity: 'Critical',
      },
      value: (t) => (t - SEPT_1) / H + 1,
    },
    {
      name: METRICS.containerDigestDrift.name,
      labels: {
        ...collector,
        ...STAGING.drift,
        image,
        digest: STAGING.digest,
        patched_digest: STAGING.drift.patched,
      },
      value: () => 1,
    },
    {
      name: METRICS.namespaceUnscanned.name,
      labels: { ...collector, namespace: STAGING.unscanned.namespace },
      value: () => STAGING.unscanned.pods,
    },
    {
      name: METRICS.patchFailureTotal.name,
      labels: { ...group, [L.failureReason]: STAGING.failureReason, copa_version: '0.14.2' },
      value: (t) => 100 + runs(t),
    },
    {
      name: METRICS.patchSuccessTotal.name,
      labels: { ...group, copa_version: '0.14.2' },
      value: () => 500,
    },
    {
      name: METRICS.runLastTimestamp.name,
      labels: group,
      value: (t) =>
        runs(t) === 0
          ? undefined
          : sep(1, 2) + (runs(t) - 1) * STAGING.scheduleIntervalSeconds + 60,
    },
    { name: METRICS.runLastSuccessTimestamp.name, labels: group, value: () => sep(1) - 20 * D },
    {
      name: METRICS.runLastOutcome.name,
      labels: { ...group, outcome: STAGING.failureReason },
      value: () => 1,
    },
  ];
}

/** A running container is noncompliant on a pre-patch digest or a digest with a Critical CVE. */
function noncompliant(img: ScenarioImage, pod: string, t: number): boolean {
  const running = runningDigest(img, pod, t);
  const patched = patchedAt(img, t);
  if (patched !== undefined && running !== patched) return true;
  return CVES.some((c) => c.image === img.image && c.severity === 'Critical' && cveOpen(c, t));
}

/** The compliance ratio the scenario implies at t (undefined while the collector is down). */
export function complianceAt(t: number): number | undefined {
  if (!collectorUp(t)) return undefined;
  const total = IMAGES.reduce((n, img) => n + img.pods.length, 0);
  const bad = IMAGES.reduce(
    (n, img) => n + img.pods.filter((pod) => noncompliant(img, pod, t)).length,
    0,
  );
  return (total - bad) / total;
}

/**
 * The 15-minute CVE age record (sla.ts) as the fleet's rule would have written it, deployed on
 * Sep 4 00:00 (before: history the record does not have): evaluations at a few seconds past each
 * quarter hour (Prometheus offsets a group's evaluations), each the highest raw age per CVE of the
 * 15 minutes up to it (closed range, as Prometheus 2.42 selects), with the fleet namespace rule
 * label; and the count record. The STAGING fleet has no record: its report reads raw series only.
 * The report test checks these values against the rule's own expression on the raw series.
 */
export const RECORD_FROM = sep(4);
export const RECORD_GRID = { start: RECORD_FROM + 7, seconds: CVE_AGE_RECORD_INTERVAL_SECONDS };

export function recordSeries(raw: readonly ScriptedSeries[]): ScriptedSeries[] {
  const ages = raw.filter(
    (s) =>
      s.name === METRICS.imageCveAgeHours.name &&
      s.labels.namespace === FLEET_NAMESPACE &&
      s.labels.job === JOBS.collector,
  );
  const perCve = new Map<string, { labels: Record<string, string>; series: ScriptedSeries[] }>();
  for (const s of ages) {
    const labels = {
      image: s.labels.image!,
      cve_id: s.labels.cve_id!,
      severity: s.labels.severity!,
      namespace: FLEET_NAMESPACE,
    };
    const key = JSON.stringify(labels);
    perCve.set(key, { labels, series: [...(perCve.get(key)?.series ?? []), s] });
  }
  const { start, scrapeSeconds } = TIMELINE;
  /** Highest raw age of the CVE in [e - 15m, e], or undefined without a sample there. */
  const recorded = (series: readonly ScriptedSeries[], e: number): number | undefined => {
    let max: number | undefined;
    const first =
      start +
      Math.ceil((e - CVE_AGE_RECORD_INTERVAL_SECONDS - start) / scrapeSeconds) * scrapeSeconds;
    for (const s of series)
      for (let t = first; t <= e; t += scrapeSeconds) {
        if ((s.from !== undefined && t < s.from) || (s.to !== undefined && t > s.to)) continue;
        const v = s.value(t);
        if (v !== undefined && (max === undefined || v > max)) max = v;
      }
    return max;
  };
  const records: ScriptedSeries[] = [...perCve.values()].map(({ labels, series }) => ({
    name: RECORDS.cveAgeHours15m,
    labels,
    grid: RECORD_GRID,
    from: RECORD_FROM,
    value: (e) => recorded(series, e),
  }));
  records.push({
    name: RECORDS.cveAgeRecords15m,
    labels: { namespace: FLEET_NAMESPACE },
    grid: RECORD_GRID,
    from: RECORD_FROM,
    value: (e) => {
      const n = [...perCve.values()].filter(
        ({ series }) => recorded(series, e) !== undefined,
      ).length;
      return n === 0 ? undefined : n;
    },
  });
  return records;
}
