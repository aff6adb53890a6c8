import { IntakeError } from './errors.ts';

/**
 * Byte decoding shared by HL7 v2 (MSH-18) and FHIR attachments (contentType charset).
 * Pure; throws IntakeError BAD_ENCODING for invalid bytes or unknown charsets.
 */

export type Charset =
  | { kind: 'utf-8' }
  | { kind: 'latin1' } // exact ISO-8859-1: byte n -> U+00nn
  | { kind: 'utf-16le' }
  | { kind: 'utf-16be' }
  | { kind: 'utf-16' } // byte-order mark decides, big-endian without one (RFC 2781)
  | { kind: 'decoder'; label: string } // any other WHATWG/ICU label (iso-8859-2, windows-1252, shift_jis, ...)
  | { kind: 'undeclared' }; // no charset said: UTF-8 when valid, else windows-1252

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const CP1252 = new TextDecoder('windows-1252');

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/** Decodes bytes; strips a leading U+FEFF. `what` names the thing in the error message (no content). */
export function decodeBytes(bytes: Uint8Array, charset: Charset, what: string): string {
  let text: string;
  switch (charset.kind) {
    case 'latin1':
      text = toBuffer(bytes).toString('latin1');
      break;
    case 'utf-16le':
      text = toBuffer(bytes).toString('utf16le');
      break;
    case 'utf-16':
      return decodeBytes(bytes, { kind: bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : 'utf-16be' }, what);
    case 'utf-16be': {
      const swapped = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
      swapped.swap16();
      text = swapped.toString('utf16le');
      break;
    }
    case 'utf-8':
      try {
        text = UTF8.decode(bytes);
      } catch {
        throw new IntakeError('BAD_ENCODING', `${what}: bytes are not valid UTF-8 (declared UTF-8)`);
      }
      break;
    case 'undeclared':
      if (isAscii(bytes)) text = toBuffer(bytes).toString('latin1');
      else {
        try {
          text = UTF8.decode(bytes);
        } catch {
          text = CP1252.decode(bytes);
        }
      }
      break;
    case 'decoder':
      try {
        text = new TextDecoder(charset.label, { fatal: true }).decode(bytes);
      } catch {
        throw new IntakeError('BAD_ENCODING', `${what}: bytes are not valid ${charset.label}`);
      }
      break;
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function decoderLabel(label: string, what: string): Charset {
  try {
    new TextDecoder(label);
  } catch {
    throw new IntakeError('BAD_ENCODING', `${what}: unsupported character set`);
  }
  return { kind: 'decoder', label };
}

/** MIME / IANA charset name (from a contentType parameter) to a Charset. */
export function charsetFromMime(name: string | undefined, what: string): Charset {
  if (name === undefined || name.trim() === '') return { kind: 'undeclared' };
  const n = name.trim().replace(/^"|"$/g, '').toLowerCase();
  if (n === 'utf-8' || n === 'utf8') return { kind: 'utf-8' };
  if (n === 'us-ascii' || n === 'ascii') return { kind: 'undeclared' };
  if (n === 'iso-8859-1' || n === 'latin1' || n === 'iso_8859-1' || n === 'l1') return { kind: 'latin1' };
  if (n === 'utf-16le') return { kind: 'utf-16le' };
  if (n === 'utf-16be') return { kind: 'utf-16be' };
  if (n === 'utf-16') return { kind: 'utf-16' };
  return decoderLabel(n, what);
}

/**
 * HL7 v2 MSH-18 (table 0211) to a Charset. Empty or ASCII: undeclared (UTF-8 when the bytes
 * are valid UTF-8, else windows-1252: senders that leave MSH-18 empty rarely send 7-bit only).
 */
export function charsetFromHl7(value: string, what: string): Charset {
  const v = value.trim().toUpperCase().replace(/[_\s]+/g, ' ');
  if (v === '' || v === 'ASCII' || v === 'ISO IR6' || v === 'US-ASCII') return { kind: 'undeclared' };
  if (v === 'UNICODE UTF-8' || v === 'UTF-8' || v === 'UTF8' || v === 'ISO IR192') return { kind: 'utf-8' };
  if (v === '8859/1' || v === 'ISO IR100' || v === 'ISO-8859-1' || v === 'LATIN1') return { kind: 'latin1' };
  const iso = /^8859\/(\d{1,2})$/.exec(v) ?? /^ISO-8859-(\d{1,2})$/.exec(v);
  if (iso) return decoderLabel(`iso-8859-${iso[1]}`, what);
  if (v === 'UNICODE UTF-16' || v === 'UNICODE') return { kind: 'utf-16' };
  if (v === 'ISO IR87' || v === 'ISO 2022-1994') return decoderLabel('iso-2022-jp', what);
  if (v === 'GB 18030-2000') return decoderLabel('gb18030', what);
  if (v === 'KS X 1001') return decoderLabel('euc-kr', what);
  if (v === 'BIG-5') return decoderLabel('big5', what);
  throw new IntakeError('BAD_ENCODING', `${what}: unsupported character set in MSH-18`);
}

/** Splits "text/plain; charset=utf-8" into a lower-case media type and its charset parameter. */
export function parseContentType(ct: string | undefined): { mediaType: string; charset?: string } {
  if (!ct) return { mediaType: '' };
  const [type = '', ...params] = ct.split(';');
  let charset: string | undefined;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*(.+?)\s*$/i.exec(p);
    if (m) charset = m[1];
  }
  return charset === undefined ? { mediaType: type.trim().toLowerCase() } : { mediaType: type.trim().toLowerCase(), charset };
}
