import { MednerError } from '../ops/errors.ts';

/** Why an input could not be turned into ClinicalDocuments. Stable: dead-letter records and metrics key on it. */
export type IntakeErrorCode =
  | 'NOT_HL7' // neither HL7 v2 (no MSH) nor JSON
  | 'UNSUPPORTED_EVENT' // HL7 v2 message type other than MDM^T01-T11 / ORU^R01
  | 'NO_NARRATIVE' // a content-bearing message or resource without usable text
  | 'BAD_ENCODING' // bytes invalid for the declared character set, or an unknown character set
  | 'UNSUPPORTED_CONTENT_TYPE' // ED / attachment of a type we cannot turn into text (PDF, images, ...)
  | 'INVALID_FHIR' // not JSON, or JSON that is not a valid R4 resource of a type we take
  | 'NOT_R4' // a FHIR resource of another version (R5, STU3) or without resourceType
  | 'MISSING_FIELD' // a required field (TXA-12, PID-3, TXA-13 on T05/T06/T09/T10, subject, id) is absent
  | 'BINARY_FETCH_FAILED' // attachment.url could not be fetched (retriable)
  | 'UNSUPPORTED_RESOURCE' // FHIR resource type other than DocumentReference, DiagnosticReport, Bundle
  | 'INTERNAL'; // a bug in intake (unexpected exception), wrapped so callers only see IntakeError

const RETRIABLE: ReadonlySet<IntakeErrorCode> = new Set(['BINARY_FETCH_FAILED']);

/**
 * A typed intake failure. Messages name fields, codes and offsets only, never
 * values from the message (they end up in logs and dead-letter records).
 */
export class IntakeError extends MednerError {
  declare readonly code: IntakeErrorCode;

  constructor(code: IntakeErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, { retriable: RETRIABLE.has(code), cause: opts.cause });
    this.name = 'IntakeError';
  }
}

export function isIntakeError(err: unknown): err is IntakeError {
  return err instanceof IntakeError;
}
