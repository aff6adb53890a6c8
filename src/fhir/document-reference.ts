import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../core/clinical-document.ts';
import { fhirInstant } from './fhir-dates.ts';
import { documentTypeConcept } from './hl7-codes.ts';
import { URI } from './uris.ts';

/**
 * A DocumentReference of our own for documents that have none on the server
 * (HL7 v2 MDM/ORU), after the HL7 v2-to-FHIR mapping: TXA-12 ->
 * masterIdentifier, TXA-2 -> type, TXA-17 -> docStatus, TXA-19 -> status,
 * PID -> subject, PV1-19 -> context.encounter, the text -> content as
 * base64 text/plain. Its content is exactly ClinicalDocument.text, so the
 * derivation-reference offsets index the attachment directly.
 */

export function documentIdentifier(doc: ClinicalDocument): fhir4.Identifier {
  return { system: doc.idSystem ?? URI.documentIdentifier, value: doc.id };
}

/**
 * The document's warnings (ClinicalDocument.omitted: parts not turned into text) as one line:
 * "medner skipped OBX[4] (BAD_ENCODING), OBX[5] (UNSUPPORTED_CONTENT_TYPE application/pdf)".
 * Origins, reasons and media types only: never patient text. Undefined when nothing was skipped.
 */
export function omittedWarning(doc: ClinicalDocument): string | undefined {
  const parts = (doc.omitted ?? []).filter((o) => o.reason !== 'ALTERNATIVE');
  if (parts.length === 0) return undefined;
  return `medner skipped ${parts.map((o) => `${o.origin} (${o.reason}${o.contentType ? ` ${o.contentType}` : ''})`).join(', ')}`;
}

/**
 * The same warnings as Provenance.entity extensions (`URI.skippedPart`, defined in conformance.ts):
 * origin, reason and media type of each skipped part.
 */
export function skippedPartExtensions(doc: ClinicalDocument): fhir4.Extension[] {
  return (doc.omitted ?? [])
    .filter((o) => o.reason !== 'ALTERNATIVE')
    .map((o) => ({
      url: URI.skippedPart,
      extension: [
        { url: 'origin', valueString: o.origin },
        { url: 'reason', valueCode: o.reason },
        ...(o.contentType ? [{ url: 'contentType', valueCode: o.contentType }] : []),
      ],
    }));
}

export function buildDocumentReference(
  doc: ClinicalDocument,
  subject: fhir4.Reference,
  encounter: fhir4.Reference | undefined,
): fhir4.DocumentReference {
  const docRef: fhir4.DocumentReference = {
    resourceType: 'DocumentReference',
    masterIdentifier: documentIdentifier(doc),
    status: doc.status,
    // FHIR strings may not be empty: no text, no data element.
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', ...(doc.text !== '' ? { data: Buffer.from(doc.text, 'utf8').toString('base64') } : {}) } }],
    subject,
  };
  if (doc.docStatus) docRef.docStatus = doc.docStatus;
  const warnings = omittedWarning(doc);
  if (warnings) docRef.description = warnings;
  if (doc.type && (doc.type.code || doc.type.display)) {
    if (doc.type.code && doc.type.system) {
      docRef.type = { coding: [{ system: doc.type.system, code: doc.type.code, ...(doc.type.display ? { display: doc.type.display } : {}) }] };
    } else {
      // No system (HL7 v2 TXA-2, table 0270): LOINC where certain, v2-0270 with its system, else text only.
      const type = documentTypeConcept(doc.type.code, doc.type.display);
      if (type) docRef.type = type;
    }
  }
  const date = fhirInstant(doc.date);
  if (date) docRef.date = date;
  const lc = doc.lifecycle;
  if ((lc.action === 'replace' || lc.action === 'append') && lc.parentId) {
    docRef.relatesTo = [
      { code: lc.action === 'replace' ? 'replaces' : 'appends', target: { identifier: { system: doc.idSystem ?? URI.documentIdentifier, value: lc.parentId } } },
    ];
  }
  if (encounter) docRef.context = { encounter: [encounter] };
  return docRef;
}
