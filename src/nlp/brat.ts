/**
 * brat standoff reader (pure parsing; `readBratDir` is the only function that touches files).
 *
 * A document is a `NAME.txt` text and a `NAME.ann` annotation file with one annotation a line:
 *
 *   T1<TAB>Sign_symptom 78 90<TAB>palpitations          text-bound entity
 *   T2<TAB>Lab_value 10 14;20 25<TAB>grade 2/6          discontinuous: fragments joined by ';'
 *   E1<TAB>Sign_symptom:T1 Cause:T5                     event: trigger, then role:id arguments
 *   R1<TAB>MODIFY Arg1:T2 Arg2:E1                       relation between two T or E ids
 *   A1<TAB>Negation E1 [value]                          attribute (M lines: old-style modifier)
 *   N1<TAB>Reference T1 UMLS:C0030252<TAB>Palpitations  normalization
 *   #1<TAB>AnnotatorNotes T1<TAB>free text              note
 *   *<TAB>Equiv T1 T2                                   equivalence set
 *
 * Offsets in the .ann are Unicode code points (brat is Python); entities here carry UTF-16
 * offsets into the JavaScript string of the .txt, as every other offset in medner.
 * A line that does not parse, or a T line whose offsets fall outside the text or whose
 * text column is not the text at those offsets, throws a `BratError` (code BRAT_INVALID)
 * naming the file and the 1-based line.
 *
 * Discontinuous entities (`start end;start end`): kept with all `fragments`; `start`/`end`
 * are the FULL EXTENT (first fragment's start to last fragment's end). Evaluation scores and
 * training labels them as that full extent (one entity, never an error).
 *
 * Flattening (training): brat allows nested and overlapping spans, a BIO sequence does not.
 * `flattenEntities` keeps, among the entities of the wanted labels, the leftmost-longest
 * non-overlapping set: sorted by start ascending, then length descending, then the order of
 * `labels` (the label listed first wins a tie on the same span), each entity is kept when it
 * overlaps no entity kept before it. Dropped (nested or overlapping) entities are simply not
 * trained; evaluation scores every gold span of a predicted label, so what flattening loses
 * shows as recall.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MednerError } from '../core/errors.ts';

export interface BratFragment {
  /** UTF-16 offsets into the document text, end exclusive. */
  start: number;
  end: number;
}

export interface BratEntity {
  /** T id, e.g. "T12". */
  id: string;
  label: string;
  /** Full extent: first fragment's start, last fragment's end (UTF-16, end exclusive). */
  start: number;
  end: number;
  /** One fragment for a contiguous entity, several for a discontinuous one. */
  fragments: BratFragment[];
  /** The text column of the .ann line (fragments joined by a space). */
  text: string;
  /** 1-based line in the .ann file. */
  line: number;
}

export interface BratEventArgument {
  role: string;
  /** A T or E id. */
  ref: string;
}

export interface BratEvent {
  /** E id. */
  id: string;
  label: string;
  /** The T id of the trigger entity. */
  trigger: string;
  args: BratEventArgument[];
  line: number;
}

export interface BratRelation {
  /** R id. */
  id: string;
  /** e.g. MODIFY, IDENTICAL, SUB_PROCEDURE, BEFORE, AFTER, OVERLAP. */
  type: string;
  /** T or E ids (use `resolveEntity` to get the text-bound entity of an event). */
  arg1: string;
  arg2: string;
  line: number;
}

export interface BratAttribute {
  /** A or M id. */
  id: string;
  name: string;
  /** T, E or R id. */
  target: string;
  /** Absent for binary attributes. */
  value?: string;
  line: number;
}

export interface BratNote {
  /** # or N id. */
  id: string;
  /** e.g. AnnotatorNotes, Reference. */
  type: string;
  target: string;
  /** The reference of an N line (e.g. "UMLS:C0030252"); absent for # notes. */
  reference?: string;
  text: string;
  line: number;
}

export interface BratEquivalence {
  type: string;
  ids: string[];
  line: number;
}

export interface BratDocument {
  /** File name without extension. */
  name: string;
  text: string;
  entities: BratEntity[];
  events: BratEvent[];
  relations: BratRelation[];
  attributes: BratAttribute[];
  notes: BratNote[];
  equivalences: BratEquivalence[];
}

export class BratError extends MednerError {
  readonly file: string;
  /** 1-based line of the .ann file; 0 when the problem is the file pair itself. */
  readonly line: number;

  constructor(file: string, line: number, message: string) {
    super('BRAT_INVALID', `${file}${line > 0 ? `:${line}` : ''}: ${message}`);
    this.name = 'BratError';
    this.file = file;
    this.line = line;
  }
}

