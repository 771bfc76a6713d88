/** The shape every `copa-fleet` subcommand has, and the exit codes they share. */

export const EXIT = {
  ok: 0,
  /** Invalid input: a bad inventory, reference or file. */
  invalid: 1,
  /** Usage error: unknown command or flag, missing argument. */
  usage: 2,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full `--help` text. */
  readonly usage: string;
  run(argv: readonly string[], io: Io): Promise<ExitCode>;
}

/** Thrown for usage errors; the dispatcher prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
