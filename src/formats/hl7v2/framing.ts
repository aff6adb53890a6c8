/**
 * Byte-level framing of HL7 v2 input: byte-order marks, MLLP frames (0x0B ... 0x1C 0x0D)
 * and batches (several MSH in one input, FHS/BHS/BTS/FTS envelopes) become one byte
 * slice per message. Works on bytes because each message may declare its own MSH-18.
 */

const VT = 0x0b;
const FS = 0x1c;

export type Utf16 = 'utf-16le' | 'utf-16be' | undefined;

export interface RawMessage {
  bytes: Uint8Array;
  /** Set when the input was UTF-16 (BOM or NUL-interleaved "MSH"); MSH-18 is then ignored. */
  utf16: Utf16;
}

function detectUtf16(b: Uint8Array): { utf16: Utf16; skip: number } {
  if (b[0] === 0xff && b[1] === 0xfe) return { utf16: 'utf-16le', skip: 2 };
  if (b[0] === 0xfe && b[1] === 0xff) return { utf16: 'utf-16be', skip: 2 };
  if (b[0] === 0x4d && b[1] === 0 && b[2] === 0x53 && b[3] === 0) return { utf16: 'utf-16le', skip: 0 };
  if (b[0] === 0 && b[1] === 0x4d && b[2] === 0 && b[3] === 0x53) return { utf16: 'utf-16be', skip: 0 };
  return { utf16: undefined, skip: 0 };
}

function stripBom(b: Uint8Array): Uint8Array {
  return b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b;
}

/** MLLP frames in order; input without a start block is one frame. */
function mllpFrames(b: Uint8Array): Uint8Array[] {
  // Only input that starts with a start block is framed: a VT byte inside note text is not a frame.
  b = skipLeadingBlank(b);
  if (b[0] !== VT) return [b];
  const frames: Uint8Array[] = [];
  let i = 0;
  while (i < b.length) {
    const start = b.indexOf(VT, i);
    if (start === -1) {
      if (frames.length === 0) frames.push(b.subarray(i));
      break;
    }
    if (frames.length === 0 && start > i && !isBlank(b.subarray(i, start))) frames.push(b.subarray(i, start));
    let end = b.indexOf(FS, start + 1);
    if (end === -1) end = b.length;
    frames.push(b.subarray(start + 1, end));
    i = end + 1;
    if (b[i] === 0x0d) i++;
  }
  return frames;
}

function isBlank(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0x0d && x !== 0x0a && x !== 0x20 && x !== 0x09) return false;
  return true;
}

function skipLeadingBlank(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && (b[i] === 0x0d || b[i] === 0x0a || b[i] === 0x20 || b[i] === 0x09)) i++;
  return b.subarray(i);
}

/** True when a line starting at i is "MSH" followed by a non-alphanumeric (the field separator). */
function mshAt(b: Uint8Array, i: number): boolean {
  if (b[i] !== 0x4d || b[i + 1] !== 0x53 || b[i + 2] !== 0x48) return false;
  const sep = b[i + 3];
  return sep !== undefined && !((sep >= 0x30 && sep <= 0x39) || (sep >= 0x41 && sep <= 0x5a) || (sep >= 0x61 && sep <= 0x7a) || sep <= 0x20);
}

/** Splits a frame at every line that starts with MSH; anything before the first MSH (FHS/BHS) is dropped. */
function splitAtMsh(b: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let i = buf.indexOf('MSH'); i !== -1; i = buf.indexOf('MSH', i + 3)) {
    if ((i === 0 || b[i - 1] === 0x0d || b[i - 1] === 0x0a) && mshAt(b, i)) starts.push(i);
  }
  return starts.map((s, k) => b.subarray(s, starts[k + 1] ?? b.length));
}

/** Byte slices that each start with MSH; empty when the input holds no MSH segment. */
export function frameMessages(input: Uint8Array): RawMessage[] {
  const out: RawMessage[] = [];
  for (const frame of mllpFrames(stripBom(input))) {
    const f = skipLeadingBlank(stripBom(skipLeadingBlank(frame)));
    const { utf16, skip } = detectUtf16(f);
    if (utf16) {
      out.push({ bytes: f.subarray(skip), utf16 });
      continue;
    }
    for (const m of splitAtMsh(f)) out.push({ bytes: m, utf16: undefined });
  }
  return out;
}

/** Cheap sniff used when the format is not given. */
export function looksLikeHl7(input: Uint8Array): boolean {
  const b = skipLeadingBlank(stripBom(input));
  if (b[0] === VT) return true;
  if (detectUtf16(b).utf16) return true;
  return (b[0] === 0x4d && b[1] === 0x53 && b[2] === 0x48) || (b[0] === 0x46 && b[1] === 0x48 && b[2] === 0x53) || (b[0] === 0x42 && b[1] === 0x48 && b[2] === 0x53);
}
