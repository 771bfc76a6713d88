/**
 * `copa-fleet report` without the CLI: query Prometheus for the window and build the report.
 * Fails (ReportError, exit 1) when Prometheus holds none of copa-fleet's series for the period.
 */
import type { ObservabilitySettings } from '../observability/settings.ts';
import { METRICS } from '../shared/metrics.ts';
import { buildReport } from './build.ts';
import { runQueries } from './collect.ts';
import type { Report } from './model.ts';
import { type PrometheusClient, PrometheusError } from './prometheus-client.ts';
import {
  recordCoverageOf,
  recordCoverageQuery,
  reportQueries,
  type ReportWindow,
} from './queries.ts';

export class ReportError extends Error {
  override readonly name = 'ReportError';
}

export interface GenerateOptions {
  readonly window: ReportWindow;
  readonly scanMaxAgeHours: number;
  /** The fleet's settings (its selectors above all): the report reads this fleet's series only. */
  readonly settings: ObservabilitySettings;
  readonly progress?: (line: string) => void;
}

/** Families of the collector and the exporter: any of them, with the fleet's selectors, during the period proves the data is this fleet's. */
const EVIDENCE_METRICS = [
  METRICS.inventoryImageInfo,
  METRICS.runningContainers,
  METRICS.runLastTimestamp,
] as const;

export async function generateReport(
  client: PrometheusClient,
  options: GenerateOptions,
): Promise<Report> {
  const { window, settings } = options;
  const { q } = settings;
  const evidenceSeries = EVIDENCE_METRICS.map((metric) => q.series(metric));
  const progress = options.progress ?? (() => {});
  const start = window.at - window.periodSeconds;
  progress(`querying ${client.url}: checking for copa-fleet series`);
  const evidence = await client.range(
    `count(${evidenceSeries.join(' or ')})`,
    start,
    window.at,
    Math.max(window.stepSeconds, Math.ceil(window.periodSeconds / 200)),
  );
  if (evidence.length === 0) {
    throw new ReportError(
      `${client.url} holds none of copa-fleet's series with this fleet's selectors (${evidenceSeries.join(', ')}) ` +
        `between ${new Date(start * 1000).toISOString()} and ${new Date(window.at * 1000).toISOString()}: wrong URL, tenant (X-Scope-OrgID), period or inventory (its namespace and prometheus.selectors)?`,
    );
  }
  // Phase one: where the 15-minute CVE age record exists decides what cveLastAge reads.
  const coverageSpec = recordCoverageQuery(window, settings);
  const first = await runQueries(client, [coverageSpec], () =>
    progress(`querying ${client.url}: ${coverageSpec.id}`),
  );
  const rest = reportQueries(window, settings, recordCoverageOf(first.range(coverageSpec.id)));
  const specs = [coverageSpec, ...rest];
  const results = await runQueries(
    client,
    rest,
    (done, total, id) => progress(`querying ${client.url}: ${done}/${total} (${id})`),
    { specs: [coverageSpec], results: first },
  );
  const runtime = (await client.optionalGet('/api/v1/status/runtimeinfo')) as
    { storageRetention?: unknown } | undefined;
  const retention =
    typeof runtime?.storageRetention === 'string' ? runtime.storageRetention : undefined;
  return buildReport({
    prometheus: client.url,
    window,
    specs,
    results,
    scanMaxAgeHours: options.scanMaxAgeHours,
    retention,
    ...(q.clusters !== undefined && {
      clusters: { label: q.clusters.label, names: q.clusters.names, patch: q.clusters.patch },
    }),
  });
}

export { PrometheusError };
