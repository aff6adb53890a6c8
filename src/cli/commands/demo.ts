import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('stack up, worker up, send samples and show results (not implemented yet: issue 7)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner demo is not implemented yet (issue 7)');
    });
}
