/** `copa-fleet validate`: loads and checks the inventory, reports every error, writes nothing. */
import { parseArgs } from 'node:util';
import { InventoryError, loadInventory } from '../../inventory/load.ts';
import { buildFleet, type Fleet } from '../../model/fleet.ts';
import { DEFAULT_INVENTORY } from './synth.ts';
import { type Command, EXIT, UsageError } from '../command.ts';

const USAGE = `Usage: copa-fleet validate [--inventory FILE]

Checks the inventory without writing anything: YAML syntax, every key and value against the
schema (docs/inventory.md), duplicate images, unknown receivers. Every error is reported with its
file, line, column and field path, all in one run.

Options:
  -i, --inventory FILE  Inventory to check (default: ${DEFAULT_INVENTORY})
  -h, --help            Show this help

Exit status: 0 valid, 1 invalid inventory, 2 usage error.
`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check the inventory and report every error; writes nothing',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { inventory: { type: 'string', short: 'i', default: DEFAULT_INVENTORY } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (use --inventory FILE)`);
    const file = values.inventory;
    if (file === '') throw new UsageError('--inventory needs a file name');
    try {
      const fleet = buildFleet(await loadInventory(file));
      io.stdout(summary(file, fleet));
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof InventoryError)) throw error;
      io.stderr(`${error.message}\n${file}: ${count(error.issues.length, 'error')}\n`);
      return EXIT.invalid;
    }
  },
};

function summary(file: string, fleet: Fleet): string {
  const { inventory } = fleet;
  const disabled = inventory.images.length - fleet.images.length;
  const teams = new Set(fleet.images.map((image) => image.team));
  const registries = new Set(fleet.images.map((image) => image.image.split('/')[0]));
  const explicit = fleet.images.filter((image) => !image.scheduleSpread).length;
  const lines = [
    `${file}: valid`,
    `  images:    ${fleet.images.length} enabled${disabled > 0 ? `, ${disabled} disabled` : ''} (${count(registries.size, 'registry', 'registries')}, ${count(teams.size, 'team')})`,
    `  schedules: ${fleet.images.length - explicit} spread over ${inventory.defaults.schedule.window.start}-${inventory.defaults.schedule.window.end} ${inventory.defaults.schedule.timeZone}, ${explicit} explicit`,
    `  namespace: ${fleet.namespace}`,
    `  alerting:  ${count(inventory.alerting.receivers.length, 'receiver')}, ${count(inventory.alerting.routes.length, 'route')}`,
  ];
  return `${lines.join('\n')}\n`;
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
