/**
 * The disorder dictionary on a brat folder (a development tool; use it on dev only):
 *
 *   tsx scripts/dictionary-dev.ts --data ../shared/data/clinical/maccrobat/dev [--model DIR]
 *                                 [--rules FILE] [--save-pred FILE | --pred FILE] [--names 40]
 *
 * Runs the model alone (or reads its saved predictions), fills in from the dictionary built under the
 * rules (default: the shipped src/nlp/dictionary/disorder-dictionary.json) with the model's label
 * mapping's `dictionary` label, and prints core-7 strict micro P/R/F1 and the scores of
 * Disease_disorder and Sign_symptom before and after, the dictionary's build time and the time the
 * fill took against the model's extract time; then the added names, most frequent first, each with
 * how often it was right, the right span with another gold type, or neither. Output carries words
 * of the corpus: keep it out of the repository.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Entity } from '../src/core/entity.ts';
import { readBratDir } from '../src/nlp/brat.ts';
import { buildGazetteer, nameKey, parseDictionaryRules, defaultDictionaryRules } from '../src/nlp/dictionary/gazetteer.ts';
import { fillFromDictionary } from '../src/nlp/dictionary/with-dictionary.ts';
import { createNerEngine } from '../src/nlp/engine.ts';
import { entityTypes, scoreSpans, type LabelScore, type Span } from '../src/nlp/eval-metrics.ts';
import { labelMappingFor } from '../src/pipeline/stages.ts';
import { arg, requiredArg } from './cli-args.ts';

const CORE7 = ['Sign_symptom', 'Disease_disorder', 'Diagnostic_procedure', 'Lab_value', 'Medication', 'Dosage', 'Therapeutic_procedure'];
const data = requiredArg('--data', 'usage: tsx scripts/dictionary-dev.ts --data DIR [--model DIR] [--rules FILE] [--save-pred FILE | --pred FILE]');
const modelDir = arg('--model') ?? 'models/medner-clinical-bge-small';
const rules = arg('--rules') ? parseDictionaryRules(JSON.parse(readFileSync(arg('--rules')!, 'utf8')), arg('--rules')) : defaultDictionaryRules();
const docs = await readBratDir(data);
const { mapping } = labelMappingFor(modelDir);
const fill = mapping.dictionary ?? { label: 'Disease_disorder' };

let pred: Entity[][];
let labels: string[];
let extractSeconds: number;
if (arg('--pred')) {
  const saved = JSON.parse(readFileSync(arg('--pred')!, 'utf8')) as { labels: string[]; seconds: number; pred: Entity[][] };
  ({ labels, pred, seconds: extractSeconds } = saved);
} else {
  const engine = await createNerEngine({ modelDir, batchSize: 16 });
  labels = entityTypes(engine.config.labels);
  const t0 = performance.now();
  pred = await engine.extract(docs.map((d) => d.text));
  extractSeconds = (performance.now() - t0) / 1000;
  await engine.close();
  if (arg('--save-pred')) writeFileSync(arg('--save-pred')!, JSON.stringify({ labels, seconds: extractSeconds, pred }));
}

let t = performance.now();
const g = buildGazetteer(undefined, rules);
const buildMs = performance.now() - t;
t = performance.now();
const filled = docs.map((d, i) => fillFromDictionary(g, d.text, pred[i]!, fill));
const fillMs = performance.now() - t;

const keep = new Set(labels);
const gold: Span[][] = docs.map((d) => d.entities.filter((e) => keep.has(e.label)).map(({ start, end, label }) => ({ start, end, label })));
const spans = (es: Entity[][]): Span[][] => es.map((d) => d.map(({ start, end, label }) => ({ start, end, label })));
const micro = (s: Record<string, LabelScore>): string => {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const l of CORE7) {
    tp += s[l]?.tp ?? 0;
    fp += s[l]?.fp ?? 0;
    fn += s[l]?.fn ?? 0;
  }
  const p = tp / (tp + fp || 1);
  const r = tp / (tp + fn || 1);
  return fmt({ tp, fp, fn, precision: p, recall: r, f1: p + r > 0 ? (2 * p * r) / (p + r) : 0 });
};
const fmt = (s: LabelScore | undefined): string =>
  s ? `P ${(100 * s.precision).toFixed(1)} R ${(100 * s.recall).toFixed(1)} F1 ${(100 * s.f1).toFixed(2)} (tp ${s.tp} fp ${s.fp} fn ${s.fn})` : '-';
const before = scoreSpans(gold, spans(pred), labels).labels;
const after = scoreSpans(gold, spans(filled), labels).labels;
const lines = [
  `dictionary: ${g.size} names, built in ${buildMs.toFixed(0)} ms; fill ${fillMs.toFixed(1)} ms for ${docs.length} documents (model extract ${extractSeconds.toFixed(1)} s: ${((100 * fillMs) / 1000 / extractSeconds).toFixed(2)}%)`,
  `core-7 before ${micro(before)}`,
  `core-7 after  ${micro(after)}`,
];
for (const l of ['Disease_disorder', 'Sign_symptom']) lines.push(`${l} before ${fmt(before[l])}`, `${l} after  ${fmt(after[l])}`);

const names = new Map<string, { right: number; otherType: number; wrong: number }>();
docs.forEach((d, i) => {
  for (const e of filled[i]!) {
    if (e.source !== 'dictionary') continue;
    const k = nameKey(e.text).join(' ');
    const c = names.get(k) ?? { right: 0, otherType: 0, wrong: 0 };
    const same = gold[i]!.filter((s) => s.start === e.start && s.end === e.end);
    if (same.some((s) => s.label === e.label)) c.right++;
    else if (same.length > 0) c.otherType++;
    else c.wrong++;
    names.set(k, c);
  }
});
const n = Number(arg('--names') ?? '40');
lines.push(`added names (${names.size}): right / right span, other type / wrong`);
for (const [k, c] of [...names].sort((a, b) => b[1].right + b[1].otherType + b[1].wrong - (a[1].right + a[1].otherType + a[1].wrong) || (a[0] < b[0] ? -1 : 1)).slice(0, n)) {
  lines.push(`  ${k.padEnd(36)} ${c.right} / ${c.otherType} / ${c.wrong}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
