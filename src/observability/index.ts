/**
 * Observability as code: assembles every concern's recording rules, alerts and panels into the
 * PrometheusRule, the plain rule file, the Alertmanager routing and the Grafana dashboard.
 * (Placeholder: returns nothing until the observability work lands.)
 */
import type { App } from 'cdk8s';
import type { Fleet } from '../model/fleet.ts';
import type { OutputFile } from '../outputs/output-file.ts';

/** Adds the observability charts to `app` and returns the plain (non-Kubernetes) files to write. */
export function addObservability(_app: App, _fleet: Fleet): OutputFile[] {
  return [];
}
