/**
 * Alert routing, proven with the real amtool and Alertmanager 0.25:
 * - the plain fragment, merged into a complete alertmanager.yml, passes `amtool check-config`;
 * - every alert the promtool scenarios produce (labels asserted there) routes to the receiver the
 *   inventory's routes name (`amtool config routes test --verify.receivers`), through the plain
 *   fragment and through the AlertmanagerConfig as the operator translates it, including the
 *   `namespace` matcher it injects; without the fleet namespace an alert would not be routed;
 * - a critical alert inhibits the warning of the same alert and image in a running Alertmanager.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALERTMANAGER_CONFIG_NAME,
  operatorReceiverName,
} from '../../src/observability/alertmanager.ts';
import { type RunningProcess, startAlertmanager } from '../support/processes.ts';
import {
  asOperatorWould,
  NULL_RECEIVER,
  withPlainFragment,
} from './support/alertmanager-config.ts';
import type { ExpectedAlert } from './support/expected-alerts.ts';
import * as expected from './support/expected-alerts.ts';
import {
  imageOf,
  inventoryInput,
  NAMESPACE,
  observabilityOf,
  RECEIVERS,
  REFS,
} from './support/fixture.ts';
import { AMTOOL, inParallel, runTool } from './support/promtool.ts';
import { SCENARIOS } from './support/scenarios.ts';

let dir: string;
let secretsDir: string;
let plainConfig: string;
let operatorConfig: string;

/** Each referenced Secret key as a file, as the Alertmanager's secret mounts provide them. */
async function writeDummySecrets(root: string): Promise<void> {
  for (const receiver of inventoryInput.alerting?.receivers ?? []) {
    const ref = receiver.pagerduty?.routingKey ?? receiver.slack?.webhookUrl;
    if (ref === undefined) continue;
    await mkdir(join(root, ref.name), { recursive: true });
    await writeFile(
      join(root, ref.name, ref.key),
      receiver.slack !== undefined ? 'http://127.0.0.1:9/slack\n' : 'dummy-routing-key\n',
    );
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copa-fleet-alertmanager-'));
  secretsDir = join(dir, 'secrets');
  await writeDummySecrets(secretsDir);
  const observability = observabilityOf(inventoryInput, secretsDir);
  plainConfig = join(dir, 'plain.yml');
  operatorConfig = join(dir, 'operator.yml');
  await writeFile(plainConfig, withPlainFragment(observability.alertmanagerFragment!));
  await writeFile(
    operatorConfig,
    asOperatorWould(
      observability.alertmanagerConfig!,
      NAMESPACE,
      ALERTMANAGER_CONFIG_NAME,
      secretsDir,
    ),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The routes of the fixture inventory, written out: critical pages, then the team channels, then the default. */
function expectedReceiver(labels: Readonly<Record<string, string>>): string {
  const receiver =
    labels.severity === 'critical'
      ? RECEIVERS.pager
      : labels.team === 'payments'
        ? RECEIVERS.payments
        : labels.team === 'web'
          ? RECEIVERS.web
          : RECEIVERS.platform;
  return operatorReceiverName(NAMESPACE, receiver);
}

function labelArgs(alert: ExpectedAlert): string[] {
  return Object.entries({ alertname: alert.alertname, ...alert.labels }).map(
    ([key, value]) => `${key}=${value}`,
  );
}

async function routesTest(config: string, labels: readonly string[], receiver: string) {
  return runTool(AMTOOL, [
    'config',
    'routes',
    'test',
    `--config.file=${config}`,
    `--verify.receivers=${receiver}`,
    ...labels,
  ]);
}

/** Every distinct alert the scenarios expect (their labels are what promtool saw the rules produce). */
const scenarioAlerts: ExpectedAlert[] = [
  ...new Map(
    SCENARIOS.flatMap((s) => s.checks.flatMap((c) => c.alerts)).map((a) => [
      JSON.stringify(labelArgs(a)),
      a,
    ]),
  ).values(),
];

describe('the plain alertmanager.yml fragment', () => {
  it('passes amtool check-config inside a complete configuration', async () => {
    const result = await runTool(AMTOOL, ['check-config', plainConfig]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('fails amtool check-config when a receiver it routes to is missing (the check can fail)', async () => {
    const broken = join(dir, 'broken.yml');
    const observability = observabilityOf(inventoryInput, secretsDir);
    const fragment = observability.alertmanagerFragment!;
    await writeFile(
      broken,
      withPlainFragment({ ...fragment, receivers: fragment.receivers.slice(1) }),
    );
    const result = await runTool(AMTOOL, ['check-config', broken]);
    expect(result.code).not.toBe(0);
  });
});

describe.each([
  ['plain fragment', () => plainConfig],
  ['AlertmanagerConfig, as the operator translates it', () => operatorConfig],
] as const)('routing through the %s', (_name, config) => {
  it('the operator form passes amtool check-config too', async () => {
    const result = await runTool(AMTOOL, ['check-config', config()]);
    expect(result.code, result.output).toBe(0);
  });

  it(`routes every scenario alert (${scenarioAlerts.length}) by severity and team`, async () => {
    expect(scenarioAlerts.length).toBeGreaterThan(15);
    const results = await inParallel(
      scenarioAlerts.map((alert) => async () => ({
        alert,
        result: await routesTest(config(), labelArgs(alert), expectedReceiver(alert.labels)),
      })),
      4,
    );
    for (const { alert, result } of results) {
      expect(result.code, `${labelArgs(alert).join(' ')}\n${result.output}`).toBe(0);
      expect(result.stdout.trim()).toBe(expectedReceiver(alert.labels));
    }
  });

  it('leaves an alert outside the fleet namespace, or without one, to the root route', async () => {
    const alert = expected.jobFailed(imageOf(REFS.failure), 'push_failed');
    const elsewhere = labelArgs(alert).map((arg) =>
      arg.startsWith('namespace=') ? 'namespace=shop' : arg,
    );
    const without = labelArgs(alert).filter((arg) => !arg.startsWith('namespace='));
    for (const labels of [elsewhere, without]) {
      const result = await routesTest(config(), labels, NULL_RECEIVER);
      expect(result.code, result.output).toBe(0);
      expect(result.stdout.trim()).toBe(NULL_RECEIVER);
    }
  });

  it('routes only copa-fleet alerts of the namespace', async () => {
    const result = await routesTest(
      config(),
      ['alertname=KubePodCrashLooping', `namespace=${NAMESPACE}`, 'severity=critical'],
      NULL_RECEIVER,
    );
    expect(result.stdout.trim()).toBe(NULL_RECEIVER);
  });
});

describe('inhibition in a running Alertmanager', () => {
  let alertmanager: RunningProcess;
  beforeAll(async () => {
    const { readFile } = await import('node:fs/promises');
    alertmanager = await startAlertmanager({ configYaml: await readFile(plainConfig, 'utf8') });
  });
  afterAll(async () => {
    await alertmanager?.stop();
  });

  async function addAlert(alert: ExpectedAlert): Promise<void> {
    const annotations = Object.entries(alert.annotations).map(
      ([key, value]) => `--annotation=${key}=${value}`,
    );
    const result = await runTool(AMTOOL, [
      'alert',
      'add',
      `--alertmanager.url=${alertmanager.url}`,
      ...annotations,
      ...labelArgs(alert),
    ]);
    expect(result.code, result.output).toBe(0);
  }

  interface QueriedAlert {
    labels: Record<string, string>;
    status: { state: string; inhibitedBy: string[] };
  }

  async function query(): Promise<QueriedAlert[]> {
    const result = await runTool(AMTOOL, [
      'alert',
      'query',
      `--alertmanager.url=${alertmanager.url}`,
      '--active',
      '--inhibited',
      '--output=json',
    ]);
    expect(result.code, result.output).toBe(0);
    return JSON.parse(result.stdout) as QueriedAlert[];
  }

  it('suppresses the warning of the same alert and image while the critical one fires, and nothing else', async () => {
    const api = imageOf(REFS.sla);
    const other = imageOf(REFS.success);
    const critical = expected.slaBreach(api, 'Critical', 1);
    const warning = expected.slaBreach(api, 'High', 1);
    const otherImage = expected.slaBreach(other, 'High', 1);
    const otherAlert = expected.jobMissingStale(api, 'no_recent_success', 27 * 3600);
    for (const alert of [critical, warning, otherImage, otherAlert]) await addAlert(alert);

    const stateOf = (alerts: QueriedAlert[], wanted: ExpectedAlert) =>
      alerts.find(
        (a) =>
          Object.entries(wanted.labels).every(([k, v]) => a.labels[k] === v) &&
          a.labels.alertname === wanted.alertname,
      )?.status;
    let alerts: QueriedAlert[] = [];
    for (let attempt = 0; attempt < 50; attempt += 1) {
      alerts = await query();
      if (alerts.length === 4 && stateOf(alerts, warning)?.state === 'suppressed') break;
      await sleep(100);
    }
    expect(stateOf(alerts, warning)).toMatchObject({
      state: 'suppressed',
      inhibitedBy: [expect.any(String)],
    });
    for (const active of [critical, otherImage, otherAlert])
      expect(stateOf(alerts, active)?.state, active.alertname).toBe('active');
  });
});
