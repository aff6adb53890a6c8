/**
 * Attachment accuracy of the attribute rules on MACCROBAT:
 *   npm run bench:attributes -- [--data DIR] [--json]            given gold entities
 *   npm run bench:attributes -- --model DIR [--data DIR] [--json]  end to end: the model's entities,
 *     after the attribute stage's span rules as attachAttributes runs them (sig split, lab analytes,
 *     rule-tagged attribute words: attributeSpans); --no-words leaves out the words, --raw all of them
 * DIR defaults to ../shared/data/clinical/maccrobat/dev. Prints a table; writes
 * bench-results/attributes-<split>[-<model>].json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateAttachment, evaluateEndToEnd, formatAttachmentReport, formatEndToEndReport, readBratRelations } from '../src/nlp/attributes-eval.ts';
import { createNerEngine } from '../src/nlp/engine.ts';
import { attributeSpans, defaultAttributeRules } from '../src/nlp/attributes.ts';

const { values } = parseArgs({ options: { data: { type: 'string' }, json: { type: 'boolean' }, model: { type: 'string' }, variant: { type: 'string' }, raw: { type: 'boolean' }, 'no-words': { type: 'boolean' } } });
const here = path.dirname(new URL(import.meta.url).pathname);
const data = values.data ?? path.resolve(here, '../../shared/data/clinical/maccrobat/dev');
if (!existsSync(data)) {
  process.stderr.write(`bench:attributes: ${data} not found (give --data DIR with brat .txt/.ann pairs)\n`);
  process.exit(2);
}
const docs = await readBratRelations(data);
const outDir = path.resolve(here, '../bench-results');
mkdirSync(outDir, { recursive: true });
const gold = evaluateAttachment(docs, data);
let text = formatAttachmentReport(gold);
let json: Record<string, unknown> = { date: new Date().toISOString(), goldEntities: gold };
let name = `attributes-${path.basename(data)}`;
if (values.model) {
  const engine = await createNerEngine({ modelDir: values.model, variant: (values.variant ?? 'auto') as 'auto' | 'fp32' | 'int8' | 'fp16', batchSize: 16 });
  try {
    const found = await engine.extract(docs.map((d) => d.text));
    const { words: _words, ...noWords } = defaultAttributeRules();
    const spanRules = values['no-words'] ? noWords : defaultAttributeRules();
    const predicted = values.raw ? found : found.map((ents, i) => attributeSpans(docs[i]!.text, ents, spanRules));
    const e2e = evaluateEndToEnd(docs, predicted, data);
    const spans = values.raw ? 'raw model spans' : values['no-words'] ? 'span rules without words' : 'span rules';
    const model = `${engine.model.name} ${engine.model.version} (${engine.runtime.variant}), ${spans}`;
    text += `\n\n${formatEndToEndReport(e2e, model)}`;
    json = { ...json, model, endToEnd: e2e };
    name += `-${engine.model.name}`;
  } finally {
    await engine.close();
  }
}
const out = path.join(outDir, `${name}.json`);
writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\nwrote ${out}\n`);
