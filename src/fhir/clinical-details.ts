import type * as fhir4 from 'fhir/r4.js';
import type { Entity } from '../core/entity.ts';
import { clinicalData, phraseMatcher, type ClinicalData } from './clinical-rules.ts';
import type { LabelTarget } from './label-mapping.ts';

/**
 * Rules shared by the resource targets (src/fhir/targets/*.ts), whose `details` add what the
 * attributes of an entity say to its resource: Observation value/category/interpretation/bodySite,
 * MedicationStatement dosage, Condition severity/bodySite/category text, Procedure
 * status/bodySite/category text. Pure.
 */

/**
 * The target for this mention: a test without a value becomes `withoutValue` when the mapping says so,
 * except a test the note calls negative ("urinalysis negative for nitrites", "troponin was
 * negative": a negation trigger of the rules' `negativeResults`), which was done and stays an
 * Observation with interpretation Negative; it is never a Procedure that was not done.
 */
export function effectiveTarget(target: LabelTarget, e: Entity & { assertion?: { negated: boolean; triggers: string[] } }, data: ClinicalData = clinicalData()): LabelTarget {
  const negativeResult = e.assertion?.negated === true && e.assertion.triggers.some((t) => (data.rules.negativeResults ?? []).includes(t));
  if (target.resourceType === 'Observation' && target.withoutValue && !negativeResult && !(e.attributes ?? []).some((a) => a.kind === 'value')) {
    const w = target.withoutValue;
    return { resourceType: w.resourceType, ...(w.categoryText ? { categoryText: w.categoryText } : {}), ...(w.category ? { category: w.category } : {}) };
  }
  return target;
}

/** The sentence around a span (., !, ?, ; or a line break end it). */
export function sentenceAround(text: string, start: number, end: number): string {
  const before = text.slice(0, start);
  const s = Math.max(before.search(/[^.!?;\n]*$/u), 0);
  const rest = text.slice(end);
  const stop = rest.search(/[.!?;](?:\s|$)|\n/u);
  return text.slice(s, stop < 0 ? text.length : end + stop);
}

/** Whether the mention's sentence reports the procedure's result or says it was done (rules: procedureStatus.results). */
export function procedureDoneIn(text: string, e: Entity, data: ClinicalData = clinicalData()): boolean {
  const results = data.rules.procedureStatus.results ?? [];
  return results.length > 0 && phraseMatcher(results).test(sentenceAround(text, e.start, e.end));
}

/** Procedure.status from the words of the mention's sentence (rules: procedureStatus): not-done ("was not performed"), preparation (scheduled), in-progress, completed (past), else the default. */
export function procedureStatusFrom(text: string, e: Entity, data: ClinicalData = clinicalData()): fhir4.Procedure['status'] {
  const sentence = sentenceAround(text, e.start, e.end);
  const ps = data.rules.procedureStatus;
  if (phraseMatcher(ps.notDone).test(sentence)) return 'not-done';
  if (phraseMatcher(ps.preparation).test(sentence)) return 'preparation';
  if (phraseMatcher(ps.inProgress).test(sentence)) return 'in-progress';
  // Listed words ("underwent", "status post"), or a passive past ("was resected", "were successfully drained").
  if (phraseMatcher(ps.completed).test(sentence) || /\b(?:was|were|had been|has been|have been)\s+(?:\w+\s+){0,2}?\w+ed\b/iu.test(sentence)) return 'completed';
  return ps.default as fhir4.Procedure['status'];
}
