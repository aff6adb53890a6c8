import type { ClinicalDocument, SourceCoordinates } from '../core/clinical-document.ts';
import { IntakeError } from './errors.ts';
import { fhirToDocuments, type FetchBinary } from './fhir/to-documents.ts';
import { looksLikeHl7 } from './hl7v2/framing.ts';
import { hl7v2ToDocuments } from './hl7v2/to-documents.ts';

export interface IntakeOptions {
  source: SourceCoordinates;
  /** When absent the bytes are sniffed: JSON object -> fhir; MSH, MLLP, BOM, FHS/BHS -> hl7v2. */
  format?: 'hl7v2' | 'fhir';
  /** Resolves attachment.url (usually a Binary on the FHIR server) when an attachment has no inline data. */
  fetchBinary?: FetchBinary;
}

function firstSignificantByte(b: Uint8Array): number | undefined {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return b[i];
}

export function sniffFormat(raw: Uint8Array): 'hl7v2' | 'fhir' {
  if (looksLikeHl7(raw)) return 'hl7v2';
  const c = firstSignificantByte(raw);
  if (c === 0x7b) return 'fhir'; // '{'
  if (c === 0x5b) throw new IntakeError('INVALID_FHIR', 'input is a JSON array, not a FHIR resource');
  if (c === 0x3c) throw new IntakeError('INVALID_FHIR', 'input looks like XML; only FHIR JSON is accepted');
  throw new IntakeError('NOT_HL7', 'input is neither HL7 v2 (no MSH segment) nor FHIR JSON');
}

/**
 * Raw bytes of one Kafka record or file to normalized documents (several for a Bundle, an
 * NDJSON file, an HL7 batch or an ORU with several reports). Pure apart from fetchBinary.
 * Throws IntakeError, never anything else: an unexpected failure is wrapped as INTERNAL.
 */
export async function parseDocuments(raw: Buffer | Uint8Array, opts: IntakeOptions): Promise<ClinicalDocument[]> {
  try {
    const format = opts.format ?? sniffFormat(raw);
    if (format === 'hl7v2') return hl7v2ToDocuments(raw, opts.source);
    const ctx = opts.fetchBinary ? { source: opts.source, fetchBinary: opts.fetchBinary } : { source: opts.source };
    return await fhirToDocuments(raw, ctx);
  } catch (e) {
    if (e instanceof IntakeError) throw e;
    // A bug of ours, not a property of the input: no retry helps, but do not lose the cause.
    throw new IntakeError('INTERNAL', `intake failed unexpectedly (${e instanceof Error ? e.name : typeof e})`, { cause: e });
  }
}

export { IntakeError } from './errors.ts';
