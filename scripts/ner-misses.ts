/**
 * Error analysis of the NER model on a brat folder (a development tool; use it on dev only):
 *
 *   tsx scripts/ner-misses.ts --data ../shared/data/clinical/maccrobat/dev [--model DIR] [--label Dosage]
 *                             [--segment none|sentence] [--decoder greedy|viterbi] [--examples 8] [--save-pred FILE | --pred FILE]
 *
 * Scores as `medner eval` does (strict start, end and label over the model's labels), then puts
 * every false positive and false negative of a label into one class, the first that applies:
 *   boundary     it overlaps a span of the same label on the other side (a prediction that
 *                overlaps a missed gold span): the type is right, the boundaries are not. The
 *                boundary is described as: pred inside gold (too short), pred covers gold (too
 *                long), crossing, with the text missing or extra at each end
 *   nested-hit   FN only: the gold span overlaps a gold span of its label that was predicted
 *                exactly (a nested or overlapping gold span a flat tagger cannot also produce)
 *   type         it overlaps a span of another scored label on the other side
 *   other-gold   FP only: it overlaps a gold span of a type the model does not predict
 *   pure         no overlap with anything
 * Prints per label tp/fp/fn, the class counts, the most frequent boundary differences and
 * examples. `--save-pred` writes the predictions (offsets and labels only) so that later runs
 * can use `--pred` without running the model. Output carries snippets of the corpus text: keep
 * it out of the repository.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readBratDir, type BratDocument } from '../src/nlp/brat.ts';
import { createNerEngine } from '../src/nlp/engine.ts';
import { entityTypes, scoreSpans, type Span } from '../src/nlp/eval-metrics.ts';
import type { Segmentation } from '../src/nlp/segments.ts';
import type { Decoder } from '../src/nlp/decode.ts';
import { arg, requiredArg } from './cli-args.ts';

const data = requiredArg('--data', '--data DIR (brat .txt/.ann pairs) is required');
const modelDir = arg('--model') ?? 'models/medner-clinical-bge-small';
const onlyLabel = arg('--label');
const nExamples = Number(arg('--examples') ?? '6');
const savePred = arg('--save-pred');
const predFile = arg('--pred');

const docs: BratDocument[] = await readBratDir(data);
let labels: string[];
let pred: Span[][];
if (predFile) {
  const saved = JSON.parse(readFileSync(predFile, 'utf8')) as { labels: string[]; pred: Span[][] };
  labels = saved.labels;
  pred = saved.pred;
  if (pred.length !== docs.length) {
    process.stderr.write(`${predFile}: ${pred.length} documents, ${data} has ${docs.length}\n`);
    process.exit(2);
  }
} else {
  const segment = arg('--segment') as Segmentation | undefined;
  const decoder = arg('--decoder') as Decoder | undefined;
  const engine = await createNerEngine({ modelDir, sessions: 1, ...(segment ? { segment } : {}), ...(decoder ? { decoder } : {}) });
  labels = entityTypes(engine.config.labels);
  pred = (await engine.extract(docs.map((d) => d.text))).map((es) => es.map(({ start, end, label }) => ({ start, end, label })));
  await engine.close();
  if (savePred) writeFileSync(savePred, JSON.stringify({ labels, pred }));
}
const scored = new Set(labels);
const gold: Span[][] = docs.map((d) => d.entities.filter((e) => scored.has(e.label)).map(({ start, end, label }) => ({ start, end, label })));
const scores = scoreSpans(gold, pred, labels);

const overlaps = (a: Span, b: Span): boolean => a.start < b.end && b.start < a.end;
const same = (a: Span, b: Span): boolean => a.start === b.start && a.end === b.end && a.label === b.label;
const show = (text: string, s: { start: number; end: number }): string => JSON.stringify(text.slice(s.start, s.end));
const ctx = (text: string, s: { start: number; end: number }): string =>
  `${text.slice(Math.max(0, s.start - 30), s.start)}[${text.slice(s.start, s.end)}]${text.slice(s.end, s.end + 30)}`.replace(/\s+/g, ' ');

/** How a predicted span differs from a gold span of the same label. */
function boundary(text: string, p: Span, g: Span): { kind: string; diff: string } {
  const part = (a: number, b: number): string => JSON.stringify(text.slice(Math.min(a, b), Math.max(a, b)));
  const sides: string[] = [];
  if (p.start !== g.start) sides.push(`${p.start < g.start ? 'extra' : 'missing'} left ${part(p.start, g.start)}`);
  if (p.end !== g.end) sides.push(`${p.end > g.end ? 'extra' : 'missing'} right ${part(p.end, g.end)}`);
  const kind = p.start >= g.start && p.end <= g.end ? 'pred inside gold' : p.start <= g.start && p.end >= g.end ? 'pred covers gold' : 'crossing';
  return { kind, diff: sides.join(', ') };
}

