/**
 * Clinical aliases: names clinicians write every day that the terminology tables lack ("COPD", "type 2
 * diabetes", "DVT"), each mapped to a disease name the tables have. Data, written by us:
 * src/nlp/linking/clinical-aliases.json (schemas/clinical-aliases.schema.json).
 *
 * Applied when the tables are loaded (no rebuild, works without ../shared): an alias's keys (exact,
 * word order, synonym) point at its target's MeSH ids and its ICD-10-CM name keys at the target's
 * ICD-10-CM match, so the linker links the alias exactly as it links the target (its word-order and
 * synonym keys only where no name of the tables has them); `icd10cm` gives a code instead where the
 * target's name gives none. Aliases are not in the fuzzy index (a misspelt alias
 * links as before). The disorder dictionary adds the aliases marked `dictionary: true`.
 */
import { readFileSync } from 'node:fs';
import { MednerError } from '../../core/errors.ts';
import { schemaErrors, schemaValidator } from '../../core/json-schema.ts';
import { bagKey, canonKey, exactKey } from './normalize.ts';
import type { IcdMatch, IdWeights, LabelDictionary, TerminologyTables } from './tables.ts';

export interface ClinicalAlias {
  $comment?: string;
  /** The name as clinicians write it. */
  alias: string;
  /** A disease name of the tables whose codes the alias takes. */
  target: string;
  /** An ICD-10-CM code of the tables the alias gets instead of the target's. */
  icd10cm?: string;
  /** Whether the disorder dictionary matches the alias on its own in text. */
  dictionary: boolean;
}

export interface ClinicalAliases {
  $comment?: string;
  aliases: ClinicalAlias[];
}

export const ALIASES_FILE = new URL('./clinical-aliases.json', import.meta.url);

/** Validates against schemas/clinical-aliases.schema.json; throws MednerError RULES_INVALID (also for an alias listed twice). */
export function parseClinicalAliases(raw: unknown, source = 'clinical aliases'): ClinicalAlias[] {
  const validate = schemaValidator('clinical-aliases.schema.json');
  if (!validate(raw)) throw new MednerError('RULES_INVALID', `${source} are invalid:\n  ${schemaErrors(validate.errors).join('\n  ')}`);
  const aliases = (raw as ClinicalAliases).aliases;
  const seen = new Map<string, string>();
  for (const a of aliases) {
    const k = exactKey(a.alias);
    if (!k) throw new MednerError('RULES_INVALID', `${source}: alias "${a.alias}" has no words`);
    const before = seen.get(k);
    if (before !== undefined) throw new MednerError('RULES_INVALID', `${source}: alias "${a.alias}" is listed twice (as "${before}")`);
    seen.set(k, a.alias);
  }
  return aliases;
}

let shipped: ClinicalAlias[] | undefined;
/** The shipped aliases (src/nlp/linking/clinical-aliases.json). */
export function defaultClinicalAliases(): ClinicalAlias[] {
  shipped ??= parseClinicalAliases(JSON.parse(readFileSync(ALIASES_FILE, 'utf8')), ALIASES_FILE.pathname);
  return shipped;
}

function setOrDelete<V>(m: Map<string, V>, key: string, v: V | undefined): void {
  if (!key) return;
  if (v === undefined) m.delete(key);
  else m.set(key, v);
}

function addIfAbsent<V>(m: Map<string, V>, key: string, v: V | undefined): void {
  if (key && v !== undefined && !m.has(key)) m.set(key, v);
}

/**
 * The tables with the aliases added to the Disease names and the ICD-10-CM name index (new maps; the
 * given tables are not changed). Throws MednerError TERMINOLOGY_INVALID naming the alias whose target
 * is no Disease name of the tables (nor an ICD-10-CM name), or whose `icd10cm` code is not in them.
 */
export function applyClinicalAliases(tables: TerminologyTables, aliases: readonly ClinicalAlias[], source = 'clinical aliases'): TerminologyTables {
  if (aliases.length === 0) return tables;
  const d = tables.dictionaries.get('Disease')!;
  const exact = new Map(d.exact);
  const bag = new Map(d.bag);
  const canon = new Map(d.canon);
  const icdExact = new Map(tables.icdExact);
  const icdBag = new Map(tables.icdBag);
  for (const a of aliases) {
    const tk = exactKey(a.target);
    // the target as the tables had it, before any alias
    const ids: IdWeights | undefined = d.exact.get(tk);
    let icdE: IcdMatch | undefined = tables.icdExact.get(tk);
    let icdB: IcdMatch | undefined = tables.icdBag.get(bagKey(a.target));
    if (!ids && !icdE) {
      throw new MednerError('TERMINOLOGY_INVALID', `${source}: the target "${a.target}" of alias "${a.alias}" is not a disease name of the terminology tables`);
    }
    if (a.icd10cm !== undefined) {
      if (!tables.icd.has(a.icd10cm)) throw new MednerError('TERMINOLOGY_INVALID', `${source}: the ICD-10-CM code ${a.icd10cm} of alias "${a.alias}" is not in the terminology tables`);
      icdE = icdB = { code: a.icd10cm, variant: 0 };
    }
    // the alias's own spelling means the target, whatever the tables had under it; its looser keys
    // (word order, synonyms) are added only where no name of the tables has them
    setOrDelete(exact, exactKey(a.alias), ids);
    setOrDelete(icdExact, exactKey(a.alias), icdE);
    addIfAbsent(bag, bagKey(a.alias), ids);
    addIfAbsent(canon, canonKey(a.alias), ids);
    addIfAbsent(icdBag, bagKey(a.alias), icdB);
  }
  const disease: LabelDictionary = { ...d, exact, bag, canon };
  const dictionaries = new Map(tables.dictionaries);
  dictionaries.set('Disease', disease);
  return { ...tables, icdExact, icdBag, dictionaries };
}
