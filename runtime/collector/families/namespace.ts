/** The namespace-scope family: every namespace, inventoried images or not. */
import { METRICS } from '../../../src/shared/metrics.ts';
import { formatLabels, type SeriesStore } from '../series.ts';

export interface NamespaceInput {
  readonly namespace: string;
  /** Running pods of the namespace (Copa job pods excluded). */
  readonly runningPods: number;
  readonly reports: number;
  /** Pods and reports were each listed completely: "no report" is then a fact, not a gap in the list. */
  readonly listed: boolean;
  readonly now: number;
}

/** `fleet_namespace_unscanned`: running pods of a namespace without any VulnerabilityReport. */
export function unscannedSeries(
  store: SeriesStore,
  { namespace, runningPods, reports, listed, now }: NamespaceInput,
): void {
  const unscanned = listed && runningPods > 0 && reports === 0;
  store.setSingle(
    namespace,
    formatLabels(METRICS.namespaceUnscanned, { namespace }),
    unscanned ? runningPods : undefined,
    now,
  );
}
