import type * as fhir4 from 'fhir/r4.js';
import type { Entity } from '../core/entity.ts';
import { clinicalData, phraseMatcher, type ClinicalData, type UcumUnit } from './clinical-rules.ts';

/**
 * The value, category and interpretation of an Observation from its test entity and the value
 * spans attached to it (entity.attributes kind "value"). Pure; tables in rules/*.json.
 *
 * - a number with a unit the UCUM table knows: valueQuantity (system UCUM, code), with a
 *   comparator for "< 7 g/dL";
 * - a bare number: valueQuantity without a unit (a count or ratio as written);
 * - a blood pressure (the test's name is one of `bloodPressure`) written NNN/NN: components
 *   systolic and diastolic in mm[Hg] (code.text only: no LOINC here);
 * - anything else (words, ranges, fractions such as 20/40, a unit we do not know): valueString;
 * - interpretation (v3-ObservationInterpretation) from words such as elevated, low, normal,
 *   positive in the value and between test and value (not inside brackets, not after "not"/"no").
 */

export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const OBSERVATION_INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

export type ParsedValue =
  | { kind: 'quantity'; quantity: fhir4.Quantity }
  | { kind: 'bloodPressure'; systolic: fhir4.Quantity; diastolic: fhir4.Quantity }
  | { kind: 'string'; text: string };

const NUMBER = String.raw`[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+`;
const QUANTITY = new RegExp(String.raw`(?<![\p{L}\p{N}/.])(?<cmp><=|>=|≤|≥|<|>)?\s*(?<num>${NUMBER})(?![\p{N}])`, 'u');
const RANGE = new RegExp(String.raw`(?:${NUMBER})\s*(?:-|–|—|to)\s*(?:${NUMBER})`, 'u');
const FRACTION = /\d\s*\+?\s*\/\s*\d/u;
const BP = /(?<![\d.])(\d{2,3})\s*\/\s*(\d{2,3})(?![\d.])/u;

/** The UCUM unit of a spelling: exact key, then case-insensitive. */
export function ucumUnit(spelling: string, data: ClinicalData = clinicalData()): UcumUnit | undefined {
  const s = spelling.trim();
  const exact = data.units[s];
  if (exact) return exact;
  const lower = s.toLowerCase();
  const key = Object.keys(data.units).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : data.units[key];
}

/** The longest unit spelling at the start of `rest` (followed by a non-word character other than '/' or '^', or the end: "ug" is no unit of "850 ug/g"). */
function unitAt(rest: string, data: ClinicalData): { spelling: string; unit: UcumUnit } | undefined {
  const keys = Object.keys(data.units).sort((a, b) => b.length - a.length);
  const lower = rest.toLowerCase();
  for (const k of keys) {
    const kl = k.toLowerCase();
    if (!lower.startsWith(kl)) continue;
    const next = rest.charAt(k.length);
    if (next !== '' && /[\p{L}\p{N}/^]/u.test(next)) continue;
    const unit = rest.startsWith(k) ? data.units[k]! : ucumUnit(k, data)!;
    return { spelling: rest.slice(0, k.length), unit };
  }
  return undefined;
}

function toNumber(s: string): number {
  return Number(s.replace(/,/g, ''));
}

/** A number and unit in text (a dose, a lab value), or undefined when there is no number followed by a known unit. */
export function parseQuantity(text: string, data: ClinicalData = clinicalData(), opts: { allowUnitless?: boolean } = {}): fhir4.Quantity | undefined {
  const m = QUANTITY.exec(text);
  if (!m?.groups) return undefined;
  const value = toNumber(m.groups.num!);
  if (!Number.isFinite(value)) return undefined;
  const rest = text.slice(m.index + m[0].length).replace(/^\s+/u, '');
  const q: fhir4.Quantity = { value };
  const cmp = m.groups.cmp;
  if (cmp) q.comparator = ({ '≤': '<=', '≥': '>=' } as Record<string, fhir4.Quantity['comparator']>)[cmp] ?? (cmp as fhir4.Quantity['comparator']);
  const u = unitAt(rest, data);
  if (u) return { ...q, unit: u.unit.unit, system: UCUM_SYSTEM, code: u.unit.code };
  // No known unit: a bare number only when nothing but words of interpretation or punctuation follows.
  if (opts.allowUnitless && !/^[\p{L}µμ%°/×]/u.test(rest)) return q;
  return undefined;
}

