import type { Entity } from '../core/entity.ts';
import { MednerError } from '../core/errors.ts';
import type { SigRules } from './sig.ts';

/**
 * Closed-class attribute words the NER model misses ("severe", "mild", "intravenous", "orally"):
 * a small rule-based tagger run before attachment (src/nlp/attributes.ts attachAttributes). The
 * vocabulary is data (`words` in src/nlp/attribute-rules.json): each entry names an attribute
 * label and its terms (regular expression sources), or reuses a list of the sig vocabulary
 * (`sig.routes`, `sig.frequencies`).
 *
 * A match (whole word, case-insensitive; longest first, no two overlapping) becomes an entity of
 * the entry's label with score 1 and `source: 'rules'` only when
 *  - no entity (the model's, or a sig part) overlaps it: a model span wins; except that a model
 *    span that is exactly the word, with a label the entry lists in `relabel` (the clinical model
 *    tags "severe" Detailed_description, "intravenously" Medication), is replaced by it;
 *  - the text right before it does not match the entry's `notAfter` ("stage IV" is no route);
 *  - an entity of one of the heads of the attribute rule for that label (a finding for a
 *    severity, a drug for a route) is in the same sentence within the entry's `maxWords` words,
 *    so the attachment rules attach it; otherwise the word is dropped (and a relabel candidate
 *    stays as the model gave it).
 */
export interface AttributeWordRule {
  /** Attribute label given to the word (must have an attribute rule: its heads decide what it needs next to it). */
  label: string;
  /** Regular expression sources of the words or phrases (whole words, case-insensitive). */
  terms?: string[];
  /** Reuse a list of the sig vocabulary instead of (or as well as) `terms`. */
  sig?: 'routes' | 'frequencies';
  /** Words at most between the word and a head (at most the rule's maxWords). */
  maxWords: number;
  /** Regular expression source matched against the text just before the word (up to 24 characters); a match drops it. */
  notAfter?: string;
  /** Labels of model spans that are exactly one of the words and take this label instead (same conditions). */
  relabel?: string[];
}

/** The parts of the attribute rules the tagger reads (see AttributeRules in attributes.ts). */
export interface AttributeWordContext {
  rules: { label: string; heads: string[] }[];
  sentenceBreak: string;
  sig?: SigRules;
  words?: AttributeWordRule[];
}

interface CompiledWord {
  rule: AttributeWordRule;
  heads: Set<string>;
  relabel: Set<string>;
  re: RegExp;
  notAfter?: RegExp;
}

const cache = new WeakMap<AttributeWordRule[], CompiledWord[]>();

/** Compiles the word rules (throws SyntaxError on a bad expression, MednerError RULES_INVALID on an unknown label; parseAttributeRules reports both). */
export function compileAttributeWords(ctx: AttributeWordContext): CompiledWord[] {
  const words = ctx.words ?? [];
  const hit = cache.get(words);
  if (hit) return hit;
  const compiled = words.map((w) => {
    const rule = ctx.rules.find((r) => r.label === w.label);
    if (!rule) throw new MednerError('RULES_INVALID', `words: no attribute rule for label ${w.label}`);
    if (w.sig && !ctx.sig) throw new MednerError('RULES_INVALID', `words: ${w.label} reuses sig.${w.sig} but there is no sig`);
    const terms = [...(w.terms ?? []), ...(w.sig ? ctx.sig![w.sig] : [])];
    if (terms.length === 0) throw new MednerError('RULES_INVALID', `words: ${w.label} has no terms`);
    const alt = terms.map((t) => `(?:${t})`).join('|');
    return {
      rule: w,
      heads: new Set(rule.heads),
      relabel: new Set(w.relabel ?? []),
      re: new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${alt})(?![\p{L}\p{N}])`, 'giu'),
      ...(w.notAfter ? { notAfter: new RegExp(`(?:${w.notAfter})$`, 'iu') } : {}),
    };
  });
  cache.set(words, compiled);
  return compiled;
}

function wordCount(s: string): number {
  const m = s.match(/[\p{L}\p{N}]+/gu);
  return m ? m.length : 0;
}

/**
 * The entities plus the attribute words found by the rules (see above), sorted by start when
 * something was added or relabelled; the input's entities (same objects, same order) when nothing was.
 */
export function tagAttributeWords(text: string, entities: readonly Entity[], ctx: AttributeWordContext): Entity[] {
  const compiled = compileAttributeWords(ctx);
  if (compiled.length === 0) return [...entities];
  const sentenceBreak = new RegExp(ctx.sentenceBreak, 'u');
  const matches: { start: number; end: number; c: CompiledWord }[] = [];
  for (const c of compiled) {
    c.re.lastIndex = 0;
    for (let m = c.re.exec(text); m; m = c.re.exec(text)) {
      if (m[0].length === 0) {
        c.re.lastIndex++;
        continue;
      }
      matches.push({ start: m.index, end: m.index + m[0].length, c });
    }
  }
  // Longest first at each position; no two words overlap.
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const added: Entity[] = [];
  const replaced = new Map<number, Entity>();
  let lastEnd = -1;
  for (const m of matches) {
    if (m.start < lastEnd) continue;
    lastEnd = m.end;
    const over = entities.flatMap((e, i) => (e.start < m.end && m.start < e.end ? [i] : []));
    const own = over.length === 1 && entities[over[0]!]!.start === m.start && entities[over[0]!]!.end === m.end && m.c.relabel.has(entities[over[0]!]!.label) ? over[0] : undefined;
    if (over.length > 0 && own === undefined) continue;
    if (m.c.notAfter?.test(text.slice(Math.max(0, m.start - 24), m.start))) continue;
    const hasHead = entities.some((h, i) => {
      if (i === own || !m.c.heads.has(h.label)) return false;
      const gap = h.end <= m.start ? text.slice(h.end, m.start) : text.slice(m.end, h.start);
      return !sentenceBreak.test(gap) && wordCount(gap) <= m.c.rule.maxWords;
    });
    if (!hasHead) continue;
    const e: Entity = { start: m.start, end: m.end, text: text.slice(m.start, m.end), label: m.c.rule.label, score: 1, source: 'rules' };
    if (own === undefined) added.push(e);
    else replaced.set(own, e);
  }
  if (added.length === 0 && replaced.size === 0) return [...entities];
  return [...entities.map((e, i) => replaced.get(i) ?? e), ...added].sort((x, y) => x.start - y.start || x.end - y.end);
}
