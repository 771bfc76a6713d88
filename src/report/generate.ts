/**
 * `copa-fleet report` without the CLI: query Prometheus for the window and build the report.
 * Fails (ReportError, exit 1) when Prometheus holds none of copa-fleet's series for the period.
 */
import { METRICS } from '../shared/metrics.ts';
import { buildReport } from './build.ts';
import { runQueries } from './collect.ts';
import type { Report } from './model.ts';
import { type PrometheusClient, PrometheusError } from './prometheus-client.ts';
import { reportQueries, type ReportWindow } from './queries.ts';

export class ReportError extends Error {
  override readonly name = 'ReportError';
}

export interface GenerateOptions {
  readonly window: ReportWindow;
  readonly scanMaxAgeHours: number;
  readonly progress?: (line: string) => void;
}

/** Any of the collector's or the exporter's families during the period proves the data is ours. */
const EVIDENCE = `count({__name__=~"${[METRICS.inventoryImageInfo.name, METRICS.runningContainers.name, METRICS.runLastTimestamp.name].join('|')}"})`;

export async function generateReport(client: PrometheusClient, options: GenerateOptions): Promise<Report> {
  const { window } = options;
  const progress = options.progress ?? (() => {});
  const start = window.at - window.periodSeconds;
  progress(`querying ${client.url}: checking for copa-fleet series`);
  const evidence = await client.range(EVIDENCE, start, window.at, Math.max(window.stepSeconds, Math.ceil(window.periodSeconds / 200)));
  if (evidence.length === 0) {
    throw new ReportError(
      `${client.url} holds none of copa-fleet's series (${METRICS.inventoryImageInfo.name}, ${METRICS.runningContainers.name}, ${METRICS.runLastTimestamp.name}) ` +
        `between ${new Date(start * 1000).toISOString()} and ${new Date(window.at * 1000).toISOString()}: wrong URL, tenant (X-Scope-OrgID) or period?`,
    );
  }
  const specs = reportQueries(window);
  const results = await runQueries(client, specs, (done, total, id) => progress(`querying ${client.url}: ${done}/${total} (${id})`));
  const runtime = (await client.optionalGet('/api/v1/status/runtimeinfo')) as { storageRetention?: unknown } | undefined;
  const retention = typeof runtime?.storageRetention === 'string' ? runtime.storageRetention : undefined;
  return buildReport({ prometheus: client.url, window, specs, results, scanMaxAgeHours: options.scanMaxAgeHours, retention });
}

export { PrometheusError };
