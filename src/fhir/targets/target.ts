import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../core/clinical-document.ts';
import type { AssertedEntity } from '../../core/entity.ts';
import type { Entity, ModelInfo } from '../../core/entity.ts';
import type { ClinicalData } from '../clinical-rules.ts';
import type { LabelMapping, LabelTarget } from '../label-mapping.ts';

/**
 * One FHIR resource type medner derives from entities (src/fhir/targets/README in src/fhir/README.md,
 * "Resource targets"): how a mention becomes it, what its attributes add, and how a stored one is
 * retracted when an amended document no longer yields it. The registry (registry.ts) lists them.
 */
export interface ResourceTarget<R extends fhir4.DomainResource = fhir4.DomainResource> {
  /** The FHIR resource type; also the name a label mapping's `resourceType` selects when `selectable`. */
  readonly resourceType: R['resourceType'];
  /** A label mapping may name it (false: made only by a routing rule, e.g. FamilyMemberHistory for a relative's condition). */
  readonly selectable: boolean;
  /** It takes the mapping's `category` codings (a mapping giving `category` to another target is invalid). */
  readonly category: boolean;
  /** The resource an asserted mention becomes (without id, identifier and merged spans), or undefined when it gives none. */
  build(ctx: TargetContext, e: AssertedEntity, target: LabelTarget): R | undefined;
  /** What the entity's attributes add to the resource (values, dose, body site...), in place. */
  details?(resource: R, e: AssertedEntity, target: LabelTarget, docText: string, data: ClinicalData): void;
  /** A copy of the stored resource marked entered-in-error, or undefined when it already is. */
  retract(resource: R): R | undefined;
  /** Whether a stored resource is retracted (entered-in-error). */
  isRetracted(resource: R): boolean;
}

/** What a target's build sees of the document being mapped. */
export interface TargetContext {
  doc: ClinicalDocument;
  docKey: string;
  model: ModelInfo;
  mapping: LabelMapping;
  subject: fhir4.Reference;
  encounter?: fhir4.Reference;
  docRef: fhir4.Reference;
  /** derivation-reference path, when our offsets index a known element of the referenced resource. */
  pathFor: (offset: number) => string | undefined;
  meta: fhir4.Meta;
  date?: string;
}

/** Retraction by `status` (Observation, MedicationStatement, Procedure, FamilyMemberHistory). */
export function statusRetraction<R extends fhir4.DomainResource & { status?: string }>(): Pick<ResourceTarget<R>, 'retract' | 'isRetracted'> {
  return {
    retract(r) {
      if (r.status === 'entered-in-error') return undefined;
      return { ...r, status: 'entered-in-error' };
    },
    isRetracted: (r) => r.status === 'entered-in-error',
  };
}

/** Retraction by `verificationStatus` entered-in-error, clinicalStatus removed (Condition con-5, AllergyIntolerance ait-2). */
export function verificationRetraction<R extends fhir4.DomainResource & { verificationStatus?: fhir4.CodeableConcept; clinicalStatus?: fhir4.CodeableConcept }>(
  system: string,
): Pick<ResourceTarget<R>, 'retract' | 'isRetracted'> {
  const retracted = (r: R) => r.verificationStatus?.coding?.some((x) => x.code === 'entered-in-error') ?? false;
  return {
    retract(r) {
      if (retracted(r)) return undefined;
      const out = { ...r, verificationStatus: { coding: [{ system, code: 'entered-in-error', display: 'Entered in Error' }] } };
      delete out.clinicalStatus;
      return out;
    },
    isRetracted: retracted,
  };
}
