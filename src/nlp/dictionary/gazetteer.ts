/**
 * A disorder dictionary (gazetteer) for the NLP stage, as cTAKES and MetaMap match a dictionary: the
 * names come from the committed terminology tables (terminology/, built by scripts/terminology-build.ts)
 * and are normalized exactly as the linker normalizes names (src/nlp/linking/normalize.ts: case,
 * accents, possessives, punctuation, plurals, British spelling, roman numerals after "type"). Which
 * sources give names and which names are never matched (stop list, minimum length) are data:
 * src/nlp/dictionary/disorder-dictionary.json (schemas/disorder-dictionary.schema.json).
 *
 * Matching is pure: a token trie over the normalized words, leftmost-longest match, whole words only,
 * never across punctuation that ends a phrase (. , ; : ! ? parentheses, brackets, line breaks).
 */
import { readFileSync } from 'node:fs';
import { schemaErrors, schemaValidator } from '../../core/json-schema.ts';
import { MednerError } from '../../core/errors.ts';
import { defaultClinicalAliases, type ClinicalAlias } from '../linking/aliases.ts';
import { arabic, term, words } from '../linking/normalize.ts';
import { DEFAULT_TABLES_DIR, icdVariants, readTable } from '../linking/tables.ts';

export interface DictionaryRules {
  $comment?: string;
  sources: {
    /** Disease names of the BC5CDR/NCBI-disease train+dev mentions seen at least this many times (omit: none). */
    trainingMentions?: { minMentions: number };
    /** Disease Ontology labels. */
    diseaseOntology?: boolean;
    /** ICD-10-CM names (the linker's variants) of codes whose first letter is one of these chapters. */
    icd10cm?: { chapters: string[]; maxCodeLength?: number };
  };
  /** Names (after normalization) of fewer characters are never matched. */
  minChars: number;
  /** Names of fewer words are never matched (1: single words allowed). */
  minWords: number;
  /** Single-word names must have at least this many characters. */
  minCharsSingleWord: number;
  /** Single-word names ending so are never matched (adjectives and gerunds: "diabetic", "bleeding"). */
  singleWordExcludeSuffixes?: string[];
  /** Names that ICD-10-CM gives a code of these chapters (R: symptoms and signs) are never matched, whatever source gives them. */
  excludeIcdChapters?: string[];
  /** Names never matched, written as in text; normalized like the dictionary. */
  exclude: { names: string[]; $comment?: string }[];
}

const RULES_FILE = new URL('./disorder-dictionary.json', import.meta.url);

/** Validates against schemas/disorder-dictionary.schema.json; throws MednerError RULES_INVALID. */
export function parseDictionaryRules(raw: unknown, source = 'dictionary rules'): DictionaryRules {
  const validate = schemaValidator('disorder-dictionary.schema.json');
  if (!validate(raw)) throw new MednerError('RULES_INVALID', `${source} are invalid:\n  ${schemaErrors(validate.errors).join('\n  ')}`);
  return raw as DictionaryRules;
}

let defaultRules: DictionaryRules | undefined;
/** The shipped rules (src/nlp/dictionary/disorder-dictionary.json). */
export function defaultDictionaryRules(): DictionaryRules {
  defaultRules ??= parseDictionaryRules(JSON.parse(readFileSync(RULES_FILE, 'utf8')), RULES_FILE.pathname);
  return defaultRules;
}

/** A name as the dictionary keys it: the linker's normalized words. */
export function nameKey(name: string): string[] {
  return words(name).map(term);
}

interface TrieNode {
  next?: Map<string, TrieNode>;
  /** Set when a name ends here. */
  end?: true;
}

export class Gazetteer {
  private readonly root: TrieNode = {};
  /** Distinct names. */
  size = 0;

  /** Adds a name given as normalized words. */
  addKey(key: readonly string[]): void {
    if (key.length === 0) return;
    let n = this.root;
    for (const w of key) {
      n.next ??= new Map();
      let c = n.next.get(w);
      if (!c) n.next.set(w, (c = {}));
      n = c;
    }
    if (!n.end) this.size++;
    n.end = true;
  }

  has(key: readonly string[]): boolean {
    let n: TrieNode | undefined = this.root;
    for (const w of key) n = n?.next?.get(w);
    return n?.end === true;
  }

  /** Leftmost-longest matches in the text: [start, end) character offsets, not overlapping, in order. */
  match(text: string): { start: number; end: number }[] {
    const toks = tokenize(text);
    const out: { start: number; end: number }[] = [];
    let i = 0;
    while (i < toks.length) {
      let n: TrieNode | undefined = this.root;
      let last = -1;
      for (let j = i; j < toks.length; j++) {
        if (j > i && toks[j]!.breakBefore) break;
        n = n.next?.get(toks[j]!.norm);
        if (!n) break;
        if (n.end) last = j;
      }
      if (last >= 0) {
        out.push({ start: toks[i]!.start, end: toks[last]!.end });
        i = last + 1;
      } else i++;
    }
    return out;
  }
}

export interface Token {
  start: number;
  end: number;
  /** The word as the dictionary keys it. */
  norm: string;
  /** Punctuation that ends a phrase lies between this token and the one before. */
  breakBefore: boolean;
}

