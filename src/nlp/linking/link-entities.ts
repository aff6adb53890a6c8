/**
 * Linking in the NLP stage: sets `entity.codes` from the linker, as each label's `link` entry in the
 * model's label-mapping.json asks (which terminologies, the threshold, which dictionary of names).
 * Pure: the same entities, text and tables give the same codes.
 */
import type { ConceptCode, Entity } from '../../core/entity.ts';
import { findAbbreviations, type AbbreviationMap } from './abbreviations.ts';
import { defaultClinicalAliases } from './aliases.ts';
import { Linker, type LinkLabel, type LinkResult, type IcdLink } from './linker.ts';
import { ICD10CM_SYSTEM } from '../../core/code-systems.ts';
import { isMeshId, MESH_SYSTEM, type TerminologyTables } from './tables.ts';
import { withEntityStep, type EntityExtractor } from '../entity-step.ts';

export type Terminology = 'mesh' | 'icd-10-cm';

/** A label's `link` entry (schemas/label-mapping.schema.json). */
export interface LinkSettings {
  /** Which code systems to give (ICD-10-CM only for disease dictionaries). */
  terminologies: Terminology[];
  /** Codes scoring below this are not given (chosen on dev, see terminology/README.md). */
  threshold: number;
  /** Which names to match: Disease (MeSH diseases, Disease Ontology labels) or Chemical. Default: the label when it is one of them. */
  dictionary?: LinkLabel;
  /** 'defined': a short form not defined in the document and not a curated clinical alias gets no code (isUndefinedShortForm); default 'all'. */
  shortForms?: 'all' | 'defined';
}

/** The threshold chosen on dev (BC5CDR + NCBI-disease dev, tables from train only; see terminology/README.md). */
export const DEFAULT_LINK_THRESHOLD = 0.75;

export interface MentionLink {
  result: LinkResult;
  /** Per part: the best candidate over the threshold (MeSH ids only when `meshOnly`), else undefined. */
  accepted: (LinkResult['parts'][number]['candidates'][number] | undefined)[];
  /** Per part: the ICD-10-CM code over the threshold (disease dictionaries only). */
  icd: (IcdLink | undefined)[];
}

/** A short form (one to three capitals, a plural s) that names different things in different notes: "CP" is chest pain, cerebral palsy or cleft palate; "K" potassium or vitamin K. */
const SHORT_FORM = /^[A-Z]{1,3}s?$/;
let aliasNames: Set<string> | undefined;

/**
 * Whether a mention is a short form with no meaning fixed for it: not defined in the document
 * ("cleft palate (CP)") and not a curated unambiguous clinical alias (COPD, CHF; not MI or PE). Such
 * a mention gets no code: a code picked from what the short form meant in other texts ("CP" coded
 * Q35 in a note that means chest pain) is wrong for the patient more often than not.
 */
export function isUndefinedShortForm(text: string, abbr: AbbreviationMap | undefined): boolean {
  const t = text.trim();
  if (!SHORT_FORM.test(t)) return false;
  if (abbr?.has(t) || abbr?.has(t.replace(/s$/, ''))) return false;
  aliasNames ??= new Set(defaultClinicalAliases().filter((a) => a.dictionary).map((a) => a.alias.toLowerCase()));
  return !aliasNames.has(t.toLowerCase()) && !aliasNames.has(t.replace(/s$/, '').toLowerCase());
}

/** Links one mention and applies the threshold. */
export function linkMention(linker: Linker, text: string, dictionary: LinkLabel, threshold: number, abbr: AbbreviationMap | undefined, opts: { meshOnly?: boolean; icd?: boolean; shortForms?: 'all' | 'defined' } = {}): MentionLink {
  const result = linker.link(text, dictionary, abbr);
  if (opts.shortForms === 'defined' && isUndefinedShortForm(text, abbr)) return { result: { ...result, parts: result.parts.map((p) => ({ ...p, candidates: [] })) }, accepted: result.parts.map(() => undefined), icd: result.parts.map(() => undefined) };
  const accepted = result.parts.map((p) => p.candidates.find((c) => (!opts.meshOnly || isMeshId(c.id)) && c.score >= threshold));
  const icd = result.parts.map((p, k) => {
    if (!(opts.icd ?? dictionary === 'Disease') || dictionary !== 'Disease') return undefined;
    const best = p.candidates[0] && p.candidates[0].score >= threshold ? p.candidates[0] : undefined;
    // a composite's part is named by its own text; parts of a name remembered whole share it: bridge only
    const name = !result.composite ? text : result.parts.filter((q) => q.text === p.text).length > 1 ? undefined : p.text;
    const l = linker.icd(name, best ?? accepted[k], abbr);
    return l && l.score >= threshold ? l : undefined;
  });
  return { result, accepted, icd };
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/** ConceptCodes for a linked mention, best first: per part its ICD-10-CM code then its MeSH code. */
export function conceptCodes(link: MentionLink, terminologies: readonly Terminology[], icdVersion: string): ConceptCode[] {
  const out: ConceptCode[] = [];
  link.result.parts.forEach((_p, k) => {
    const icd = link.icd[k];
    if (icd && terminologies.includes('icd-10-cm')) out.push({ system: ICD10CM_SYSTEM, code: icd.code, display: icd.display, version: icdVersion, score: round4(icd.score) });
    const m = link.accepted[k];
    if (m && isMeshId(m.id) && terminologies.includes('mesh')) out.push({ system: MESH_SYSTEM, code: m.id, score: round4(m.score) });
  });
  return out;
}

/** Which dictionary a label uses. */
export function dictionaryFor(label: string, s: LinkSettings): LinkLabel | undefined {
  if (s.dictionary) return s.dictionary;
  const l = label.toLowerCase();
  if (l === 'disease' || l === 'chemical') return l === 'disease' ? 'Disease' : 'Chemical';
  return undefined;
}

/**
 * Returns the document's entities with `codes` set where the label is configured for linking and a
 * code passed the threshold; other entities come back unchanged (same objects).
 */
export function linkDocumentEntities(linker: Linker, text: string, entities: Entity[], settingsFor: (label: string) => LinkSettings | undefined): Entity[] {
  let abbr: Map<string, string> | undefined;
  return entities.map((e) => {
    const s = settingsFor(e.label);
    if (!s) return e;
    const dict = dictionaryFor(e.label, s);
    if (!dict) return e;
    abbr ??= findAbbreviations(text);
    const link = linkMention(linker, e.text, dict, s.threshold, abbr, { meshOnly: true, icd: s.terminologies.includes('icd-10-cm'), ...(s.shortForms ? { shortForms: s.shortForms } : {}) });
    const codes = conceptCodes(link, s.terminologies, linker.tables.manifest.icd10cm.version);
    if (codes.length === 0) return e;
    return { ...e, codes };
  });
}

export function createLinker(tables: TerminologyTables): Linker {
  return new Linker(tables);
}

/** An NER port whose entities come back linked (the NLP stage of the worker and `medner extract`). */
export function withLinking<T extends EntityExtractor>(engine: T, linker: Linker, settingsFor: (label: string) => LinkSettings | undefined): T {
  return withEntityStep(engine, (text, entities) => linkDocumentEntities(linker, text, entities, settingsFor));
}
