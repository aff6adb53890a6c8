import { attachmentToText, decodeBase64 } from '../attachment-text.ts';
import { IntakeError } from '../errors.ts';
import type { FieldReader } from './fields.ts';

/** HL7 table 0191/0291 type and subtype names to a MIME media type. */
function mediaTypeOf(type: string, subtype: string): string {
  const t = type.trim().toLowerCase();
  const s = subtype.trim().toLowerCase();
  if (s.includes('/')) return s; // some senders put a MIME type in the subtype...
  if (t.includes('/')) return t; // ...or in the type
  const major = t === 'text' || t === 'tx' ? 'text' : t === 'ap' || t === 'application' ? 'application' : t === 'im' || t === 'image' ? 'image' : t === 'au' || t === 'audio' ? 'audio' : t === 'multipart' ? 'multipart' : t;
  if (major === 'text' || major === 'application') {
    if (s === 'plain' || s === '' || s === 'txt') return major === 'text' ? 'text/plain' : `application/${s || 'octet-stream'}`;
    if (s === 'rtf') return 'text/rtf';
    if (s === 'html' || s === 'htm') return 'text/html';
    if (s === 'xml' || s === 'sgml' || s === 'x-hl7-cda-level-one') return 'text/xml';
    if (s === 'pdf') return 'application/pdf';
    return `${major}/${s}`;
  }
  if (major === '' && s === '') return '';
  return `${major || 'application'}/${s || 'octet-stream'}`;
}

/** The MIME media type an ED value declares (type and subtype components). */
export function edMediaType(r: FieldReader, value: string): string {
  return mediaTypeOf(r.component(value, 2), r.component(value, 3));
}

/**
 * OBX-5 of type ED (source^type^subtype^encoding^data) to text. Encodings: Base64, Hex, A
 * (ASCII: data is the escaped text itself). Text, HTML and RTF are converted; other types
 * throw UNSUPPORTED_CONTENT_TYPE.
 */
export function edToText(r: FieldReader, value: string, what: string): string {
  const type = r.component(value, 2);
  const subtype = r.component(value, 3);
  const encoding = r.component(value, 4).trim().toUpperCase();
  const data = r.component(value, 5);
  const media = mediaTypeOf(type, subtype);
  let bytes: Uint8Array;
  if (encoding === 'BASE64' || encoding === 'B64') bytes = decodeBase64(data, what, 'BAD_ENCODING');
  else if (encoding === 'HEX') {
    const hex = data.replace(/\s+/g, '');
    if (!/^([0-9A-Fa-f]{2})*$/.test(hex)) throw new IntakeError('BAD_ENCODING', `${what}: ED data is not valid hex`);
    bytes = Buffer.from(hex, 'hex');
  } else if (encoding === 'A' || encoding === '') {
    return attachmentToText(Buffer.from(data, 'utf8'), media === '' ? 'text/plain' : media, 'utf-8', what);
  } else throw new IntakeError('BAD_ENCODING', `${what}: unknown ED encoding`);
  return attachmentToText(bytes, media, undefined, what);
}
