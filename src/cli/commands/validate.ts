import type { Command } from '../command.ts';

// Placeholder until the owning work lands; replaced, never shipped.
export const validateCommand: Command = {
  name: 'validate',
  summary: 'not yet implemented',
  usage: 'Usage: copa-fleet validate\n',
  async run() {
    throw new Error('copa-fleet validate is not implemented yet');
  },
};
