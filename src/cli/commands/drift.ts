import type { Command } from '../command.ts';

// Placeholder until the owning work lands; replaced, never shipped.
export const driftCommand: Command = {
  name: 'drift',
  summary: 'not yet implemented',
  usage: 'Usage: copa-fleet drift\n',
  async run() {
    throw new Error('copa-fleet drift is not implemented yet');
  },
};
