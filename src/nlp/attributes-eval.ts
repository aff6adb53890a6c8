import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MednerError } from '../ops/errors.ts';
import { attributeLinks, defaultAttributeRules, type AttributeRules } from './attributes.ts';
import type { Entity } from './entity.ts';

/**
 * Attachment accuracy of the attribute rules on brat documents given gold entities, with
 * MODIFY relations as the gold links (MACCROBAT: `R MODIFY Arg1:<modifier> Arg2:<head>`, an
 * event `E` standing for its trigger `T`). Discontinuous spans count as their full extent.
 */

export interface GoldDocument {
  id: string;
  text: string;
  entities: Entity[];
  /** attribute entity index -> gold head entity indexes (MODIFY). */
  gold: Map<number, Set<number>>;
}

/** Reads the `.txt`/`.ann` pairs of a folder: text-bound annotations, events and MODIFY relations only. */
export function readBratRelations(dir: string): GoldDocument[] {
  const docs: GoldDocument[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ann')).sort()) {
    const annPath = path.join(dir, name);
    const text = readFileSync(annPath.replace(/\.ann$/, '.txt'), 'utf8');
    const entities: Entity[] = [];
    const index = new Map<string, number>();
    const events = new Map<string, string>();
    const rels: [string, string, number][] = [];
    readFileSync(annPath, 'utf8')
      .split('\n')
      .forEach((line, n) => {
        const cols = line.split('\t');
        const id = cols[0] ?? '';
        if (id.startsWith('T')) {
          const m = /^(\S+) (\d+) (?:\d+;\d+ )*(\d+)$/.exec(cols[1] ?? '');
          if (!m) throw new MednerError('DATA_INVALID', `${annPath}:${n + 1}: malformed text-bound annotation`);
          const start = Number(m[2]);
          const end = Number(m[3]);
          if (end > text.length || start >= end) throw new MednerError('DATA_INVALID', `${annPath}:${n + 1}: offsets ${start}-${end} outside the text`);
          index.set(id, entities.length);
          entities.push({ start, end, text: text.slice(start, end), label: m[1]!, score: 1 });
        } else if (id.startsWith('E')) {
          const trigger = /^[^:\s]+:(T\d+)/.exec(cols[1] ?? '')?.[1];
          if (trigger) events.set(id, trigger);
        } else if (id.startsWith('R')) {
          const m = /^MODIFY Arg1:(\S+) Arg2:(\S+)/.exec(cols[1] ?? '');
          if (m) rels.push([m[1]!, m[2]!, n + 1]);
        }
      });
    const resolve = (x: string): number | undefined => index.get(events.get(x) ?? x);
    const gold = new Map<number, Set<number>>();
    for (const [a, h] of rels) {
      const ai = resolve(a);
      const hi = resolve(h);
      if (ai === undefined || hi === undefined) continue;
      const set = gold.get(ai) ?? new Set<number>();
      set.add(hi);
      gold.set(ai, set);
    }
    docs.push({ id: name.replace(/\.ann$/, ''), text, entities, gold });
  }
  return docs;
}

export interface AttachmentScore {
  /** Attribute spans whose gold heads include an entity of a head label of the rule. */
  spans: number;
  /** Predicted head set equals the gold head set (restricted to the rule's head labels). */
  exact: number;
  /** Every predicted head is a gold head, and there is at least one. */
  correct: number;
  accuracy: number;
  exactAccuracy: number;
  /** Pair level over all spans of the label: (attribute, head) links. */
  pairs: { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number };
}

export interface AttachmentReport {
  data: string;
  documents: number;
  labels: Record<string, AttachmentScore>;
  /** The two goals: Lab_value -> Diagnostic_procedure and Dosage -> Medication. */
  goals: { valuesToTests: AttachmentScore; dosesToMedications: AttachmentScore };
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

interface Acc {
  spans: number;
  exact: number;
  correct: number;
  tp: number;
  fp: number;
  fn: number;
}
const empty = (): Acc => ({ spans: 0, exact: 0, correct: 0, tp: 0, fp: 0, fn: 0 });
function finish(a: Acc): AttachmentScore {
  const precision = ratio(a.tp, a.tp + a.fp);
  const recall = ratio(a.tp, a.tp + a.fn);
  return {
    spans: a.spans,
    exact: a.exact,
    correct: a.correct,
    accuracy: ratio(a.correct, a.spans),
    exactAccuracy: ratio(a.exact, a.spans),
    pairs: { tp: a.tp, fp: a.fp, fn: a.fn, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) },
  };
}

