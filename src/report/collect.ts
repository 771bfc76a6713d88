/**
 * Runs the report's queries against Prometheus, a few at a time, reporting progress.
 */
import type { InstantSample, PrometheusClient, RangeSeries } from './prometheus-client.ts';
import type { QueryId, QuerySpec } from './queries.ts';

export interface QueryResults {
  instant(id: QueryId): readonly InstantSample[];
  range(id: QueryId): readonly RangeSeries[];
  series(id: QueryId): ReadonlyArray<Readonly<Record<string, string>>>;
}

/** Prometheus runs each query on one core; a few in flight keep it busy without queueing behind a slow one. */
const CONCURRENCY = 4;

/**
 * Runs `specs`; `before`: results of queries run earlier (the report's phase one), answered too.
 */
export async function runQueries(
  client: PrometheusClient,
  specs: readonly QuerySpec[],
  progress: (done: number, total: number, id: string) => void,
  before?: { readonly specs: readonly QuerySpec[]; readonly results: QueryResults },
): Promise<QueryResults> {
  const results = new Map<QueryId, unknown>();
  for (const spec of before?.specs ?? [])
    results.set(
      spec.id,
      spec.kind === 'instant'
        ? before!.results.instant(spec.id)
        : spec.kind === 'range'
          ? before!.results.range(spec.id)
          : before!.results.series(spec.id),
    );
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const result =
        spec.kind === 'instant'
          ? await client.instant(spec.promql, spec.time)
          : spec.kind === 'range'
            ? await client.range(spec.promql, spec.start, spec.end, spec.step)
            : await client.series(spec.promql, spec.start, spec.end);
      results.set(spec.id, result);
      progress(++done, specs.length, spec.id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, specs.length) }, worker));
  const get = <T>(id: QueryId): T => {
    if (!results.has(id)) throw new Error(`query ${id} did not run`);
    return results.get(id) as T;
  };
  return { instant: (id) => get(id), range: (id) => get(id), series: (id) => get(id) };
}
