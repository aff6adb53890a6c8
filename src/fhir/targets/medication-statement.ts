import type * as fhir4 from 'fhir/r4.js';
import { dosageFor } from '../dosage.ts';
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
      status: a.negated ? 'not-taken' : (a.medicationStatus ?? (a.uncertain ? 'unknown' : 'active')),
      medicationCodeableConcept: concept(ctx, e),
      subject: ctx.subject,
      derivedFrom: [ctx.docRef],
    };
    if (ctx.encounter) m.context = ctx.encounter;
    if (ctx.date) m.dateAsserted = ctx.date;
    return m;
  },
  details(m, e, _target, _docText, data) {
    const d = dosageFor(e, data);
    if (d) m.dosage = [d];
  },
  ...statusRetraction<fhir4.MedicationStatement>(),
};
