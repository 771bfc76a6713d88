/**
 * The alerting and recording rules, proven with the real promtool: the generated plain rule file
 * passes `promtool check rules`, and every scenario of issue 3 (support/scenarios.ts) runs as a
 * `promtool test rules` group asserting exactly which copa-fleet alerts fire, with their labels and
 * annotations, and the recording rules' values, at several evaluation times.
 */
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertName } from '../../src/observability/types.ts';
import { observability, ruleDir } from './support/fixture.ts';
import {
  inParallelEach,
  PROMTOOL,
  promtoolTest,
  runTool,
  scenarioTestGroup,
  type ToolResult,
} from './support/promtool.ts';
import { SCENARIOS } from './support/scenarios.ts';

const alertNames = [
  ...new Set(
    observability.groups.flatMap((group) =>
      (group.rules ?? []).flatMap((rule) =>
        rule.alert === undefined ? [] : [rule.alert as AlertName],
      ),
    ),
  ),
].sort();

let dir: string;
/** The scenario runs start together (promtool is single-threaded) and each test awaits its own. */
let scenarioResults: Promise<ToolResult>[];
beforeAll(async () => {
  dir = await ruleDir();
  scenarioResults = inParallelEach(
    SCENARIOS.map(
      (scenario, index) => () =>
        promtoolTest(
          dir,
          `scenario-${index}.test.yaml`,
          [scenarioTestGroup(scenario, alertNames)],
          undefined,
          scenario.step,
        ),
    ),
    availableParallelism(),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the generated rule file', () => {
  it('passes promtool check rules (syntax, PromQL, templates, no duplicate rules)', async () => {
    const result = await runTool(PROMTOOL, ['check', 'rules', join(dir, 'rules.yaml')]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('fails promtool check rules when an expression is broken (the check can fail)', async () => {
    const broken = await ruleDir(
      'groups:\n  - name: x\n    rules:\n      - record: a:b:c\n        expr: sum by (image (x)\n',
    );
    try {
      const result = await runTool(PROMTOOL, ['check', 'rules', join(broken, 'rules.yaml')]);
      expect(result.code).not.toBe(0);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});

describe('promtool test rules: the scenarios of issues 3 and 9', () => {
  it.each(SCENARIOS.map((scenario, index) => [scenario.name, index] as const))(
    '%s',
    async (_name, index) => {
      const result = await scenarioResults[index]!;
      expect(result.output).toContain('SUCCESS');
      expect(result.code, result.output).toBe(0);
      // Each test awaits its own promtool run, which may wait its turn behind the others (two at a time) on a loaded machine.
    },
    180_000,
  );

  it('fails when a scenario expects an alert that does not fire (the suite can fail)', async () => {
    const scenario = SCENARIOS[0]!;
    const wrong = {
      ...scenario,
      checks: [{ ...scenario.checks[0]!, alerts: scenario.checks.at(-1)!.alerts }],
    };
    const result = await promtoolTest(dir, 'wrong.test.yaml', [
      scenarioTestGroup(wrong, alertNames),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('CriticalCVESLABreach');
  });
});