interface Row {
  doc: number;
  span: Span;
  cls: string;
  detail: string;
}
const fps: Row[] = [];
const fns: Row[] = [];
for (let d = 0; d < docs.length; d++) {
  const text = docs[d]!.text;
  const g = gold[d]!;
  const p = pred[d]!.filter((s) => scored.has(s.label));
  const allGold = docs[d]!.entities;
  const tp = p.filter((s) => g.some((x) => same(s, x)));
  const fp = p.filter((s) => !g.some((x) => same(s, x)));
  const fn = g.filter((s) => !p.some((x) => same(s, x)));
  for (const s of fp) {
    const b = fn.find((x) => x.label === s.label && overlaps(s, x));
    if (b) {
      const { kind, diff } = boundary(text, s, b);
      fps.push({ doc: d, span: s, cls: 'boundary', detail: `${kind}: ${diff}  gold ${show(text, b)}` });
      continue;
    }
    const bt = g.find((x) => x.label === s.label && overlaps(s, x));
    if (bt) {
      const { kind, diff } = boundary(text, s, bt);
      fps.push({ doc: d, span: s, cls: 'boundary', detail: `${kind} (gold found by another prediction): ${diff}` });
      continue;
    }
    const t = g.find((x) => overlaps(s, x));
    if (t) {
      fps.push({ doc: d, span: s, cls: 'type', detail: `gold ${t.label} ${show(text, t)}` });
      continue;
    }
    const o = allGold.find((x) => overlaps(s, x));
    if (o) {
      fps.push({ doc: d, span: s, cls: 'other-gold', detail: `gold ${o.label} ${show(text, o)}` });
      continue;
    }
    fps.push({ doc: d, span: s, cls: 'pure', detail: '' });
  }
  for (const s of fn) {
    const b = fp.find((x) => x.label === s.label && overlaps(s, x));
    if (b) {
      const { kind, diff } = boundary(text, b, s);
      fns.push({ doc: d, span: s, cls: 'boundary', detail: `${kind}: ${diff}  pred ${show(text, b)}` });
      continue;
    }
    const n = tp.find((x) => x.label === s.label && overlaps(s, x));
    if (n) {
      fns.push({ doc: d, span: s, cls: 'nested-hit', detail: `predicted ${show(text, n)}` });
      continue;
    }
    const t = p.find((x) => overlaps(s, x));
    if (t) {
      fns.push({ doc: d, span: s, cls: 'type', detail: `pred ${t.label} ${show(text, t)}` });
      continue;
    }
    fns.push({ doc: d, span: s, cls: 'pure', detail: '' });
  }
}

const count = (rows: Row[]): string => {
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.cls, (m.get(r.cls) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
};
const pct = (x: number): string => (x * 100).toFixed(1);
for (const label of labels) {
  if (onlyLabel && label !== onlyLabel) continue;
  const s = scores.labels[label]!;
  const lfp = fps.filter((r) => r.span.label === label);
  const lfn = fns.filter((r) => r.span.label === label);
  console.log(`\n=== ${label}: P ${pct(s.precision)} R ${pct(s.recall)} F1 ${pct(s.f1)} (tp ${s.tp} fp ${s.fp} fn ${s.fn})`);
  console.log(`  FP: ${count(lfp)}`);
  console.log(`  FN: ${count(lfn)}`);
  // most frequent boundary differences (the part after the colon, without the quoted gold/pred)
  const diffs = new Map<string, number>();
  for (const r of lfp.filter((r) => r.cls === 'boundary')) {
    const k = r.detail.replace(/\s+gold ".*$/, '');
    diffs.set(k, (diffs.get(k) ?? 0) + 1);
  }
  const top = [...diffs].sort((a, b) => b[1] - a[1]).slice(0, 8);
  if (top.length > 0) console.log('  boundary differences (FP side):');
  for (const [k, v] of top) console.log(`    ${String(v).padStart(3)}  ${k}`);
  for (const [title, rows] of [
    ['FP', lfp],
    ['FN', lfn],
  ] as const) {
    for (const cls of ['boundary', 'nested-hit', 'type', 'other-gold', 'pure']) {
      const ex = rows.filter((r) => r.cls === cls).slice(0, nExamples);
      if (ex.length === 0) continue;
      console.log(`  ${title} ${cls}:`);
      for (const r of ex) console.log(`    ${ctx(docs[r.doc]!.text, r.span)}${r.detail ? `  -- ${r.detail}` : ''}`);
    }
  }
}
const m = scores.micro;
console.log(`\nmicro: P ${pct(m.precision)} R ${pct(m.recall)} F1 ${pct(m.f1)} (tp ${m.tp} fp ${m.fp} fn ${m.fn})`);
console.log(`all FP: ${count(fps)}\nall FN: ${count(fns)}`);
