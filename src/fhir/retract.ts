import type * as fhir4 from 'fhir/r4.js';
import { HL7 } from './uris.ts';

/** The resource marked entered-in-error, or undefined when it already is. */
export function retract(type: string, resource: fhir4.Resource): fhir4.Resource | undefined {
  const r = structuredClone(resource) as fhir4.Resource & Record<string, unknown>;
  if (r.meta) {
    delete r.meta.versionId;
    delete r.meta.lastUpdated;
    delete r.meta.source;
  }
  if (type === 'Condition') {
    const c = r as unknown as fhir4.Condition;
    if (c.verificationStatus?.coding?.some((x) => x.code === 'entered-in-error')) return undefined;
    c.verificationStatus = { coding: [{ system: HL7.conditionVerStatus, code: 'entered-in-error', display: 'Entered in Error' }] };
    delete c.clinicalStatus; // con-5: no clinicalStatus on an entered-in-error Condition
    return c;
  }
  if (type === 'AllergyIntolerance') {
    const a = r as unknown as fhir4.AllergyIntolerance;
    if (a.verificationStatus?.coding?.some((x) => x.code === 'entered-in-error')) return undefined;
    a.verificationStatus = { coding: [{ system: HL7.allergyVerification, code: 'entered-in-error', display: 'Entered in Error' }] };
    delete a.clinicalStatus; // ait-2: no clinicalStatus on an entered-in-error AllergyIntolerance
    return a;
  }
  if (r.status === 'entered-in-error') return undefined;
  r.status = 'entered-in-error';
  return r;
}

/** Whether a derived resource is retracted (entered-in-error). */
export function isRetracted(r: fhir4.Resource): boolean {
  if (r.resourceType === 'Condition' || r.resourceType === 'AllergyIntolerance') {
    return (r as fhir4.Condition).verificationStatus?.coding?.some((x) => x.code === 'entered-in-error') ?? false;
  }
  return (r as { status?: string }).status === 'entered-in-error';
}
