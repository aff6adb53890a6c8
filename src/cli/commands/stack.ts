import type { Command } from 'commander';

export function registerStack(program: Command): void {
  program
    .command('stack')
    .description('start/inspect/stop the local Kafka, Redis and FHIR server (not implemented yet: issue 2)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner stack is not implemented yet (issue 2)');
    });
}
