import { readFileSync } from 'node:fs';
import type { AssertedEntity, Assertion, Entity } from './entity.ts';

/**
 * ConText-style assertion detection (Harkema et al. 2009): trigger phrases
 * modify the mentions in their scope; scope runs forward and/or backward from
 * the trigger to the end of the sentence (., !, ?, ; or a line break) or to a
 * termination phrase ("but", "however", ...). Pure: rules come in as data.
 */

export type AssertionCategory = 'negated' | 'uncertain' | 'hypothetical' | 'historical' | 'family';

export interface AssertionTrigger {
  phrase: string;
  category: AssertionCategory;
  direction: 'forward' | 'backward' | 'both';
  /** Family only: v3-RoleCode of the relative (MTH, FTH, SIS, BRO, FAMMEMB, ...). */
  relationship?: string;
  /** Words the scope may span between trigger and mention; overrides AssertionRules.maxScopeWords. */
  maxScopeWords?: number;
}

export interface AssertionRules {
  /** Words a scope may span between trigger and mention (default: unlimited within the sentence). */
  maxScopeWords?: number;
  triggers: AssertionTrigger[];
  /** Phrases that contain a trigger but are not one ("no change", "gram negative"). */
  pseudo: string[];
  /** Phrases that end a trigger's scope ("but", "however"). */
  terminations: string[];
}

/** An assertion with the relative named by a family trigger, when any. */
export interface DetectedAssertion extends Assertion {
  /** v3-RoleCode of the relative when experiencer is family. */
  relationship?: string;
}

export interface AssertedEntityWithRelation extends AssertedEntity {
  assertion: DetectedAssertion;
}

const RULES_FILE = new URL('./assertion-rules.json', import.meta.url);

let defaults: AssertionRules | undefined;

/** The shipped rules (src/nlp/assertion-rules.json). */
export function defaultAssertionRules(): AssertionRules {
  defaults ??= parseAssertionRules(JSON.parse(readFileSync(RULES_FILE, 'utf8')));
  return defaults;
}

const CATEGORIES = new Set<AssertionCategory>(['negated', 'uncertain', 'hypothetical', 'historical', 'family']);
const DIRECTIONS = new Set(['forward', 'backward', 'both']);

/** Checks the shape of a rules object (e.g. read from a file); throws Error naming the bad entry. */
export function parseAssertionRules(raw: unknown): AssertionRules {
  const r = raw as Partial<AssertionRules> | null;
  if (!r || !Array.isArray(r.triggers) || !Array.isArray(r.pseudo) || !Array.isArray(r.terminations)) {
    throw new Error('assertion rules: expected { triggers: [], pseudo: [], terminations: [] }');
  }
  r.triggers.forEach((t, i) => {
    if (typeof t?.phrase !== 'string' || t.phrase.trim() === '') throw new Error(`assertion rules: triggers[${i}].phrase must be a non-empty string`);
    if (!CATEGORIES.has(t.category)) throw new Error(`assertion rules: triggers[${i}].category must be one of ${[...CATEGORIES].join(', ')}`);
    if (!DIRECTIONS.has(t.direction)) throw new Error(`assertion rules: triggers[${i}].direction must be forward, backward or both`);
  });
  for (const [k, list] of [['pseudo', r.pseudo], ['terminations', r.terminations]] as const) {
    list.forEach((p, i) => {
      if (typeof p !== 'string' || p.trim() === '') throw new Error(`assertion rules: ${k}[${i}] must be a non-empty string`);
    });
  }
  const limits = [r.maxScopeWords, ...r.triggers.map((t) => t.maxScopeWords)];
  if (limits.some((n) => n !== undefined && !(Number.isInteger(n) && n >= 0))) throw new Error('assertion rules: maxScopeWords must be a non-negative integer');
  return {
    triggers: r.triggers,
    pseudo: r.pseudo,
    terminations: r.terminations,
    ...(r.maxScopeWords !== undefined ? { maxScopeWords: r.maxScopeWords } : {}),
  };
}

type Match =
  | { kind: 'trigger'; start: number; end: number; trigger: AssertionTrigger }
  | { kind: 'pseudo' | 'termination'; start: number; end: number };

/** A phrase as a whole-word, case-insensitive, whitespace-tolerant pattern. */
function phrasePattern(phrase: string): string {
  return phrase
    .trim()
    .split(/\s+/)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('\\s+');
}

interface CompiledRules {
  regex: RegExp;
  kinds: { kind: Match['kind']; trigger?: AssertionTrigger }[];
}

const compiled = new WeakMap<AssertionRules, CompiledRules>();

