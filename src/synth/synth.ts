/**
 * The synth pipeline shared by `copa-fleet synth`, `npm run synth` and `cdk8s synth` (main.ts):
 * load and validate the inventory, build the fleet model, render each file while writing it into a
 * staging directory, then replace the output directory in one step. The previous output is
 * untouched unless everything rendered.
 */
import type { Io } from '../cli/command.ts';
import { EXIT, type ExitCode } from '../cli/command.ts';
import { formatIssue, InventoryError, loadInventory } from '../inventory/load.ts';
import { buildFleet } from '../model/fleet.ts';
import { isWithin, OutputDirError, writeOutputDir } from '../outputs/write-dist.ts';
import { fleetFiles } from './render.ts';

export const DEFAULT_INVENTORY = 'inventory.yaml';
export const DEFAULT_OUT_DIR = 'dist';

export interface SynthOptions {
  readonly inventoryFile: string;
  readonly outDir: string;
}

export interface SynthResult {
  readonly images: number;
  /** Paths written, relative to the output directory, sorted. */
  readonly paths: readonly string[];
}

/** Throws InventoryError for a bad inventory; any other error is a bug or an I/O failure. */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  if (isWithin(options.inventoryFile, options.outDir)) {
    throw new OutputDirError(`the inventory ${options.inventoryFile} is inside the output directory, which synth replaces as a whole`);
  }
  const fleet = buildFleet(await loadInventory(options.inventoryFile));
  const files = fleetFiles(fleet);
  await writeOutputDir(options.outDir, files);
  return { images: fleet.images.length, paths: files.map((file) => file.path) };
}

/** Runs the pipeline and reports on stderr: `synth: 12 images -> dist/ (9 files)`, or every inventory problem. */
export async function runSynth(options: SynthOptions, io: Io): Promise<ExitCode> {
  try {
    const result = await synthesize(options);
    const shown = options.outDir.replace(/\/+$/, '') || '/';
    const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
    io.stderr(`synth: ${plural(result.images, 'image')} -> ${shown}/ (${plural(result.paths.length, 'file')})\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof InventoryError) {
      const lines = error.issues.map(formatIssue);
      io.stderr(`${lines.join('\n')}\nsynth: ${error.issues.length === 1 ? '1 problem' : `${error.issues.length} problems`} in ${options.inventoryFile}; nothing written\n`);
      return EXIT.invalid;
    }
    if (error instanceof OutputDirError || isFileSystemError(error)) {
      io.stderr(`synth: cannot write ${options.outDir}: ${(error as Error).message}; nothing changed\n`);
      return EXIT.invalid;
    }
    throw error;
  }
}

function isFileSystemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
