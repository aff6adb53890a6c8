import { readFileSync } from 'node:fs';
import { MednerError } from '../core/errors.ts';
import { schemaErrors, schemaValidator } from '../core/json-schema.ts';

/**
 * Section headers of clinical notes as data (src/nlp/sections.json, schema
 * schemas/sections.schema.json). Pure: findSections(text) gives the header
 * spans and the range each section covers, in UTF-16 offsets.
 */

export type SectionContext =
  | 'allergy'
  | 'medications'
  | 'historical'
  | 'family'
  | 'plan'
  | 'performed'
  | 'social'
  | 'review-of-systems'
  | 'assessment'
  | 'present-illness'
  | 'chief-complaint'
  | 'other';

export interface SectionRule {
  id: string;
  context: SectionContext;
  headers: string[];
}

export interface SectionRules {
  sections: SectionRule[];
}

export interface Section {
  id: string;
  context: SectionContext;
  /** The header's span (the words only, without markup or colon). */
  headerStart: number;
  headerEnd: number;
  /** The section's body: from after the header line's colon to the next header (or the end of the text). */
  start: number;
  end: number;
}

const RULES_FILE = new URL('./sections.json', import.meta.url);
let defaults: SectionRules | undefined;

/** Validates a section rules object against schemas/sections.schema.json; throws MednerError RULES_INVALID. */
export function parseSectionRules(raw: unknown, source = 'section rules'): SectionRules {
  const validate = schemaValidator('sections.schema.json');
  if (!validate(raw)) throw new MednerError('RULES_INVALID', `${source} are invalid:\n  ${schemaErrors(validate.errors).join('\n  ')}`);
  return raw as SectionRules;
}

/** The shipped section rules. */
export function defaultSectionRules(): SectionRules {
  defaults ??= parseSectionRules(JSON.parse(readFileSync(RULES_FILE, 'utf8')), 'src/nlp/sections.json');
  return defaults;
}

const compiled = new WeakMap<SectionRules, { regex: RegExp; rules: SectionRule[] }>();

function compile(rules: SectionRules): { regex: RegExp; rules: SectionRule[] } {
  const c = compiled.get(rules);
  if (c) return c;
  const entries = rules.sections.flatMap((rule) => rule.headers.map((h) => ({ h, rule })));
  entries.sort((a, b) => b.h.length - a.h.length);
  const alt = entries.map(({ h }) => `(${h.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('[ \\t]+')})`).join('|');
  // line start, optional markup ("#", "##", "*", "**", "1.", "-"), the header, optional markup, then ':' or the end of the line
  const regex = new RegExp(`^[ \\t]*(?:#{1,6}[ \\t]*|\\*{1,2}[ \\t]*|\\d{1,2}[.)][ \\t]*)?(?:${alt})[ \\t]*\\*{0,2}[ \\t]*(?::|(?=\\r?$))`, 'gimu');
  const out = { regex, rules: entries.map((e) => e.rule) };
  compiled.set(rules, out);
  return out;
}

/** The recognized sections of a text, in order. */
export function findSections(text: string, rules: SectionRules = defaultSectionRules()): Section[] {
  const { regex, rules: byGroup } = compile(rules);
  const heads: Omit<Section, 'end'>[] = [];
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    const g = m.findIndex((v, i) => i > 0 && v !== undefined);
    if (g < 1) continue;
    const words = m[g]!;
    const headerStart = m.index + m[0].indexOf(words);
    const rule = byGroup[g - 1]!;
    heads.push({ id: rule.id, context: rule.context, headerStart, headerEnd: headerStart + words.length, start: m.index + m[0].length });
    if (m[0].length === 0) regex.lastIndex++;
  }
  return heads.map((h, i) => ({ ...h, end: heads[i + 1]?.headerStart ?? text.length }));
}

/** The section a position lies in (its body or its header), or undefined before the first header. */
export function sectionAt(sections: Section[], pos: number): Section | undefined {
  let found: Section | undefined;
  for (const s of sections) {
    if (s.headerStart <= pos) found = s;
    else break;
  }
  return found && pos < found.end ? found : undefined;
}
