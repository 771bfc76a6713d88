/**
 * promtool unit-test files generated from the TypeScript scenarios, and runners for the real
 * /usr/bin/promtool and /usr/bin/amtool.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { AlertName } from '../../../src/observability/types.ts';
import type { Check, Scenario } from './scenarios.ts';
import { renderWorld, STEP, type World } from './world.ts';

export const PROMTOOL = '/usr/bin/promtool';
export const AMTOOL = '/usr/bin/amtool';
/** Rule evaluation interval of the unit tests: one evaluation per input sample keeps a 30 h scenario to seconds. */
const EVALUATION_INTERVAL = `${STEP / 60}m`;

const run = promisify(execFile);

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  /** stdout and stderr. */
  readonly output: string;
}

/** Runs a tool; never throws on a non-zero exit (the caller asserts on code and output). */
export async function runTool(
  command: string,
  args: readonly string[],
  cwd?: string,
): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(command, [...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    const stdout = failure.stdout ?? '';
    return {
      code: typeof failure.code === 'number' ? failure.code : 1,
      stdout,
      output: `${stdout}${failure.stderr ?? ''}`,
    };
  }
}

/** Runs the tasks, at most `limit` at a time, in order; one promise per task (its own result). */
export function inParallelEach<T>(
  tasks: ReadonlyArray<() => Promise<T>>,
  limit: number,
): Promise<T>[] {
  let running = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    running -= 1;
    queue.shift()?.();
  };
  return tasks.map(
    (task) =>
      new Promise<T>((resolve, reject) => {
        const start = () => {
          running += 1;
          task().then(resolve, reject).finally(release);
        };
        if (running < Math.max(1, limit)) start();
        else queue.push(start);
      }),
  );
}

/** Runs the tasks, at most `limit` at a time; results in task order. */
export function inParallel<T>(tasks: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
  return Promise.all(inParallelEach(tasks, limit));
}

const evalTime = (seconds: number) => `${seconds / 60}m`;

function alertTests(check: Check, alertNames: readonly AlertName[]) {
  return alertNames.map((alertname) => ({
    eval_time: evalTime(check.at),
    alertname,
    exp_alerts: check.alerts
      .filter((alert) => alert.alertname === alertname)
      .map((alert) => ({ exp_labels: alert.labels, exp_annotations: alert.annotations })),
  }));
}

/** One promtool test group: the scenario's world as input, every alert name checked at every check time. */
export function scenarioTestGroup(scenario: Scenario, alertNames: readonly AlertName[]) {
  const step = scenario.step ?? STEP;
  const end = Math.max(...scenario.checks.map((check) => check.at)) + step;
  return {
    name: scenario.name,
    interval: `${step / 60}m`,
    input_series: renderWorld(scenario.world, end, step),
    alert_rule_test: scenario.checks.flatMap((check) => alertTests(check, alertNames)),
    promql_expr_test: scenario.checks.flatMap((check) =>
      (check.records ?? []).map((record) => ({
        expr: record.expr,
        eval_time: evalTime(check.at),
        exp_samples: record.samples.map((sample) => ({
          labels: sample.labels,
          value: sample.value,
        })),
      })),
    ),
  };
}

/**
 * Each query must return at least one non-NaN sample at `at`: `count((q) > -Inf) > bool 0` is 1
 * then, and empty (a mismatch) otherwise.
 */
export function dataTestGroup(name: string, world: World, at: number, queries: readonly string[]) {
  return {
    name,
    interval: `${STEP / 60}m`,
    input_series: renderWorld(world, at + STEP),
    promql_expr_test: queries.map((expr) => ({
      expr: `count((${expr}) > -Inf) > bool 0`,
      eval_time: evalTime(at),
      exp_samples: [{ labels: '{}', value: 1 }],
    })),
  };
}

/**
 * Writes a promtool test file next to the rule files (default `rules.yaml`) in `dir` and runs
 * `promtool test rules` on it. `stepSeconds`: the rule evaluation interval (a scenario spanning
 * days evaluates less often).
 */
export async function promtoolTest(
  dir: string,
  fileName: string,
  groups: readonly object[],
  ruleFiles: readonly string[] = ['rules.yaml'],
  stepSeconds?: number,
): Promise<ToolResult> {
  const file = join(dir, fileName);
  const evaluationInterval =
    stepSeconds === undefined ? EVALUATION_INTERVAL : `${stepSeconds / 60}m`;
  await writeFile(
    file,
    stringify(
      { rule_files: ruleFiles, evaluation_interval: evaluationInterval, tests: groups },
      { lineWidth: 0 },
    ),
  );
  return runTool(PROMTOOL, ['test', 'rules', file], dir);
}
