import type { ClinicalDocument, SourceCoordinates, SourceFormat } from '../core/clinical-document.ts';
import type { FetchBinary } from './fhir/to-documents.ts';
import { DEFAULT_FORMATS } from './registry.ts';

export interface IntakeOptions {
  source: SourceCoordinates;
  /** A format's name (src/formats/registry.ts). When absent the bytes are recognized: MSH, MLLP, BOM, FHS/BHS -> hl7v2; JSON -> fhir. */
  format?: SourceFormat;
  /** Resolves attachment.url (usually a Binary on the FHIR server) when an attachment has no inline data. */
  fetchBinary?: FetchBinary;
}

/**
 * Raw bytes of one Kafka record or file to normalized documents with the shipped formats (see
 * InputFormats.read). Pure apart from fetchBinary. Throws IntakeError, never anything else.
 */
export function parseDocuments(raw: Buffer | Uint8Array, opts: IntakeOptions): Promise<ClinicalDocument[]> {
  return DEFAULT_FORMATS.read(raw, opts);
}

export { IntakeError } from './errors.ts';
