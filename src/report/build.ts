/**
 * Query results -> the report model. Everything here is arithmetic on the results of queries.ts;
 * each figure names its queries and, where it is not a query's value as is, how it follows.
 */
import { SEVERITIES } from '../shared/metrics.ts';
import type { QueryResults } from './collect.ts';
import type {
  Chart,
  ChartPoint,
  ClusterDriftRow,
  CriticalCveRow,
  DriftRow,
  Figure,
  InventoryRow,
  OverdueRow,
  PeriodCveRow,
  QueryRecord,
  Report,
  ReportClusters,
  RunsRow,
  SeverityPeriodRow,
  SourceCoverage,
} from './model.ts';
import { REPORT_FORMAT_VERSION } from './model.ts';
import type { RangeSeries } from './prometheus-client.ts';
import {
  OPTIONAL_SERIES_MATCHER,
  type QueryId,
  type QuerySpec,
  type ReportWindow,
} from './queries.ts';

export interface BuildInput {
  readonly prometheus: string;
  readonly window: ReportWindow;
  readonly specs: readonly QuerySpec[];
  readonly results: QueryResults;
  readonly scanMaxAgeHours: number;
  /** `storageRetention` from /api/v1/status/runtimeinfo, when the server serves it. */
  readonly retention: string | undefined;
  /** Multi-cluster fleets: the cluster label and the clusters; rows then name their cluster. */
  readonly clusters?: ReportClusters;
}

const iso = (seconds: number): string =>
  new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const num = (text: string): number => Number(text);
const round = (value: number, digits = 2): number =>
  Math.round(value * 10 ** digits) / 10 ** digits;
const fig = (
  value: number | null,
  unit: Figure['unit'],
  queries: readonly QueryId[],
  derivation?: string,
): Figure => ({
  value: value === null || Number.isNaN(value) ? null : round(value, unit === 'ratio' ? 4 : 2),
  unit,
  queries,
  ...(derivation !== undefined && { derivation }),
});
const key = (...parts: readonly string[]): string => parts.join('\u0000');
const byText =
  <T>(pick: (row: T) => string) =>
  (a: T, b: T) =>
    pick(a).localeCompare(pick(b));

