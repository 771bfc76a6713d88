import type { Command } from '../command.ts';

// Placeholder until the owning work lands; replaced, never shipped.
export const normalizeCommand: Command = {
  name: 'normalize',
  summary: 'not yet implemented',
  usage: 'Usage: copa-fleet normalize\n',
  async run() {
    throw new Error('copa-fleet normalize is not implemented yet');
  },
};
