import type { Command } from 'commander';

export function registerExtract(program: Command): void {
  program
    .command('extract')
    .description('run NER over documents and print entities (not implemented yet: issue 4)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner extract is not implemented yet (issue 4)');
    });
}
