/**
 * cdk8s app entry point (`cdk8s synth`, see cdk8s.yaml): the same pipeline as `npm run synth`
 * (src/cli/commands/synth.ts, src/synth/synth.ts), writing to the directory cdk8s-cli passes in CDK8S_OUTDIR.
 * Environment: CDK8S_OUTDIR (default dist), COPA_FLEET_INVENTORY (default inventory.yaml).
 * Note: cdk8s-cli deletes its output directory before running the app; `npm run synth` never
 * touches dist/ unless the new output rendered completely.
 */
import { processIo } from './src/cli/command.ts';
import { DEFAULT_INVENTORY, DEFAULT_OUT_DIR, runSynth } from './src/cli/commands/synth.ts';

process.exitCode = await runSynth(
  {
    inventoryFile: process.env.COPA_FLEET_INVENTORY || DEFAULT_INVENTORY,
    outDir: process.env.CDK8S_OUTDIR || DEFAULT_OUT_DIR,
  },
  processIo,
);
