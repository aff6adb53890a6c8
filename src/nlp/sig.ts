import type { Entity } from '../core/entity.ts';

/**
 * Medication sigs ("25 mg orally twice daily") split into their parts. Clinical NER models often
 * tag a whole sig as one dose span, cut it at the number ("[650] [mg]"), or leave the route and
 * frequency after a dose untagged or mis-tagged; the attribute stage needs one span per part.
 * Pure and rule-based: the vocabulary is data (`sig` in src/nlp/attribute-rules.json).
 *
 * For every span with an anchor label (Dosage), the sig starts at the span (or at a bare number
 * right before it when the span starts with a unit: "[650] [mg]") and runs over the parts that
 * follow one another, separated by white space only: at most one dose (a number and a unit),
 * routes and frequency phrases (incl. "as needed"). The sig is cut back to the last part end
 * that no other entity straddles, and it must cover the whole anchor span; else nothing changes.
 * The entities inside the sig are replaced by one span per part (dose, route; consecutive
 * frequency phrases become one frequency span: "every 6 hours as needed").
 */
export interface SigRules {
  /** Labels of the spans a sig starts from (e.g. ["Dosage"]). */
  anchors: string[];
  /**
   * Labels of the spans a dose right after which (white space or a comma between) opens a sig
   * even where the model tagged no anchor ("Insulin glargine [20]Lab_value units subcutaneously"):
   * e.g. ["Medication"]. A dose followed by "/" is a concentration ("5.9 mmol/L"), never opened so.
   */
  openAfter?: string[];
  /** Plain words (no entity's) that may lie between an openAfter span and its dose ("heparin [bolus] 4000 units"); default 0. */
  openAfterWords?: number;
  /** Labels given to the parts (duration: only with `durations`). */
  labels: { dose: string; route: string; frequency: string; duration?: string };
  /** Regular expression (source) of a dose number ("25", "0.5", "1,000", "1-2"). */
  number: string;
  /** Regular expressions (source) of dose units ("mg", "units", "tablets"). */
  units: string[];
  /** Regular expressions (source) of routes ("orally", "IV", "by mouth"). */
  routes: string[];
  /** Regular expressions (source) of frequency phrases ("twice daily", "q6h", "as needed"). */
  frequencies: string[];
  /** Regular expressions (source) of how long ("for 5 days", "x 7 days"); a part only with `labels.duration`. */
  durations?: string[];
}

type PartKind = 'dose' | 'route' | 'frequency' | 'duration';
interface Part {
  kind: PartKind;
  start: number;
  end: number;
}

interface Compiled {
  dose: RegExp;
  route: RegExp;
  frequency: RegExp;
  duration?: RegExp;
  unitStart: RegExp;
  numberBefore: RegExp;
}

const cache = new WeakMap<SigRules, Compiled>();
const END = String.raw`(?![\p{L}\p{N}])`;
const alt = (xs: string[]): string => xs.map((x) => `(?:${x})`).join('|');

