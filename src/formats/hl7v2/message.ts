import { IntakeError } from '../errors.ts';

/** Delimiters of one message, from MSH-1 and MSH-2. */
export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /** v2.7 truncation character (5th MSH-2 character), when present. */
  truncation?: string;
}

export interface Segment {
  id: string;
  /** fields[n] is field n (1-based, fields[0] is the id); for MSH, fields[1] is the field separator. */
  fields: string[];
}

export interface Hl7Message {
  delimiters: Delimiters;
  segments: Segment[];
}

/** Reads MSH-1/MSH-2 from text that starts with "MSH". */
export function readDelimiters(text: string): Delimiters {
  if (!text.startsWith('MSH') || text.length < 8) throw new IntakeError('NOT_HL7', 'input does not start with an MSH segment');
  const field = text[3]!;
  if (/[A-Za-z0-9\s]/.test(field)) throw new IntakeError('NOT_HL7', 'MSH-1 field separator is missing or alphanumeric');
  let end = 4;
  while (end < text.length && end < 9 && text[end] !== field && text[end] !== '\r' && text[end] !== '\n') end++;
  const enc = text.slice(4, end);
  if (enc.length < 1 || text[end] !== field) throw new IntakeError('NOT_HL7', 'MSH-2 encoding characters are missing');
  const chars = new Set([field, ...enc]);
  if (chars.size !== enc.length + 1 || /[A-Za-z0-9\s]/.test(enc)) throw new IntakeError('NOT_HL7', 'MSH-2 encoding characters are not distinct symbols');
  // Fewer than four encoding characters: the missing ones are not in use (a character no text holds).
  const NONE = '\uffff';
  const d: Delimiters = { field, component: enc[0]!, repetition: enc[1] ?? NONE, escape: enc[2] ?? NONE, subcomponent: enc[3] ?? NONE };
  if (enc.length === 5) d.truncation = enc[4]!;
  return d;
}

/** The raw MSH segment fields (before the first line break), used to find MSH-18 before decoding. */
export function mshFields(text: string, d: Delimiters): string[] {
  let end = text.length;
  const cr = text.indexOf('\r');
  const lf = text.indexOf('\n');
  if (cr !== -1) end = cr;
  if (lf !== -1 && lf < end) end = lf;
  return splitMsh(text.slice(0, end), d.field);
}

function splitMsh(line: string, field: string): string[] {
  const parts = line.split(field);
  // "MSH|^~\&|A" splits to ["MSH", "^~\&", "A"]: MSH-1 is the separator itself, so shift by one.
  return ['MSH', field, ...parts.slice(1)];
}

function startsSegment(line: string, field: string): boolean {
  if (line.length < 4 || line[3] !== field) return false;
  const a = line.charCodeAt(0);
  if (a < 0x41 || a > 0x5a) return false;
  for (let i = 1; i < 3; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

/**
 * Splits decoded message text into segments. CR, LF and CRLF all end a line; a line that does
 * not start with a segment id followed by the field separator continues the previous segment
 * (joined with "\n"), so a stray line feed inside OBX text never costs a segment.
 */
export function splitSegments(text: string): Hl7Message {
  const delimiters = readDelimiters(text);
  const lines = text.split(/\r\n|\r|\n/);
  const raw: string[] = [];
  for (const line of lines) {
    if (raw.length > 0 && !startsSegment(line, delimiters.field)) raw[raw.length - 1] += '\n' + line;
    else if (line.length > 0) raw.push(line);
  }
  const segments: Segment[] = [];
  for (let s of raw) {
    // Blank lines between segments (CR CR, LF CR) were glued on as continuations: drop the trailing ones.
    let end = s.length;
    while (end > 0 && s.charCodeAt(end - 1) === 0x0a) end--;
    if (end < s.length) s = s.slice(0, end);
    const id = s.slice(0, 3);
    if (id === 'MSH') segments.push({ id, fields: splitMsh(s, delimiters.field) });
    else segments.push({ id, fields: s.split(delimiters.field) });
  }
  return { delimiters, segments };
}

/** Field n of a segment, '' when absent. */
export function field(seg: Segment | undefined, n: number): string {
  return seg?.fields[n] ?? '';
}