/** Converts code point offsets to UTF-16 offsets (identity when the text has no astral characters). */
function codePointMapper(text: string): (cp: number) => number | undefined {
  // eslint-disable-next-line no-control-regex
  if (!/[\uD800-\uDFFF]/.test(text)) return (cp) => (cp >= 0 && cp <= text.length ? cp : undefined);
  const map: number[] = [];
  let u = 0;
  for (const ch of text) {
    map.push(u);
    u += ch.length;
  }
  map.push(u);
  return (cp) => (cp >= 0 && cp < map.length ? map[cp] : undefined);
}

const ID = {
  T: /^T\d+$/,
  E: /^E\d+$/,
  R: /^R\d+$/,
  A: /^[AM]\d+$/,
  N: /^N\d+$/,
  NOTE: /^#\d*$/,
};
const REF = /^[TERAMN#]\d+$/;
const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * Parses one .ann file against its text. `file` names the .ann in errors.
 * Blank lines are skipped; any other line must be a well-formed annotation.
 */
export function parseBratAnn(ann: string, text: string, file = 'document.ann'): BratDocument {
  const doc: BratDocument = {
    name: path.basename(file).replace(/\.ann$/, ''),
    text,
    entities: [],
    events: [],
    relations: [],
    attributes: [],
    notes: [],
    equivalences: [],
  };
  const toUtf16 = codePointMapper(text);
  const lines = ann.split(/\r?\n/);
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const ln = i + 1;
    if (raw.trim() === '') continue;
    const fail = (msg: string): never => {
      throw new BratError(file, ln, msg);
    };
    const cols = raw.split('\t');
    const id = cols[0]!;
    const body = (cols[1] ?? '').trim();
    if (cols.length < 2 || body === '') fail(`expected ID<TAB>annotation, got ${JSON.stringify(raw.slice(0, 60))}`);
    if (id !== '*' && !ID.NOTE.test(id)) {
      if (seen.has(id)) fail(`duplicate id ${id}`);
      seen.add(id);
    }
    const parts = body.split(/\s+/);
    if (ID.T.test(id)) {
      // "Type start end;start end" then TAB text
      const sp = body.indexOf(' ');
      if (sp < 0) fail(`entity ${id}: expected "Type start end", got ${JSON.stringify(body)}`);
      const label = body.slice(0, sp);
      const fragments: BratFragment[] = [];
      for (const f of body.slice(sp + 1).split(';')) {
        const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(f);
        if (!m) fail(`entity ${id}: bad offsets ${JSON.stringify(f)} (expected "start end", fragments separated by ";")`);
        const s = toUtf16(Number(m![1]));
        const e = toUtf16(Number(m![2]));
        if (s === undefined || e === undefined) fail(`entity ${id}: offsets ${m![1]} ${m![2]} outside the text (${[...text].length} characters)`);
        if (e! <= s!) fail(`entity ${id}: empty or reversed span ${m![1]} ${m![2]}`);
        fragments.push({ start: s!, end: e! });
      }
      for (let k = 1; k < fragments.length; k++) {
        if (fragments[k]!.start < fragments[k - 1]!.end) fail(`entity ${id}: fragments overlap or are out of order`);
      }
      if (cols.length < 3) fail(`entity ${id}: missing text column`);
      const given = cols.slice(2).join('\t');
      const actual = fragments.map((f) => text.slice(f.start, f.end)).join(' ');
      if (norm(given) !== norm(actual)) {
        fail(`entity ${id}: text column ${JSON.stringify(given.slice(0, 60))} does not match the text at its offsets ${JSON.stringify(actual.slice(0, 60))}`);
      }
      doc.entities.push({ id, label, start: fragments[0]!.start, end: fragments[fragments.length - 1]!.end, fragments, text: given, line: ln });
    } else if (ID.E.test(id)) {
      const [trig, ...rest] = parts;
      const m = /^([^:]+):(T\d+)$/.exec(trig!);
      if (!m) fail(`event ${id}: expected "Type:T<n>" trigger, got ${JSON.stringify(trig)}`);
      const args: BratEventArgument[] = [];
      for (const a of rest) {
        const am = /^([^:]+):(\S+)$/.exec(a);
        if (!am || !REF.test(am[2]!)) fail(`event ${id}: bad argument ${JSON.stringify(a)} (expected Role:ID)`);
        args.push({ role: am![1]!, ref: am![2]! });
      }
      doc.events.push({ id, label: m![1]!, trigger: m![2]!, args, line: ln });
    } else if (ID.R.test(id)) {
      const a1 = /^Arg1:(\S+)$/.exec(parts[1] ?? '');
      const a2 = /^Arg2:(\S+)$/.exec(parts[2] ?? '');
      if (parts.length !== 3 || !a1 || !a2 || !REF.test(a1[1]!) || !REF.test(a2[1]!)) {
        fail(`relation ${id}: expected "TYPE Arg1:ID Arg2:ID", got ${JSON.stringify(body)}`);
      }
      doc.relations.push({ id, type: parts[0]!, arg1: a1![1]!, arg2: a2![1]!, line: ln });
    } else if (ID.A.test(id)) {
      if (parts.length < 2 || parts.length > 3 || !REF.test(parts[1]!)) fail(`attribute ${id}: expected "Name ID [value]", got ${JSON.stringify(body)}`);
      doc.attributes.push({ id, name: parts[0]!, target: parts[1]!, ...(parts[2] === undefined ? {} : { value: parts[2] }), line: ln });
    } else if (ID.N.test(id)) {
      if (parts.length !== 3 || !REF.test(parts[1]!)) fail(`normalization ${id}: expected "Type ID DB:ref", got ${JSON.stringify(body)}`);
      doc.notes.push({ id, type: parts[0]!, target: parts[1]!, reference: parts[2]!, text: cols.slice(2).join('\t'), line: ln });
    } else if (ID.NOTE.test(id)) {
      if (parts.length < 2 || !REF.test(parts[1]!)) fail(`note ${id}: expected "Type ID<TAB>text", got ${JSON.stringify(body)}`);
      doc.notes.push({ id, type: parts[0]!, target: parts[1]!, text: cols.slice(2).join('\t'), line: ln });
    } else if (id === '*') {
      if (parts.length < 3 || !parts.slice(1).every((p) => REF.test(p))) fail(`equivalence: expected "Type ID ID ...", got ${JSON.stringify(body)}`);
      doc.equivalences.push({ type: parts[0]!, ids: parts.slice(1), line: ln });
    } else {
      fail(`unknown annotation id ${JSON.stringify(id)} (expected T, E, R, A, M, N, # or *)`);
    }
  }
  // References must resolve: an event's trigger and arguments, relation arguments, attribute/note targets.
  const ids = new Set([...doc.entities.map((e) => e.id), ...doc.events.map((e) => e.id), ...doc.relations.map((r) => r.id), ...doc.attributes.map((a) => a.id)]);
  const check = (ref: string, line: number, what: string): void => {
    if (!ids.has(ref)) throw new BratError(file, line, `${what} refers to ${ref}, which is not defined in the file`);
  };
  const entityIds = new Set(doc.entities.map((e) => e.id));
  for (const e of doc.events) {
    if (!entityIds.has(e.trigger)) throw new BratError(file, e.line, `event ${e.id}: trigger ${e.trigger} is not a text-bound entity in the file`);
    for (const a of e.args) check(a.ref, e.line, `event ${e.id}`);
  }
  for (const r of doc.relations) {
    check(r.arg1, r.line, `relation ${r.id}`);
    check(r.arg2, r.line, `relation ${r.id}`);
  }
  for (const a of doc.attributes) check(a.target, a.line, `attribute ${a.id}`);
  for (const n of doc.notes) check(n.target, n.line, `note ${n.id}`);
  for (const q of doc.equivalences) for (const r of q.ids) check(r, q.line, 'equivalence');
  return doc;
}

