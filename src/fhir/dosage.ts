import type * as fhir4 from 'fhir/r4.js';
import type { Entity } from '../core/entity.ts';
import { clinicalData, type ClinicalData } from './clinical-rules.ts';
import { parseQuantity } from './observation-value.ts';

/**
 * MedicationStatement.dosage from a Medication entity's attributes (dose, route, frequency,
 * duration). Pure; tables in rules/*.json.
 * - text: the attribute spans in text order, joined by a space ("25 mg orally twice daily");
 * - doseAndRate.doseQuantity: the first dose span's number and unit when the unit is in the UCUM table
 *   (rateQuantity when the unit is per time: an infusion rate, "12 mcg/min");
 * - timing: Timing.repeat from the frequency span by the timing rules (bid -> 2 per 1 d, q8h -> 1 per 8 h),
 *   Timing.code.text the span as written; "prn"/"as needed" sets asNeededBoolean;
 * - route: text only (SNOMED route codes are not usable here);
 * - how long ("for 5 days", a duration span): Timing.repeat.boundsDuration in UCUM d, wk or mo.
 */
export function dosageFor(med: Entity, data: ClinicalData = clinicalData()): fhir4.Dosage | undefined {
  const attrs = (med.attributes ?? []).filter((a) => a.kind === 'dose' || a.kind === 'route' || a.kind === 'frequency' || a.kind === 'duration');
  if (attrs.length === 0) return undefined;
  const dosage: fhir4.Dosage = { text: attrs.map((a) => a.text.trim()).join(' ') };
  const freq = attrs.find((a) => a.kind === 'frequency');
  const dose = attrs.find((a) => a.kind === 'dose');
  // A frequency written inside the dose span ("500 mg twice daily") counts too.
  const timingText = freq?.text ?? dose?.text;
  if (timingText) {
    const t = timingFor(timingText, data);
    if (t.timing || t.asNeeded) {
      if (t.timing) dosage.timing = freq ? { ...t.timing, code: { text: freq.text.trim() } } : t.timing;
      if (t.asNeeded) dosage.asNeededBoolean = true;
    } else if (freq) {
      dosage.timing = { code: { text: freq.text.trim() } };
    }
  }
  const duration = attrs.find((a) => a.kind === 'duration');
  const bounds = duration ? durationQuantity(duration.text) : undefined;
  if (bounds) dosage.timing = { ...dosage.timing, repeat: { ...dosage.timing?.repeat, boundsDuration: bounds } };
  const route = attrs.find((a) => a.kind === 'route');
  if (route) dosage.route = { text: route.text.trim() };
  const q = dose ? parseQuantity(dose.text, data) : undefined;
  // An infusion rate ("12 mcg/min", "0.1 mcg/kg/min", "2 g/hr") is a rate, not a dose.
  if (q) dosage.doseAndRate = [isRate(q) ? { rateQuantity: q } : { doseQuantity: q }];
  return dosage;
}

/** Whether a UCUM quantity is per minute or hour (an infusion rate: ug/min, ug/kg/min, [IU]/h, mL/h); a daily amount ("90 mg/kg/day") stays a dose. */
export function isRate(q: fhir4.Quantity): boolean {
  return /\/(?:min|h)$/.test(q.code ?? '');
}

/** Timing.repeat (and as-needed) from a frequency phrase; empty when no rule matches. */
export function timingFor(text: string, data: ClinicalData = clinicalData()): { timing?: fhir4.Timing; asNeeded?: boolean } {
  const out: { timing?: fhir4.Timing; asNeeded?: boolean } = {};
  for (const rule of data.rules.timings) {
    const m = new RegExp(rule.pattern, 'iu').exec(text);
    if (!m) continue;
    if (rule.asNeeded) {
      out.asNeeded = true;
      continue; // "q6h prn": the interval may follow in another rule
    }
    if (rule.repeat && !out.timing) {
      const period = rule.repeat.period === '$1' ? Number(m[1]) : rule.repeat.period;
      if (!(period > 0)) continue;
      const repeat: fhir4.TimingRepeat = { frequency: rule.repeat.frequency, period, periodUnit: rule.repeat.periodUnit };
      if (rule.repeat.when) repeat.when = rule.repeat.when as fhir4.TimingRepeat['when'];
      out.timing = { repeat };
    }
  }
  return out;
}

const NUMBER_WORDS: Record<string, number> = { a: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, fourteen: 14, 'twenty-one': 21, thirty: 30 };
const DURATION_UNITS: [RegExp, string, string][] = [
  [/^(?:days?|d)$/i, 'd', 'day'],
  [/^(?:weeks?|wks?)$/i, 'wk', 'week'],
  [/^months?$/i, 'mo', 'month'],
];

/** A UCUM Duration from "for 5 days", "x 2 weeks", "for one month"; undefined when it reads as none. */
export function durationQuantity(text: string): fhir4.Duration | undefined {
  const m = /(\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|fourteen|twenty-one|thirty)\s*(?:more\s+)?(days?|d|weeks?|wks?|months?)\b/i.exec(text);
  if (!m) return undefined;
  const value = /^\d+$/.test(m[1]!) ? Number(m[1]) : NUMBER_WORDS[m[1]!.toLowerCase()];
  const unit = DURATION_UNITS.find(([re]) => re.test(m[2]!));
  if (!value || !unit) return undefined;
  return { value, unit: value === 1 ? unit[2] : `${unit[2]}s`, system: 'http://unitsofmeasure.org', code: unit[1] };
}
