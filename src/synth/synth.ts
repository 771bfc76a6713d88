/**
 * The synth pipeline shared by `copa-fleet synth`, `npm run synth` and `cdk8s synth` (main.ts):
 * load and validate the inventory, build the fleet model, render each file while writing it into a
 * staging directory, then replace the output directory in one step. The previous output is
 * untouched unless everything rendered. Reporting and exit codes are the command's
 * (src/cli/commands/synth.ts).
 */
import { loadInventory } from '../inventory/load.ts';
import { buildFleet } from '../model/fleet.ts';
import { isWithin, OutputDirError, writeOutputDir } from '../outputs/write-dist.ts';
import { fleetFiles } from './render.ts';

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
    throw new OutputDirError(
      `the inventory ${options.inventoryFile} is inside the output directory, which synth replaces as a whole`,
    );
  }
  const fleet = buildFleet(await loadInventory(options.inventoryFile));
  const files = fleetFiles(fleet);
  await writeOutputDir(options.outDir, files);
  return { images: fleet.images.length, paths: files.map((file) => file.path) };
}
