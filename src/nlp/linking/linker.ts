/**
 * The terminology linker: pure and deterministic. A mention (text, label, the document's abbreviations)
 * becomes ranked MeSH/OMIM candidates per concept (composite mentions give several), plus an ICD-10-CM
 * code for diseases. Sieves, first hit wins:
 *   1. exact name (after normalization: case, accents, punctuation, plurals), then word order;
 *   2. the same with the document's abbreviations expanded ("CKD" -> "chronic kidney disease");
 *   3. composite mentions ("breast and ovarian cancer") split into parts, each linked by 1-2 and 4;
 *   4. fuzzy: character trigram TF-IDF cosine against every name of the label.
 * Scores: exact 0.9-1.0, word order 0.85-0.95 (by how many training mentions agree), fuzzy 0.85 x cosine.
 * Ties break by weight, then id, so the output depends only on the input and the tables.
 */
import type { AbbreviationMap } from './abbreviations.ts';
import { expandAbbreviations } from './abbreviations.ts';
import { splitComposite } from './composite.ts';
import { bagKey, canonKey, charGrams, conjugate, exactKey, negated, withoutCause, withoutSalt } from './normalize.ts';
import type { IdWeights, LabelDictionary, TerminologyTables } from './tables.ts';

export type LinkLabel = 'Disease' | 'Chemical';
export type Via = 'exact' | 'word-order' | 'synonym' | 'abbreviation' | 'fuzzy';

export interface Candidate {
  id: string;
  score: number;
  via: Via;
}

export interface LinkPart {
  /** The text that was looked up (after abbreviation expansion / composite split). */
  text: string;
  candidates: Candidate[];
}

export interface LinkResult {
  parts: LinkPart[];
  composite: boolean;
}

export interface IcdLink {
  code: string;
  display: string;
  score: number;
  via: 'exact' | 'word-order' | 'bridge';
}

const EXACT_BASE = 0.9;
const BAG_BASE = 0.85;
const CANON_BASE = 0.75;
const FUZZY_MAX = 0.85;

