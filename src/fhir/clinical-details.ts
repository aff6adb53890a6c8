import type * as fhir4 from 'fhir/r4.js';
import type { Entity } from '../core/entity.ts';
import { clinicalData, phraseMatcher, type ClinicalData } from './clinical-rules.ts';
import { dosageFor } from './dosage.ts';
import type { LabelTarget } from './label-mapping.ts';
import { applyObservationFields, observationFields } from './observation-value.ts';

/**
 * What the attributes of an entity add to its resource (src/fhir/document-output.ts calls these):
 * Observation value/category/interpretation/bodySite, MedicationStatement dosage, Condition
 * severity/bodySite/category text, Procedure status/bodySite/category text. Pure.
 */

/** The target for this mention: a test without a value becomes `withoutValue` when the mapping says so. */
export function effectiveTarget(target: LabelTarget, e: Entity): LabelTarget {
  if (target.resourceType === 'Observation' && target.withoutValue && !(e.attributes ?? []).some((a) => a.kind === 'value')) {
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

function categoryWithText(cc: fhir4.CodeableConcept[] | undefined, text: string | undefined): fhir4.CodeableConcept[] | undefined {
  if (!text) return cc;
  if (!cc || cc.length === 0) return [{ text }];
  return [{ ...cc[0]!, text }, ...cc.slice(1)];
}

/** Adds what the entity's attributes say to the resource built for it (in place). */
export function applyClinicalDetails(resource: fhir4.Resource, e: Entity, target: LabelTarget, docText: string, data: ClinicalData = clinicalData()): void {
  const attrs = e.attributes ?? [];
  const site = attrs.find((a) => a.kind === 'bodySite')?.text.trim();
  switch (resource.resourceType) {
    case 'Observation': {
      const o = resource as fhir4.Observation;
      const f = observationFields(docText, e, data);
      if (!target.categoryRules) delete f.category;
      applyObservationFields(o, f, data);
      const cat = categoryWithText(o.category, target.categoryText);
      if (cat) o.category = cat;
      return;
    }
    case 'Condition': {
      const c = resource as fhir4.Condition;
      const severity = attrs.find((a) => a.kind === 'severity')?.text.trim();
      if (severity) c.severity = { text: severity };
      if (site) c.bodySite = [{ text: site }];
      const cat = categoryWithText(c.category, target.categoryText);
      if (cat) c.category = cat;
      return;
    }
    case 'MedicationStatement': {
      const m = resource as fhir4.MedicationStatement;
      const d = dosageFor(e, data);
      if (d) m.dosage = [d];
      return;
    }
    case 'Procedure': {
      const p = resource as fhir4.Procedure;
      // Only a status the assertions left open ('unknown') is refined from the sentence.
      if (p.status === 'unknown') p.status = procedureStatusFrom(docText, e, data);
      if (site) p.bodySite = [{ text: site }];
      if (target.categoryText || target.category) p.category = { ...(target.category ? { coding: target.category } : {}), ...(target.categoryText ? { text: target.categoryText } : {}) };
      return;
    }
  }
}
