/**
 * The silence-governance alerts, proven with the real promtool on the generated rules:
 * CopaAlertSilencedTooLong at its limits (exactly `maxHours` is fine, beyond is not; a ticket or a
 * short silence never alerts; a pending silence counts from now; critical only for a silence that
 * mutes a critical alert; one alert per silence with two collector targets), a changed `maxHours`,
 * and CopaSilenceWatchDown after 10 minutes of an unreadable Alertmanager, not before.
 * The same alert over series read from the real Alertmanager: test/runtime/collector/silence-watch.test.ts.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesYaml } from '../../src/observability/files.ts';
import { ALERTS, METRICS } from '../../src/shared/metrics.ts';
import {
  inventoryInput,
  NAMESPACE,
  observabilityOf,
  ruleDir,
  RUNBOOK_BASE,
} from './support/fixture.ts';
import { promtoolTest } from './support/promtool.ts';
import { humanizeDuration } from './support/world.ts';

const AM = 'http://alertmanager.monitoring.svc:9093';
const HOUR = 3600;
const EVAL = 10 * 60; // promtool evaluates at 10m: time() = 600
const TARGETS = [
  { job: 'copa-fleet-collector', namespace: NAMESPACE, instance: '10.0.0.1:9464' },
  { job: 'copa-fleet-collector', namespace: NAMESPACE, instance: '10.0.0.2:9464' },
];

interface Silence {
  readonly id: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly ticket: boolean;
  readonly mutedSeverity: 'critical' | 'warning';
  readonly state?: 'active' | 'pending';
  /** Exported by both collector targets (deduplicated by the rule). */
  readonly twice?: boolean;
}

