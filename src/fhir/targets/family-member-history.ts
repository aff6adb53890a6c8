import type * as fhir4 from 'fhir/r4.js';
import { HL7 } from '../uris.ts';
import { concept, extensionsFor } from './common.ts';
import { statusRetraction, type ResourceTarget } from './target.ts';

const RELATIVE_DISPLAY: Record<string, string> = {
  MTH: 'mother',
  FTH: 'father',
  SIS: 'sister',
  BRO: 'brother',
  SIB: 'sibling',
  SON: 'son',
  DAU: 'daughter',
  GRMTH: 'grandmother',
  GRFTH: 'grandfather',
  AUNT: 'aunt',
  UNCLE: 'uncle',
  FAMMEMB: 'family member',
};

/**
 * A relative's condition (a mention whose experiencer is family): FamilyMemberHistory, never a
 * Condition on the patient. Not named by a mapping: the label's target says whether family mentions
 * become one (`familyHistory`, default true for Condition). Negated family mentions are skipped.
 */
export const familyMemberHistoryTarget: ResourceTarget<fhir4.FamilyMemberHistory> = {
  resourceType: 'FamilyMemberHistory',
  selectable: false,
  category: false,
  build(ctx, e, target) {
    if (!(target.familyHistory ?? target.resourceType === 'Condition')) return undefined;
    if (e.assertion.negated) return undefined;
    const rel = e.assertion.relationship ?? 'FAMMEMB';
    const f: fhir4.FamilyMemberHistory = {
      resourceType: 'FamilyMemberHistory',
      meta: structuredClone(ctx.meta),
      extension: extensionsFor(ctx, e),
      status: 'partial',
      patient: ctx.subject,
      relationship: { coding: [{ system: HL7.v3RoleCode, code: rel, display: RELATIVE_DISPLAY[rel] ?? rel }] },
      condition: [{ code: concept(ctx, e, true) }],
    };
    if (ctx.date) f.date = ctx.date;
    return f;
  },
  ...statusRetraction<fhir4.FamilyMemberHistory>(),
};
