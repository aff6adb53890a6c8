/**
 * The terminology tables (terminology/*.tsv.gz, built by `npm run terminology:build`), loaded once
 * and indexed for the linker: ICD-10-CM codes with their display, MeSH/OMIM names by label, and the
 * MeSH -> ICD-10-CM bridge from the Disease Ontology.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { MednerError } from '../../core/errors.ts';
import { applyClinicalAliases, defaultClinicalAliases, type ClinicalAlias } from './aliases.ts';
import { bagKey, bagOf, canonKey, charGrams, exactKey, negated, term, words } from './normalize.ts';

/**
 * MeSH: the preferred URI of hl7.terminology.r4 7.0.1 NamingSystem-MeSH ("Official canonical URL going
 * forward", since 2021-06-29; http://terminology.hl7.org/CodeSystem/MSH is kept there only for backward
 * compatibility). See src/fhir/README.md.
 */
export const MESH_SYSTEM = 'https://www.nlm.nih.gov/mesh';
/** MeSH descriptor (D...) and supplementary concept (C...) ids; OMIM ids (NCBI-disease) are not emitted (hl7.terminology.r4 names no OMIM system). */
export const isMeshId = (id: string): boolean => /^[CD]\d{6,9}$/.test(id);

/** The committed tables. */
export const DEFAULT_TABLES_DIR = fileURLToPath(new URL('../../../terminology/', import.meta.url));

export interface Manifest {
  format: number;
  version: string;
  icd10cm: { system: string; version: string };
  [k: string]: unknown;
}

/** A name's ids with weights (training mentions + 2 per Disease Ontology label). */
export type IdWeights = Map<string, number>;

export interface FuzzyIndex {
  /** name index -> its ids with weights */
  names: IdWeights[];
  keys: string[];
  /** gram -> [name index, tf-idf weight] pairs (flat) */
  postings: Map<string, Float64Array>;
  /** gram -> idf */
  idf: Map<string, number>;
  /** name index -> 1 when the name has a negation word ("non-insulin-dependent") */
  negated: Uint8Array;
}

export interface LabelDictionary {
  exact: Map<string, IdWeights>;
  bag: Map<string, IdWeights>;
  canon: Map<string, IdWeights>;
  fuzzy: FuzzyIndex;
}

export interface IcdEntry {
  code: string;
  display: string;
  billable: boolean;
}

export interface IcdMatch {
  code: string;
  /** 0 = the full description, 1 = without parentheses, 2 = without "unspecified"/"without complications" */
  variant: number;
  /** Variant 2 reached by dropping "not elsewhere classified": loses a tie to an "unspecified" one. */
  nec?: boolean;
}

export interface TerminologyTables {
  manifest: Manifest;
  icd: Map<string, IcdEntry>;
  icdExact: Map<string, IcdMatch>;
  icdBag: Map<string, IcdMatch>;
  /** MeSH id -> ICD-10-CM codes (sorted) */
  bridge: Map<string, string[]>;
  dictionaries: Map<'Disease' | 'Chemical', LabelDictionary>;
}

/** The rows of a committed table (header dropped), split on tabs. */
export function readTable(dir: string, name: string): string[][] {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = gunzipSync(readFileSync(file)).toString('utf8');
  } catch (err) {
    throw new MednerError('TERMINOLOGY_INVALID', `terminology table ${file} cannot be read (run npm run terminology:build)`, { cause: err });
  }
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

const UNSPEC = [/,\s*unspecified organism$/i, /,\s*unspecified\b/gi, /^unspecified\s+/i, /,\s*not elsewhere classified/gi, /,?\s*not otherwise specified/gi, /\s+without complications?$/i, /,\s*uncomplicated$/i];

const NEC = /not elsewhere classified/i;
const MANIFESTATION = /in diseases classified elsewhere/i;

/** An ICD-10-CM display as the linker indexes it: whole, without parentheses, without "unspecified" and the like. */
export function icdVariants(display: string): string[] {
  const noParen = display.replace(/\s*\([^()]*\)/g, '').trim();
  let bare = noParen;
  for (const re of UNSPEC) bare = bare.replace(re, '');
  return [display, noParen, bare.trim()];
}

function better(a: IcdMatch | undefined, b: IcdMatch): boolean {
  if (!a) return true;
  if (b.variant !== a.variant) return b.variant < a.variant;
  // "Pain, unspecified" (R52) is what a bare "pain" means, not "Pain, not elsewhere classified" (G89).
  if (Boolean(b.nec) !== Boolean(a.nec)) return !b.nec;
  if (b.code.length !== a.code.length) return b.code.length < a.code.length;
  return b.code < a.code;
}

function addWeight(m: Map<string, IdWeights>, key: string, id: string, w: number): void {
  if (!key) return;
  let ids = m.get(key);
  if (!ids) m.set(key, (ids = new Map()));
  ids.set(id, (ids.get(id) ?? 0) + w);
}