const labelText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`;

function seriesOf(
  silences: readonly Silence[],
  upValues: string,
): { series: string; values: string }[] {
  const out: { series: string; values: string }[] = [];
  for (const s of silences) {
    for (const target of s.twice === true ? TARGETS : TARGETS.slice(0, 1)) {
      const key = { ...target, alertmanager: AM, silence_id: s.id };
      const muted = s.mutedSeverity === 'critical' ? ALERTS.slaBreach : ALERTS.jobFailed;
      const info = {
        ...key,
        state: s.state ?? 'active',
        created_by: 'alice',
        ticket: String(s.ticket),
        muted_alerts: muted,
        muted_severity: s.mutedSeverity,
      };
      out.push({ series: `${METRICS.silenceInfo.name}${labelText(info)}`, values: '1x20' });
      out.push({
        series: `${METRICS.silenceStartsAt.name}${labelText(key)}`,
        values: `${s.startsAt}x20`,
      });
      out.push({
        series: `${METRICS.silenceEndsAt.name}${labelText(key)}`,
        values: `${s.endsAt}x20`,
      });
    }
  }
  out.push({
    series: `${METRICS.silenceWatchUp.name}${labelText({ ...TARGETS[0]!, alertmanager: AM })}`,
    values: upValues,
  });
  return out;
}

function expected(s: Silence, maxHours: number) {
  const muted = s.mutedSeverity === 'critical' ? ALERTS.slaBreach : ALERTS.jobFailed;
  const span = s.endsAt - Math.min(s.startsAt, EVAL);
  return {
    exp_labels: {
      severity: s.mutedSeverity,
      namespace: NAMESPACE,
      alertmanager: AM,
      silence_id: s.id,
      created_by: 'alice',
      muted_alerts: muted,
    },
    exp_annotations: {
      summary: `Silence ${s.id} mutes copa-fleet alerts for too long without a ticket`,
      description: `Silence ${s.id} on ${AM} (created by alice) mutes ${muted} until ${humanizeDuration(span)} after it started (or after now), longer than ${maxHours} h, and its comment names no ticket.`,
      runbook_url: `${RUNBOOK_BASE}/${ALERTS.silencedTooLong}.md`,
    },
  };
}

const at48 = {
  id: 'exactly-48h',
  startsAt: 0,
  endsAt: 48 * HOUR,
  ticket: false,
  mutedSeverity: 'critical',
} as const satisfies Silence;
const over = {
  id: 'over-48h',
  startsAt: 0,
  endsAt: 48 * HOUR + 1,
  ticket: false,
  mutedSeverity: 'critical',
  twice: true,
} as const satisfies Silence;
const ticketed = {
  id: 'with-ticket',
  startsAt: 0,
  endsAt: 500 * HOUR,
  ticket: true,
  mutedSeverity: 'critical',
} as const satisfies Silence;
const short = {
  id: 'short',
  startsAt: 0,
  endsAt: 2 * HOUR,
  ticket: false,
  mutedSeverity: 'critical',
} as const satisfies Silence;
const warning = {
  id: 'mutes-warnings',
  startsAt: 0,
  endsAt: 72 * HOUR,
  ticket: false,
  mutedSeverity: 'warning',
} as const satisfies Silence;
// Starts in 24 h, lasts 30 h: short in itself, but it ends 54 h from now.
const pending = {
  id: 'pending',
  startsAt: 24 * HOUR,
  endsAt: 54 * HOUR,
  ticket: false,
  mutedSeverity: 'warning',
  state: 'pending',
} as const satisfies Silence;
// Started 40 h ago (before promtool's zero: a negative start), ends in 20 h: 60 h long.
const old = {
  id: 'started-long-ago',
  startsAt: -40 * HOUR,
  endsAt: 20 * HOUR,
  ticket: false,
  mutedSeverity: 'warning',
} as const satisfies Silence;
const ALL = [at48, over, ticketed, short, warning, pending, old];

let dir: string;
let dir72: string;
beforeAll(async () => {
  dir = await ruleDir(rulesYaml(observabilityOf()));
  dir72 = await ruleDir(
    rulesYaml(
      observabilityOf({
        ...inventoryInput,
        alerting: {
          ...inventoryInput.alerting,
          silenceWatch: { alertmanagers: [{ url: AM }], maxHours: 72 },
        },
      }),
    ),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(dir72, { recursive: true, force: true });
});

describe('CopaAlertSilencedTooLong', () => {
  it('fires for silences longer than maxHours without a ticket (counted from the earlier of start and now), critical only for critical alerts', async () => {
    const result = await promtoolTest(dir, 'too-long.test.yaml', [
      {
        name: 'too long',
        interval: '1m',
        input_series: seriesOf(ALL, '1x20'),
        alert_rule_test: [
          {
            alertname: ALERTS.silencedTooLong,
            eval_time: '10m',
            exp_alerts: [
              expected(over, 48),
              expected(warning, 48),
              expected(pending, 48),
              expected(old, 48),
            ],
          },
        ],
      },
    ]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('follows alerting.silenceWatch.maxHours', async () => {
    const result = await promtoolTest(dir72, 'too-long-72.test.yaml', [
      {
        name: 'too long at 72 h',
        interval: '1m',
        input_series: seriesOf(ALL, '1x20'),
        alert_rule_test: [{ alertname: ALERTS.silencedTooLong, eval_time: '10m', exp_alerts: [] }],
      },
    ]);
    expect(result.code, result.output).toBe(0);
  });

  it('fails when an expected alert does not fire (the check can fail)', async () => {
    const result = await promtoolTest(dir, 'wrong.test.yaml', [
      {
        name: 'wrong',
        interval: '1m',
        input_series: seriesOf([at48], '1x20'),
        alert_rule_test: [
          { alertname: ALERTS.silencedTooLong, eval_time: '10m', exp_alerts: [expected(at48, 48)] },
        ],
      },
    ]);
    expect(result.code).not.toBe(0);
  });
});

describe('CopaSilenceWatchDown', () => {
  it('fires after 10 minutes of an unreadable Alertmanager, not before, and clears when it is read again', async () => {
    const down = {
      exp_labels: { severity: 'warning', namespace: NAMESPACE, alertmanager: AM },
      exp_annotations: {
        summary: `The silences of ${AM} cannot be read`,
        description: `For 10m, the drift collector could not read the silences of ${AM} (polled every 1m). The silence series show what was last read: a silence created or extended since is not seen.`,
        runbook_url: `${RUNBOOK_BASE}/${ALERTS.silenceWatchDown}.md`,
      },
    };
    const result = await promtoolTest(dir, 'watch-down.test.yaml', [
      {
        name: 'watch down',
        interval: '1m',
        // up: 1 for 2 minutes, 0 from 2m to 15m, then 1 again; the rules are evaluated every 5m.
        input_series: seriesOf([], '1 1 0x13 1x10'),
        alert_rule_test: [
          // The evaluation at 5m sees it down first: pending, not yet firing at 10m.
          { alertname: ALERTS.silenceWatchDown, eval_time: '11m', exp_alerts: [] },
          { alertname: ALERTS.silenceWatchDown, eval_time: '16m', exp_alerts: [down] },
          { alertname: ALERTS.silenceWatchDown, eval_time: '21m', exp_alerts: [] },
        ],
      },
    ]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });
});