const WORD = /[\p{L}\p{N}]+/gu;
const BREAK = /[.,;:!?()[\]{}\n\r]/;
const ASCII_WORD = /^[A-Za-z0-9]+$/;

/**
 * The text's words with offsets, normalized as `words()` + `term()` normalize a name: a possessive
 * "'s" is no word, a word with a Greek letter gives its Latin name(s), roman numerals after "type"
 * become numbers.
 */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let prevRaw: string | undefined;
  let prevEnd = 0;
  for (const m of text.matchAll(WORD)) {
    const start = m.index;
    const end = start + m[0].length;
    const gap = text.slice(prevEnd, start);
    // "Crohn's": the "s" after an apostrophe is the possessive, not a word
    if ((m[0] === 's' || m[0] === 'S') && /^['\u2019`]$/.test(gap) && out.length > 0 && out[out.length - 1]!.end === start - 1) {
      prevEnd = end;
      continue;
    }
    const breakBefore = BREAK.test(gap);
    const ws = ASCII_WORD.test(m[0]) ? [m[0].toLowerCase()] : words(m[0]);
    ws.forEach((w, k) => {
      const raw = k === 0 && prevRaw !== undefined ? arabic(prevRaw, w) : w;
      out.push({ start, end, norm: term(raw), breakBefore: k === 0 && breakBefore });
      prevRaw = w;
    });
    prevEnd = end;
  }
  return out;
}

/** The exclusion keys of the rules, joined by spaces: the names listed, and the names of the excluded ICD-10-CM chapters. */
function excludedKeys(rules: DictionaryRules, dir?: string): Set<string> {
  const out = new Set(rules.exclude.flatMap((e) => e.names).map((n) => nameKey(n).join(' ')));
  const chapters = new Set(rules.excludeIcdChapters ?? []);
  if (chapters.size > 0 && dir !== undefined) {
    for (const [code, , display] of readTable(dir, 'icd10cm.tsv.gz')) {
      if (chapters.has(code!.charAt(0))) for (const v of icdVariants(display!)) out.add(nameKey(v).join(' '));
    }
  }
  return out;
}

/** Whether the rules let a name (normalized words) into the dictionary. */
export function admits(rules: DictionaryRules, key: readonly string[], excluded: Set<string> = excludedKeys(rules)): boolean {
  if (key.length < rules.minWords || key.length === 0) return false;
  const joined = key.join(' ');
  if (joined.length < rules.minChars) return false;
  if (key.length === 1 && joined.length < rules.minCharsSingleWord) return false;
  if (key.length === 1 && rules.singleWordExcludeSuffixes?.some((s) => joined.endsWith(s))) return false;
  // "1", "2 3": no name of digits alone
  if (key.every((w) => /^\d+$/.test(w))) return false;
  return !excluded.has(joined);
}

/**
 * Builds the dictionary from the committed tables of a terminology folder, plus the clinical aliases
 * marked `dictionary: true` (src/nlp/linking/clinical-aliases.json): those are chosen one by one, so
 * the length and suffix rules do not apply to them; the stop list and excluded chapters do.
 */
export function buildGazetteer(dir: string = DEFAULT_TABLES_DIR, rules: DictionaryRules = defaultDictionaryRules(), aliases: readonly ClinicalAlias[] = defaultClinicalAliases()): Gazetteer {
  const g = new Gazetteer();
  const excluded = excludedKeys(rules, dir);
  const add = (name: string): void => {
    const key = nameKey(name);
    if (admits(rules, key, excluded)) g.addKey(key);
  };
  const { trainingMentions, diseaseOntology, icd10cm } = rules.sources;
  if (trainingMentions || diseaseOntology) {
    for (const [, label, name, mentions, fromDo] of readTable(dir, 'mesh-terms.tsv.gz')) {
      if (label !== 'Disease') continue;
      const byMentions = trainingMentions !== undefined && Number(mentions) >= trainingMentions.minMentions;
      const byDo = diseaseOntology === true && fromDo === '1';
      if (byMentions || byDo) add(name!);
    }
  }
  if (icd10cm) {
    const chapters = new Set(icd10cm.chapters.map((c) => c.toUpperCase()));
    const maxLen = icd10cm.maxCodeLength ?? 7;
    for (const [code, , display] of readTable(dir, 'icd10cm.tsv.gz')) {
      if (!chapters.has(code!.charAt(0)) || code!.length > maxLen) continue;
      for (const v of icdVariants(display!)) add(v);
    }
  }
  for (const a of aliases) {
    if (!a.dictionary) continue;
    const key = nameKey(a.alias);
    if (key.length > 0 && !excluded.has(key.join(' '))) g.addKey(key);
  }
  return g;
}

let shared: { dir: string; rules: DictionaryRules; g: Gazetteer } | undefined;
/** The dictionary of a terminology folder under the shipped rules, built once per process. */
export function sharedGazetteer(dir: string = DEFAULT_TABLES_DIR): Gazetteer {
  const rules = defaultDictionaryRules();
  if (!shared || shared.dir !== dir || shared.rules !== rules) shared = { dir, rules, g: buildGazetteer(dir, rules) };
  return shared.g;
}
