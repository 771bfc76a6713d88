/** `copa-fleet validate`: loads and checks the inventory, reports every error, writes nothing. */
import { parseArgs } from 'node:util';
import { InventoryError, loadInventory } from '../../inventory/load.ts';
import { buildFleet, type Fleet } from '../../model/fleet.ts';
import {
  exceptionExpiresAt,
  type FleetException,
  isExceptionInForce,
} from '../../shared/exceptions.ts';
import { DEFAULT_INVENTORY } from './synth.ts';
import { type Command, EXIT, UsageError } from '../command.ts';

/** How far ahead `validate` warns about exceptions about to lapse. */
export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

const USAGE = `Usage: copa-fleet validate [--inventory FILE]

Checks the inventory without writing anything: YAML syntax, every key and value against the
schema (docs/inventory.md), duplicate images, unknown receivers, exceptions and the OpenVEX files
they import. Every error is reported with its file, line, column and field path, all in one run.
Exceptions that have expired, or expire within ${EXPIRY_WARNING_DAYS} days, are warnings on stderr
(not errors: synth output never depends on today's date; the collector decides at run time).

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
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}" (use --inventory FILE)`);
    const file = values.inventory;
    if (file === '') throw new UsageError('--inventory needs a file name');
    try {
      const fleet = buildFleet(await loadInventory(file));
      const now = new Date();
      io.stdout(summary(file, fleet, now));
      for (const warning of expiryWarnings(fleet.exceptions, now))
        io.stderr(`${file}: warning: ${warning}\n`);
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof InventoryError)) throw error;
      io.stderr(`${error.message}\n${file}: ${count(error.issues.length, 'error')}\n`);
      return EXIT.invalid;
    }
  },
};

function describeException(exception: FleetException): string {
  const images = exception.scopes.map((scope) =>
    scope.kind === 'fleet'
      ? 'the whole fleet'
      : scope.kind === 'tag'
        ? `${scope.image}:${scope.tags.join('|')}`
        : scope.image,
  );
  return `exception ${exception.vulnerability} for ${images.join(', ')} (owner ${exception.owner}, ticket ${exception.ticket}, ${exception.source})`;
}

export function expiryWarnings(exceptions: readonly FleetException[], now: Date): string[] {
  return exceptions.flatMap((exception) => {
    const left = exceptionExpiresAt(exception).getTime() - now.getTime();
    if (left <= 0)
      return [
        `${describeException(exception)} expired on ${exception.expires}: its SLA breaches count again; renew it after review or remove it`,
      ];
    if (left <= EXPIRY_WARNING_DAYS * DAY_MS) {
      return [
        `${describeException(exception)} expires on ${exception.expires}, in ${Math.ceil(left / DAY_MS)} days`,
      ];
    }
    return [];
  });
}

function summary(file: string, fleet: Fleet, now: Date): string {
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
  if (fleet.exceptions.length > 0) {
    const inForce = fleet.exceptions.filter((exception) =>
      isExceptionInForce(exception, now),
    ).length;
    lines.push(`  exceptions: ${fleet.exceptions.length} (${inForce} in force today)`);
  }
  return `${lines.join('\n')}\n`;
}

function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
