/**
 * The normalized document every input format is turned into. Later stages
 * (NER offsets, FHIR provenance) index `text`, in UTF-16 code units.
 * JSON Schema: schemas/clinical-document.schema.json (keep in step).
 */

/** The name of the input format that read the document (src/formats/registry.ts: "hl7v2", "fhir"). */
export type SourceFormat = string;

/** Where the message came from: a Kafka record or a file. */
export type SourceCoordinates =
  | { kind: 'kafka'; topic: string; partition: number; offset: string; timestamp?: string; key?: string }
  | { kind: 'file'; path: string; index: number };

export interface PatientRef {
  /** FHIR reference, e.g. "Patient/123", when the input is FHIR. */
  reference?: string;
  /** Business identifier, e.g. MRN from PID-3 (system is a URI, OIDs as urn:oid:...). */
  identifier?: { system?: string; value: string; type?: string };
  /**
   * The source names the patient only by identifier and expects the receiving system to know or
   * make the Patient (HL7 v2 feeds): medner's transaction conditionally creates a minimal Patient
   * with that identifier (src/fhir/document-output.ts). Otherwise (FHIR sources) the subject is the
   * reference as given, or a logical reference by identifier.
   */
  createIfAbsent?: true;
}

export interface EncounterRef {
  reference?: string;
  identifier?: { system?: string; value: string };
}

/**
 * What this document does to earlier versions of itself. parentId is a document id (TXA-13,
 * TXA-12 for edits/cancels; for FHIR relatesTo the target's identifier.value, else the id in
 * target.reference). parentReference is the FHIR reference of the parent when the input named one.
 */
export type Lifecycle =
  | { action: 'original' }
  | { action: 'append'; parentId?: string; parentReference?: string } // MDM T05/T06, relatesTo appends
  | { action: 'edit'; parentId?: string; parentReference?: string } // MDM T07/T08, docStatus amended
  | { action: 'replace'; parentId?: string; parentReference?: string } // MDM T09/T10, relatesTo replaces
  | { action: 'cancel'; parentId?: string; parentReference?: string } // MDM T11, entered-in-error
  | { action: 'status-change' }; // MDM T03/T04

/** One contiguous range of `text` and where in the source it came from. */
export interface TextSegment {
  start: number;
  end: number;
  /** e.g. "OBX[3]" (set id), "OBX[3].NTE[1]", "content[0]", "presentedForm[1]" */
  origin: string;
}

export interface ClinicalDocument {
  /** Stable document id: TXA-12, DocumentReference.masterIdentifier value or resource id. */
  id: string;
  /** System of the id when known (TXA-12 assigning authority, masterIdentifier.system). */
  idSystem?: string;
  format: SourceFormat;
  /** HL7 v2 event (e.g. "MDM^T02", "ORU^R01") or FHIR resource type ("DocumentReference"). */
  messageType: string;
  /** MSH-10 control id, or FHIR resource id / meta.versionId. */
  messageId?: string;
  patient: PatientRef;
  encounter?: EncounterRef;
  /** ISO 8601 date-time of the document (TXA-4/TXA-6/OBX-14/MSH-7, DocumentReference.date). */
  date?: string;
  /** Document type: code and display (TXA-2, DocumentReference.type). */
  type?: { system?: string; code?: string; display?: string };
  /** FHIR DocumentReference.status / TXA-19 availability mapped. */
  status: 'current' | 'superseded' | 'entered-in-error';
  /** FHIR docStatus / TXA-17 completion status mapped. */
  docStatus?: 'preliminary' | 'final' | 'amended' | 'entered-in-error';
  lifecycle: Lifecycle;
  /** Reference to the source DocumentReference on the FHIR server, when the input was one. */
  sourceReference?: string;
  source: SourceCoordinates;
  /** The narrative, as one plain-text string. */
  text: string;
  segments: TextSegment[];
  /**
   * Parts of the source that were looked at but not turned into text, so nothing is dropped
   * silently: an ED/attachment of an unsupported type next to usable text (reason
   * UNSUPPORTED_CONTENT_TYPE), an ED or attachment whose data cannot be decoded (BAD_ENCODING; the
   * other parts are kept), a FHIR attachment url that cannot be fetched for good (UNREACHABLE: 4xx,
   * or not allowed), or a FHIR attachment passed over for a better rendition (ALTERNATIVE). All but
   * ALTERNATIVE are the document's warnings: they reach the output (a skipped-part extension on the
   * Provenance's source entity; our DocumentReference's description for HL7 v2) and the skipped part
   * goes to the dead-letter topic with its reason and bytes (`raw`).
   */
  omitted?: OmittedPart[];
}

export interface OmittedPart {
  /** Same naming as TextSegment.origin. */
  origin: string;
  reason: 'UNSUPPORTED_CONTENT_TYPE' | 'ALTERNATIVE' | 'NO_TEXT' | 'BAD_ENCODING' | 'UNREACHABLE';
  /** Media type of the part when known. */
  contentType?: string;
  /** The skipped part as received (an HL7 v2 segment), for its dead-letter record; removed before the document is queued. */
  raw?: string;
}
