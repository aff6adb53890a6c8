/**
 * Files -> Kafka records for `medner send`: the input format that recognizes the content
 * (src/formats/registry.ts) splits it into records (HL7 batches, NDJSON) and picks their keys.
 */
import path from 'node:path';
import type { SourceFormat } from '../core/clinical-document.ts';
import { MednerError } from '../core/errors.ts';
import { DEFAULT_FORMATS, type InputFormats } from '../formats/registry.ts';

/** Why `medner send` cannot send a file (the command reports it and exits non-zero). */
export class SendError extends MednerError {
  constructor(code: 'EMPTY_INPUT' | 'UNKNOWN_FORMAT', message: string) {
    super(code, message);
    this.name = 'SendError';
  }
}

/**
 * The bytes of a file without its byte order mark: UTF-8's is dropped; UTF-16's (LE or BE)
 * means the file is UTF-16 text, re-encoded to UTF-8 (HL7 v2 over the wire and FHIR JSON are
 * 8-bit; a UTF-16 HL7 file is a Windows editor's doing).
 */
export function withoutBom(buf: Buffer): Buffer {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3);
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return Buffer.from(new TextDecoder('utf-16le').decode(buf.subarray(2)), 'utf8');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return Buffer.from(new TextDecoder('utf-16be').decode(buf.subarray(2)), 'utf8');
  return buf;
}

export interface OutgoingDocument {
  format: SourceFormat;
  /** Document id when it can be read cheaply, else "<file name>#<index>". */
  key: string;
  value: Buffer;
}

/**
 * The records of one file. A byte order mark is not an error (see withoutBom); an empty file, one
 * that no input format recognizes, or one its format cannot send (FHIR JSON that is not UTF-8, an HL7
 * file without a message) throws, so nothing is silently dropped.
 */
export function documentsFromFile(file: string, original: Buffer, formats: InputFormats = DEFAULT_FORMATS): OutgoingDocument[] {
  const name = path.basename(file);
  if (original.length === 0) throw new SendError('EMPTY_INPUT', `${name}: the file is empty`);
  const content = withoutBom(original);
  if (content.toString('latin1').trim() === '') throw new SendError('EMPTY_INPUT', `${name}: the file holds only white space`);
  const format = formats.recognize(content);
  if (format === undefined) throw new SendError('UNKNOWN_FORMAT', `${name}: none of the formats medner reads (${formats.names.join(', ')}); neither HL7 v2 (MSH...) nor FHIR (JSON or XML)`);
  return format.recordsOfFile(name, content).map((r) => ({ format: format.name, ...r }));
}