/** The phi-quantile as PromQL's quantile() computes it (linear interpolation between ranks). */
export function quantile(phi: number, values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = phi * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const weight = rank - lower;
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/** Hours covered by a set of step times: the spans of its contiguous runs (exact to one step). */
function spanHours(times: Iterable<number>, step: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  return (
    runs({ metric: {}, values: sorted.map((t) => [t, '1'] as const) }, step).reduce(
      (sum, [a, b]) => sum + (b - a),
      0,
    ) / 3600
  );
}

/** Contiguous runs of present steps in a range series: [first step, last step] pairs (Unix seconds). */
function runs(series: RangeSeries, step: number): Array<readonly [number, number]> {
  const result: Array<[number, number]> = [];
  for (const [t] of series.values) {
    const last = result.at(-1);
    if (last !== undefined && t - last[1] <= step + 0.001) last[1] = t;
    else result.push([t, t]);
  }
  return result;
}

export function buildReport(input: BuildInput): Report {
  const { window, results } = input;
  const { at, periodSeconds, stepSeconds } = window;
  const start = at - periodSeconds;
  const steps = Math.floor(periodSeconds / stepSeconds) + 1;
  const { clusters } = input;
  // The cluster of a result series ('' in a single-cluster fleet), and the row field that names it.
  const cl = (m: Readonly<Record<string, string>>): string =>
    clusters === undefined ? '' : (m[clusters.label] ?? '');
  const inCluster = (m: Readonly<Record<string, string>>): { cluster?: string } =>
    clusters === undefined ? {} : { cluster: cl(m) };

  // ---- inventory -------------------------------------------------------------------------
  const atEnd = new Set(
    results.instant('inventoryAtEnd').map((s) => key(s.metric.image ?? '', s.metric.cronjob ?? '')),
  );
  const teamOf = new Map<string, string>();
  for (const s of results.instant('inventory'))
    if (s.metric.team) teamOf.set(s.metric.image ?? '', s.metric.team);
  const sla = new Map<string, number>();
  const slaByImage = new Map<string, Record<string, number>>();
  for (const s of results.instant('slaHours')) {
    const img = s.metric.image ?? '';
    const sev = s.metric.severity ?? '';
    sla.set(key(cl(s.metric), img, sev), num(s.value[1]));
    slaByImage.set(img, { ...slaByImage.get(img), [sev]: num(s.value[1]) });
  }
  // Per cluster and image (each cluster's collector exports the inventory); the inventory table's by image.
  const interval = new Map(
    results
      .instant('scheduleInterval')
      .map((s) => [key(cl(s.metric), s.metric.image ?? ''), num(s.value[1])]),
  );
  const intervalByImage = new Map(
    results.instant('scheduleInterval').map((s) => [s.metric.image ?? '', num(s.value[1])]),
  );
  const inventory: InventoryRow[] = results
    .instant('inventory')
    .map((s) => {
      const img = s.metric.image ?? '';
      const hours = intervalByImage.get(img);
      return {
        image: img,
        cronjob: s.metric.cronjob ?? '',
        team: s.metric.team || null,
        inventoriedAtEnd: atEnd.has(key(img, s.metric.cronjob ?? '')),
        scheduleIntervalHours: hours === undefined ? null : round(hours / 3600),
        slaHours: slaByImage.get(img) ?? {},
      };
    })
    .sort(byText((r) => key(r.image, r.cronjob)));
  const team = (img: string): string | null => teamOf.get(img) ?? null;

  // ---- as of --at --------------------------------------------------------------------------
  const critical = new Map<
    string,
    { cluster: string; image: string; cveId: string; digests: Set<string>; age: number }
  >();
  for (const s of results.instant('criticalNow')) {
    const k = key(cl(s.metric), s.metric.image ?? '', s.metric.cve_id ?? '');
    const entry = critical.get(k) ?? {
      cluster: cl(s.metric),
      image: s.metric.image ?? '',
      cveId: s.metric.cve_id ?? '',
      digests: new Set<string>(),
      age: 0,
    };
    entry.digests.add(s.metric.digest ?? '');
    entry.age = Math.max(entry.age, num(s.value[1]));
    critical.set(k, entry);
  }
  const criticalRows: CriticalCveRow[] = [...critical.values()]
    .map((c) => ({
      ...(clusters !== undefined && { cluster: c.cluster }),
      image: c.image,
      cveId: c.cveId,
      digests: [...c.digests].sort(),
      firstSeen: iso(Math.round(at - c.age * 3600)),
      ageHours: round(c.age),
      team: team(c.image),
    }))
    .sort(byText((r) => key(r.image, r.cveId, r.cluster ?? '')));

  const pastSlaRows = results
    .instant('pastSlaNow')
    .map((s) => ({
      ...inCluster(s.metric),
      image: s.metric.image ?? '',
      cveId: s.metric.cve_id ?? '',
      severity: s.metric.severity ?? '',
      ageHours: round(num(s.value[1])),
      slaHours: sla.get(key(cl(s.metric), s.metric.image ?? '', s.metric.severity ?? '')) ?? null,
      team: team(s.metric.image ?? ''),
    }))
    .sort(byText((r) => key(r.image, r.severity, r.cveId, r.cluster ?? '')));

  const lastSuccess = new Map(
    results
      .instant('lastSuccessNow')
      .map((s) => [key(s.metric.image ?? '', s.metric.cronjob ?? ''), num(s.value[1])]),
  );
  const lastSuccessIso = (img: string, cj: string): string | null => {
    const t = lastSuccess.get(key(img, cj));
    return t === undefined ? null : iso(t);
  };
  const failedRows = results
    .instant('failedRunsNow')
    .map((s) => ({
      image: s.metric.image ?? '',
      cronjob: s.metric.cronjob ?? '',
      failureReason: s.metric.failure_reason ?? '',
      team: s.metric.team || null,
      lastSuccess: lastSuccessIso(s.metric.image ?? '', s.metric.cronjob ?? ''),
    }))
    .sort(byText((r) => key(r.image, r.cronjob, r.failureReason)));
  const failedReason = new Map(failedRows.map((r) => [key(r.image, r.cronjob), r.failureReason]));
  const overdueRows: OverdueRow[] = results
    .instant('overdueNow')
    .map((s) => {
      const img = s.metric.image ?? '';
      const cj = s.metric.cronjob ?? '';
      const success = lastSuccessIso(img, cj);
      const hours = interval.get(key(cl(s.metric), img));
      return {
        image: img,
        cronjob: cj,
        team: team(img),
        reason: failedReason.get(key(img, cj)) ?? (success === null ? 'never_succeeded' : 'no_run'),
        lastSuccess: success,
        scheduleIntervalHours: hours === undefined ? null : round(hours / 3600),
      };
    })
    .sort(byText((r) => key(r.image, r.cronjob)));

  // Drift: each row's contiguous run of steps that ends at --at gives "since when". A row is a
  // container (single-cluster) or a (cluster, namespace, image, running digest) of the global join.
  const driftKey = (m: Readonly<Record<string, string>>): string =>
    clusters === undefined
      ? key(m.namespace ?? '', m.pod ?? '', m.container ?? '', m.digest ?? '')
      : key(cl(m), m.exported_namespace ?? '', m.image ?? '', m.digest ?? '');
  const driftSince = new Map<string, number>();
  const driftSteps = new Set<number>();
  // Per image (and cluster): time with at least one of its containers drifting (union of the rows' steps).
  const imageSteps = new Map<string, { cluster: string; image: string; steps: Set<number> }>();
  for (const series of results.range('driftRange')) {
    const m = series.metric;
    const spans = runs(series, stepSeconds);
    const last = spans.at(-1);
    if (last !== undefined && at - last[1] < stepSeconds) driftSince.set(driftKey(m), last[0]);
    const k = key(cl(m), m.image ?? '');
    const entry = imageSteps.get(k) ?? { cluster: cl(m), image: m.image ?? '', steps: new Set() };
    for (const [t] of series.values) {
      driftSteps.add(t);
      entry.steps.add(t);
    }
    imageSteps.set(k, entry);
  }
  const duration = (m: Readonly<Record<string, string>>) => {
    const since = driftSince.get(driftKey(m)) ?? at;
    return { since: iso(since), hours: round((at - since) / 3600), beforePeriod: since <= start };
  };
  const driftRows: Array<DriftRow | ClusterDriftRow> =
    clusters === undefined
      ? results
          .instant('driftNow')
          .map(({ metric: m }): DriftRow => ({
            namespace: m.namespace ?? '',
            pod: m.pod ?? '',
            container: m.container ?? '',
            image: m.image ?? '',
            runningDigest: m.digest ?? '',
            patchedDigest: m.patched_digest ?? '',
            ...duration(m),
          }))
          .sort(byText((r) => key(r.namespace, r.pod, r.container)))
      : results
          .instant('driftNow')
          .map((s): ClusterDriftRow => ({
            cluster: cl(s.metric),
            namespace: s.metric.exported_namespace ?? '',
            image: s.metric.image ?? '',
            runningDigest: s.metric.digest ?? '',
            containers: num(s.value[1]),
            ...duration(s.metric),
          }))
          .sort(byText((r) => key(r.cluster, r.namespace, r.image, r.runningDigest)));

  // ---- over the period ---------------------------------------------------------------------
  // The CVE key: (cluster, image, CVE, severity); the cluster is '' in a single-cluster fleet.
  const cveKey = (m: Readonly<Record<string, string>>): string =>
    key(cl(m), m.image ?? '', m.cve_id ?? '', m.severity ?? '');
  const atStart = new Set(results.instant('cveAtStart').map((s) => cveKey(s.metric)));
  const open = new Map(results.instant('cveAtEnd').map((s) => [cveKey(s.metric), num(s.value[1])]));
  const cves: PeriodCveRow[] = results
    .instant('cveLastAge')
    .map((s) => {
      const m = s.metric;
      const k = cveKey(m);
      const slaHours = sla.get(key(cl(m), m.image ?? '', m.severity ?? '')) ?? null;
      const lastAge = num(s.value[1]);
      const openAtEnd = open.has(k);
      return {
        ...inCluster(m),
        image: m.image ?? '',
        cveId: m.cve_id ?? '',
        severity: m.severity ?? '',
        openAtStart: atStart.has(k),
        openAtEnd,
        lastAgeHours: round(lastAge),
        slaHours,
        withinSla: openAtEnd || slaHours === null ? null : lastAge <= slaHours,
      };
    })
    .sort(byText((r) => key(r.severity, r.image, r.cveId, r.cluster ?? '')));
  const cveQueries: QueryId[] = [
    'cveRecordCoverage',
    'cveLastAge',
    'cveAtStart',
    'cveAtEnd',
    'slaHours',
  ];
  const severities = [
    ...SEVERITIES.filter(
      (sev) =>
        cves.some((c) => c.severity === sev) ||
        [...sla.keys()].some((k) => k.endsWith(`\u0000${sev}`)),
    ),
  ];
  const bySeverity: SeverityPeriodRow[] = severities.map((sev) => {
    const rows = cves.filter((c) => c.severity === sev);
    const remediated = rows.filter((c) => !c.openAtEnd);
    const within = remediated.filter((c) => c.withinSla === true);
    const ttr = remediated.map((c) => c.lastAgeHours);
    const stillOpen = rows.filter((c) => c.openAtEnd);
    const openPast = stillOpen.filter(
      (c) =>
        c.slaHours !== null &&
        (open.get(key(c.cluster ?? '', c.image, c.cveId, c.severity)) ?? 0) > c.slaHours,
    );
    return {
      severity: sev,
      appeared: fig(
        rows.filter((c) => !c.openAtStart).length,
        'count',
        cveQueries,
        'CVEs (image x CVE id) with a sample in the period (cveLastAge) that were not open at its start (cveAtStart)',
      ),
      remediated: fig(
        remediated.length,
        'count',
        cveQueries,
        'CVEs with a sample in the period (cveLastAge) that are not open at its end (cveAtEnd)',
      ),
      remediatedWithinSla: fig(
        within.length,
        'count',
        cveQueries,
        "remediated CVEs whose age at their last sample (cveLastAge) is at most the image's SLA hours for the severity (slaHours)",
      ),
      withinSlaShare: fig(
        remediated.length === 0 ? null : within.length / remediated.length,
        'ratio',
        cveQueries,
        'remediated within SLA / remediated',
      ),
      medianHoursToRemediate: fig(
        quantile(0.5, ttr),
        'hours',
        cveQueries,
        "quantile(0.5) of the remediated CVEs' age at their last sample (the SLA clock: first seen to last seen)",
      ),
      p90HoursToRemediate: fig(
        quantile(0.9, ttr),
        'hours',
        cveQueries,
        "quantile(0.9), interpolated as PromQL's quantile() does, of the same ages",
      ),
      stillOpen: fig(
        stillOpen.length,
        'count',
        cveQueries,
        'CVEs open at the period end (cveAtEnd)',
      ),
      stillOpenPastSla: fig(
        openPast.length,
        'count',
        cveQueries,
        "open at the end with an age above the image's SLA hours",
      ),
    };
  });

  const succeeded = results.instant('runsSucceeded').reduce((sum, s) => sum + num(s.value[1]), 0);
  const failures = new Map<string, number>();
  for (const s of results.instant('runsFailed'))
    failures.set(
      s.metric.failure_reason ?? '',
      (failures.get(s.metric.failure_reason ?? '') ?? 0) + num(s.value[1]),
    );
  const runsRows: RunsRow[] = [
    {
      outcome: 'succeeded (patched or up_to_date)',
      runs: fig(succeeded, 'count', ['runsSucceeded'], 'sum over images'),
    },
    ...[...failures.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([reason, n]) => ({
        outcome: reason,
        runs: fig(n, 'count', ['runsFailed'], 'sum over images of this failure_reason'),
      })),
  ];

  const complianceRatio = chart(
    'Patch compliance ratio',
    'ratio',
    ['complianceRange'],
    stepSeconds,
    results.range('complianceRange'),
  );
  const bucket = Math.min(86_400, periodSeconds);
  const breachesPerDay = chart(
    `SLA breaches per ${bucket === 86_400 ? 'day' : 'period'}`,
    'count',
    ['breachesPerDay'],
    bucket,
    results.range('breachesPerDay'),
  );

  // ---- coverage and trust ----------------------------------------------------------------
  // Multi-cluster: one collector per cluster, each its cluster's evidence (a cluster without any
  // sample is all "no data"); the Pushgateway is the patch cluster's.
  const collectorUp = results.range('collectorUp');
  const sources: SourceCoverage[] = [
    ...(clusters === undefined
      ? [coverage('drift collector', 'copa-fleet-collector', 'collectorUp', collectorUp, steps)]
      : clusters.names.map((name) => ({
          cluster: name,
          ...coverage(
            'drift collector',
            'copa-fleet-collector',
            'collectorUp',
            collectorUp.filter((series) => cl(series.metric) === name),
            steps,
          ),
        }))),
    {
      ...(clusters !== undefined && { cluster: clusters.patch }),
      ...coverage(
        'Pushgateway',
        'copa-fleet-pushgateway',
        'pushgatewayUp',
        results.range('pushgatewayUp'),
        steps,
      ),
    },
  ];
  const unscanned = results
    .range('unscannedRange')
    .map((series) => ({
      ...inCluster(series.metric),
      namespace: series.metric.namespace ?? '',
      hours: round(
        spanHours(
          series.values.map(([t]) => t),
          stepSeconds,
        ),
      ),
      maxPods: Math.max(...series.values.map(([, v]) => num(v))),
    }))
    .sort(byText((r) => key(r.cluster ?? '', r.namespace)));
  const stale = results
    .instant('scanAgeMax')
    .map((s) => ({
      ...inCluster(s.metric),
      image: s.metric.image ?? '',
      maxScanAgeHours: round(num(s.value[1]) / 3600),
    }))
    .filter((r) => r.maxScanAgeHours > input.scanMaxAgeHours)
    .sort(byText((r) => key(r.image, r.cluster ?? '')));
  const firstData = Math.min(
    ...sources.map((s) => (s.firstSample === null ? Infinity : Date.parse(s.firstSample) / 1000)),
  );
  const dataCoversPeriodStart = firstData <= start + stepSeconds;
  const retentionSeconds =
    input.retention === undefined ? undefined : parseRetention(input.retention);
  const coversPeriod = retentionSeconds === undefined ? null : retentionSeconds >= periodSeconds;

  const exceptionSeries = results.series('exceptions');
  const groups = new Map<string, Array<Record<string, string>>>();
  for (const labels of exceptionSeries) {
    const { __name__: name = '', ...rest } = labels;
    groups.set(name, [...(groups.get(name) ?? []), rest]);
  }

  return {
    formatVersion: REPORT_FORMAT_VERSION,
    generator: 'copa-fleet report',
    prometheus: input.prometheus,
    at: iso(at),
    periodStart: iso(start),
    periodHours: round(periodSeconds / 3600),
    resolutionSeconds: stepSeconds,
    ...(clusters !== undefined && { clusters }),
    asOf: {
      criticalCves: {
        count: fig(
          criticalRows.length,
          'count',
          ['criticalNow'],
          clusters === undefined
            ? 'distinct (image, CVE id) pairs'
            : 'distinct (cluster, image, CVE id) triples: a CVE in two clusters counts in each',
        ),
        images: fig(
          new Set(criticalRows.map((r) => r.image)).size,
          'count',
          ['criticalNow'],
          'distinct images',
        ),
        rows: criticalRows,
      },
      pastSla: { count: fig(pastSlaRows.length, 'count', ['pastSlaNow']), rows: pastSlaRows },
      failedRuns: { count: fig(failedRows.length, 'count', ['failedRunsNow']), rows: failedRows },
      overdue: { count: fig(overdueRows.length, 'count', ['overdueNow']), rows: overdueRows },
      drift: { count: fig(driftRows.length, 'count', ['driftNow']), rows: driftRows },
    },
    period: {
      bySeverity,
      cves,
      runs: runsRows,
      driftHours: fig(
        spanHours(driftSteps, stepSeconds),
        'hours',
        ['driftRange'],
        'time spanned by the steps with at least one container on a pre-patch digest (exact to one resolution step)',
      ),
      driftByImage: [...imageSteps.values()]
        .map((e) => ({
          ...(clusters !== undefined && { cluster: e.cluster }),
          image: e.image,
          hours: round(spanHours(e.steps, stepSeconds)),
        }))
        .sort(byText((r) => key(r.image, r.cluster ?? ''))),
      complianceRatio,
      breachesPerDay,
    },
    coverage: {
      sources,
      unscannedNamespaces: unscanned,
      staleScans: { thresholdHours: input.scanMaxAgeHours, rows: stale },
      retention: {
        configured: input.retention ?? null,
        coversPeriod,
        dataCoversPeriodStart,
        note: dataCoversPeriodStart
          ? 'Samples exist from the period start on.'
          : `The oldest sample of the period is from ${Number.isFinite(firstData) ? iso(firstData) : 'nowhere'}: figures before then have no evidence.`,
      },
      inventory,
    },
    exceptions: {
      matcher: OPTIONAL_SERIES_MATCHER,
      present: groups.size > 0,
      groups: [...groups.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([metric, series]) => ({
          metric,
          series: series.sort(byText((s) => JSON.stringify(s))),
        })),
    },
    queries: input.specs.map(queryRecord),
  };
}

function chart(
  title: string,
  unit: Chart['unit'],
  queries: readonly QueryId[],
  step: number,
  series: readonly RangeSeries[],
): Chart {
  const values = new Map((series[0]?.values ?? []).map(([t, v]) => [t, num(v)]));
  const first = series[0]?.values[0]?.[0];
  const last = series[0]?.values.at(-1)?.[0];
  const points: ChartPoint[] = [];
  if (first !== undefined && last !== undefined) {
    for (let t = first; t <= last + 0.001; t += step)
      points.push({ time: iso(t), value: values.has(t) ? round(values.get(t)!, 4) : null });
  }
  return { title, unit, queries, stepSeconds: step, points };
}

function coverage(
  source: string,
  job: string,
  id: QueryId,
  series: readonly RangeSeries[],
  steps: number,
): SourceCoverage {
  const values = series[0]?.values ?? [];
  const up = values.filter(([, v]) => num(v) === 1).length;
  const down = values.length - up;
  const derivation =
    'steps of the range query (at the report resolution) with the value, over all steps of the period';
  return {
    source,
    job,
    upShare: fig(up / steps, 'ratio', [id], `${derivation}: up == 1`),
    downShare: fig(down / steps, 'ratio', [id], `${derivation}: up == 0`),
    noDataShare: fig(
      Math.max(0, steps - values.length) / steps,
      'ratio',
      [id],
      `${derivation}: no sample at all`,
    ),
    firstSample: values[0] === undefined ? null : iso(values[0][0]),
  };
}

/** Prometheus' retention text (`15d`, `30d or 10GiB`, `0s` = none): the time part, seconds. */
function parseRetention(text: string): number | undefined {
  const match = /(\d+)(y|w|d|h|m|s)\b/.exec(text);
  if (match === null) return undefined;
  const size = { y: 365 * 86_400, w: 7 * 86_400, d: 86_400, h: 3600, m: 60, s: 1 }[match[2] as 'y'];
  const seconds = Number(match[1]) * size;
  return seconds === 0 ? undefined : seconds;
}

function queryRecord(spec: QuerySpec): QueryRecord {
  const base = { id: spec.id, title: spec.title, promql: spec.promql, kind: spec.kind };
  if (spec.kind === 'instant') return { ...base, time: iso(spec.time) };
  if (spec.kind === 'range')
    return { ...base, start: iso(spec.start), end: iso(spec.end), stepSeconds: spec.step };
  return { ...base, start: iso(spec.start), end: iso(spec.end) };
}