function compile(rules: AssertionRules): CompiledRules {
  const cached = compiled.get(rules);
  if (cached) return cached;
  const entries: { phrase: string; kind: Match['kind']; trigger?: AssertionTrigger }[] = [
    ...rules.pseudo.map((phrase) => ({ phrase, kind: 'pseudo' as const })),
    ...rules.terminations.map((phrase) => ({ phrase, kind: 'termination' as const })),
    ...rules.triggers.map((trigger) => ({ phrase: trigger.phrase, kind: 'trigger' as const, trigger })),
  ];
  // Longest phrase first so that alternation prefers "family history of" over "history of".
  const order = entries.map((e, i) => i).sort((a, b) => entries[b]!.phrase.length - entries[a]!.phrase.length);
  const groups = order.map((i) => `(${phrasePattern(entries[i]!.phrase)})`);
  const regex = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${groups.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
  const kinds = order.map((i) => ({ kind: entries[i]!.kind, trigger: entries[i]!.trigger }));
  const c = { regex, kinds };
  compiled.set(rules, c);
  return c;
}

function findMatches(text: string, rules: AssertionRules): Match[] {
  const { regex, kinds } = compile(rules);
  const out: Match[] = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    const g = m.findIndex((v, i) => i > 0 && v !== undefined) - 1;
    const k = kinds[g]!;
    const start = m.index;
    const end = m.index + m[0].length;
    out.push(k.kind === 'trigger' ? { kind: 'trigger', start, end, trigger: k.trigger! } : { kind: k.kind, start, end });
    if (m[0].length === 0) regex.lastIndex++;
  }
  return out;
}

/** Sentence/clause boundaries: [start, end) ranges of text. */
function sentenceRanges(text: string): [number, number][] {
  const out: [number, number][] = [];
  const boundary = /[.!?;](?=\s|$)|\r?\n/g;
  let start = 0;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    out.push([start, end]);
    start = end;
  }
  if (start < text.length || out.length === 0) out.push([start, text.length]);
  return out;
}

function wordsIn(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}

function emptyAssertion(): DetectedAssertion {
  return { negated: false, uncertain: false, hypothetical: false, historical: false, experiencer: 'patient', triggers: [] };
}

/**
 * Assigns negated / uncertain / hypothetical / historical / family to each
 * entity. Triggers overlapping an entity are ignored (the mention is not its
 * own modifier). Offsets are UTF-16 code units, as in Entity.
 */
export function detectAssertions(text: string, entities: Entity[], rules: AssertionRules = defaultAssertionRules()): AssertedEntityWithRelation[] {
  const matches = findMatches(text, rules).filter((m) => !entities.some((e) => m.start < e.end && e.start < m.end));
  const sentences = sentenceRanges(text);
  const sentenceOf = (pos: number): [number, number] => sentences.find(([s, e]) => pos >= s && pos < e) ?? [0, text.length];

  return entities.map((entity) => {
    const assertion = emptyAssertion();
    const [sStart, sEnd] = sentenceOf(entity.start);
    const inSentence = matches.filter((m) => m.start >= sStart && m.end <= sEnd);
    for (const m of inSentence) {
      if (m.kind !== 'trigger') continue;
      const dir = m.trigger.direction;
      const maxWords = m.trigger.maxScopeWords ?? rules.maxScopeWords ?? Infinity;
      let applies = false;
      if ((dir === 'forward' || dir === 'both') && m.end <= entity.start) {
        // forward: within reach, and nothing that ends the scope between trigger and mention
        applies =
          wordsIn(text.slice(m.end, entity.start)) <= maxWords &&
          !inSentence.some((x) => x.kind === 'termination' && x.start >= m.end && x.end <= entity.start);
      }
      if (!applies && (dir === 'backward' || dir === 'both') && m.start >= entity.end) {
        applies =
          wordsIn(text.slice(entity.end, m.start)) <= maxWords &&
          !inSentence.some((x) => x.kind === 'termination' && x.start >= entity.end && x.end <= m.start);
      }
      if (!applies) continue;
      const t = m.trigger;
      if (t.category === 'family') {
        assertion.experiencer = 'family';
        // the nearest specific relative wins over a generic "family history"
        if (assertion.relationship === undefined || assertion.relationship === 'FAMMEMB') assertion.relationship = t.relationship ?? 'FAMMEMB';
      } else {
        assertion[t.category] = true;
      }
      const phrase = t.phrase.toLowerCase();
      if (!assertion.triggers.includes(phrase)) assertion.triggers.push(phrase);
    }
    return { ...entity, assertion };
  });
}

