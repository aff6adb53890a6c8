import { MednerError } from '../core/errors.ts';
/**
 * Pure parts of `medner eval`: read token<TAB>BIO files, rebuild each sentence as text (tokens
 * joined by single spaces), turn gold BIO tags into character spans, and score predicted
 * entities against them with strict entity-level matching (same start, end and label).
 */

export interface BioSentence {
  tokens: string[];
  tags: string[];
}

/** An entity span in character offsets (UTF-16 code units) into the sentence text. */
export interface Span {
  start: number;
  end: number;
  label: string;
}

export interface EvalDocument {
  text: string;
  gold: Span[];
}

export interface LabelScore {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface Scores {
  /** Per label, sorted by label name. */
  labels: Record<string, LabelScore>;
  micro: LabelScore;
}

const TAG = /^(O|[BI]-.+)$/;

/**
 * Parses token<TAB>tag lines; a blank line ends a sentence. Extra tab-separated columns after
 * the tag are ignored; `-DOCSTART-` lines are skipped. Throws on a malformed line, naming it.
 */
export function parseBio(content: string): BioSentence[] {
  const out: BioSentence[] = [];
  let cur: BioSentence = { tokens: [], tags: [] };
  const flush = (): void => {
    if (cur.tokens.length > 0) out.push(cur);
    cur = { tokens: [], tags: [] };
  };
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      flush();
      continue;
    }
    const cols = line.split('\t');
    const token = cols[0]!;
    const tag = (cols[1] ?? '').trim();
    if (token.startsWith('-DOCSTART-')) continue;
    if (cols.length < 2 || token === '' || !TAG.test(tag)) {
      throw new MednerError('DATA_INVALID', `line ${i + 1}: expected token<TAB>tag with tag O, B-X or I-X`);
    }
    cur.tokens.push(token);
    cur.tags.push(tag);
  }
  flush();
  return out;
}

/**
 * Strict BIO decoding into token spans [start, end) (conlleval style): an I-X that follows O or
 * a different type starts a new X span.
 */
export function bioTokenSpans(tags: string[]): Span[] {
  const spans: Span[] = [];
  let start = -1;
  let type = '';
  for (let i = 0; i <= tags.length; i++) {
    const t = i < tags.length ? tags[i]! : 'O';
    const prefix = t[0];
    const ty = t === 'O' ? '' : t.slice(2);
    const continues = prefix === 'I' && start >= 0 && ty === type;
    if (!continues) {
      if (start >= 0) spans.push({ start, end: i, label: type });
      start = t === 'O' ? -1 : i;
      type = ty;
    }
  }
  return spans;
}

/** Rebuilds a sentence as text (tokens joined by single spaces) with gold character spans. */
export function toEvalDocument(s: BioSentence): EvalDocument {
  const starts: number[] = [];
  let pos = 0;
  for (const tok of s.tokens) {
    starts.push(pos);
    pos += tok.length + 1;
  }
  const text = s.tokens.join(' ');
  const gold = bioTokenSpans(s.tags).map((sp) => ({
    start: starts[sp.start]!,
    end: starts[sp.end - 1]! + s.tokens[sp.end - 1]!.length,
    label: sp.label,
  }));
  return { text, gold };
}

function score(tp: number, fp: number, fn: number): LabelScore {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, fn, precision, recall, f1 };
}

const key = (s: Span): string => `${s.start}:${s.end}:${s.label}`;

/**
 * Strict entity-level scores: a prediction is a true positive when a gold span has the same
 * start, end and label. Duplicate predictions of one span count once as TP, the rest as FP.
 * `labels` restricts scoring to those labels (predictions with other labels are ignored);
 * default: every label seen in gold or predictions.
 */
export function scoreSpans(gold: Span[][], pred: Span[][], labels?: string[]): Scores {
  if (gold.length !== pred.length) throw new MednerError('DATA_INVALID', `gold has ${gold.length} documents, predictions ${pred.length}`);
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const keep = labels === undefined ? undefined : new Set(labels);
  for (const l of labels ?? []) counts.set(l, { tp: 0, fp: 0, fn: 0 });
  const c = (label: string) => {
    let v = counts.get(label);
    if (v === undefined) counts.set(label, (v = { tp: 0, fp: 0, fn: 0 }));
    return v;
  };
  for (let d = 0; d < gold.length; d++) {
    const g = gold[d]!.filter((s) => keep === undefined || keep.has(s.label));
    const p = pred[d]!.filter((s) => keep === undefined || keep.has(s.label));
    const goldKeys = new Set(g.map(key));
    const matched = new Set<string>();
    for (const s of p) {
      const k = key(s);
      if (goldKeys.has(k) && !matched.has(k)) {
        matched.add(k);
        c(s.label).tp++;
      } else {
        c(s.label).fp++;
      }
    }
    for (const s of new Map(g.map((s) => [key(s), s])).values()) {
      if (!matched.has(key(s))) c(s.label).fn++;
    }
  }
  const out: Record<string, LabelScore> = {};
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const label of [...counts.keys()].sort()) {
    const v = counts.get(label)!;
    out[label] = score(v.tp, v.fp, v.fn);
    tp += v.tp;
    fp += v.fp;
    fn += v.fn;
  }
  return { labels: out, micro: score(tp, fp, fn) };
}

/** Labels (without BIO prefix) named by a model's BIO label list, e.g. ["Chemical", "Disease"]. */
export function entityTypes(bioLabels: string[]): string[] {
  return [...new Set(bioLabels.filter((l) => l !== 'O').map((l) => l.replace(/^[BIES]-/, '')))].sort();
}

/** A fixed-width text table of scores (percentages with two decimals). */
export function formatScores(s: Scores): string {
  const pct = (x: number) => (x * 100).toFixed(2).padStart(7);
  const rows = Object.entries(s.labels).map(([label, v]) => [label, v] as const);
  rows.push(['micro', s.micro]);
  const w = Math.max(8, ...rows.map(([l]) => l.length));
  const lines = [`${'label'.padEnd(w)}  precision   recall       f1      tp      fp      fn`];
  for (const [label, v] of rows) {
    lines.push(`${label.padEnd(w)}    ${pct(v.precision)}  ${pct(v.recall)}  ${pct(v.f1)}  ${String(v.tp).padStart(6)}  ${String(v.fp).padStart(6)}  ${String(v.fn).padStart(6)}`);
  }
  return lines.join('\n');
}
