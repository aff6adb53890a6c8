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
  | 'immunization'
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
  /**
   * Words that make a header line of this section when no header of the list matches it: a line of
   * at most KEYWORD_HEADER_WORDS words ending in ':' (or the end of the line) that contains one of
   * them as a whole word ("Medications at home:", "Cardiology Consultation"). Sections are tried in
   * file order, so the first section with a matching keyword wins.
   */
  keywords?: string[];
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

/** Most words in a header line recognized by a keyword. */
export const KEYWORD_HEADER_WORDS = 5;

interface Compiled {
  regex: RegExp;
  rules: SectionRule[];
  /** A header-shaped line: optional markup, up to KEYWORD_HEADER_WORDS words, ':' or the end of the line. */
  lineHeader: RegExp;
  keywords: { rule: SectionRule; re: RegExp }[];
}

const compiled = new WeakMap<SectionRules, Compiled>();
const escape = (w: string): string => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function compile(rules: SectionRules): Compiled {
  const c = compiled.get(rules);
  if (c) return c;
  const entries = rules.sections.flatMap((rule) => rule.headers.map((h) => ({ h, rule })));
  entries.sort((a, b) => b.h.length - a.h.length);
  const alt = entries.map(({ h }) => `(${h.trim().split(/\s+/).map(escape).join('[ \\t]+')})`).join('|');
  // line start, optional markup ("#", "##", "*", "**", "1.", "-"), the header, optional markup, then ':' or the end of the line
  const regex = new RegExp(`^[ \\t]*(?:#{1,6}[ \\t]*|\\*{1,2}[ \\t]*|\\d{1,2}[.)][ \\t]*)?(?:${alt})[ \\t]*\\*{0,2}[ \\t]*(?::|(?=\\r?$))`, 'gimu');
  const word = String.raw`\p{L}[\p{L}\p{N}'&/-]*`;
  const lineHeader = new RegExp(
    String.raw`^[ \t]*(?:#{1,6}[ \t]*|\*{1,2}[ \t]*|\d{1,2}[.)][ \t]*)?(${word}(?:[ \t]+${word}){0,${KEYWORD_HEADER_WORDS - 1}})[ \t]*\*{0,2}[ \t]*(?::|(?=\r?$))`,
    'gimu',
  );
  const keywords = rules.sections
    .filter((r) => r.keywords && r.keywords.length > 0)
    .map((rule) => ({ rule, re: new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${rule.keywords!.map((k) => k.trim().split(/\s+/).map(escape).join('[ \\t]+')).join('|')})(?![\p{L}\p{N}])`, 'iu') }));
  const out = { regex, rules: entries.map((e) => e.rule), lineHeader, keywords };
  compiled.set(rules, out);
  return out;
}

/** The recognized sections of a text, in order. */
export function findSections(text: string, rules: SectionRules = defaultSectionRules()): Section[] {
  const { regex, rules: byGroup, lineHeader, keywords } = compile(rules);
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
  // Header lines the list does not name, recognized by a keyword of a section.
  if (keywords.length > 0) {
    const listed = new Set(heads.map((h) => lineStart(text, h.headerStart)));
    lineHeader.lastIndex = 0;
    for (let m = lineHeader.exec(text); m !== null; m = lineHeader.exec(text)) {
      if (m[0].length === 0) {
        lineHeader.lastIndex++;
        continue;
      }
      const words = m[1]!;
      const headerStart = m.index + m[0].indexOf(words);
      if (listed.has(lineStart(text, headerStart))) continue;
      const rule = keywords.find((k) => k.re.test(words))?.rule;
      if (rule) heads.push({ id: rule.id, context: rule.context, headerStart, headerEnd: headerStart + words.length, start: m.index + m[0].length });
    }
    heads.sort((a, b) => a.headerStart - b.headerStart);
  }
  return heads.map((h, i) => ({ ...h, end: heads[i + 1]?.headerStart ?? text.length }));
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
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
