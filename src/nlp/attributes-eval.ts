import { attributeLinks, defaultAttributeRules, type AttributeRules } from './attributes.ts';
import { readBratDir, resolveEntity, type BratDocument } from './brat.ts';
import type { Entity } from '../core/entity.ts';

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

/** Gold documents from brat documents (src/nlp/brat.ts): every text-bound entity at its full extent, MODIFY relations as links. */
export function goldFromBrat(docs: readonly BratDocument[]): GoldDocument[] {
  return docs.map((doc) => {
    const index = new Map<string, number>(doc.entities.map((t, i) => [t.id, i]));
    const entities: Entity[] = doc.entities.map((t) => ({ start: t.start, end: t.end, text: doc.text.slice(t.start, t.end), label: t.label, score: 1 }));
    const gold = new Map<number, Set<number>>();
    for (const r of doc.relations) {
      if (r.type !== 'MODIFY') continue;
      const a = resolveEntity(doc, r.arg1);
      const h = resolveEntity(doc, r.arg2);
      if (!a || !h) continue;
      const ai = index.get(a.id)!;
      const set = gold.get(ai) ?? new Set<number>();
      set.add(index.get(h.id)!);
      gold.set(ai, set);
    }
    return { id: doc.name, text: doc.text, entities, gold };
  });
}

/** Reads a folder of `.txt`/`.ann` pairs as gold documents (errors: BratError naming file and line). */
export async function readBratRelations(dir: string): Promise<GoldDocument[]> {
  return goldFromBrat(await readBratDir(dir));
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

export interface EndToEndReport {
  data: string;
  documents: number;
  /** Pair level, strict: attribute and head spans and labels must both match a gold MODIFY pair. */
  labels: Record<string, { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number }>;
  goals: { valuesToTests: { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number }; dosesToMedications: { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number } };
}

/**
 * End to end: predicted entities (a model's) -> the rules' links, against the gold MODIFY pairs
 * between gold entities of the rules' labels. A predicted pair counts when both spans and labels
 * are exactly a gold pair's.
 */
export function evaluateEndToEnd(docs: GoldDocument[], predicted: Entity[][], data: string, rules: AttributeRules = defaultAttributeRules()): EndToEndReport {
  const headsOf = new Map(rules.rules.map((r) => [r.label, new Set(r.heads)]));
  const key = (a: Entity, h: Entity): string => `${a.label}:${a.start}-${a.end}>${h.label}:${h.start}-${h.end}`;
  const acc = new Map<string, { tp: number; fp: number; fn: number }>();
  const goalV = { tp: 0, fp: 0, fn: 0 };
  const goalD = { tp: 0, fp: 0, fn: 0 };
  const bucket = (a: Entity, h: Entity): { tp: number; fp: number; fn: number }[] => {
    const out = [acc.get(a.label) ?? acc.set(a.label, { tp: 0, fp: 0, fn: 0 }).get(a.label)!];
    if (a.label === 'Lab_value' && h.label === 'Diagnostic_procedure') out.push(goalV);
    if (a.label === 'Dosage' && h.label === 'Medication') out.push(goalD);
    return out;
  };
  docs.forEach((d, i) => {
    const gold = new Map<string, [Entity, Entity]>();
    for (const [ai, hs] of d.gold) {
      const a = d.entities[ai]!;
      const heads = headsOf.get(a.label);
      if (!heads) continue;
      for (const hi of hs) {
        const h = d.entities[hi]!;
        if (heads.has(h.label)) gold.set(key(a, h), [a, h]);
      }
    }
    const ents = predicted[i] ?? [];
    const pred = new Map<string, [Entity, Entity]>();
    for (const [hi, attrs] of attributeLinks(d.text, ents, rules)) for (const ai of attrs) pred.set(key(ents[ai]!, ents[hi]!), [ents[ai]!, ents[hi]!]);
    for (const [k, [a, h]] of pred) for (const b of bucket(a, h)) gold.has(k) ? b.tp++ : b.fp++;
    for (const [k, [a, h]] of gold) if (!pred.has(k)) for (const b of bucket(a, h)) b.fn++;
  });
  const fin = (x: { tp: number; fp: number; fn: number }) => {
    const precision = ratio(x.tp, x.tp + x.fp);
    const recall = ratio(x.tp, x.tp + x.fn);
    return { ...x, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
  };
  const labels: EndToEndReport['labels'] = {};
  for (const [k, v] of [...acc].sort(([x], [y]) => x.localeCompare(y))) labels[k] = fin(v);
  return { data, documents: docs.length, labels, goals: { valuesToTests: fin(goalV), dosesToMedications: fin(goalD) } };
}

/** A plain-text table of an end-to-end report. */
export function formatEndToEndReport(r: EndToEndReport, model: string): string {
  const rows = [`end to end: model ${model} on ${r.data} (${r.documents} documents); strict pairs (both spans and labels exact)`, `${'attribute'.padEnd(26)} ${'tp'.padStart(5)} ${'fp'.padStart(5)} ${'fn'.padStart(5)} ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F1'.padStart(6)}`];
  const line = (n: string, s: EndToEndReport['goals']['valuesToTests']) => `${n.padEnd(26)} ${String(s.tp).padStart(5)} ${String(s.fp).padStart(5)} ${String(s.fn).padStart(5)} ${pct(s.precision)} ${pct(s.recall)} ${pct(s.f1)}`;
  for (const [k, s] of Object.entries(r.labels)) rows.push(line(k, s));
  rows.push(line('GOAL values -> tests', r.goals.valuesToTests), line('GOAL doses -> medications', r.goals.dosesToMedications));
  return rows.join('\n');
}
