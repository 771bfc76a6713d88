/**
 * The report as data: what every renderer (html, md, json) prints, and what report.schema.json
 * describes. Times are ISO 8601 strings (UTC); durations are hours. Every figure names the queries
 * (by id, in `queries`) it was computed from, so an auditor can re-run them.
 */
import type { DriftRow as OfflineDriftRow } from '../shared/drift.ts';

export const REPORT_FORMAT_VERSION = 1;

/** A PromQL query the report ran. `kind` instant: evaluated at `time`; range: from `start` to `end` every `stepSeconds`. */
export interface QueryRecord {
  readonly id: string;
  readonly title: string;
  readonly promql: string;
  readonly kind: 'instant' | 'range' | 'series';
  readonly time?: string;
  readonly start?: string;
  readonly end?: string;
  readonly stepSeconds?: number;
}

/** A number with its provenance. `value` null: no data to compute it from. */
export interface Figure {
  readonly value: number | null;
  readonly unit: 'count' | 'hours' | 'ratio';
  /** Ids of the queries it was computed from. */
  readonly queries: readonly string[];
  /** How the value follows from the queries' results, when it is not a query's value as is. */
  readonly derivation?: string;
}

export interface Table<Row> {
  readonly count: Figure;
  readonly rows: readonly Row[];
}

export interface CriticalCveRow {
  /** Multi-cluster fleets only: the cluster (value of `prometheus.clusterLabel`). */
  readonly cluster?: string;
  readonly image: string;
  readonly cveId: string;
  readonly digests: readonly string[];
  readonly firstSeen: string;
  readonly ageHours: number;
  readonly team: string | null;
}

export interface PastSlaRow {
  /** Multi-cluster fleets only: the cluster (value of `prometheus.clusterLabel`). */
  readonly cluster?: string;
  readonly image: string;
  readonly cveId: string;
  readonly severity: string;
  readonly ageHours: number;
  readonly slaHours: number | null;
  readonly team: string | null;
}

export interface FailedRunRow {
  readonly image: string;
  readonly cronjob: string;
  readonly failureReason: string;
  readonly team: string | null;
  readonly lastSuccess: string | null;
}

export interface OverdueRow {
  readonly image: string;
  readonly cronjob: string;
  readonly team: string | null;
  /** The last run's failure reason, `never_succeeded`, or `no_run` when nothing failed either. */
  readonly reason: string;
  readonly lastSuccess: string | null;
  readonly scheduleIntervalHours: number | null;
}

/** Since when a drift lasts, at the report's resolution. */
export interface DriftDuration {
  /** Since when; the period start when it drifted all period. */
  readonly since: string;
  readonly hours: number;
  /** True when the drift started before the period (so `hours` is a lower bound). */
  readonly beforePeriod: boolean;
}

/** Single-cluster fleets: a drifted container as `copa-fleet drift` lists it, with since when it drifted. */
export interface DriftRow extends OfflineDriftRow, DriftDuration {}

/**
 * Multi-cluster fleets: the global layer's join (`fleet:drifted_digest_containers:sum`): running
 * containers per cluster, namespace, image and running digest that is none of the image's latest
 * patched digests. A workload cluster's collector knows no patched digests, so no per-pod row exists.
 */
export interface ClusterDriftRow extends DriftDuration {
  readonly cluster: string;
  readonly namespace: string;
  readonly image: string;
  readonly runningDigest: string;
  readonly containers: number;
}

/** The clusters of a multi-cluster fleet, as the report reads them. */
export interface ReportClusters {
  /** `prometheus.clusterLabel`. */
  readonly label: string;
  /** Every cluster of the inventory, sorted. */
  readonly names: readonly string[];
  /** The cluster that runs the Copa CronJobs and the Pushgateway: the patch-run tables come from it. */
  readonly patch: string;
}

export interface SeverityPeriodRow {
  /** A trivy severity (shared/metrics.ts SEVERITIES), or any other label value as Prometheus returned it. */
  readonly severity: string;
  readonly appeared: Figure;
  readonly remediated: Figure;
  readonly remediatedWithinSla: Figure;
  readonly withinSlaShare: Figure;
  readonly medianHoursToRemediate: Figure;
  readonly p90HoursToRemediate: Figure;
  readonly stillOpen: Figure;
  readonly stillOpenPastSla: Figure;
}

