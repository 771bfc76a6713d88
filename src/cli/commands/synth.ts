import type { Command } from '../command.ts';

// Placeholder until the owning work lands; replaced, never shipped.
export const synthCommand: Command = {
  name: 'synth',
  summary: 'not yet implemented',
  usage: 'Usage: copa-fleet synth\n',
  async run() {
    throw new Error('copa-fleet synth is not implemented yet');
  },
};
