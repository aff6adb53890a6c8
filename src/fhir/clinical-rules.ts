import { readFileSync } from 'node:fs';
import { MednerError } from '../core/errors.ts';
import { schemaErrors, schemaValidator } from '../core/json-schema.ts';

/** The data behind the clinical FHIR output: UCUM units (rules/ucum-units.json) and clinical rules (rules/clinical-rules.json). */

export interface UcumUnit {
  code: string;
  unit: string;
}

export interface TimingRule {
  pattern: string;
  asNeeded?: boolean;
  repeat?: { frequency: number; period: number | '$1'; periodUnit: 's' | 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a'; when?: string[] };
}

export interface ClinicalRules {
  categories: { code: string; display: string; patterns: string[] }[];
  bloodPressure: string[];
  bloodPressureComponents: { systolic: string; diastolic: string; unit: string };
  interpretations: { code: string; display: string; words: string[] }[];
  procedureStatus: { notDone: string[]; preparation: string[]; inProgress: string[]; completed: string[]; default: string; results?: string[] };
  /** Phrases telling a past course of a drug given for a stated time: with a duration, the MedicationStatement is completed. */
  medicationCourseDone?: string[];
  /** Negation triggers (as in src/nlp/assertion-rules.json) that state a negative result, not a test not done. */
  negativeResults?: string[];
  timings: TimingRule[];
}

export interface ClinicalData {
  units: Record<string, UcumUnit>;
  rules: ClinicalRules;
}

function load<T>(file: URL, schema: string): T {
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const validate = schemaValidator(schema);
  if (!validate(raw)) throw new MednerError('RULES_INVALID', `${file.pathname} is invalid:\n  ${schemaErrors(validate.errors).join('\n  ')}`);
  return raw as T;
}

/** Validates rules given as an object (tests, tuned copies); throws MednerError RULES_INVALID. */
export function parseClinicalRules(raw: unknown): ClinicalRules {
  const validate = schemaValidator('clinical-rules.schema.json');
  if (!validate(raw)) throw new MednerError('RULES_INVALID', `clinical rules are invalid:\n  ${schemaErrors(validate.errors).join('\n  ')}`);
  const r = raw as ClinicalRules;
  for (const t of r.timings) {
    try {
      new RegExp(t.pattern, 'iu');
    } catch (err) {
      throw new MednerError('RULES_INVALID', `clinical rules: bad timing pattern ${JSON.stringify(t.pattern)}`, { cause: err });
    }
  }
  return r;
}

let shipped: ClinicalData | undefined;

/** The shipped tables, read and validated once. */
export function clinicalData(): ClinicalData {
  shipped ??= {
    units: load<{ units: Record<string, UcumUnit> }>(new URL('./rules/ucum-units.json', import.meta.url), 'ucum-units.schema.json').units,
    rules: parseClinicalRules(JSON.parse(readFileSync(new URL('./rules/clinical-rules.json', import.meta.url), 'utf8'))),
  };
  return shipped;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A case-insensitive whole-word matcher for any of the phrases (longest first). */
export function phraseMatcher(phrases: readonly string[]): RegExp {
  const alts = [...phrases].sort((a, b) => b.length - a.length).map((p) => escape(p).replace(/\s+/g, '\\s+'));
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join('|')})(?![\\p{L}\\p{N}])`, 'iu');
}
