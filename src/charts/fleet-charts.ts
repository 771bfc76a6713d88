/**
 * The generator's charts: one chart per file in dist/ (`<chart id>.k8s.yaml`). The observability
 * charts are added next to these by src/observability.
 */
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { CopaPatchJob } from '../constructs/copa-patch-job.ts';
import { DriftCollector } from '../constructs/drift-collector.ts';
import { FleetNamespace } from '../constructs/fleet-namespace.ts';
import { appLabels } from '../constructs/labels.ts';
import { PodSecurityPolicy } from '../constructs/pod-security-policy.ts';
import { Pushgateway } from '../constructs/pushgateway.ts';
import { runtimeStateConfigMap } from '../constructs/runtime-state-config-map.ts';
import type { Fleet } from '../model/fleet.ts';
import { buildkitMode, patchRunSpec } from '../model/patch-run.ts';
import { CONFIGMAPS } from '../shared/contract.ts';

/** Chart ids, i.e. file names without `.k8s.yaml`. */
export const CHARTS = {
  namespace: 'namespace',
  copaJobs: 'copa-jobs',
  driftCollector: 'drift-collector',
  pushgateway: 'pushgateway',
  podSecurityPolicy: 'pod-security-policy',
} as const;

function fleetChart(scope: Construct, id: string, fleet: Fleet): Chart {
  // Names are always explicit: no construct-path hashes in the output.
  return new Chart(scope, id, { namespace: fleet.namespace, disableResourceNameHashes: true });
}

/** Which charts a cluster applies: every one in a single-cluster fleet; in a multi-cluster fleet the patch pipeline only in the patch cluster. */
export interface ChartSelection {
  readonly patchPipeline: boolean;
}

export function addFleetCharts(
  scope: Construct,
  fleet: Fleet,
  selection: ChartSelection = { patchPipeline: true },
): void {
  new FleetNamespace(fleetChart(scope, CHARTS.namespace, fleet), 'Namespace', {
    fleet,
    runsCopaJobs: selection.patchPipeline,
  });
  // Every cluster runs a collector: in a workload cluster it reports the running digests, in the
  // patch cluster also the Copa Jobs and CronJobs (job failures, missed schedules).
  new DriftCollector(fleetChart(scope, CHARTS.driftCollector, fleet), 'DriftCollector', { fleet });
  if (!selection.patchPipeline) return;

  // Only the BuildKit sidecar needs the privileged namespace; the policy narrows it back to that
  // one container. With a remote BuildKit the namespace enforces restricted and needs no policy.
  const buildkit = buildkitMode(fleet);
  if (buildkit.mode === 'sidecar') {
    const chart = new Chart(scope, CHARTS.podSecurityPolicy, { disableResourceNameHashes: true });
    new PodSecurityPolicy(chart, 'PodSecurityPolicy', {
      namespace: fleet.namespace,
      buildkitImage: buildkit.image,
    });
  }

  const jobs = fleetChart(scope, CHARTS.copaJobs, fleet);
  runtimeStateConfigMap(jobs, 'PatchedDigests', {
    name: CONFIGMAPS.patchedDigests,
    labels: appLabels('patched-digest-store'),
    description:
      'Written by the Copa job exporters (one key per CronJob), read by the drift collector. Generated without data on purpose.',
  });
  for (const image of fleet.images) new CopaPatchJob(jobs, image.name, patchRunSpec(image, fleet));

  if (fleet.inventory.defaults.pushgateway.deploy) {
    new Pushgateway(fleetChart(scope, CHARTS.pushgateway, fleet), 'Pushgateway', { fleet });
  }
}