/** The text-bound entity behind a T id, or behind an E id (its trigger). */
export function resolveEntity(doc: BratDocument, ref: string): BratEntity | undefined {
  if (ref.startsWith('E')) {
    const ev = doc.events.find((e) => e.id === ref);
    return ev === undefined ? undefined : doc.entities.find((t) => t.id === ev.trigger);
  }
  return doc.entities.find((t) => t.id === ref);
}

/**
 * Reads every NAME.txt / NAME.ann pair in a folder (not recursive), sorted by name.
 * A .txt without .ann (or the reverse) is an error naming the file.
 */
export async function readBratDir(dir: string): Promise<BratDocument[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    throw new MednerError('BRAT_INVALID', `${dir}: cannot read the folder (${(err as Error).message})`, { cause: err });
  }
  const txt = new Set(names.filter((n) => n.endsWith('.txt')).map((n) => n.slice(0, -4)));
  const ann = new Set(names.filter((n) => n.endsWith('.ann')).map((n) => n.slice(0, -4)));
  for (const n of txt) if (!ann.has(n)) throw new BratError(path.join(dir, `${n}.txt`), 0, `no ${n}.ann next to it`);
  for (const n of ann) if (!txt.has(n)) throw new BratError(path.join(dir, `${n}.ann`), 0, `no ${n}.txt next to it`);
  if (txt.size === 0) throw new MednerError('BRAT_INVALID', `${dir}: no .txt/.ann pairs`);
  const out: BratDocument[] = [];
  for (const n of [...txt].sort()) {
    const text = await fsp.readFile(path.join(dir, `${n}.txt`), 'utf8');
    const annText = await fsp.readFile(path.join(dir, `${n}.ann`), 'utf8');
    out.push(parseBratAnn(annText, text, path.join(dir, `${n}.ann`)));
  }
  return out;
}

