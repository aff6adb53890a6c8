import { IntakeError } from '../errors.ts';

/**
 * Tells R4 from other FHIR versions before validating shape, so an R5 or STU3 resource is
 * reported as NOT_R4 rather than as malformed. Looks at explicit version hints and at
 * elements whose shape or presence differs between versions. Messages name elements only.
 */

const R5_ONLY: Record<string, readonly string[]> = {
  DocumentReference: ['version', 'basedOn', 'modality', 'event', 'bodySite', 'facilityType', 'practiceSetting', 'period', 'attester'],
  DiagnosticReport: ['note', 'study', 'supportingInfo', 'composition'],
  Bundle: ['issues'],
  Composition: ['url', 'version', 'name', 'note'],
};
const STU3_ONLY: Record<string, readonly string[]> = {
  DocumentReference: ['indexed', 'class', 'created'],
  DiagnosticReport: ['context', 'codedDiagnosis', 'image'],
};
const R5_ATTACHMENT = ['height', 'width', 'frames', 'duration', 'pages'];

function notR4(what: string): IntakeError {
  return new IntakeError('NOT_R4', `${what}: not a FHIR R4 resource`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function versionHint(v: unknown): boolean {
  return typeof v === 'string' && !/^4\.0(\.\d+)?$/.test(v.trim());
}

function checkAttachment(a: unknown, where: string): void {
  if (!isObj(a)) return;
  if (typeof a.size === 'string') throw notR4(`${where}.size is a string (R5 integer64)`);
  for (const k of R5_ATTACHMENT) if (k in a) throw notR4(`${where}.${k} (R5 element)`);
}

export function assertR4(res: unknown, where = 'resource'): void {
  if (!isObj(res)) return; // shape errors are INVALID_FHIR, reported by validation
  const type = res.resourceType;
  if (type === undefined) throw notR4(`${where} has no resourceType`);
  if (typeof type !== 'string') return;
  const here = `${where} ${type}`;
  if (versionHint(res.fhirVersion)) throw notR4(`${here} declares fhirVersion`);
  const meta = res.meta;
  if (isObj(meta)) {
    if (Array.isArray(meta.profile) && meta.profile.some((p) => typeof p === 'string' && /hl7\.org\/fhir\/(5\.0|R5|R6|6\.0|3\.0|STU3|1\.0|DSTU2)\//i.test(p)))
      throw notR4(`${here} meta.profile names another FHIR version`);
    const fv = (meta.extension as unknown[] | undefined)?.find?.((e) => isObj(e) && typeof e.url === 'string' && e.url.endsWith('/fhirVersion'));
    if (isObj(fv) && versionHint(fv.valueCode ?? fv.valueString)) throw notR4(`${here} meta declares fhirVersion`);
  }
  for (const k of R5_ONLY[type] ?? []) if (k in res) throw notR4(`${here}.${k} (R5 element)`);
  for (const k of STU3_ONLY[type] ?? []) if (k in res) throw notR4(`${here}.${k} (STU3 element)`);
  if (type === 'DocumentReference') {
    if ('masterIdentifier' in res && !isObj(res.masterIdentifier)) return;
    if (Array.isArray(res.context)) throw notR4(`${here}.context is a list (R5)`);
    if (Array.isArray(res.relatesTo))
      res.relatesTo.forEach((r, i) => {
        if (isObj(r) && isObj(r.code)) throw notR4(`${here}.relatesTo[${i}].code is a CodeableConcept (R5)`);
      });
    if (Array.isArray(res.content)) res.content.forEach((c, i) => isObj(c) && checkAttachment(c.attachment, `${here}.content[${i}].attachment`));
  }
  if (type === 'Composition') {
    if (Array.isArray(res.identifier)) throw notR4(`${here}.identifier is a list (R5)`);
    if (Array.isArray(res.subject)) throw notR4(`${here}.subject is a list (R5)`);
    if (Array.isArray(res.relatesTo) && res.relatesTo.some((r) => isObj(r) && 'resourceReference' in r)) throw notR4(`${here}.relatesTo is a RelatedArtifact (R5)`);
  }
  if (type === 'DiagnosticReport' && Array.isArray(res.presentedForm)) res.presentedForm.forEach((a, i) => checkAttachment(a, `${here}.presentedForm[${i}]`));
  if (type === 'Bundle' && Array.isArray(res.entry))
    res.entry.forEach((e, i) => {
      if (isObj(e) && e.resource !== undefined) assertR4(e.resource, `${where} Bundle.entry[${i}].resource`);
    });
}
