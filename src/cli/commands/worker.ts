import type { Command } from 'commander';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the ingest and/or inference worker (not implemented yet: issue 7)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner worker is not implemented yet (issue 7)');
    });
}
