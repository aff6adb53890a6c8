import type * as fhir4 from 'fhir/r4.js';
import { dosageFor } from '../dosage.ts';
import { sentenceAround } from '../clinical-details.ts';
import { phraseMatcher } from '../clinical-rules.ts';
import { baseOf, concept } from './common.ts';
import { statusRetraction, type ResourceTarget } from './target.ts';

/** Chemical, Medication: MedicationStatement; status from the assertions, dosage from the attributes. */
export const medicationStatementTarget: ResourceTarget<fhir4.MedicationStatement> = {
  resourceType: 'MedicationStatement',
  selectable: true,
  category: false,
  build(ctx, e) {
    const a = e.assertion;
    const m: fhir4.MedicationStatement = {
      resourceType: 'MedicationStatement',
      ...baseOf(ctx, e),
      // A medication mentioned in past history is still taken unless the text says it was stopped.
      // A vaccine in a list of immunizations given was given: completed.
      status: a.negated ? 'not-taken' : (a.medicationStatus ?? (a.sectionContext === 'immunization' ? 'completed' : a.uncertain ? 'unknown' : 'active')),
      medicationCodeableConcept: concept(ctx, e),
      subject: ctx.subject,
      derivedFrom: [ctx.docRef],
    };
    if (ctx.encounter) m.context = ctx.encounter;
    if (ctx.date) m.dateAsserted = ctx.date;
    return m;
  },
  details(m, e, _target, docText, data) {
    const d = dosageFor(e, data);
    if (d) m.dosage = [d];
    // A course given for a stated time in the past ("treated with prednisone 20 mg daily for 1 week").
    const done = data.rules.medicationCourseDone ?? [];
    if (m.status === 'active' && e.assertion.medicationStatus === undefined && done.length > 0 && (e.attributes ?? []).some((a) => a.kind === 'duration') && phraseMatcher(done).test(sentenceAround(docText, e.start, e.end))) {
      m.status = 'completed';
    }
  },
  ...statusRetraction<fhir4.MedicationStatement>(),
};
