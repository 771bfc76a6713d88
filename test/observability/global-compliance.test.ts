/**
 * Patch compliance in a multi-cluster fleet's global rules (issue 15), evaluated by the real
 * promtool over two clusters' series: a container is non-compliant when its digest drifted from the
 * patch cluster's latest patched digest or carries a Critical CVE (the collector's
 * `fleet_running_digest_critical_containers`), each container once; a cluster where every
 * container is compliant reads 1, not "no data".
 */
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { assembleObservability } from '../../src/observability/assemble.ts';
import { rulesYaml } from '../../src/observability/files.ts';
import { JOBS, METRICS, RECORDS } from '../../src/shared/metrics.ts';
import { fleetOf, inventoryInput, NAMESPACE, ruleDir } from './support/fixture.ts';
import { promtoolTest } from './support/promtool.ts';

const PATCH = 'eu-1';
const WORKLOAD = 'us-1';
const fleet = fleetOf({
  ...inventoryInput,
  clusters: [
    { name: PATCH, roles: ['patch', 'workloads'] },
    { name: WORKLOAD, roles: ['workloads'] },
  ],
});
const PATCHED = 'sha256:patched';
const OLD = 'sha256:old';
const TOOL = 'sha256:tool';
const SAMPLES = 20;

type Labels = Record<string, string>;
const constant = (series: string, value: number) => ({ series, values: `${value}+0x${SAMPLES}` });
const selector = (name: string, labels: Labels) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`;

/** One cluster's collector: its target, inventory and running containers per (namespace, image, digest). */
function collector(
  cluster: string,
  running: { image: string; digest: string; containers: number; critical: boolean }[],
) {
  const target = { job: JOBS.collector, namespace: NAMESPACE, cluster, instance: '10.0.0.1:8080' };
  const series = [
    constant(selector('up', target), 1),
    constant(selector(METRICS.complianceUnknownContainers.name, target), 0),
    constant(selector(METRICS.noncompliantContainers.name, target), 0),
  ];
  for (const image of ['app', 'tool']) {
    series.push(
      constant(
        selector(METRICS.inventoryImageInfo.name, {
          ...target,
          image,
          cronjob: image,
          team: 'web',
        }),
        1,
      ),
      constant(
        selector(METRICS.runningContainers.name, { ...target, image }),
        running.filter((r) => r.image === image).reduce((sum, r) => sum + r.containers, 0),
      ),
    );
  }
  // The workload series keep the workload's namespace (honorLabels).
  for (const r of running) {
    const labels = { ...target, namespace: 'shop', image: r.image, digest: r.digest };
    series.push(constant(selector(METRICS.runningDigestContainers.name, labels), r.containers));
    if (r.critical)
      series.push(
        constant(selector(METRICS.runningDigestCriticalContainers.name, labels), r.containers),
      );
  }
  return series;
}

describe('patch compliance of the global rules', () => {
  it('counts drifted and Critical containers once per cluster; a compliant cluster reads 1 (promtool)', async () => {
    const input = [
      // The patch cluster's Pushgateway: app's latest patched digest (tool has none yet).
      constant(
        selector(METRICS.patchedImageInfo.name, {
          job: JOBS.exporter,
          namespace: NAMESPACE,
          cluster: PATCH,
          instance: 'pushgateway:9091',
          image: 'app',
          cronjob: 'app',
          tag: '1.0-patched',
          digest: PATCHED,
        }),
        1,
      ),
      // eu-1: everything on the patched digest, no Critical CVE.
      ...collector(PATCH, [{ image: 'app', digest: PATCHED, containers: 2, critical: false }]),
      // us-1: one app container drifted (and Critical: counted once), one tool container Critical.
      ...collector(WORKLOAD, [
        { image: 'app', digest: PATCHED, containers: 2, critical: false },
        { image: 'app', digest: OLD, containers: 1, critical: true },
        { image: 'tool', digest: TOOL, containers: 1, critical: true },
      ]),
    ];
    const dir = await ruleDir(rulesYaml(assembleObservability(fleet)));
    try {
      const result = await promtoolTest(dir, 'global-compliance.test.yaml', [
        {
          name: 'compliance over two clusters',
          interval: '1m',
          input_series: input,
          promql_expr_test: [
            {
              expr: RECORDS.patchComplianceRatio,
              eval_time: '5m',
              exp_samples: [
                {
                  labels: `${RECORDS.patchComplianceRatio}{cluster="${PATCH}", namespace="${NAMESPACE}"}`,
                  value: 1,
                },
                {
                  labels: `${RECORDS.patchComplianceRatio}{cluster="${WORKLOAD}", namespace="${NAMESPACE}"}`,
                  value: 0.5,
                },
              ],
            },
            {
              expr: RECORDS.digestDriftContainers,
              eval_time: '5m',
              exp_samples: [
                {
                  labels: `${RECORDS.digestDriftContainers}{cluster="${PATCH}", namespace="${NAMESPACE}"}`,
                  value: 0,
                },
                {
                  labels: `${RECORDS.digestDriftContainers}{cluster="${WORKLOAD}", namespace="${NAMESPACE}"}`,
                  value: 1,
                },
              ],
            },
          ],
        },
      ]);
      expect(result.output).toContain('SUCCESS');
      expect(result.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
