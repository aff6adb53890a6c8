/**
 * The clinical check set end to end: NER (a model folder) -> attributes -> FHIR, scored against
 * the expected outcomes in test/fixtures/clinical-check/sentences.json.
 *   npm run check:clinical -- --model DIR [--variant int8|fp32|auto] [--json] [--no-dictionary]
 *   npm run check:clinical -- --gold        (gold entities instead of a model: the rules alone)
 * Uses the model folder's own label mapping (as the worker does), else the BC5CDR one. Prints the
 * share of checks right per kind and the failures; writes bench-results/clinical-check-<name>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { evaluateChecks, goldEntities, loadCheckSet, resourcesFor, summarizeChecks, type CheckResult } from '../src/pipeline/clinical-check.ts';
import { loadLabelMapping } from '../src/fhir/label-mapping.ts';
import { createNerEngine } from '../src/nlp/engine.ts';
import { labelMappingFor } from '../src/pipeline/stages.ts';
import { withNlpStack } from '../src/pipeline/nlp-engine.ts';

const { values } = parseArgs({
  options: { model: { type: 'string' }, 'no-dictionary': { type: 'boolean' }, variant: { type: 'string' }, gold: { type: 'boolean' }, json: { type: 'boolean' }, out: { type: 'string' } },
});
const set = loadCheckSet();
let results: CheckResult[];
let name: string;
let mappingFile: string;
let modelInfo: { name: string; version: string; variant?: string } | undefined;
if (values.gold) {
  name = 'gold';
  mappingFile = fileURLToPath(new URL('../src/fhir/mappings/maccrobat.label-mapping.json', import.meta.url));
  const mapping = loadLabelMapping(mappingFile);
  results = set.flatMap((s) => evaluateChecks(s, resourcesFor(s, goldEntities(s), mapping, { name: 'gold', version: '0' })));
} else {
  const modelDir = values.model ?? process.env.MODEL_DIR;
  if (!modelDir) {
    process.stderr.write('check:clinical: give --model DIR (or --gold)\n');
    process.exit(2);
  }
  const variant = (values.variant ?? 'auto') as 'auto' | 'fp32' | 'int8' | 'fp16';
  const engine = await createNerEngine({ modelDir, variant, batchSize: 16 });
  try {
    const lm = labelMappingFor(modelDir);
    mappingFile = lm.file;
    // model -> dictionary, as the worker runs it (src/pipeline/nlp-engine.ts); no linking: the checks read no codes
    const entities = await withNlpStack(engine, lm.mapping, { linking: false, dictionary: !values['no-dictionary'] }).extract(set.map((s) => s.text));
    results = set.flatMap((s, i) => evaluateChecks(s, resourcesFor(s, entities[i]!, lm.mapping, engine.model)));
    name = engine.model.name;
    modelInfo = { ...engine.model, variant: engine.runtime.variant };
  } finally {
    await engine.close();
  }
}
const summary = summarizeChecks(results);
const report = { date: new Date().toISOString(), model: modelInfo ?? { name: 'gold entities' }, mapping: path.relative(process.cwd(), mappingFile), sentences: set.length, ...summary, failures: results.filter((r) => !r.ok) };
const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bench-results');
mkdirSync(outDir, { recursive: true });
const out = values.out ?? path.join(outDir, `clinical-check-${name}.json`);
writeFileSync(out, `${JSON.stringify({ ...report, results }, null, 2)}\n`);
if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const lines = [`clinical check set: ${set.length} sentences, ${summary.total} checks; model ${report.model.name}; mapping ${report.mapping}`, `${'check'.padEnd(28)} right/total`];
  for (const [k, v] of Object.entries(summary.byKind).sort()) lines.push(`${k.padEnd(28)} ${String(v.right).padStart(5)}/${v.total}`);
  lines.push(`${'ALL'.padEnd(28)} ${String(summary.right).padStart(5)}/${summary.total}  ${(100 * summary.share).toFixed(1)}%`);
  for (const f of report.failures) lines.push(`  x ${f.sentence}#${f.check} ${f.kind}: ${f.why}`);
  lines.push(`wrote ${out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