/** True when the test is a blood pressure by its name. */
export function isBloodPressure(testText: string, data: ClinicalData = clinicalData()): boolean {
  return phraseMatcher(data.rules.bloodPressure).test(testText);
}

/** The value of a test from the text of its value span(s). */
export function parseObservationValue(valueText: string, testText: string, data: ClinicalData = clinicalData()): ParsedValue {
  const text = valueText.trim();
  if (isBloodPressure(testText, data)) {
    const bp = BP.exec(text);
    if (bp) {
      const u = ucumUnit(data.rules.bloodPressureComponents.unit, data) ?? { code: 'mm[Hg]', unit: 'mmHg' };
      const q = (v: string): fhir4.Quantity => ({ value: Number(v), unit: u.unit, system: UCUM_SYSTEM, code: u.code });
      return { kind: 'bloodPressure', systolic: q(bp[1]!), diastolic: q(bp[2]!) };
    }
  }
  const outside = stripBrackets(text);
  // A range, a fraction, or a semi-quantitative grade ("2+ protein", "1+ edema": not the number 2).
  if (RANGE.test(outside) || FRACTION.test(outside) || /^\d\s*\+/.test(outside)) return { kind: 'string', text };
  const q = parseQuantity(outside, data, { allowUnitless: true });
  if (q) return { kind: 'quantity', quantity: q };
  return { kind: 'string', text };
}

/** Text without what is inside brackets (reference ranges, abbreviations). */
export function stripBrackets(s: string): string {
  let out = s;
  for (let i = 0; i < 3; i++) out = out.replace(/\([^()]*\)|\[[^[\]]*\]/g, ' ');
  return out;
}

/** Observation.category coding by the test's name, or undefined when no rule matches. */
export function observationCategory(testText: string, data: ClinicalData = clinicalData()): fhir4.Coding | undefined {
  for (const c of data.rules.categories) {
    if (phraseMatcher(c.patterns).test(testText)) return { system: OBSERVATION_CATEGORY_SYSTEM, code: c.code, display: c.display };
  }
  return undefined;
}

/** The interpretation words say (first rule that matches), or undefined. */
export function interpretationOf(text: string, data: ClinicalData = clinicalData()): fhir4.Coding | undefined {
  const t = stripBrackets(text);
  for (const r of data.rules.interpretations) {
    const re = new RegExp(phraseMatcher(r.words).source, 'giu');
    for (const m of t.matchAll(re)) {
      const before = t.slice(0, m.index).trimEnd();
      if (/(?:^|\s)(?:not|no|non)$/iu.test(before)) continue;
      return { system: OBSERVATION_INTERPRETATION_SYSTEM, code: r.code, display: r.display };
    }
  }
  return undefined;
}

/**
 * A laboratory flag written as the value or after it ("450 K/uL (H)", "3.1 mmol/L (L)"): an upper-case
 * H, L, HH, LL, A or N alone, bracketed or not, is that v3-ObservationInterpretation code (case matters:
 * "h" and "l" are units).
 */
export function flagInterpretation(valueTexts: readonly string[], data: ClinicalData = clinicalData()): fhir4.Coding | undefined {
  for (const v of valueTexts) {
    const m = /^\(?\s*(HH|LL|H|L|A|N)\s*\)?$/.exec(v.trim());
    const rule = m ? data.rules.interpretations.find((r) => r.code === m[1]) : undefined;
    if (rule) return { system: OBSERVATION_INTERPRETATION_SYSTEM, code: rule.code, display: rule.display };
  }
  return undefined;
}

/**
 * The value fields of an Observation for a test entity: value[x] or component, interpretation,
 * category and bodySite. `docText` is the document text the offsets index.
 */
