/**
 * Dev accuracy of the linker on every linking dev set in one process (a development tool; use it with
 * train-only tables, see terminology/README.md):
 *
 *   tsx scripts/link-dev.ts --tables /tmp/term-train [--data ../shared/data/linking]
 *
 * Prints accuracy@1 per dev set and type, and the ICD-10-CM category agreement, as one JSON line each.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { evaluateLinking } from '../src/nlp/linking/eval-link.ts';
import { Linker } from '../src/nlp/linking/linker.ts';
import { loadTerminology } from '../src/nlp/linking/tables.ts';
import { arg, requiredArg } from './cli-args.ts';

const tablesDir = requiredArg('--tables', '--tables DIR is required (npm run terminology:build -- --splits train --out DIR)');
const dataDir = path.resolve(arg('--data') ?? path.join('..', 'shared', 'data', 'linking'));
const linker = new Linker(loadTerminology(path.resolve(tablesDir)));
for (const set of ['bc5cdr', 'ncbi-disease']) {
  const file = path.join(dataDir, set, 'dev.pubtator');
  if (!existsSync(file)) continue;
  const r = await evaluateLinking(linker, file);
  const acc = Object.fromEntries(Object.entries(r.link).map(([t, s]) => [t, `${(100 * s.accuracy).toFixed(1)} (${s.correct}/${s.mentions}; coded ${s.coded}, right ${(100 * s.codedPrecision).toFixed(1)})`]));
  const c = r.icd10cmCategory;
  process.stdout.write(`${JSON.stringify({ set, ...acc, icd10cmCategory: `${(100 * c.agreement).toFixed(1)} (${c.agree}/${c.mentions}, coded ${c.coded})` })}\n`);
}