/** One CVE of one image seen during the period (the rows the severity figures count). */
export interface PeriodCveRow {
  /** Multi-cluster fleets only: the cluster (value of `prometheus.clusterLabel`). */
  readonly cluster?: string;
  readonly image: string;
  readonly cveId: string;
  readonly severity: string;
  readonly openAtStart: boolean;
  readonly openAtEnd: boolean;
  /** Age at its last sample in the period: the time to remediate when it was remediated. */
  readonly lastAgeHours: number;
  readonly slaHours: number | null;
  readonly withinSla: boolean | null;
}

export interface RunsRow {
  readonly outcome: string;
  readonly runs: Figure;
}

export interface ImageDriftHours {
  /** Multi-cluster fleets only: the cluster (value of `prometheus.clusterLabel`). */
  readonly cluster?: string;
  readonly image: string;
  readonly hours: number;
}

export interface ChartPoint {
  readonly time: string;
  readonly value: number | null;
}

export interface Chart {
  readonly title: string;
  readonly unit: 'ratio' | 'count';
  readonly queries: readonly string[];
  readonly stepSeconds: number;
  readonly points: readonly ChartPoint[];
}

export interface SourceCoverage {
  /** Multi-cluster fleets only: the cluster (value of `prometheus.clusterLabel`). */
  readonly cluster?: string;
  readonly source: string;
  readonly job: string;
  /** Share of the period's steps with the source up, down, and with no sample at all. */
  readonly upShare: Figure;
  readonly downShare: Figure;
  readonly noDataShare: Figure;
  readonly firstSample: string | null;
}

export interface UnscannedNamespaceRow {
  /** Multi-cluster fleets only: the cluster (value of `prometheus.clusterLabel`). */
  readonly cluster?: string;
  readonly namespace: string;
  readonly hours: number;
  readonly maxPods: number;
}

export interface StaleScanRow {
  /** Multi-cluster fleets only: the cluster (value of `prometheus.clusterLabel`). */
  readonly cluster?: string;
  readonly image: string;
  readonly maxScanAgeHours: number;
}

export interface InventoryRow {
  readonly image: string;
  readonly cronjob: string;
  readonly team: string | null;
  readonly inventoriedAtEnd: boolean;
  readonly scheduleIntervalHours: number | null;
  readonly slaHours: Readonly<Record<string, number>>;
}

export interface OptionalSeriesGroup {
  readonly metric: string;
  readonly series: ReadonlyArray<Readonly<Record<string, string>>>;
}

export interface Report {
  readonly formatVersion: typeof REPORT_FORMAT_VERSION;
  readonly generator: 'copa-fleet report';
  readonly prometheus: string;
  readonly at: string;
  readonly periodStart: string;
  readonly periodHours: number;
  /** Step of the range queries (charts, drift, coverage): time figures are exact to about this. */
  readonly resolutionSeconds: number;
  /** Multi-cluster fleets only: rows then carry `cluster`. */
  readonly clusters?: ReportClusters;
  readonly asOf: {
    readonly criticalCves: Table<CriticalCveRow> & { readonly images: Figure };
    readonly pastSla: Table<PastSlaRow>;
    readonly failedRuns: Table<FailedRunRow>;
    readonly overdue: Table<OverdueRow>;
    readonly drift: Table<DriftRow | ClusterDriftRow>;
  };
  readonly period: {
    readonly bySeverity: readonly SeverityPeriodRow[];
    readonly cves: readonly PeriodCveRow[];
    readonly runs: readonly RunsRow[];
    readonly driftHours: Figure;
    readonly driftByImage: readonly ImageDriftHours[];
    readonly complianceRatio: Chart;
    readonly breachesPerDay: Chart;
  };
  readonly coverage: {
    readonly sources: readonly SourceCoverage[];
    readonly unscannedNamespaces: readonly UnscannedNamespaceRow[];
    readonly staleScans: {
      readonly thresholdHours: number;
      readonly rows: readonly StaleScanRow[];
    };
    readonly retention: {
      readonly configured: string | null;
      readonly coversPeriod: boolean | null;
      readonly dataCoversPeriodStart: boolean;
      readonly note: string;
    };
    readonly inventory: readonly InventoryRow[];
  };
  readonly exceptions: {
    readonly matcher: string;
    readonly present: boolean;
    readonly groups: readonly OptionalSeriesGroup[];
  };
  readonly queries: readonly QueryRecord[];
}