function buildFuzzy(exact: Map<string, IdWeights>): FuzzyIndex {
  const keys = [...exact.keys()].sort();
  const names = keys.map((k) => exact.get(k)!);
  const df = new Map<string, number>();
  const grams = keys.map((k) => {
    const tf = new Map<string, number>();
    for (const g of charGrams(k)) tf.set(g, (tf.get(g) ?? 0) + 1);
    for (const g of tf.keys()) df.set(g, (df.get(g) ?? 0) + 1);
    return tf;
  });
  const n = keys.length;
  const idf = new Map<string, number>();
  for (const [g, d] of df) idf.set(g, Math.log((n + 1) / (d + 1)) + 1);
  const lists = new Map<string, number[]>();
  grams.forEach((tf, i) => {
    let norm = 0;
    for (const [g, c] of tf) norm += (c * idf.get(g)!) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (const [g, c] of tf) {
      let l = lists.get(g);
      if (!l) lists.set(g, (l = []));
      l.push(i, (c * idf.get(g)!) / norm);
    }
  });
  const postings = new Map<string, Float64Array>();
  for (const [g, l] of lists) postings.set(g, Float64Array.from(l));
  return { names, keys, postings, idf, negated: Uint8Array.from(keys, (k) => (negated(k) ? 1 : 0)) };
}

/** The table format this loader reads (scripts/terminology-build.ts TABLES_FORMAT). 2: composite names (ids joined by "|"). */
export const TABLES_FORMAT = 2;

/**
 * Loads a folder's tables, with the clinical aliases (default: the shipped
 * src/nlp/linking/clinical-aliases.json; see aliases.ts) applied.
 */
export function loadTerminology(dir: string = DEFAULT_TABLES_DIR, aliases: readonly ClinicalAlias[] = defaultClinicalAliases()): TerminologyTables {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    throw new MednerError('TERMINOLOGY_INVALID', `terminology manifest ${path.join(dir, 'manifest.json')} cannot be read (run npm run terminology:build)`, { cause: err });
  }
  if (manifest.format !== TABLES_FORMAT) throw new MednerError('TERMINOLOGY_INVALID', `terminology tables in ${dir} have format ${manifest.format}, this linker reads ${TABLES_FORMAT} (run npm run terminology:build)`);
  const icd = new Map<string, IcdEntry>();
  const icdExact = new Map<string, IcdMatch>();
  const icdBag = new Map<string, IcdMatch>();
  for (const [code, billable, display] of readTable(dir, 'icd10cm.tsv.gz')) {
    icd.set(code!, { code: code!, display: display!, billable: billable === '1' });
    // Names are indexed down to 6 characters (E11.65); the 7th character only adds the encounter or
    // episode (S72.001A "..., initial encounter for closed fracture"), which a mention does not name.
    if (code!.length > 7) continue;
    let last = '';
    icdVariants(display!).forEach((v, variant) => {
      if (v === last) return;
      last = v;
      const m = { code: code!, variant, ...(variant === 2 && NEC.test(display!) ? { nec: true } : {}) };
      const ws = words(v).map(term);
      const ek = ws.join(' ');
      if (ek && better(icdExact.get(ek), m)) icdExact.set(ek, m);
      const bk = bagOf(ws);
      if (bk && better(icdBag.get(bk), m)) icdBag.set(bk, m);
    });
  }
  const bridgeSets = new Map<string, Set<string>>();
  for (const [mesh, code] of readTable(dir, 'mesh-icd10cm.tsv.gz')) {
    // A manifestation code ("Glomerular disorders in diseases classified elsewhere", N08) is never a
    // diagnosis on its own (ICD-10-CM: code first the underlying disease); Disease Ontology's
    // cross-references give four of them for general MeSH terms such as Kidney Diseases.
    if (!icd.has(code!) || MANIFESTATION.test(icd.get(code!)!.display)) continue;
    let s = bridgeSets.get(mesh!);
    if (!s) bridgeSets.set(mesh!, (s = new Set()));
    s.add(code!);
  }
  const bridge = new Map([...bridgeSets].map(([k, v]) => [k, [...v].sort()]));
  const exact = { Disease: new Map<string, IdWeights>(), Chemical: new Map<string, IdWeights>() };
  const bag = { Disease: new Map<string, IdWeights>(), Chemical: new Map<string, IdWeights>() };
  const canon = { Disease: new Map<string, IdWeights>(), Chemical: new Map<string, IdWeights>() };
  for (const [id, label, term, mentions, fromDo] of readTable(dir, 'mesh-terms.tsv.gz')) {
    const l = label === 'Chemical' ? 'Chemical' : 'Disease';
    // OMIM ids (NCBI-disease) weigh half: MeSH is what we emit, and most corpora use it.
    const w = (Number(mentions) + (fromDo === '1' ? 2 : 0)) * (id!.startsWith('OMIM:') ? 0.5 : 1);
    addWeight(exact[l], exactKey(term!), id!, w);
    addWeight(bag[l], bagKey(term!), id!, w);
    addWeight(canon[l], canonKey(term!), id!, w);
  }
  const dictionaries = new Map<'Disease' | 'Chemical', LabelDictionary>();
  for (const l of ['Disease', 'Chemical'] as const) dictionaries.set(l, { exact: exact[l], bag: bag[l], canon: canon[l], fuzzy: buildFuzzy(exact[l]) });
  return applyClinicalAliases({ manifest, icd, icdExact, icdBag, bridge, dictionaries }, aliases);
}

let shared: { dir: string; tables: TerminologyTables } | undefined;
/** The tables of a folder, loaded once per process. */
export function sharedTerminology(dir: string = DEFAULT_TABLES_DIR): TerminologyTables {
  if (!shared || shared.dir !== dir) shared = { dir, tables: loadTerminology(dir) };
  return shared.tables;
}
