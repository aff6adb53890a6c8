import type * as fhir4 from 'fhir/r4.js';
import { HL7 } from '../uris.ts';
import { concept, extensionsFor } from './common.ts';
import { verificationRetraction, type ResourceTarget } from './target.ts';

/**
 * A substance in an allergy context (a MedicationStatement label whose mention the assertions mark
 * as an allergy): AllergyIntolerance. Not named by a mapping; reactions are added by the caller
 * (document-output.ts). A denied allergy gives nothing.
 */
export const allergyIntoleranceTarget: ResourceTarget<fhir4.AllergyIntolerance> = {
  resourceType: 'AllergyIntolerance',
  selectable: false,
  category: false,
  build(ctx, e) {
    const a = e.assertion;
    if (a.negated) return undefined;
    const r: fhir4.AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      meta: structuredClone(ctx.meta),
      extension: extensionsFor(ctx, e),
      clinicalStatus: { coding: [{ system: HL7.allergyClinical, code: 'active', display: 'Active' }] },
      patient: ctx.subject,
    };
    if (a.uncertain) r.verificationStatus = { coding: [{ system: HL7.allergyVerification, code: 'unconfirmed', display: 'Unconfirmed' }] };
    r.type = a.allergy === 'intolerance' ? 'intolerance' : 'allergy';
    if (a.criticality) r.criticality = a.criticality;
    r.code = concept(ctx, e);
    if (ctx.encounter) r.encounter = ctx.encounter;
    if (ctx.date) r.recordedDate = ctx.date;
    return r;
  },
  // entered-in-error without clinicalStatus (ait-2)
  ...verificationRetraction<fhir4.AllergyIntolerance>(HL7.allergyVerification),
};
