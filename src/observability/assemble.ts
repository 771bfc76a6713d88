/**
 * The one place that gathers the concerns and turns them into every observability output: rule
 * groups, the dashboard, and the Alertmanager routing (operator and plain forms).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { IRuleGroup } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RuleGroup';
import type { IAlertmanagerConfigSpec } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfigSpec';
import type { Fleet } from '../model/fleet.ts';
import {
  alertmanagerConfigSpec,
  plainAlertmanagerFragment,
  type PlainAlertmanagerFragment,
} from './alertmanager.ts';
import { collectorConcern } from './concerns/collector.ts';
import { coverageConcern } from './concerns/coverage.ts';
import { dependencyTrackConcern } from './concerns/dependency-track.ts';
import { driftConcern } from './concerns/drift.ts';
import { exceptionsConcern } from './concerns/exceptions.ts';
import { firstRunsConcern } from './concerns/first-runs.ts';
import { jobFailuresConcern } from './concerns/job-failures.ts';
import { missingRunsConcern } from './concerns/missing-runs.ts';
import { pipelineConcern } from './concerns/pipeline.ts';
import { pushgatewayConcern } from './concerns/pushgateway.ts';
import { silencesConcern } from './concerns/silences.ts';
import { slaConcern } from './concerns/sla.ts';
import { vulnerabilitiesConcern } from './concerns/vulnerabilities.ts';
import { buildDashboard, CLUSTER_VARIABLE } from './dashboard.ts';
import { ruleGroups, type ClusterPartition } from './rules.ts';
import { observabilitySettings, type ObservabilitySettings } from './settings.ts';
import type { Concern } from './types.ts';

export interface Observability {
  readonly settings: ObservabilitySettings;
  readonly concerns: readonly Concern[];
  readonly groups: readonly IRuleGroup[];
  readonly dashboard: dashboard.Dashboard;
  /** Undefined when the inventory defines no receivers. */
  readonly alertmanagerConfig: IAlertmanagerConfigSpec | undefined;
  readonly alertmanagerFragment: PlainAlertmanagerFragment | undefined;
}

/** Which clusters' series a concern reads: every cluster's, or the patch pipeline's (the patch cluster's). */
type ConcernScope = 'clusters' | 'patch-pipeline';

const CONCERNS: readonly {
  readonly build: (settings: ObservabilitySettings) => Concern;
  readonly reads: ConcernScope;
  readonly enabled?: (settings: ObservabilitySettings) => boolean;
}[] = [
  { build: vulnerabilitiesConcern, reads: 'clusters' },
  { build: slaConcern, reads: 'clusters' },
  { build: driftConcern, reads: 'clusters' },
  { build: exceptionsConcern, reads: 'clusters' },
  { build: coverageConcern, reads: 'clusters' },
  { build: pipelineConcern, reads: 'patch-pipeline' },
  { build: jobFailuresConcern, reads: 'patch-pipeline' },
  { build: missingRunsConcern, reads: 'patch-pipeline' },
  { build: firstRunsConcern, reads: 'patch-pipeline' },
  { build: pushgatewayConcern, reads: 'patch-pipeline' },
  { build: collectorConcern, reads: 'clusters' },
  // The exporters' BOM uploads: series of the patch cluster's Pushgateway.
  {
    build: dependencyTrackConcern,
    reads: 'patch-pipeline',
    enabled: (settings) => settings.dependencyTrackEnabled,
  },
  {
    build: silencesConcern,
    reads: 'clusters',
    enabled: (settings) => settings.silenceWatchEnabled,
  },
];

/**
 * Every concern of the fleet, or (`only`) those of one scope. The patch pipeline's concerns read
 * collector series of the patch cluster only (queries.ts `patchPipeline`).
 */
export function concernsFor(settings: ObservabilitySettings, only?: ConcernScope): Concern[] {
  const patchPipeline = { ...settings, q: settings.q.patchPipeline };
  return CONCERNS.filter(
    (entry) => (only === undefined || entry.reads === only) && (entry.enabled?.(settings) ?? true),
  ).map((entry) => entry.build(entry.reads === 'patch-pipeline' ? patchPipeline : settings));
}

/**
 * Multi-cluster fleets: the concerns that read every cluster's series, built once per cluster
 * (`q.inCluster`), for the global rules' per-cluster groups (rules.ts). The patch pipeline's
 * concerns read one cluster already.
 */
export function clusterPartitions(settings: ObservabilitySettings): ClusterPartition[] {
  const scope = settings.q.clusters;
  if (scope === undefined) return [];
  return scope.names.map((cluster) => ({
    cluster,
    concerns: concernsFor({ ...settings, q: settings.q.inCluster(cluster) }, 'clusters'),
  }));
}

export function assembleObservability(
  fleet: Fleet,
  options: { readonly secretsDir?: string } = {},
): Observability {
  const settings = observabilitySettings(fleet);
  const concerns = concernsFor(settings);
  const alerting = fleet.inventory.alerting;
  return {
    settings,
    concerns,
    groups: ruleGroups(settings, concerns, clusterPartitions(settings)),
    // Multi-cluster: the panels read through the dashboard's `$cluster` variable (multi-select, All).
    dashboard:
      settings.q.clusters === undefined
        ? buildDashboard(settings, concerns)
        : buildDashboard(
            settings,
            concernsFor({
              ...settings,
              q: settings.q.filtered({ [settings.q.clusters.label]: `$${CLUSTER_VARIABLE}` }),
            }),
          ),
    alertmanagerConfig: alertmanagerConfigSpec(alerting, fleet.clusters !== undefined),
    alertmanagerFragment: plainAlertmanagerFragment(
      alerting,
      settings.namespace,
      options.secretsDir,
      fleet.clusters !== undefined,
    ),
  };
}
