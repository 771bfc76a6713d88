/**
 * The metrics of one Pushgateway group (one CronJob), computed from the group's previous content
 * and this run. The Pushgateway replaces a group on every PUT, so everything that must survive a
 * run (counters, last success, patched digest, last known vulnerability counts) is carried over
 * from the previous push here; counters are the previous value plus one.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import {
  L,
  METRICS,
  SEVERITIES,
  SUCCESS_OUTCOMES,
  type MetricKey,
  type RunOutcome,
  type ScanStage,
  type Severity,
} from '../../src/shared/metrics.ts';

export type Labels = Readonly<Record<string, string>>;
export interface Series {
  readonly labels: Labels;
  readonly value: number;
}
/** Metric name -> series, grouping labels (job, cronjob) and `instance` removed. */
export type PreviousGroup = ReadonlyMap<string, readonly Series[]>;
export type GroupMetrics = ReadonlyMap<ExporterMetricKey, readonly Series[]>;

/** The metrics this exporter pushes: every METRICS entry whose source is 'exporter' (a test keeps the two in step). */
export const EXPORTER_METRIC_KEYS = [
  'patchSuccessTotal',
  'patchFailureTotal',
  'runLastTimestamp',
  'runLastSuccessTimestamp',
  'runDurationSeconds',
  'runLastOutcome',
  'patchedImageInfo',
  'imageVulnerabilities',
  'dependencyTrackUploadFailureTotal',
  'dependencyTrackUploadLastSuccessTimestamp',
] as const satisfies readonly MetricKey[];
export type ExporterMetricKey = (typeof EXPORTER_METRIC_KEYS)[number];

export interface RunReport {
  readonly image: string;
  readonly copaVersion: string;
  readonly outcome: RunOutcome;
  /** Unix seconds the run was reported (heartbeat). */
  readonly reportedAt: number;
  readonly durationSeconds: number;
  /** Set on `patched`: the pushed tag and its digest. */
  readonly patched?: { readonly tag: string; readonly digest: string };
  readonly vulnerabilities: Partial<Record<ScanStage, Readonly<Record<Severity, number>>>>;
  /** Result of the Dependency-Track upload; undefined when none was attempted. */
  readonly dependencyTrack?: 'uploaded' | 'failed';
}

export function isSuccess(outcome: RunOutcome): boolean {
  return (SUCCESS_OUTCOMES as readonly RunOutcome[]).includes(outcome);
}

export function nextGroup(previous: PreviousGroup, run: RunReport): GroupMetrics {
  const carried = (key: ExporterMetricKey): Series[] => {
    const def = METRICS[key];
    const expected = [...def.labels].sort().join(',');
    // Only this image's series with exactly the metric's labels: anything else is stale or foreign.
    return (previous.get(def.name) ?? []).filter(
      (s) =>
        Object.keys(s.labels).sort().join(',') === expected &&
        s.labels[L.image] === run.image &&
        Number.isFinite(s.value),
    );
  };
  const increment = (series: Series[], labels: Labels): Series[] => {
    const key = labelKey(labels);
    const current = series.find((s) => labelKey(s.labels) === key);
    return [...series.filter((s) => s !== current), { labels, value: (current?.value ?? 0) + 1 }];
  };
  const image = { [L.image]: run.image };
  const success = isSuccess(run.outcome);
  const group = new Map<ExporterMetricKey, Series[]>();

  const successes = carried('patchSuccessTotal');
  group.set(
    'patchSuccessTotal',
    success ? increment(successes, { ...image, [L.copaVersion]: run.copaVersion }) : successes,
  );
  const failures = carried('patchFailureTotal');
  group.set(
    'patchFailureTotal',
    success
      ? failures
      : increment(failures, {
          ...image,
          [L.failureReason]: run.outcome,
          [L.copaVersion]: run.copaVersion,
        }),
  );
  group.set('runLastTimestamp', [{ labels: image, value: run.reportedAt }]);
  group.set(
    'runLastSuccessTimestamp',
    success ? [{ labels: image, value: run.reportedAt }] : carried('runLastSuccessTimestamp'),
  );
  group.set('runDurationSeconds', [{ labels: image, value: run.durationSeconds }]);
  // Only the last outcome (value 1): a PUT replaces the whole group, so the previous outcome's
  // series disappears. One series per image instead of one per possible outcome (cardinality).
  group.set('runLastOutcome', [{ labels: { ...image, [L.outcome]: run.outcome }, value: 1 }]);
  group.set(
    'patchedImageInfo',
    run.patched !== undefined
      ? [
          {
            labels: { ...image, [L.tag]: run.patched.tag, [L.digest]: run.patched.digest },
            value: 1,
          },
        ]
      : carried('patchedImageInfo'),
  );
  const previousVulns = carried('imageVulnerabilities');
  group.set(
    'imageVulnerabilities',
    (['before', 'after'] as const).flatMap((stage) => {
      const counts = run.vulnerabilities[stage];
      if (counts === undefined) return previousVulns.filter((s) => s.labels[L.stage] === stage);
      // Non-zero counts only: an absent severity of a scanned stage is 0 (a patched image
      // typically has no "after" series at all). Bounds the series per image to the severities
      // actually found (cardinality, docs/benchmarks.md).
      return SEVERITIES.filter((severity) => counts[severity] > 0).map((severity) => ({
        labels: { ...image, [L.severity]: severity, [L.stage]: stage },
        value: counts[severity],
      }));
    }),
  );
  const dtFailures = carried('dependencyTrackUploadFailureTotal');
  group.set(
    'dependencyTrackUploadFailureTotal',
    run.dependencyTrack === 'failed' ? increment(dtFailures, image) : dtFailures,
  );
  group.set(
    'dependencyTrackUploadLastSuccessTimestamp',
    run.dependencyTrack === 'uploaded'
      ? [{ labels: image, value: run.reportedAt }]
      : carried('dependencyTrackUploadLastSuccessTimestamp'),
  );

  for (const [key, series] of group)
    group.set(
      key,
      [...series].sort((a, b) => labelKey(a.labels).localeCompare(labelKey(b.labels))),
    );
  return group;
}

/** The Prometheus text exposition of the group, rendered by prom-client. */
export async function renderGroup(
  group: GroupMetrics,
): Promise<{ body: string; contentType: string }> {
  const registry = new Registry();
  for (const key of EXPORTER_METRIC_KEYS) {
    const series = group.get(key) ?? [];
    if (series.length === 0) continue;
    const def = METRICS[key];
    const config = {
      name: def.name,
      help: def.help,
      labelNames: [...def.labels],
      registers: [registry],
    };
    if (def.type === 'counter') {
      const counter = new Counter(config);
      for (const s of series) counter.inc(s.labels, s.value);
    } else {
      const gauge = new Gauge(config);
      for (const s of series) gauge.set(s.labels, s.value);
    }
  }
  return { body: await registry.metrics(), contentType: registry.contentType };
}

function labelKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}
