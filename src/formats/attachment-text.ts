import { charsetFromMime, decodeBytes } from './charset.ts';
import { IntakeError } from './errors.ts';
import { htmlToText, isHtml } from './html-to-text.ts';
import { isRtf, rtfToText } from './rtf-to-text.ts';

/** Media types we can turn into text, best first (FHIR: the best available attachment wins). */
export function textRank(mediaType: string): number {
  switch (mediaType) {
    case 'text/plain':
      return 0;
    case 'text/html':
    case 'application/xhtml+xml':
      return 1;
    case 'text/rtf':
    case 'application/rtf':
      return 2;
    case '':
      return 4; // undeclared: sniffed
    default:
      return mediaType.startsWith('text/') || isXml(mediaType) ? 3 : -1;
  }
}

function isXml(mediaType: string): boolean {
  return mediaType === 'application/xml' || mediaType === 'text/xml' || (mediaType.startsWith('application/') && mediaType.endsWith('+xml'));
}

export function isTextual(mediaType: string): boolean {
  return textRank(mediaType) >= 0;
}

function looksBinary(bytes: Uint8Array): boolean {
  if (bytes[0] === 0x25 && bytes[1] === 0x50 && bytes[2] === 0x44 && bytes[3] === 0x46) return true; // %PDF
  const n = Math.min(bytes.length, 4096);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

/**
 * Bytes of a textual attachment to plain text: charset honoured, HTML and RTF converted,
 * line breaks normalized to "\n". Other types throw UNSUPPORTED_CONTENT_TYPE.
 */
export function attachmentToText(bytes: Uint8Array, mediaType: string, charset: string | undefined, what: string): string {
  if (!isTextual(mediaType)) throw new IntakeError('UNSUPPORTED_CONTENT_TYPE', `${what}: content type ${safeType(mediaType)} cannot be turned into text`);
  if (mediaType === '' && looksBinary(bytes)) throw new IntakeError('UNSUPPORTED_CONTENT_TYPE', `${what}: undeclared binary content`);
  const text = decodeBytes(bytes, charsetFromMime(charset, what), what).replace(/\r\n?/g, '\n');
  // XML (e.g. a CDA document) is reduced to its character data like HTML: markup dropped, text kept.
  if (mediaType === 'text/html' || mediaType === 'application/xhtml+xml' || isXml(mediaType) || (mediaType === '' && isHtml(text))) return htmlToText(text);
  if (mediaType === 'text/rtf' || mediaType === 'application/rtf' || ((mediaType === '' || mediaType === 'text/plain') && isRtf(text))) return rtfToText(text);
  return text;
}

/** A content type for messages: only the media type token, never free text. */
export function safeType(mediaType: string): string {
  return /^[a-z0-9.+-]{1,40}\/[a-z0-9.+-]{1,80}$/.test(mediaType) ? mediaType : mediaType === '' ? '(none)' : '(unrecognized)';
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict base64 (white space ignored); `what` names the field for the error. */
export function decodeBase64(data: string, what: string, code: 'INVALID_FHIR' | 'BAD_ENCODING'): Buffer {
  const s = data.replace(/\s+/g, '');
  if (!(B64.test(s) || B64URL.test(s)) || s.replace(/=+$/, '').length % 4 === 1) throw new IntakeError(code, `${what}: data is not valid base64`);
  return Buffer.from(s, B64.test(s) ? 'base64' : 'base64url');
}
