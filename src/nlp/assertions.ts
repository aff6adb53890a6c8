import { readFileSync } from 'node:fs';
import type { AssertedEntity, Assertion, DropReason, Entity } from '../core/entity.ts';
import { schemaErrors, schemaValidator } from '../core/json-schema.ts';
import { defaultSectionRules, findSections, sectionAt, type Section } from './sections.ts';
import { MednerError } from '../core/errors.ts';

/**
 * ConText-style assertion detection (Harkema et al. 2009): trigger phrases
 * modify the mentions in their scope. Scope runs forward and/or backward from
 * the trigger within its sentence (., !, ?, ; or a line break) and section,
 * up to a termination phrase ("but", "however", ...), and over comma lists
 * only as far as the list is governed by the trigger (see scopeCrosses*).
 * Sections (src/nlp/sections.ts) add context: allergies, past history, family
 * history, plan. Pure: rules come in as data (src/nlp/assertion-rules.json,
 * schemas/assertion-rules.schema.json).
 */

export type AssertionCategory = 'negated' | 'uncertain' | 'hypothetical' | 'historical' | 'family' | 'allergy' | 'medication-status';

export interface AssertionTrigger {
  phrase: string;
  category: AssertionCategory;
  direction: 'forward' | 'backward' | 'both';
  /** direction both: acts backward only when no mention follows within its forward scope ("CT ruled out PE" negates PE, not CT). */
  preferForward?: boolean;
  /** list (default): distributes over a comma list it heads; item: stops at the first comma. */
  scope?: 'list' | 'item';
  /** Family only: v3-RoleCode of the relative (MTH, FTH, SIS, BRO, FAMMEMB, ...). */
  relationship?: string;
  /** Words the scope may span between trigger and mention; overrides AssertionRules.maxScopeWords. */
  maxScopeWords?: number;
  /** Historical triggers: the Condition.clinicalStatus they state ("history of" -> inactive, "resolved" -> resolved). */
  clinicalStatus?: 'active' | 'inactive' | 'resolved';
  /** medication-status triggers: the MedicationStatement.status they state ("start" -> intended, "continue" -> active, even in a plan section). */
  medicationStatus?: 'stopped' | 'on-hold' | 'completed' | 'intended' | 'active';
  /** Allergy triggers: allergy or intolerance. */
  allergy?: 'allergy' | 'intolerance';
  /** Allergy triggers: criticality they state ("severe allergy to" -> high). */
  criticality?: 'low' | 'high';
}

export interface AssertionRules {
  /** Words a scope may span between trigger and mention (default: unlimited within the sentence). */
  maxScopeWords?: number;
  triggers: AssertionTrigger[];
  /** Phrases that contain a trigger but are not one ("no change", "gram negative"). */
  pseudo: string[];
  /** Phrases that end a trigger's scope ("but", "however"). */
  terminations: string[];
  /** Words that close a list ("and", "or", "nor"). */
  coordinators?: string[];
  /** Bracketed semantic tags of coded lists ("(finding)", "(disorder)"), without brackets. */
  semanticTags?: string[];
  /** Phrases that state no known allergy ("NKDA"): no resource. */
  noKnownAllergy?: string[];
  /** A mention made only of these words (stop words, lone qualifiers) is a fragment and dropped. */
  fragmentWords?: string[];
  /** Mentions that state a finding is absent or normal ("afebrile", "asymptomatic"): no Condition, dropped. */
  normalFindings?: string[];
  /**
   * Regular expressions (sources, case-insensitive) of notations that are no finding, test or drug
   * ("x3" a count, "G2P1" an obstetric history, "RA" in "on RA": how oxygen is given). A mention that
   * one of them matches exactly, at its place in the text (so lookbehinds see the words before it),
   * is dropped as notation.
   */
  notations?: string[];
  /** Labels of spans a trigger may overlap and still count ("every 8 hours [as needed] for nausea": the Frequency span holds part of "as needed for"). */
  triggersMayOverlap?: string[];
}

const RULES_FILE = new URL('./assertion-rules.json', import.meta.url);