export function observationFields(docText: string, test: Entity, data: ClinicalData = clinicalData()): {
  value?: ParsedValue;
  interpretation?: fhir4.Coding;
  category?: fhir4.Coding;
  bodySite?: string;
} {
  const attrs = test.attributes ?? [];
  const values = attrs.filter((a) => a.kind === 'value');
  const out: ReturnType<typeof observationFields> = {};
  const category = observationCategory(test.text, data);
  if (category) out.category = category;
  const site = attrs.find((a) => a.kind === 'bodySite');
  if (site) out.bodySite = site.text;
  if (values.length === 0) return out;
  // The value: the first value span that parses as a quantity or blood pressure, else all value texts as a
  // string; in "from A to B" the current value is B ("lactate improved from 6.1 to 2.8 mmol/L").
  const ordered = [...values].sort((a, b) => a.start - b.start);
  for (let k = 0; k + 1 < ordered.length; k++) {
    const [a, b] = [ordered[k]!, ordered[k + 1]!];
    if (/\bfrom\s*$/i.test(docText.slice(Math.max(0, a.start - 12), a.start)) && /^\s*(?:to|->|→)\s*$/i.test(docText.slice(a.end, b.start))) {
      ordered.splice(k, 2, b, a);
      break;
    }
  }
  const parsed = (ordered.length === values.length ? ordered : values).map((v) => parseObservationValue(v.text, test.text, data));
  out.value = parsed.find((p) => p.kind !== 'string') ?? { kind: 'string', text: values.map((v) => v.text.trim()).join('; ') };
  // Interpretation: the value spans and the text from the test to the end of its last value after it,
  // read as one ("CRP was markedly elevated at 145 mg/L", where the model tagged only "elevated").
  const after = values.filter((v) => v.start >= test.end);
  const between = after.length > 0 ? docText.slice(test.end, Math.max(...after.map((v) => v.end))) : '';
  const before = docText.slice(Math.max(0, test.start - 40), test.start).split(/[.;:\n]/).pop() ?? '';
  const words = [...values.map((v) => v.text), between, before.split(/\s+/).slice(-3).join(' ')].join(' | ');
  const interp = interpretationOf(words, data) ?? flagInterpretation(values.map((v) => v.text), data);
  if (interp) out.interpretation = interp;
  return out;
}

/** Applies observationFields to an Observation (category first from the rules, else the mapping's). */
export function applyObservationFields(o: fhir4.Observation, f: ReturnType<typeof observationFields>, data: ClinicalData = clinicalData()): void {
  if (f.category) o.category = [{ coding: [f.category] }];
  if (f.bodySite) o.bodySite = { text: f.bodySite };
  const v = f.value;
  if (v?.kind === 'quantity') o.valueQuantity = v.quantity;
  else if (v?.kind === 'string') o.valueString = v.text;
  else if (v?.kind === 'bloodPressure') {
    const c = data.rules.bloodPressureComponents;
    o.component = [
      { code: { text: c.systolic }, valueQuantity: v.systolic },
      { code: { text: c.diastolic }, valueQuantity: v.diastolic },
    ];
  }
  if (f.interpretation) {
    const existing = o.interpretation ?? [];
    if (!existing.some((cc) => cc.coding?.some((x) => x.code === f.interpretation!.code))) o.interpretation = [...existing, { coding: [f.interpretation] }];
  }
}

/** A short human-readable value of a derived resource for listings (demo, logs of our own samples): "9.2 g/dL", "150/95 mmHg", a dosage text. */
export function valueSummary(r: fhir4.Resource): string | undefined {
  const q = (x: fhir4.Quantity | undefined): string | undefined => (x?.value === undefined ? undefined : `${x.comparator ?? ''}${x.value}${x.unit ? ` ${x.unit}` : ''}`);
  if (r.resourceType === 'Observation') {
    const o = r as fhir4.Observation;
    const comps = o.component?.map((c) => c.valueQuantity?.value);
    const interp = o.interpretation?.[0]?.coding?.[0]?.code;
    const v = q(o.valueQuantity) ?? o.valueString ?? (comps?.length === 2 && comps.every((x) => x !== undefined) ? `${comps.join('/')} ${o.component![0]!.valueQuantity!.unit ?? ''}`.trim() : undefined);
    return v === undefined ? (interp ? `(${interp})` : undefined) : interp ? `${v} (${interp})` : v;
  }
  if (r.resourceType === 'MedicationStatement') return (r as fhir4.MedicationStatement).dosage?.[0]?.text;
  return undefined;
}