/** Scores the rules on gold documents. Only entities of the rules' labels and head labels are given to the rules. */
export function evaluateAttachment(docs: GoldDocument[], data: string, rules: AttributeRules = defaultAttributeRules()): AttachmentReport {
  const used = new Set(rules.rules.flatMap((r) => [r.label, ...r.heads]));
  const headsOf = new Map(rules.rules.map((r) => [r.label, new Set(r.heads)]));
  const acc = new Map<string, Acc>();
  const goalValues = empty();
  const goalDoses = empty();
  for (const d of docs) {
    const keep = d.entities.map((e, i) => [e, i] as const).filter(([e]) => used.has(e.label));
    const local = keep.map(([e]) => e);
    const links = attributeLinks(d.text, local, rules);
    const predicted = new Map<number, Set<number>>();
    for (const [h, attrs] of links) for (const a of attrs) (predicted.get(keep[a]![1]) ?? predicted.set(keep[a]![1], new Set()).get(keep[a]![1])!).add(keep[h]![1]);
    for (const [, i] of keep) {
      const e = d.entities[i]!;
      const heads = headsOf.get(e.label);
      if (!heads) continue;
      const gold = new Set([...(d.gold.get(i) ?? [])].filter((h) => heads.has(d.entities[h]!.label)));
      const pred = predicted.get(i) ?? new Set<number>();
      const a = acc.get(e.label) ?? empty();
      acc.set(e.label, a);
      const tp = [...pred].filter((h) => gold.has(h)).length;
      const sets: Acc[] = [a];
      if (e.label === 'Lab_value' && [...gold].some((h) => d.entities[h]!.label === 'Diagnostic_procedure')) sets.push(goalValues);
      if (e.label === 'Dosage' && [...gold].some((h) => d.entities[h]!.label === 'Medication')) sets.push(goalDoses);
      for (const s of sets) {
        s.tp += tp;
        s.fp += pred.size - tp;
        s.fn += gold.size - tp;
        if (gold.size > 0) {
          s.spans++;
          if (tp === gold.size && pred.size === gold.size) s.exact++;
          if (pred.size > 0 && tp === pred.size) s.correct++;
        }
      }
    }
  }
  const labels: Record<string, AttachmentScore> = {};
  for (const [k, v] of [...acc].sort(([x], [y]) => x.localeCompare(y))) labels[k] = finish(v);
  return { data, documents: docs.length, labels, goals: { valuesToTests: finish(goalValues), dosesToMedications: finish(goalDoses) } };
}

const pct = (x: number): string => (100 * x).toFixed(1).padStart(6);

/** A plain-text table of a report. */
export function formatAttachmentReport(r: AttachmentReport): string {
  const rows = [
    `data ${r.data}: ${r.documents} documents, gold entities, MODIFY relations as gold`,
    `${'attribute'.padEnd(26)} ${'spans'.padStart(6)} ${'acc%'.padStart(6)} ${'exact%'.padStart(6)} ${'pairP'.padStart(6)} ${'pairR'.padStart(6)} ${'pairF1'.padStart(6)}`,
  ];
  const line = (name: string, s: AttachmentScore): string =>
    `${name.padEnd(26)} ${String(s.spans).padStart(6)} ${pct(s.accuracy)} ${pct(s.exactAccuracy)} ${pct(s.pairs.precision)} ${pct(s.pairs.recall)} ${pct(s.pairs.f1)}`;
  for (const [k, s] of Object.entries(r.labels)) rows.push(line(k, s));
  rows.push(line('GOAL values -> tests', r.goals.valuesToTests), line('GOAL doses -> medications', r.goals.dosesToMedications));
  rows.push('acc: every predicted head is gold and there is one; exact: the predicted head set is the gold set (lists).');
  return rows.join('\n');
}
