import type * as fhir4 from 'fhir/r4.js';
import type { AssertedEntity } from '../../core/entity.ts';
import { HL7 } from '../uris.ts';
import { baseOf, categoryWithText, concept } from './common.ts';
import { verificationRetraction, type ResourceTarget } from './target.ts';

const CLINICAL_DISPLAY: Record<string, string> = { active: 'Active', inactive: 'Inactive', resolved: 'Resolved' };

/**
 * Condition.clinicalStatus where the text supports it: a current mention of the patient's condition is
 * active; a historical one takes its trigger's status ("history of" inactive, "resolved" resolved), and
 * none when the text does not say (a past-history section lists chronic conditions too); a refuted one has none.
 */
function conditionClinicalStatus(a: AssertedEntity['assertion']): 'active' | 'inactive' | 'resolved' | undefined {
  if (a.negated) return undefined;
  if (a.historical) return a.clinicalStatus;
  return 'active';
}

/** Sign_symptom, Disease_disorder...: Condition; verificationStatus from the assertions; severity, body site, category text from attributes. */
export const conditionTarget: ResourceTarget<fhir4.Condition> = {
  resourceType: 'Condition',
  selectable: true,
  category: true,
  build(ctx, e, target) {
    const a = e.assertion;
    // In a list of vaccines given, "hepatitis A" names the vaccine's target, not the patient's disease.
    if (a.sectionContext === 'immunization') return undefined;
    const clinical = conditionClinicalStatus(a);
    const c: fhir4.Condition = {
      resourceType: 'Condition',
      ...baseOf(ctx, e),
      ...(clinical ? { clinicalStatus: { coding: [{ system: HL7.conditionClinical, code: clinical, display: CLINICAL_DISPLAY[clinical] }] } } : {}),
      verificationStatus: {
        coding: [
          a.negated
            ? { system: HL7.conditionVerStatus, code: 'refuted', display: 'Refuted' }
            : a.uncertain
              ? { system: HL7.conditionVerStatus, code: 'unconfirmed', display: 'Unconfirmed' }
              : { system: HL7.conditionVerStatus, code: 'confirmed', display: 'Confirmed' },
        ],
      },
      code: concept(ctx, e, true),
      subject: ctx.subject,
      evidence: [{ detail: [ctx.docRef] }],
    };
    if (target.category) c.category = [{ coding: target.category }];
    if (ctx.encounter) c.encounter = ctx.encounter;
    if (ctx.date) c.recordedDate = ctx.date;
    return c;
  },
  details(c, e, target) {
    const attrs = e.attributes ?? [];
    const site = attrs.find((a) => a.kind === 'bodySite')?.text.trim();
    const severity = attrs.find((a) => a.kind === 'severity')?.text.trim();
    if (severity) c.severity = { text: severity };
    if (site) c.bodySite = [{ text: site }];
    const cat = categoryWithText(c.category, target.categoryText);
    if (cat) c.category = cat;
  },
  // entered-in-error without clinicalStatus (con-5)
  ...verificationRetraction<fhir4.Condition>(HL7.conditionVerStatus),
};