/** Compiles the rules (throws SyntaxError on a bad expression; parseAttributeRules reports it). */
export function compileSigRules(r: SigRules): Compiled {
  let c = cache.get(r);
  if (c) return c;
  // Longest first, so "mg/kg" is not cut at "mg".
  const units = alt([...r.units].sort((a, b) => b.length - a.length));
  c = {
    dose: new RegExp(String.raw`(?:${r.number})\s*(?:${units})${END}`, 'iuy'),
    route: new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${alt(r.routes)})${END}`, 'iuy'),
    frequency: new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${alt(r.frequencies)})${END}`, 'iuy'),
    ...(r.durations && r.durations.length > 0 && r.labels.duration ? { duration: new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${alt(r.durations)})${END}`, 'iuy') } : {}),
    unitStart: new RegExp(String.raw`^(?:${units})${END}`, 'iu'),
    numberBefore: new RegExp(String.raw`(?<![\p{L}\p{N}.,])(?:${r.number})\s*$`, 'iu'),
  };
  cache.set(r, c);
  return c;
}

/** Where a sticky expression's match starting at `at` ends; undefined when it does not match there (or matches nothing). */
export function matchAt(re: RegExp, text: string, at: number): number | undefined {
  re.lastIndex = at;
  const m = re.exec(text);
  return m && m[0].length > 0 ? at + m[0].length : undefined;
}

/** The parts of a sig starting at `from` (white space between parts only). */
function parseParts(text: string, from: number, c: Compiled): Part[] {
  const parts: Part[] = [];
  let at = from;
  for (;;) {
    while (at < text.length && /[ \t]/.test(text[at]!)) at++;
    let best: Part | undefined;
    const tries: [PartKind, RegExp][] = [['dose', c.dose], ['route', c.route], ['frequency', c.frequency], ...(c.duration ? [['duration', c.duration] as [PartKind, RegExp]] : [])];
    for (const [kind, re] of tries) {
      if (kind === 'dose' && parts.length > 0) continue; // a dose opens a sig
      const end = matchAt(re, text, at);
      if (end !== undefined && (!best || end > best.end)) best = { kind, start: at, end };
    }
    if (!best) return parts;
    parts.push(best);
    at = best.end;
  }
}

/**
 * The entities with each sig split into dose, route and frequency spans (see above). Returns the
 * input's entities (same objects) where no sig changes; sorted by start when something changed.
 */
export function splitSigs(text: string, entities: readonly Entity[], rules: SigRules): Entity[] {
  const c = compileSigRules(rules);
  const anchors = new Set(rules.anchors);
  const visited = new Set<number>();
  const removed = new Set<number>();
  const added: Entity[] = [];
  const order = entities.map((_, i) => i).sort((a, b) => entities[a]!.start - entities[b]!.start);
  // Where a sig may start: the anchor spans, and doses right after an openAfter span.
  const starts: { start: number; end: number; score: number; index?: number }[] = order.filter((i) => anchors.has(entities[i]!.label)).map((i) => ({ start: entities[i]!.start, end: entities[i]!.end, score: entities[i]!.score, index: i }));
  const openAfter = new Set(rules.openAfter ?? []);
  for (const i of order) {
    const drug = entities[i]!;
    if (!openAfter.has(drug.label)) continue;
    // Right after the drug, or after up to openAfterWords plain words no entity holds ("heparin bolus 4000 units").
    let at = drug.end + (/^[ \t]*,?[ \t]*/.exec(text.slice(drug.end))?.[0].length ?? 0);
    if (at === drug.end) continue;
    for (let words = 0; words <= (rules.openAfterWords ?? 0); words++) {
      if (entities.some((e) => e !== drug && e.start < at && drug.end < e.end && e.end <= at)) break;
      const end = matchAt(c.dose, text, at);
      if (end !== undefined) {
        if (text[end] !== '/' && !entities.some((e) => anchors.has(e.label) && e.start < end && at < e.end)) starts.push({ start: at, end, score: drug.score });
        break;
      }
      const word = /^\p{L}[\p{L}-]*[ \t]+/u.exec(text.slice(at));
      if (!word) break;
      at += word[0].length;
    }
  }
  starts.sort((x, y) => x.start - y.start);
  for (const a of starts) {
    const ai = a.index ?? -1;
    if (ai >= 0 && visited.has(ai)) continue;
    if (ai < 0 && order.some((i) => visited.has(i) && entities[i]!.start < a.end && a.start < entities[i]!.end)) continue;
    let start = a.start;
    // "[650]Lab_value [mg]Dosage": the number before a span that starts with its unit.
    if (ai >= 0 && c.unitStart.test(text.slice(a.start, a.end))) {
      const m = c.numberBefore.exec(text.slice(Math.max(0, a.start - 24), a.start));
      if (m) start = a.start - m[0].length;
    }
    // Cut back to the last part end that no other entity straddles, covering the anchor.
    const straddles = (pos: number): boolean => entities.some((e, i) => i !== ai && e.start < pos && e.end > pos);
    if (start < a.start && straddles(start)) start = a.start;
    const parts = parseParts(text, start, c);
    let n = parts.length;
    while (n > 0 && straddles(parts[n - 1]!.end)) n--;
    if (n === 0 || parts[n - 1]!.end < a.end) continue;
    const kept = mergeFrequencies(parts.slice(0, n), text);
    const end = kept[kept.length - 1]!.end;
    const inside = order.filter((i) => entities[i]!.start >= start && entities[i]!.end <= end);
    for (const i of inside) visited.add(i);
    for (const p of kept) {
      const label = rules.labels[p.kind]!;
      const same = inside.find((i) => entities[i]!.start === p.start && entities[i]!.end === p.end && entities[i]!.label === label);
      // A sig opened by the rules alone (after a drug, no anchor span) is the rules': score 1.
      if (same === undefined) added.push({ start: p.start, end: p.end, text: text.slice(p.start, p.end), label, ...(ai < 0 ? { score: 1, source: 'rules' as const } : { score: a.score }) });
    }
    for (const i of inside) if (!kept.some((p) => entities[i]!.start === p.start && entities[i]!.end === p.end && entities[i]!.label === rules.labels[p.kind])) removed.add(i);
  }
  if (added.length === 0 && removed.size === 0) return [...entities];
  return [...entities.filter((_, i) => !removed.has(i)), ...added].sort((x, y) => x.start - y.start || x.end - y.end);
}

/** Consecutive frequency phrases ("every 6 hours" "as needed") are one frequency span. */
function mergeFrequencies(parts: Part[], text: string): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (last && last.kind === 'frequency' && p.kind === 'frequency' && /^[ \t]*$/.test(text.slice(last.end, p.start))) last.end = p.end;
    else out.push({ ...p });
  }
  return out;
}