let defaults: AssertionRules | undefined;

/** The shipped rules (src/nlp/assertion-rules.json). */
export function defaultAssertionRules(): AssertionRules {
  defaults ??= parseAssertionRules(JSON.parse(readFileSync(RULES_FILE, 'utf8')));
  return defaults;
}

const CATEGORIES = new Set<AssertionCategory>(['negated', 'uncertain', 'hypothetical', 'historical', 'family', 'allergy', 'medication-status']);
const DIRECTIONS = new Set(['forward', 'backward', 'both']);

/** Checks a rules object (e.g. read from a file) against schemas/assertion-rules.schema.json; throws Error naming the bad entry. */
export function parseAssertionRules(raw: unknown): AssertionRules {
  const r = raw as Partial<AssertionRules> | null;
  if (!r || !Array.isArray(r.triggers) || !Array.isArray(r.pseudo) || !Array.isArray(r.terminations)) {
    throw new MednerError('RULES_INVALID', 'assertion rules: expected { triggers: [], pseudo: [], terminations: [] }');
  }
  r.triggers.forEach((t, i) => {
    if (typeof t?.phrase !== 'string' || t.phrase.trim() === '') throw new MednerError('RULES_INVALID', `assertion rules: triggers[${i}].phrase must be a non-empty string`);
    if (!CATEGORIES.has(t.category)) throw new MednerError('RULES_INVALID', `assertion rules: triggers[${i}].category must be one of ${[...CATEGORIES].join(', ')}`);
    if (!DIRECTIONS.has(t.direction)) throw new MednerError('RULES_INVALID', `assertion rules: triggers[${i}].direction must be forward, backward or both`);
  });
  const limits = [r.maxScopeWords, ...r.triggers.map((t) => t.maxScopeWords)];
  if (limits.some((n) => n !== undefined && !(Number.isInteger(n) && n >= 0))) throw new MednerError('RULES_INVALID', 'assertion rules: maxScopeWords must be a non-negative integer');
  const validate = schemaValidator('assertion-rules.schema.json');
  if (!validate(raw)) throw new MednerError('RULES_INVALID', `assertion rules: ${schemaErrors(validate.errors).join('; ')}`);
  (r.notations ?? []).forEach((n, i) => {
    try {
      new RegExp(n, 'iuy');
    } catch (err) {
      throw new MednerError('RULES_INVALID', `assertion rules: notations[${i}] is not a regular expression: ${(err as Error).message}`);
    }
  });
  return r as AssertionRules;
}

type Match =
  | { kind: 'trigger'; start: number; end: number; trigger: AssertionTrigger }
  | { kind: 'pseudo' | 'termination' | 'nka'; start: number; end: number };

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
  coordinator: RegExp;
  tag: RegExp | undefined;
  fragment: Set<string>;
  notations: RegExp[];
  normal: Set<string>;
}

const compiled = new WeakMap<AssertionRules, CompiledRules>();

