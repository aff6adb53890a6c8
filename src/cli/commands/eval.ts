import type { Command } from 'commander';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model on token<TAB>BIO data (not implemented yet: issue 5)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner eval is not implemented yet (issue 5)');
    });
}
