/** `copa-fleet synth`: inventory -> dist/, all or nothing. */
import { parseArgs } from 'node:util';
import { DEFAULT_INVENTORY, DEFAULT_OUT_DIR, runSynth } from '../../synth/synth.ts';
import { type Command, UsageError } from '../command.ts';

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
