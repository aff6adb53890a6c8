/**
 * What each step after the model costs, per document, on the shipped clinical model:
 *
 *   npm run bench:nlp-steps [-- --data DIR] [--model DIR] [--repeats 5] [--out FILE]
 *
 * Documents: a brat folder's .txt files (`--data`, e.g. MACCROBAT dev) or, without it, notes made of
 * our clinical check set's sentences (ten a note; in the repository, so the bench runs without
 * ../shared). The model runs once; each step then runs alone on the previous step's output, so
 * its time is its own:
 *   model                 the NER engine (windows, inference, decoding)
 *   label consistency ... the NLP stack (src/pipeline/nlp-engine.ts: label consistency, disorder
 *                         dictionary, attribute words, terminology linking) on the model's entities
 *   attributes            attachAttributes (sigs, vital signs, lab analytes, attachment)
 *   assertions            assertEntities (sections, screening, ConText rules)
 *   FHIR mapping          buildDocumentTransaction (resources, merging, codings)
 * Prints a table (ms per document, share of the total; median of the repeats, CPU of this process)
 * and writes JSON. Not a test: these machines are noisy; compare shares, not absolute numbers.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Entity } from '../src/core/entity.ts';
import { buildDocumentTransaction } from '../src/fhir/document-output.ts';
import { assertEntities } from '../src/nlp/assertions.ts';
import { attachAttributes } from '../src/nlp/attributes.ts';
import { createNerEngine } from '../src/nlp/engine.ts';
import { checkDocument, loadCheckSet } from '../src/pipeline/clinical-check.ts';
import { withNlpStack } from '../src/pipeline/nlp-engine.ts';
import { labelMappingFor } from '../src/pipeline/stages.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: { data: { type: 'string' }, model: { type: 'string' }, repeats: { type: 'string' }, out: { type: 'string' } },
});
const modelDir = args.model ?? path.join(repo, 'models/medner-clinical-bge-small');
const repeats = Math.max(1, Number(args.repeats ?? '5'));

function documents(): { name: string; texts: string[] } {
  if (args.data) {
    const files = readdirSync(args.data).filter((f) => f.endsWith('.txt')).sort();
    return { name: args.data, texts: files.map((f) => readFileSync(path.join(args.data!, f), 'utf8')) };
  }
  const sentences = loadCheckSet().map((s) => s.text);
  const texts: string[] = [];
  for (let i = 0; i < sentences.length; i += 10) texts.push(sentences.slice(i, i + 10).join('\n'));
  return { name: 'clinical check set (10 sentences a note)', texts };
}

/** CPU milliseconds of this process spent in fn. */
function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const { name, texts } = documents();
const ner = await createNerEngine({ modelDir, batchSize: 16 });
const { mapping } = labelMappingFor(ner.modelDir);
try {
  // The model: wall time (inference runs in worker threads, so this process's CPU would miss it).
  const modelRuns: number[] = [];
  let raw: Entity[][] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    raw = await ner.extract(texts);
    modelRuns.push(performance.now() - t0);
  }
  // The NLP stack over a port that hands back the model's entities.
  const cached = { model: ner.model, config: ner.config, modelDir: ner.modelDir, close: async () => {}, extract: async (ts: string[]) => ts.map((_, i) => raw[i]!.map((e) => ({ ...e }))) };
  const stackCpu = async (opts: Parameters<typeof withNlpStack>[2]): Promise<{ ms: number; out: Entity[][] }> => {
    const stack = withNlpStack(cached, mapping, opts);
    await stack.extract(texts); // loads the tables and the dictionary once
    const runs: number[] = [];
    let out: Entity[][] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = process.cpuUsage();
      out = await stack.extract(texts);
      const d = process.cpuUsage(t0);
      runs.push((d.user + d.system) / 1000);
    }
    return { ms: median(runs), out };
  };
  const none = { labelConsistency: false, dictionary: false, attributeWords: false, linking: false };
  const whole = await stackCpu({});
  const stacked = whole.out;
  // Each step of the stack alone (the others off), so the table shows where the stack's time goes.
  const parts = [
    ['  of which label consistency (incl. this session\'s span rules)', (await stackCpu({ ...none, labelConsistency: true })).ms],
    ['  of which disorder dictionary', (await stackCpu({ ...none, dictionary: true })).ms],
    ['  of which attribute words', (await stackCpu({ ...none, attributeWords: true })).ms],
    ['  of which terminology linking', (await stackCpu({ ...none, linking: true })).ms],
  ] as const;
  const docs = texts.map((text, i) => ({ ...checkDocument({ id: `bench-${i}`, text, entities: [], checks: [] }) }));
  let attached: Entity[][] = [];
  let asserted: ReturnType<typeof assertEntities>[] = [];
  const attrRuns: number[] = [];
  const assertRuns: number[] = [];
  const fhirRuns: number[] = [];
  for (let r = 0; r < repeats; r++) {
    attrRuns.push(cpuMs(() => (attached = texts.map((t, i) => attachAttributes(t, stacked[i]!)))));
    assertRuns.push(cpuMs(() => (asserted = texts.map((t, i) => assertEntities(t, attached[i]!)))));
    fhirRuns.push(cpuMs(() => docs.forEach((doc, i) => buildDocumentTransaction({ doc, entities: asserted[i]!, model: ner.model, mapping }))));
  }
  const rows = [
    ['model (wall)', median(modelRuns)],
    ['NLP stack: label consistency, dictionary, attribute words, linking', whole.ms],
    ['attributes (sigs, vitals, attachment)', median(attrRuns)],
    ['assertions (sections, screening, ConText)', median(assertRuns)],
    ['FHIR mapping', median(fhirRuns)],
  ] as const;
  const total = rows.reduce((a, [, ms]) => a + ms, 0);
  const chars = texts.reduce((a, t) => a + t.length, 0);
  console.log(`documents: ${name}: ${texts.length} (${Math.round(chars / texts.length)} characters on average); model ${path.basename(modelDir)}; median of ${repeats}`);
  console.log('step'.padEnd(70), 'ms/doc'.padStart(8), 'share'.padStart(7));
  for (const [step, ms] of rows) {
    console.log(step.padEnd(70), (ms / texts.length).toFixed(3).padStart(8), `${((100 * ms) / total).toFixed(1)}%`.padStart(7));
    if (step.startsWith('NLP stack')) for (const [part, pms] of parts) console.log(part.padEnd(70), (pms / texts.length).toFixed(3).padStart(8), `${((100 * pms) / total).toFixed(1)}%`.padStart(7));
  }
  const out = args.out ?? path.join(repo, 'bench-results/nlp-steps.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ documents: texts.length, data: name, model: path.basename(modelDir), repeats, steps: rows.map(([step, ms]) => ({ step, msPerDocument: ms / texts.length, share: ms / total })), nlpStackParts: parts.map(([step, ms]) => ({ step: step.trim(), msPerDocument: ms / texts.length, share: ms / total })) }, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await ner.close();
}
