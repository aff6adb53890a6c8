import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { conformanceResources } from '../../fhir/conformance.ts';

/** `medner conformance --out DIR`: the StructureDefinitions and CodeSystems of our canonical base, one JSON file each. */
export function registerConformance(program: Command): void {
  program
    .command('conformance')
    .description('write the StructureDefinitions/CodeSystems/ValueSets of our extensions and code systems (under FHIR_CANONICAL_BASE) as JSON files')
    .requiredOption('--out <dir>', 'folder to write into (created)')
    .action((opts: { out: string }) => {
      const base = loadConfig().fhir.canonicalBase;
      mkdirSync(opts.out, { recursive: true });
      for (const r of conformanceResources(base)) writeFileSync(join(opts.out, `${r.resourceType}-${r.id}.json`), `${JSON.stringify(r, null, 2)}\n`);
      process.stdout.write(`${conformanceResources(base).length} resources under ${base} -> ${opts.out}\n`);
    });
}
