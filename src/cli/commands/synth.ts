/** `copa-fleet synth`: inventory -> dist/, all or nothing (also `npm run synth` and `cdk8s synth`, main.ts). */
import { parseArgs } from 'node:util';
import { formatIssue, InventoryError } from '../../inventory/load.ts';
import { OutputDirError } from '../../outputs/write-dist.ts';
import { synthesize, type SynthOptions } from '../../synth/synth.ts';
import { type Command, EXIT, type ExitCode, type Io, UsageError } from '../command.ts';

export const DEFAULT_INVENTORY = 'inventory.yaml';
export const DEFAULT_OUT_DIR = 'dist';

const USAGE = `Usage: copa-fleet synth [--inventory FILE] [--out DIR]

Validates the inventory and writes every generated file to the output directory: one
<chart>.k8s.yaml per chart (Copa CronJobs, drift collector, Pushgateway, observability), the
trivy-operator Helm values and the plain Prometheus/Alertmanager/Grafana files. The output is
byte-for-byte deterministic. The directory is replaced as a whole, and only after everything
rendered: an invalid inventory or any error leaves the previous output untouched.
\`npm run synth\` and \`cdk8s synth\` run this with the defaults.

Options:
  -i, --inventory FILE  Inventory to read (default: ${DEFAULT_INVENTORY})
  -o, --out DIR         Output directory, owned by synth (default: ${DEFAULT_OUT_DIR})
  -h, --help            Show this help

Exit status: 0 written, 1 invalid inventory (every problem listed with file, line, column and
field) or the output directory cannot be written, 2 usage error.
`;

export const synthCommand: Command = {
  name: 'synth',
  summary: 'validate the inventory and write the manifests to dist/',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        inventory: { type: 'string', short: 'i' },
        out: { type: 'string', short: 'o' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const inventoryFile = values.inventory ?? DEFAULT_INVENTORY;
    const outDir = values.out ?? DEFAULT_OUT_DIR;
    if (inventoryFile === '') throw new UsageError('--inventory needs a file name');
    if (outDir === '') throw new UsageError('--out needs a directory name');
    return runSynth({ inventoryFile, outDir }, io);
  },
};

/** Runs the pipeline and reports on stderr: `synth: 12 images -> dist/ (9 files)`, or every inventory problem. */
export async function runSynth(options: SynthOptions, io: Io): Promise<ExitCode> {
  try {
    const result = await synthesize(options);
    const shown = options.outDir.replace(/\/+$/, '') || '/';
    const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
    io.stderr(
      `synth: ${plural(result.images, 'image')} -> ${shown}/ (${plural(result.paths.length, 'file')})\n`,
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof InventoryError) {
      const lines = error.issues.map(formatIssue);
      io.stderr(
        `${lines.join('\n')}\nsynth: ${error.issues.length === 1 ? '1 problem' : `${error.issues.length} problems`} in ${options.inventoryFile}; nothing written\n`,
      );
      return EXIT.invalid;
    }
    if (error instanceof OutputDirError || isFileSystemError(error)) {
      io.stderr(
        `synth: cannot write ${options.outDir}: ${(error as Error).message}; nothing changed\n`,
      );
      return EXIT.invalid;
    }
    throw error;
  }
}

function isFileSystemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