/**
 * The flattening rule (see the file comment): leftmost-longest non-overlapping entities of the
 * given labels (all labels when omitted), ties on the same span broken by the order of `labels`.
 * Returns them sorted by start.
 */
export function flattenEntities(entities: readonly BratEntity[], labels?: readonly string[]): BratEntity[] {
  const rank = new Map((labels ?? []).map((l, i) => [l, i]));
  const wanted = entities.filter((e) => labels === undefined || rank.has(e.label));
  const sorted = [...wanted].sort(
    (a, b) => a.start - b.start || b.end - b.start - (a.end - a.start) || (rank.get(a.label) ?? 0) - (rank.get(b.label) ?? 0) || a.label.localeCompare(b.label),
  );
  const kept: BratEntity[] = [];
  let lastEnd = -1;
  for (const e of sorted) {
    // sorted by start, so e overlaps a kept entity iff it starts before the furthest kept end
    if (e.start >= lastEnd) {
      kept.push(e);
      lastEnd = e.end;
    }
  }
  return kept;
}

/** A BERT "word" (basic tokenizer: whitespace split, each punctuation character on its own). */
export interface BratWord {
  start: number;
  end: number;
  text: string;
}

const PUNCT = /[\p{P}!-/:-@[-`{-~]/u;
const SPACE = /\s/u;

/** Splits text into words as BERT's basic tokenizer does (whitespace, punctuation as single words). */
export function splitWords(text: string, from = 0, to = text.length): BratWord[] {
  const out: BratWord[] = [];
  let start = -1;
  for (let i = from; i < to; ) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const n = ch.length;
    if (SPACE.test(ch)) {
      if (start >= 0) out.push({ start, end: i, text: text.slice(start, i) });
      start = -1;
    } else if (PUNCT.test(ch)) {
      if (start >= 0) out.push({ start, end: i, text: text.slice(start, i) });
      out.push({ start: i, end: i + n, text: ch });
      start = -1;
    } else if (start < 0) {
      start = i;
    }
    i += n;
  }
  if (start >= 0) out.push({ start, end: to, text: text.slice(start, to) });
  return out;
}

export interface BioSequence {
  words: BratWord[];
  tags: string[];
}

/**
 * One BIO sequence per line of the text (MACCROBAT has a sentence a line), after flattening
 * (`flattenEntities(doc.entities, labels)`). A word takes the tag of the kept entity it
 * overlaps (B- on the entity's first word, I- after); an entity boundary inside a word cannot be
 * represented and the whole word is tagged. Lines longer than `maxWords` are cut at a
 * sentence end (". " before an upper-case letter or a digit) where no kept entity crosses, else
 * at `maxWords`. Empty lines give no sequence.
 */
export function bratToBio(doc: BratDocument, labels: readonly string[], maxWords = 120): BioSequence[] {
  const kept = flattenEntities(doc.entities, labels);
  const out: BioSequence[] = [];
  let k = 0;
  let lineStart = 0;
  const text = doc.text;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const words = splitWords(text, lineStart, lineEnd);
    const tags: string[] = [];
    let prev: BratEntity | undefined;
    for (const w of words) {
      while (k < kept.length && kept[k]!.end <= w.start) k++;
      const e = k < kept.length && kept[k]!.start < w.end ? kept[k] : undefined;
      tags.push(e === undefined ? 'O' : `${e === prev ? 'I' : 'B'}-${e.label}`);
      prev = e;
    }
    // cut long lines
    let from = 0;
    while (words.length - from > maxWords) {
      let cut = -1;
      for (let j = from + maxWords; j > from + 1; j--) {
        const w = words[j - 1]!;
        if (w.text === '.' && /^[A-Z0-9]/.test(words[j]?.text ?? '') && !tags[j]!.startsWith('I-')) {
          cut = j;
          break;
        }
      }
      if (cut < 0) {
        cut = from + maxWords;
        while (cut > from + 1 && tags[cut]!.startsWith('I-')) cut--;
      }
      out.push({ words: words.slice(from, cut), tags: tags.slice(from, cut) });
      from = cut;
    }
    if (words.length > from) out.push({ words: words.slice(from), tags: tags.slice(from) });
    lineStart = lineEnd + 1;
  }
  return out;
}
