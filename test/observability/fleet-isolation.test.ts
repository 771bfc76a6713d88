/**
 * Two fleets in one Prometheus (issue 12, item 1): fleet A (the fixture inventory) and fleet B
 * (the same inventory in another namespace: the same images, CronJob names and teams, so every
 * series name and label but the scrape targets' collides). Each scenario, paired with another, runs as one
 * `promtool test rules` group with both fleets' rule files and both worlds' series; each fleet
 * must see exactly what it sees alone: its firing alerts (`ALERTS` with its `namespace`) and its
 * records' values are its own scenario's expectations, whatever the other fleet's state.
 * With the selectors switched off (`prometheus.selectors: {collector: {}, exporter: {}}`) the same
 * test fails: the check can fail.
 */
import { rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryInput } from '../../src/inventory/schema.ts';
import { rulesYaml } from '../../src/observability/files.ts';
import { inventoryInput, NAMESPACE, observabilityOf, ruleDir } from './support/fixture.ts';
import { inParallel, promtoolTest, type ToolResult } from './support/promtool.ts';
import { type Check, type Scenario, SCENARIOS } from './support/scenarios.ts';
import { renderWorld, STEP, type World } from './support/world.ts';

const NAMESPACE_B = 'patching-staging';
/** Another collector pod: a different scrape target. */
const INSTANCE_B = '10.9.8.7:9464';

const withNamespace = (input: InventoryInput, namespace: string): InventoryInput => ({
  ...input,
  defaults: { ...input.defaults, namespace },
});
const unscoped = (input: InventoryInput): InventoryInput => ({
  ...input,
  prometheus: { ...input.prometheus, selectors: { collector: {}, exporter: {} } },
});

const FLEET_A = inventoryInput;
const FLEET_B = withNamespace(inventoryInput, NAMESPACE_B);

/** The scenario's world as fleet `namespace`'s (fleet B's collector is another target). */
function worldOf(world: World, namespace: string): World {
  return namespace === NAMESPACE
    ? world
    : { ...world, namespace, collector: { ...world.collector, instance: INSTANCE_B } };
}

const labelsOf = (labels: Readonly<Record<string, string>>) =>
  `{${Object.entries(labels)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ')}}`;

/** The scenario's expectations at each check, restricted to fleet `namespace`'s alerts and records. */
function fleetChecks(checks: readonly Check[], namespace: string) {
  return checks.flatMap((check) => {
    const evalTime = `${check.at / 60}m`;
    const alerts = {
      expr: `ALERTS{alertstate="firing", namespace="${namespace}"}`,
      eval_time: evalTime,
      exp_samples: check.alerts.map((alert) => ({
        labels: `ALERTS${labelsOf({ alertname: alert.alertname, alertstate: 'firing', ...alert.labels, namespace })}`,
        value: 1,
      })),
    };
    const records = (check.records ?? []).map((record) => {
      expect(record.expr, 'record checks read a bare record name').toMatch(/^[a-z_:0-9]+$/);
      return {
        expr: `${record.expr}{namespace="${namespace}"}`,
        eval_time: evalTime,
        exp_samples: record.samples.map((sample) => ({
          labels: sample.labels.replace(`namespace="${NAMESPACE}"`, `namespace="${namespace}"`),
          value: sample.value,
        })),
      };
    });
    return [alerts, ...records];
  });
}

/** Fleet A runs scenario `a`, fleet B scenario `b`, in one Prometheus. */
/** The step of a pair: the longer of its scenarios' (a week-long scenario evaluates hourly). */
const pairStep = (a: Scenario, b: Scenario) => Math.max(a.step ?? STEP, b.step ?? STEP);

function pairGroup(a: Scenario, b: Scenario) {
  const step = pairStep(a, b);
  const end = Math.max(...[...a.checks, ...b.checks].map((check) => check.at)) + step;
  return {
    name: `A: ${a.name} | B: ${b.name}`,
    interval: `${step / 60}m`,
    input_series: [
      ...renderWorld(worldOf(a.world, NAMESPACE), end, step),
      ...renderWorld(worldOf(b.world, NAMESPACE_B), end, step),
    ],
    promql_expr_test: [...fleetChecks(a.checks, NAMESPACE), ...fleetChecks(b.checks, NAMESPACE_B)],
  };
}

/** Every scenario once, paired with the next one (A: 0, B: 1; A: 2, B: 3; ...; the last with the first). */
const PAIRS = SCENARIOS.flatMap((scenario, index) =>
  index % 2 === 0 ? [[scenario, SCENARIOS[(index + 1) % SCENARIOS.length]!] as const] : [],
);

async function runPairs(dir: string, pairs: typeof PAIRS, prefix: string): Promise<ToolResult[]> {
  const file = (index: number) => `${prefix}-${index}.test.yaml`;
  return inParallel(
    pairs.map(
      ([a, b], index) =>
        () =>
          promtoolTest(
            dir,
            file(index),
            [pairGroup(a, b)],
            ['a.rules.yaml', 'b.rules.yaml'],
            pairStep(a, b),
          ),
    ),
    availableParallelism(),
  );
}

let scopedDir: string;
let unscopedDir: string;
let scoped: Promise<ToolResult[]>;
beforeAll(async () => {
  scopedDir = await ruleDir();
  unscopedDir = await ruleDir();
  await Promise.all([
    writeFile(join(scopedDir, 'a.rules.yaml'), rulesYaml(observabilityOf(FLEET_A))),
    writeFile(join(scopedDir, 'b.rules.yaml'), rulesYaml(observabilityOf(FLEET_B))),
    writeFile(join(unscopedDir, 'a.rules.yaml'), rulesYaml(observabilityOf(unscoped(FLEET_A)))),
    writeFile(join(unscopedDir, 'b.rules.yaml'), rulesYaml(observabilityOf(unscoped(FLEET_B)))),
  ]);
  scoped = runPairs(scopedDir, PAIRS, 'pair');
});
afterAll(async () => {
  await Promise.all(
    [scopedDir, unscopedDir].map((dir) => rm(dir, { recursive: true, force: true })),
  );
});

describe('two fleets in one Prometheus: each sees only its own series', () => {
  // The first test waits for all pairs (they run in parallel, promtool is single-threaded).
  it.each(PAIRS.map(([a, b], index) => [a.name, b.name, index] as const))(
    'A: %s | B: %s',
    async (_a, _b, index) => {
      const result = (await scoped)[index]!;
      expect(result.output).toContain('SUCCESS');
      expect(result.code, result.output).toBe(0);
    },
    240_000,
  );

  it("fail with the selectors switched off: the fleets read each other's CVEs, drift, runs and gaps (the check can fail)", async () => {
    // One pair per kind of mix-up: CVEs and runs (SLA | successful runs), drift, scans and unscanned namespaces.
    const pairs = [PAIRS[0]!, PAIRS[2]!, PAIRS[3]!];
    const results = await runPairs(unscopedDir, pairs, 'unscoped');
    for (const result of results) {
      expect(result.code, result.output).not.toBe(0);
      expect(result.output).toContain('FAILED');
    }
  });
});
