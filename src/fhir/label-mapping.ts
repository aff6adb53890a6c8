import { readFileSync } from 'node:fs';
import { MednerError } from '../core/errors.ts';
import { schemaErrors, schemaValidator } from '../core/json-schema.ts';
import { DEFAULT_TARGETS, type ResourceTargets } from './targets/registry.ts';

/** Label -> FHIR resource mapping of one model (schemas/label-mapping.schema.json). */

/** A resource target a mapping may select (src/fhir/targets/registry.ts: Condition, Observation, MedicationStatement, Procedure, ...). */
export type TargetResourceType = string;

export interface MappedCoding {
  system: string;
  code: string;
  display?: string;
}

export interface LabelTarget {
  resourceType: TargetResourceType | 'ignore';
  /** Condition.category or Observation.category codings. */
  category?: MappedCoding[];
  /** Family mentions become FamilyMemberHistory (default: true for Condition, else the mention is skipped). */
  familyHistory?: boolean;
  /** category[0].text (e.g. "symptom"), so that kinds sharing a category coding stay distinguishable. */
  categoryText?: string;
  /** Observation: category by the test's name from src/fhir/rules/clinical-rules.json, `category` when no rule matches. */
  categoryRules?: boolean;
  /** Observation: what a mention with no value attribute becomes instead (e.g. a test that was done: Procedure). */
  withoutValue?: { resourceType: TargetResourceType | 'ignore'; category?: MappedCoding[]; categoryText?: string };
  /** Terminology linking for this label in the NLP stage (src/nlp/linking): entity.codes -> code.coding. */
  link?: LabelLink;
}

/** A label's linker settings (src/nlp/linking/link-entities.ts LinkSettings). */
export interface LabelLink {
  terminologies: ('mesh' | 'icd-10-cm')[];
  threshold: number;
  dictionary?: 'Disease' | 'Chemical';
  /** 'defined': short forms get a code only when the document defines them or they are a curated clinical alias. */
  shortForms?: 'all' | 'defined';
}

export interface CodingEntry extends MappedCoding {
  term: string;
  label?: string;
}

export interface LabelMapping {
  model?: string;
  /** Entities scoring below this are not emitted. */
  minScore?: number;
  negatedObservation?: 'interpretation-neg' | 'skip';
  hypothetical?: 'skip';
  labels: Record<string, LabelTarget>;
  codings?: CodingEntry[];
  /** Disorders the model missed, filled in from the disorder dictionary (src/nlp/dictionary/with-dictionary.ts). */
  dictionary?: MappingDictionary;
}

/** The `dictionary` block: which label dictionary-filled disorders get, their score (default 0.5), and whether they complete partial ones. */
export interface MappingDictionary {
  label: string;
  score?: number;
  /** Complete the model's partial disorders to a dictionary name (src/nlp/dictionary/with-dictionary.ts). */
  extend?: { from: string[]; over: string[]; keep?: string[] };
}

/**
 * Validates an object against schemas/label-mapping.schema.json, and each label's `resourceType`
 * against the resource targets (a selectable target or `ignore`; `category` only where the target
 * takes one); throws MednerError MAPPING_INVALID naming every problem.
 */
export function parseLabelMapping(raw: unknown, source = 'label mapping', targets: ResourceTargets = DEFAULT_TARGETS): LabelMapping {
  const validate = schemaValidator('label-mapping.schema.json');
  const problems = validate(raw) ? [] : schemaErrors(validate.errors);
  const selectable = targets.selectable;
  const check = (where: string, type: unknown) => {
    if (typeof type === 'string' && type !== 'ignore' && !selectable.includes(type)) {
      problems.push(`${where}/resourceType: ${JSON.stringify(type)} is not a resource target (${[...selectable, 'ignore'].join(', ')})`);
    }
  };
  const labels = (raw as { labels?: unknown } | null)?.labels;
  if (typeof labels === 'object' && labels !== null) {
    for (const [label, t] of Object.entries(labels as Record<string, Partial<LabelTarget> | null>)) {
      if (typeof t !== 'object' || t === null) continue;
      check(`/labels/${label}`, t.resourceType);
      if (t.category !== undefined && typeof t.resourceType === 'string' && !targets.get(t.resourceType)?.category) {
        problems.push(`/labels/${label}/category: ${t.resourceType} takes no category`);
      }
      if (typeof t.withoutValue === 'object' && t.withoutValue !== null) check(`/labels/${label}/withoutValue`, t.withoutValue.resourceType);
    }
    const dict = (raw as { dictionary?: { label?: unknown } }).dictionary;
    if (typeof dict?.label === 'string' && !(dict.label in (labels as object))) problems.push(`/dictionary/label: ${JSON.stringify(dict.label)} is no label of this mapping`);
  }
  if (problems.length > 0) throw new MednerError('MAPPING_INVALID', `${source} is invalid:\n  ${problems.join('\n  ')}`);
  return raw as LabelMapping;
}

/** Reads and validates a label mapping file; throws MednerError MAPPING_INVALID naming the file and the problem. */
export function loadLabelMapping(path: string, targets: ResourceTargets = DEFAULT_TARGETS): LabelMapping {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? `not valid JSON (${err.message})` : `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    throw new MednerError('MAPPING_INVALID', `label mapping ${path} ${why}`, { cause: err });
  }
  return parseLabelMapping(raw, `label mapping ${path}`, targets);
}

/** The shipped mapping for BC5CDR-style models (Disease, Chemical). */
export const BC5CDR_MAPPING_FILE = new URL('./mappings/bc5cdr.label-mapping.json', import.meta.url);

/** The target of a label: exact match, then case-insensitive. Undefined when unmapped. */
export function targetFor(mapping: LabelMapping, label: string): LabelTarget | undefined {
  const exact = mapping.labels[label];
  if (exact) return exact;
  const lower = label.toLowerCase();
  const key = Object.keys(mapping.labels).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : mapping.labels[key];
}

/** The linker settings per label (exact label, then case-insensitive); undefined when the label is not linked. */
export function linkSettingsFor(mapping: LabelMapping): (label: string) => LabelLink | undefined {
  const cache = new Map<string, LabelLink | undefined>();
  return (label) => {
    if (!cache.has(label)) cache.set(label, targetFor(mapping, label)?.link);
    return cache.get(label);
  };
}

/** Does any label of the mapping ask for linking? */
export function mappingLinks(mapping: LabelMapping): boolean {
  return Object.values(mapping.labels).some((t) => t.link !== undefined);
}

export function normalizeTerm(s: string): string {
  return s.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Codings from the lookup table for a mention; never invents any. */
export function codingsFor(mapping: LabelMapping, label: string, mention: string): MappedCoding[] {
  const term = normalizeTerm(mention);
  return (mapping.codings ?? [])
    .filter((c) => normalizeTerm(c.term) === term && (c.label === undefined || c.label.toLowerCase() === label.toLowerCase()))
    .map((c) => (c.display === undefined ? { system: c.system, code: c.code } : { system: c.system, code: c.code, display: c.display }));
}
