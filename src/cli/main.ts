/** `copa-fleet` entry point: dispatches to the subcommands in ./commands. */
import { type Command, EXIT, type ExitCode, type Io, processIo, UsageError } from './command.ts';
import { driftCommand } from './commands/drift.ts';
import { normalizeCommand } from './commands/normalize.ts';
import { reportCommand } from './commands/report.ts';
import { synthCommand } from './commands/synth.ts';
import { validateCommand } from './commands/validate.ts';

const COMMANDS: readonly Command[] = [
  synthCommand,
  validateCommand,
  normalizeCommand,
  driftCommand,
  reportCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: copa-fleet <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `copa-fleet <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr(`copa-fleet: unknown command "${name}"\n\n${overview()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(`copa-fleet ${command.name}: ${(error as Error).message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    throw error;
  }
}

/** node:util parseArgs reports unknown or malformed flags with these codes. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
