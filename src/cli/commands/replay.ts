import type { Command } from 'commander';

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay a topic range or the dead-letter topic (not implemented yet: issue 7)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner replay is not implemented yet (issue 7)');
    });
}
