import type { Command } from 'commander';

export function registerParse(program: Command): void {
  program
    .command('parse')
    .description('parse HL7 v2 / FHIR files into ClinicalDocument JSON lines (not implemented yet: issue 3)')
    .allowUnknownOption()
    .action(() => {
      throw new Error('medner parse is not implemented yet (issue 3)');
    });
}