function compile(rules: AssertionRules): CompiledRules {
  const cached = compiled.get(rules);
  if (cached) return cached;
  const entries: { phrase: string; kind: Match['kind']; trigger?: AssertionTrigger }[] = [
    ...(rules.noKnownAllergy ?? []).map((phrase) => ({ phrase, kind: 'nka' as const })),
    ...rules.pseudo.map((phrase) => ({ phrase, kind: 'pseudo' as const })),
    ...rules.terminations.map((phrase) => ({ phrase, kind: 'termination' as const })),
    ...rules.triggers.map((trigger) => ({ phrase: trigger.phrase, kind: 'trigger' as const, trigger })),
  ];
  // Longest phrase first so that alternation prefers "family history of" over "history of".
  const order = entries.map((e, i) => i).sort((a, b) => entries[b]!.phrase.length - entries[a]!.phrase.length);
  const groups = order.map((i) => `(${phrasePattern(entries[i]!.phrase)})`);
  const regex = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${groups.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
  const kinds = order.map((i) => ({ kind: entries[i]!.kind, ...(entries[i]!.trigger ? { trigger: entries[i]!.trigger } : {}) }));
  const coords = rules.coordinators ?? ['and', 'or', 'nor'];
  const coordinator = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${coords.map(phrasePattern).join('|') || '(?!)'})(?![\\p{L}\\p{N}_])`, 'iu');
  const tags = rules.semanticTags ?? [];
  const tag = tags.length > 0 ? new RegExp(`\\(\\s*(?:${tags.map(phrasePattern).join('|')})\\s*\\)`, 'iu') : undefined;
  const c: CompiledRules = {
    regex,
    kinds,
    coordinator,
    tag,
    fragment: new Set((rules.fragmentWords ?? []).map((w) => w.toLowerCase())),
    normal: new Set((rules.normalFindings ?? []).map((w) => w.toLowerCase().replace(/\s+/g, ' '))),
    notations: (rules.notations ?? []).map((n) => new RegExp(`(?:${n})(?![\\p{L}\\p{N}])`, 'iuy')),
  };
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

/** Sentence/clause boundaries: [start, end) ranges of text; section headers also split. */
function sentenceRanges(text: string, sections: Section[]): [number, number][] {
  const cuts = new Set<number>();
  const boundary = /[.!?;](?=\s|$)|\r?\n/g;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) cuts.add(m.index + m[0].length);
  for (const s of sections) {
    cuts.add(s.headerStart);
    cuts.add(s.start);
  }
  const sorted = [...cuts].filter((c) => c > 0 && c < text.length).sort((a, b) => a - b);
  const out: [number, number][] = [];
  let start = 0;
  for (const c of sorted) {
    out.push([start, c]);
    start = c;
  }
  out.push([start, text.length]);
  return out;
}

function wordsIn(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}

function emptyAssertion(): Assertion {
  return { negated: false, uncertain: false, hypothetical: false, historical: false, experiencer: 'patient', triggers: [] };
}

/**
 * Whether a forward trigger's scope reaches over `gap` (the text between the
 * trigger and the mention). Without a comma: yes. An item-scoped trigger stops
 * at the first comma. A list closed by a coordinator ends at the next comma
 * ("denies A or B, C": not C). A trigger inside a list of coded items
 * (a comma before it in its sentence) stops at an item ending in a semantic
 * tag ("not in labor force (finding), CKD": not CKD).
 */
function forwardCrosses(c: CompiledRules, t: AssertionTrigger, gap: string, beforeTrigger: string): boolean {
  const lastComma = gap.lastIndexOf(',');
  if (lastComma < 0) return true;
  if (t.scope === 'item') return false;
  if (c.coordinator.test(gap.slice(0, lastComma))) return false;
  if (c.tag && beforeTrigger.includes(',') && c.tag.test(gap)) return false;
  return true;
}

/** A backward trigger reaches over a comma only when a coordinator follows the last comma ("A, B and C were negative") or nothing does ("pneumonia, now resolved"). */
function backwardCrosses(c: CompiledRules, t: AssertionTrigger, gap: string): boolean {
  const lastComma = gap.lastIndexOf(',');
  if (lastComma < 0) return true;
  if (t.scope === 'item') return false;
  if (c.tag?.test(gap)) return false;
  const after = gap.slice(lastComma + 1);
  // "pneumonia, now resolved": the trigger right after the comma speaks of what precedes it
  return wordsIn(after) === 0 || c.coordinator.test(after);
}

/** Whether a position is on a section's header line or on a list item line under it ("- ", "* ", "1. "). */
function inListOf(text: string, section: Section, pos: number): boolean {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  if (lineStart <= section.headerStart) return true;
  return /^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+/.test(text.slice(lineStart, pos));
}

/**
 * Mentions that must not become resources: header words, trigger words
 * ("Allergic" in "allergic to"), mentions inside a no-known-allergy phrase,
 * fragments (only punctuation, digits, stop words or a bracketed semantic tag), normal
 * findings ("afebrile": the absence of a finding is no Condition) and notations ("x3", "G2P1",
 * "RA" in "on RA").
 */
export function screenEntities<E extends Entity>(
  text: string,
  entities: E[],
  rules: AssertionRules = defaultAssertionRules(),
  sections: Section[] = findSections(text, defaultSectionRules()),
): { kept: E[]; dropped: { entity: E; reason: DropReason }[] } {
  const c = compile(rules);
  const matches = findMatches(text, rules);
  const kept: E[] = [];
  const dropped: { entity: E; reason: DropReason }[] = [];
  for (const e of entities) {
    const reason = dropReason(c, text, e, matches, sections);
    if (reason) dropped.push({ entity: e, reason });
    else kept.push(e);
  }
  return { kept, dropped };
}

function dropReason(c: CompiledRules, text: string, e: Entity, matches: Match[], sections: Section[]): DropReason | undefined {
  if (sections.some((s) => e.start < s.headerEnd && s.headerStart < e.end)) return 'header';
  if (matches.some((m) => m.kind === 'nka' && e.start < m.end && m.start < e.end)) return 'no-known-allergy';
  if (matches.some((m) => (m.kind === 'trigger' || m.kind === 'pseudo') && m.start <= e.start && e.end <= m.end)) return 'cue';
  const t = e.text.trim();
  if (c.normal.has(t.toLowerCase().replace(/\s+/g, ' '))) return 'normal-finding';
  const from = e.start + (e.text.length - e.text.trimStart().length);
  if (c.notations.some((re) => {
    re.lastIndex = from;
    return re.exec(text)?.[0].length === t.length;
  })) return 'notation';
  if (/^[\p{P}\p{S}\s]*$/u.test(t)) return 'punctuation';
  if (/^[\p{N}\p{P}\p{S}\s]*$/u.test(t)) return 'digits';
  const bare = t.replace(/^[\s([]+|[\s)\]]+$/g, '');
  const bracketed = /^\(.*\)$/.test(t) || (text[e.start - 1] === '(' && text[e.end] === ')');
  if (bracketed && c.tag?.test(`(${bare})`)) return 'semantic-tag';
  const words = t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length > 0 && words.every((w) => c.fragment.has(w) || /^\p{N}+$/u.test(w))) return 'stop-words';
  return undefined;
}

/**
 * Assigns negated / uncertain / hypothetical / historical / family, allergy,
 * medication status and section context to each entity. Triggers overlapping
 * an entity are ignored (the mention is not its own modifier). Offsets are
 * UTF-16 code units, as in Entity.
 */
export function detectAssertions(
  text: string,
  entities: Entity[],
  rules: AssertionRules = defaultAssertionRules(),
  sections: Section[] = findSections(text, defaultSectionRules()),
): AssertedEntity[] {
  const c = compile(rules);
  const overlapOk = new Set(rules.triggersMayOverlap ?? []);
  const matches = findMatches(text, rules).filter(
    (m) =>
      !entities.some((e) => !overlapOk.has(e.label) && m.start < e.end && e.start < m.end && !(m.start <= e.start && e.end <= m.end)) &&
      !sections.some((s) => m.start < s.headerEnd && s.headerStart < m.end),
  );
  const sentences = sentenceRanges(text, sections);
  const sentenceOf = (pos: number): [number, number] => sentences.find(([s, e]) => pos >= s && pos < e) ?? [0, text.length];

  return entities.map((entity) => {
    const assertion = emptyAssertion();
    const [sStart, sEnd] = sentenceOf(entity.start);
    const inSentence = matches.filter((m) => m.start >= sStart && m.end <= sEnd);
    const terminated = (from: number, to: number) => inSentence.some((x) => x.kind === 'termination' && x.start >= from && x.end <= to);
    for (const m of inSentence) {
      if (m.kind !== 'trigger') continue;
      if (m.start <= entity.start && entity.end <= m.end) continue; // the mention is the trigger word itself
      const t = m.trigger;
      const dir = t.direction;
      const maxWords = t.maxScopeWords ?? rules.maxScopeWords ?? Infinity;
      let applies = false;
      if ((dir === 'forward' || dir === 'both') && m.end <= entity.start) {
        const gap = text.slice(m.end, entity.start);
        applies = wordsIn(gap) <= maxWords && !terminated(m.end, entity.start) && forwardCrosses(c, t, gap, text.slice(sStart, m.start));
      }
      const forwardTaken = (): boolean =>
        entities.some((o) => {
          if (o.start < m.end || o.start >= sEnd) return false;
          const gap = text.slice(m.end, o.start);
          return wordsIn(gap) <= maxWords && !terminated(m.end, o.start) && forwardCrosses(c, t, gap, text.slice(sStart, m.start));
        });
      if (!applies && (dir === 'backward' || dir === 'both') && m.start >= entity.end && !(dir === 'both' && t.preferForward && forwardTaken())) {
        const gap = text.slice(entity.end, m.start);
        // The mention's own sig ("fluoxetine [20 mg] [daily], stopped due to ...") is part of the item.
        const sigEnd = Math.max(entity.end, ...(entity.attributes ?? []).filter((a) => a.start >= entity.end && a.end <= m.start).map((a) => a.end));
        const afterSig = text.slice(sigEnd, m.start);
        applies =
          wordsIn(gap) <= maxWords &&
          !terminated(entity.end, m.start) &&
          (backwardCrosses(c, t, gap) || (sigEnd > entity.end && t.scope === 'item' && /^\s*,\s*$/.test(afterSig)));
      }
      if (!applies) continue;
      switch (t.category) {
        case 'family':
          assertion.experiencer = 'family';
          // the nearest specific relative wins over a generic "family history"
          if (assertion.relationship === undefined || assertion.relationship === 'FAMMEMB') assertion.relationship = t.relationship ?? 'FAMMEMB';
          break;
        case 'allergy':
          assertion.allergy = t.allergy ?? 'allergy';
          if (t.criticality) assertion.criticality = t.criticality;
          break;
        case 'medication-status':
          if (t.medicationStatus) assertion.medicationStatus = t.medicationStatus;
          break;
        case 'historical':
          assertion.historical = true;
          // "resolved" is the more specific statement
          if (t.clinicalStatus && assertion.clinicalStatus !== 'resolved') assertion.clinicalStatus = t.clinicalStatus;
          break;
        default:
          assertion[t.category] = true;
      }
      const phrase = t.phrase.toLowerCase();
      if (!assertion.triggers.includes(phrase)) assertion.triggers.push(phrase);
    }
    const section = sectionAt(sections, entity.start);
    if (section) {
      assertion.section = section.id;
      // A list of vaccines is the header's line and the list items under it; prose after it is not.
      assertion.sectionContext = section.context === 'immunization' && !inListOf(text, section, entity.start) ? 'other' : section.context;
      switch (section.context) {
        case 'allergy':
          assertion.allergy ??= 'allergy';
          break;
        case 'historical':
          assertion.historical = true;
          break;
        case 'family':
          if (assertion.experiencer === 'patient') {
            assertion.experiencer = 'family';
            assertion.relationship ??= 'FAMMEMB';
          }
          break;
        case 'plan':
          assertion.medicationStatus ??= 'intended';
          break;
        default:
          break;
      }
    }
    return { ...entity, assertion };
  });
}

/**
 * The NLP rules over one document's entities, as the pipeline runs them after NER and attributes:
 * sections, then screening (dropped mentions keep their place, marked with why, and the neutral
 * assertion), then assertions on the rest. Same order as `entities`. The FHIR mapping
 * (src/fhir/document-output.ts) takes this output as it is.
 */
export function assertEntities(text: string, entities: readonly Entity[], rules: AssertionRules = defaultAssertionRules()): AssertedEntity[] {
  const sections = findSections(text);
  const screened = screenEntities(text, [...entities], rules, sections);
  const asserted = new Map<Entity, AssertedEntity>();
  detectAssertions(text, screened.kept, rules, sections).forEach((a, i) => asserted.set(screened.kept[i]!, a));
  const why = new Map(screened.dropped.map((d) => [d.entity, d.reason] as const));
  return entities.map((e) => asserted.get(e) ?? { ...e, assertion: emptyAssertion(), dropped: why.get(e)! });
}
