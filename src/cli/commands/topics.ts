import type { Command } from 'commander';

export function registerTopics(program: Command): void {
  program
    .command('topics')
    .description('create the project topics if absent (not implemented yet: issue 2)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner topics is not implemented yet (issue 2)');
    });
}
