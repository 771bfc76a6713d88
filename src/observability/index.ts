/**
 * Observability as code: assembles every concern's recording rules, alerts and panels into the
 * PrometheusRule, the plain rule file, the Alertmanager routing and the Grafana dashboard.
 */
import type { App } from 'cdk8s';
import type { Fleet } from '../model/fleet.ts';
import type { OutputFile } from '../outputs/output-file.ts';
import { assembleObservability } from './assemble.ts';
import { ObservabilityChart } from './chart.ts';
import { observabilityFiles } from './files.ts';

/** Adds the observability chart to `app` and returns the plain (non-Kubernetes) files to write. */
export function addObservability(app: App, fleet: Fleet): OutputFile[] {
  const observability = assembleObservability(fleet);
  new ObservabilityChart(app, fleet, observability);
  return observabilityFiles(observability);
}
