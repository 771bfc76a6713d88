/**
 * The report tests' ways in: `copa-fleet report` through the CLI's main() with captured output,
 * and the validator of report.schema.json (strict, every error).
 */
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Io } from '../../../src/cli/command.ts';
import { main } from '../../../src/cli/main.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `copa-fleet report ...args`. */
export async function reportCli(...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) };
  const code = await main(['report', ...args], io);
  return { code, stdout, stderr };
}

/** The compiled report.schema.json; `date-time` as the report writes it (UTC, whole seconds). */
export async function reportSchemaValidator(): Promise<ValidateFunction> {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  return ajv.compile(
    JSON.parse(
      await readFile(new URL('../../../report.schema.json', import.meta.url), 'utf8'),
    ) as object,
  );
}
