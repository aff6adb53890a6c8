import type * as fhir4 from 'fhir/r4.js';
import { procedureDoneIn, procedureStatusFrom } from '../clinical-details.ts';
import { baseOf, concept } from './common.ts';
import { statusRetraction, type ResourceTarget } from './target.ts';

/** Therapeutic_procedure, a Diagnostic_procedure without a value: Procedure; status from the assertions, else from its sentence. */
export const procedureTarget: ResourceTarget<fhir4.Procedure> = {
  resourceType: 'Procedure',
  selectable: true,
  category: false,
  build(ctx, e) {
    const a = e.assertion;
    const p: fhir4.Procedure = {
      resourceType: 'Procedure',
      ...baseOf(ctx, e),
      status: a.negated
        ? 'not-done'
        : a.medicationStatus === 'intended'
          ? 'preparation'
          : a.medicationStatus === 'stopped' || a.medicationStatus === 'on-hold'
            ? a.medicationStatus
            : a.medicationStatus === 'active'
              ? 'in-progress'
            : a.historical || a.sectionContext === 'performed' || a.sectionContext === 'immunization'
              ? 'completed'
              : 'unknown',
      code: concept(ctx, e),
      subject: ctx.subject,
    };
    if (ctx.encounter) p.encounter = ctx.encounter;
    return p;
  },
  details(p, e, target, docText, data) {
    const site = (e.attributes ?? []).find((a) => a.kind === 'bodySite')?.text.trim();
    // Only a status the assertions left open ('unknown') is refined from the sentence, and never for a
    // procedure the note only considers ("possible cardioversion after anticoagulation").
    if (p.status === 'unknown' && !e.assertion.uncertain && !e.assertion.hypothetical) p.status = procedureStatusFrom(docText, e, data);
    // A plan section's procedure whose sentence reports it done ("Chest x-ray showed consolidation").
    else if (p.status === 'preparation' && e.assertion.sectionContext === 'plan' && procedureDoneIn(docText, e, data)) p.status = 'completed';
    if (site) p.bodySite = [{ text: site }];
    if (target.categoryText || target.category) p.category = { ...(target.category ? { coding: target.category } : {}), ...(target.categoryText ? { text: target.categoryText } : {}) };
  },
  ...statusRetraction<fhir4.Procedure>(),
};