function rank(ids: IdWeights, base: number, via: Via): Candidate[] {
  let total = 0;
  for (const w of ids.values()) total += w;
  const out = [...ids].map(([id, w]) => ({ id, w, score: base + 0.1 * (total > 0 ? w / total : 1 / ids.size), via }));
  out.sort((a, b) => b.score - a.score || b.w - a.w || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out.map(({ id, score, via: v }) => ({ id, score: round(score), via: v }));
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
/** A composite mention remembered whole: its ids joined by "|". */
const isComposite = (id: string): boolean => id.includes('|');
const singles = (cs: Candidate[]): Candidate[] => (cs.some((c) => isComposite(c.id)) ? cs.filter((c) => !isComposite(c.id)) : cs);

/** ICD-10-CM chapter XVII, congenital malformations, deformations and chromosomal abnormalities. */
const CONGENITAL_CHAPTER = /^Q/;
const CONGENITAL_WORDS = /\b(?:congenital|congenitally|inborn|inherited|hereditary|familial|since birth|at birth|neonatal|infantile)\b/i;

export class Linker {
  readonly tables: TerminologyTables;
  constructor(tables: TerminologyTables) {
    this.tables = tables;
  }

  private dict(label: LinkLabel): LabelDictionary {
    return this.tables.dictionaries.get(label)!;
  }

  /**
   * Sieve 1: exact, word-order, then synonym key; when none hits, the same for the name without its
   * salt words or as its acid/conjugate base (chemicals: "metformin hydrochloride", "uric acid" = urate),
   * or without its cause (diseases: "cocaine-induced seizures"), scored as the sieve that found it.
   */
  lookup(text: string, label: LinkLabel, via?: Via): Candidate[] {
    const found = this.lookupKeys(text, label, via);
    if (found.length > 0) return found;
    const variants = label === 'Chemical' ? [withoutSalt(text), conjugate(text)] : [withoutCause(text)];
    for (const v of variants) {
      const hit = v ? this.lookupKeys(v, label, via) : [];
      if (hit.length > 0) return hit;
    }
    return [];
  }

  private lookupKeys(text: string, label: LinkLabel, via?: Via): Candidate[] {
    const d = this.dict(label);
    const ek = exactKey(text);
    if (!ek) return [];
    const e = d.exact.get(ek);
    if (e) return rank(e, EXACT_BASE, via ?? 'exact');
    const b = d.bag.get(bagKey(text));
    if (b) return rank(b, BAG_BASE, via ?? 'word-order');
    const ck = canonKey(text);
    const c = ck ? d.canon.get(ck) : undefined;
    if (c) return rank(c, CANON_BASE, via ?? 'synonym');
    // "hyper-tension", "beta-blocker": the hyphen may also join one word
    if (/\p{L}-\p{L}/u.test(text)) {
      const joined = d.exact.get(exactKey(text.replace(/(\p{L})-(?=\p{L})/gu, '$1')));
      if (joined) return rank(joined, EXACT_BASE, via ?? 'exact');
    }
    return [];
  }

  /** Sieve 4: character trigram TF-IDF cosine; the best `k` ids (an id scores its best name). */
  fuzzy(text: string, label: LinkLabel, k = 5): Candidate[] {
    const f = this.dict(label).fuzzy;
    const key = exactKey(text);
    if (!key) return [];
    const tf = new Map<string, number>();
    for (const g of charGrams(key)) tf.set(g, (tf.get(g) ?? 0) + 1);
    const maxIdf = Math.log(f.keys.length + 1) + 1;
    let norm = 0;
    const q: [string, number][] = [];
    for (const [g, c] of tf) {
      const w = c * (f.idf.get(g) ?? maxIdf);
      norm += w * w;
      q.push([g, w]);
    }
    norm = Math.sqrt(norm) || 1;
    const acc = new Map<number, number>();
    for (const [g, w] of q) {
      const p = f.postings.get(g);
      if (!p) continue;
      const qw = w / norm;
      for (let i = 0; i < p.length; i += 2) acc.set(p[i]!, (acc.get(p[i]!) ?? 0) + qw * p[i + 1]!);
    }
    const best = new Map<string, { s: number; w: number }>();
    const neg = negated(key) ? 1 : 0;
    for (const [ni, s] of acc) {
      if (f.negated[ni] !== neg) continue;
      for (const [id, w] of f.names[ni]!) {
        const cur = best.get(id);
        if (!cur || s > cur.s || (s === cur.s && w > cur.w)) best.set(id, { s, w });
      }
    }
    const out = [...best].map(([id, { s, w }]) => ({ id, s: Math.min(1, s), w }));
    out.sort((a, b) => b.s - a.s || b.w - a.w || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return out.slice(0, k).map(({ id, s }) => ({ id, score: round(FUZZY_MAX * s), via: 'fuzzy' as const }));
  }

  /** Sieves 1, 2 and 4 for one concept. */
  private single(text: string, label: LinkLabel, abbr: AbbreviationMap | undefined, k: number): LinkPart {
    // A short form the document defines means what the document says ("DM" after "diabetes mellitus
    // (DM)"), whatever it meant in the training abstracts: the expansion is looked up first.
    const expanded = abbr ? expandAbbreviations(text, abbr) : text;
    if (expanded !== text) {
      const viaAbbr = this.lookup(expanded, label, 'abbreviation');
      if (viaAbbr.length > 0) return { text: expanded, candidates: viaAbbr.slice(0, k) };
    }
    const direct = this.lookup(text, label);
    if (direct.length > 0) return { text, candidates: direct.slice(0, k) };
    return { text: expanded, candidates: this.fuzzy(expanded, label, k) };
  }

  /** Ranked candidates for a mention; several parts for a composite mention. */
  link(text: string, label: LinkLabel, abbr?: AbbreviationMap, k = 5): LinkResult {
    const whole = this.single(text, label, abbr, k);
    const first = whole.candidates[0];
    // a name the training mentions gave several concepts ("hemorrhagic cystitis": D006470|D003556)
    if (first && isComposite(first.id) && first.via !== 'fuzzy') {
      return { parts: first.id.split('|').map((id) => ({ text: whole.text, candidates: [{ ...first, id }] })), composite: true };
    }
    // otherwise such names are no candidates of a single concept
    whole.candidates = singles(whole.candidates);
    const top = whole.candidates[0];
    if (top && top.via !== 'fuzzy') return { parts: [whole], composite: false };
    const split = splitComposite(abbr ? expandAbbreviations(text, abbr) : text);
    if (split) {
      const parts = split.parts.map((options) => {
        let best: LinkPart | undefined;
        for (const o of options) {
          const p = this.single(o, label, abbr, k);
          p.candidates = singles(p.candidates);
          if (!best || (p.candidates[0]?.score ?? 0) > (best.candidates[0]?.score ?? 0)) best = p;
        }
        return best!;
      });
      const ids = new Set(parts.map((p) => p.candidates[0]?.id));
      const worst = Math.min(...parts.map((p) => p.candidates[0]?.score ?? 0));
      if (ids.size === parts.length && !ids.has(undefined) && worst > (top?.score ?? 0)) return { parts, composite: true };
    }
    return { parts: [whole], composite: false };
  }

  /** ICD-10-CM by name (exact or word order) in the code set itself. */
  icdByName(text: string, abbr?: AbbreviationMap): IcdLink | undefined {
    const texts = [text];
    const expanded = abbr ? expandAbbreviations(text, abbr) : text;
    if (expanded !== text) texts.push(expanded);
    for (const t of texts) {
      const m = this.tables.icdExact.get(exactKey(t));
      if (m) return this.icdLink(m.code, m.variant === 0 ? 1 : m.variant === 1 ? 0.98 : 0.96, 'exact');
    }
    for (const t of texts) {
      const m = this.tables.icdBag.get(bagKey(t));
      if (m) return this.icdLink(m.code, 0.93, 'word-order');
    }
    return undefined;
  }

  /**
   * ICD-10-CM through the Disease Ontology bridge: the code the MeSH id's diseases share. When they
   * give several codes, their common ancestor in the code set (E11.9, E11.65 -> E11); none when they
   * do not share a category.
   */
  icdByBridge(meshId: string, score: number): IcdLink | undefined {
    const codes = this.tables.bridge.get(meshId);
    if (!codes || codes.length === 0) return undefined;
    let prefix = codes[0]!;
    for (const c of codes) {
      let i = 0;
      while (i < prefix.length && i < c.length && prefix[i] === c[i]) i++;
      prefix = prefix.slice(0, i);
    }
    prefix = prefix.replace(/\.$/, '');
    while (prefix.length >= 3 && !this.tables.icd.has(prefix)) prefix = prefix.slice(0, -1).replace(/\.$/, '');
    if (prefix.length < 3) return undefined;
    return this.icdLink(prefix, score, 'bridge');
  }

  /**
   * ICD-10-CM for a disease mention: its name in the code set first, else the bridge from its MeSH id.
   * The bridge never gives the congenital form of a condition that is also acquired (a chapter Q code
   * named "Congenital ...") to a mention that does not say it is congenital: Disease Ontology maps MeSH
   * Mitral Valve Insufficiency to Q23.3 "Congenital mitral insufficiency" only, and "mitral
   * regurgitation" in an adult's note is not a birth defect. Malformations that are congenital by
   * nature ("Cleft palate", Q35) keep their code.
   */
  icd(text: string | undefined, meshTop: Candidate | undefined, abbr?: AbbreviationMap): IcdLink | undefined {
    const byName = text === undefined ? undefined : this.icdByName(text, abbr);
    if (byName && byName.via === 'exact') return byName;
    let byBridge = meshTop ? this.icdByBridge(meshTop.id, meshTop.score) : undefined;
    if (byBridge && CONGENITAL_CHAPTER.test(byBridge.code) && /^congenital\b/i.test(byBridge.display) && text !== undefined && !CONGENITAL_WORDS.test(text)) byBridge = undefined;
    return byBridge ?? byName;
  }

  private icdLink(code: string, score: number, via: IcdLink['via']): IcdLink {
    return { code, display: this.tables.icd.get(code)!.display, score, via };
  }
}
