/**
 * The exception alerts of a multi-cluster fleet's global rules (issue 15): an exception is an
 * inventory fact that every cluster's collector exports, so a per-cluster alert would fire once per
 * cluster for one exception. The real promtool evaluates the generated global rules over two
 * clusters' series: each alert fires once per exception, without a cluster label, and an exception
 * used in one cluster only is used (no CVEExceptionUnused).
 */
import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { rulesYaml } from '../../src/observability/files.ts';
import { assembleObservability } from '../../src/observability/assemble.ts';
import { watchedAlerts } from '../../src/observability/silence-catalogue.ts';
import { ALERTS, JOBS, METRICS } from '../../src/shared/metrics.ts';
import { fleetOf, inventoryInput, NAMESPACE, ruleDir } from './support/fixture.ts';
import { promtoolTest } from './support/promtool.ts';

const CLUSTERS = ['eu-1', 'us-1'] as const;
const fleet = fleetOf({
  ...inventoryInput,
  clusters: [
    { name: CLUSTERS[0], roles: ['patch', 'workloads'] },
    { name: CLUSTERS[1], roles: ['workloads'] },
  ],
});
const HOUR = 3600;
const DAY = 24 * HOUR;
/** Evaluation step and sample interval of the test (CVEExceptionUnused waits 7 days). */
const STEP = HOUR;
const SAMPLES = 9 * 24;

interface ExceptionSeries {
  readonly exception: string;
  readonly expiresAt: number;
  /** Per cluster, as that cluster's collector reports it. */
  readonly inForce: readonly [number, number];
  readonly coveredImages: readonly [number, number];
}

const EXCEPTIONS: readonly ExceptionSeries[] = [
  { exception: 'lapsed', expiresAt: 0, inForce: [0, 0], coveredImages: [1, 1] },
  { exception: 'lapsing', expiresAt: 3 * DAY, inForce: [1, 1], coveredImages: [1, 1] },
  { exception: 'unused', expiresAt: 90 * DAY, inForce: [1, 1], coveredImages: [0, 0] },
  // Runs in us-1 only: used.
  { exception: 'used-in-one', expiresAt: 90 * DAY, inForce: [1, 1], coveredImages: [0, 2] },
];

function series(): { series: string; values: string }[] {
  const out: { series: string; values: string }[] = [];
  const constant = (value: number) => `${value}+0x${SAMPLES}`;
  for (const [index, cluster] of CLUSTERS.entries()) {
    const target = `job="${JOBS.collector}", namespace="${NAMESPACE}", cluster="${cluster}"`;
    for (const e of EXCEPTIONS) {
      const ex = `${target}, exception="${e.exception}"`;
      out.push(
        {
          series: `${METRICS.exceptionInfo.name}{${ex}, vulnerability="CVE-2026-0001", images="nginx", reason="no fix", owner="web", ticket="SEC-1", expires="2026-01-01"}`,
          values: constant(1),
        },
        {
          series: `${METRICS.exceptionExpiryTimestamp.name}{${ex}}`,
          values: constant(e.expiresAt),
        },
        { series: `${METRICS.exceptionInForce.name}{${ex}}`, values: constant(e.inForce[index]!) },
        {
          series: `${METRICS.exceptionCoveredImages.name}{${ex}}`,
          values: constant(e.coveredImages[index]!),
        },
      );
    }
  }
  return out;
}

const firing = (alertname: string) =>
  `count by (alertname, exception, cluster) (ALERTS{alertname="${alertname}", alertstate="firing"})`;
const once = (alertname: string, ...exceptions: string[]) =>
  exceptions.map((exception) => ({
    labels: `{alertname="${alertname}", exception="${exception}"}`,
    value: 1,
  }));

describe('exception alerts of the global rules', () => {
  it('declare no cluster label in the silence catalogue (they carry none)', () => {
    const names = [ALERTS.exceptionExpired, ALERTS.exceptionExpiringSoon, ALERTS.exceptionUnused];
    const alerts = watchedAlerts(fleet).filter((a) => (names as string[]).includes(a.alertname));
    expect(alerts.map((a) => a.alertname).sort()).toEqual([...names].sort());
    for (const alert of alerts) expect(Object.keys(alert.dynamic)).not.toContain('cluster');
    // Every other alert is per cluster.
    const drift = watchedAlerts(fleet).find((a) => a.alertname === ALERTS.unpatchedDigest);
    expect(Object.keys(drift?.dynamic ?? {})).toContain('cluster');
  });

  it('fire once per exception over two clusters; used in one cluster is used (promtool)', async () => {
    const dir = await ruleDir(rulesYaml(assembleObservability(fleet)));
    try {
      const result = await promtoolTest(
        dir,
        'global-exceptions.test.yaml',
        [
          {
            name: 'exceptions over two clusters',
            interval: `${STEP / 60}m`,
            input_series: series(),
            promql_expr_test: [
              {
                expr: firing(ALERTS.exceptionExpired),
                eval_time: '2h',
                exp_samples: once(ALERTS.exceptionExpired, 'lapsed'),
              },
              {
                expr: firing(ALERTS.exceptionExpiringSoon),
                eval_time: '2h',
                exp_samples: once(ALERTS.exceptionExpiringSoon, 'lapsing'),
              },
              // Pending for 7 days first.
              { expr: firing(ALERTS.exceptionUnused), eval_time: '2h', exp_samples: [] },
              {
                expr: firing(ALERTS.exceptionUnused),
                eval_time: `${8 * 24}h`,
                exp_samples: once(ALERTS.exceptionUnused, 'unused'),
              },
            ],
          },
        ],
        ['rules.yaml'],
        STEP,
      );
      expect(result.output).toContain('SUCCESS');
      expect(result.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
