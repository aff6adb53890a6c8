/**
 * Files -> Kafka records for `medner send`: sniff the format (HL7 v2 or FHIR),
 * split files holding several messages (HL7 batches, NDJSON), pick a key.
 */
import path from 'node:path';
import type { SourceFormat } from '../core/clinical-document.ts';
import { MednerError } from '../core/errors.ts';

/** Why `medner send` cannot send a file (the command reports it and exits non-zero). */
export class SendError extends MednerError {
  constructor(code: 'EMPTY_INPUT' | 'UNKNOWN_FORMAT' | 'BAD_ENCODING' | 'NO_MESSAGES', message: string) {
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

const MLLP_START = 0x0b;

/** HL7 v2 when the content starts with MSH (after whitespace or an MLLP start byte), FHIR when it is JSON or XML. */
export function sniffFormat(buf: Buffer): SourceFormat | undefined {
  let i = 0;
  while (i < buf.length && (buf[i] === MLLP_START || buf[i] === 0xef || buf[i] === 0xbb || buf[i] === 0xbf || /\s/.test(String.fromCharCode(buf[i] as number)))) i++;
  const head = buf.subarray(i, i + 5).toString('latin1');
  if (head.startsWith('MSH') || head.startsWith('FHS') || head.startsWith('BHS')) return 'hl7v2';
  if (head.startsWith('{') || head.startsWith('<')) return 'fhir';
  return undefined;
}

/** Splits an HL7 v2 file into messages at each MSH segment (batch headers dropped). */
export function splitHl7(text: string): string[] {
  const segments = text.replace(/\x1c\r?|\x0b/g, '').split(/\r\n|\r|\n/).filter((s) => s.trim().length > 0);
  const out: string[][] = [];
  for (const s of segments) {
    if (/^(FHS|BHS|BTS|FTS)\|/.test(s)) continue;
    if (s.startsWith('MSH')) out.push([s]);
    else out.at(-1)?.push(s);
  }
  return out.map((m) => `${m.join('\r')}\r`);
}

/** A key read through latin1, as the UTF-8 text its bytes most likely are. */
function utf8Key(k: string | undefined): string | undefined {
  return k === undefined ? undefined : Buffer.from(k, 'latin1').toString('utf8');
}

function hl7DocumentId(msg: string): string | undefined {
  const seg = (name: string) => msg.split('\r').find((s) => s.startsWith(`${name}|`));
  const txa12 = seg('TXA')?.split('|')[12]?.split('^')[0];
  if (txa12) return txa12;
  return seg('MSH')?.split('|')[9] || undefined;
}

function fhirDocumentId(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const r = json as { resourceType?: string; id?: string; masterIdentifier?: { value?: string } };
  return r.masterIdentifier?.value ?? (r.id ? `${r.resourceType ?? 'Resource'}/${r.id}` : undefined);
}

/**
 * The records of one file. A byte order mark is not an error (see withoutBom); an empty file, one
 * that is neither HL7 v2 nor FHIR, FHIR JSON that is not UTF-8, or an HL7 file without a message
 * throws SendError, so nothing is silently dropped. HL7 v2 bytes are passed through unchanged
 * (latin1 maps byte to char one to one): their character set is MSH-18's business, read by intake.
 */
export function documentsFromFile(file: string, original: Buffer): OutgoingDocument[] {
  const name = path.basename(file);
  if (original.length === 0) throw new SendError('EMPTY_INPUT', `${name}: the file is empty`);
  const content = withoutBom(original);
  if (content.toString('latin1').trim() === '') throw new SendError('EMPTY_INPUT', `${name}: the file holds only white space`);
  const format = sniffFormat(content);
  if (format === undefined) throw new SendError('UNKNOWN_FORMAT', `${name}: neither HL7 v2 (MSH...) nor FHIR (JSON or XML)`);
  if (format === 'hl7v2') {
    const messages = splitHl7(content.toString('latin1')).map((m, i) => ({ format, key: utf8Key(hl7DocumentId(m)) ?? `${name}#${i}`, value: Buffer.from(m, 'latin1') }));
    if (messages.length === 0) throw new SendError('NO_MESSAGES', `${name}: no HL7 v2 message (MSH segment) found`);
    return messages;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    throw new SendError('BAD_ENCODING', `${name}: FHIR JSON/XML must be UTF-8, and this file is not`);
  }
  if (/\.ndjson$/i.test(file)) {
    return text
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((l, i) => {
        let id: string | undefined;
        try {
          id = fhirDocumentId(JSON.parse(l));
        } catch {
          // send as is: intake dead-letters what it cannot read
        }
        return { format, key: id ?? `${name}#${i}`, value: Buffer.from(l, 'utf8') };
      });
  }
  let id: string | undefined;
  try {
    id = text.trimStart().startsWith('{') ? fhirDocumentId(JSON.parse(text)) : undefined;
  } catch {
    id = undefined;
  }
  return [{ format, key: id ?? name, value: content }];
}
