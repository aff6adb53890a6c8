import type { Command } from 'commander';

export function registerSend(program: Command): void {
  program
    .command('send')
    .description('put documents on the right input topic (not implemented yet: issue 7)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner send is not implemented yet (issue 7)');
    });
}
