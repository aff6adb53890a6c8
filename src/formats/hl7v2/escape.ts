import type { Delimiters } from './message.ts';

/**
 * One-pass decoding of HL7 v2 escape sequences and FT formatting commands, applied to a
 * value AFTER it has been split into fields/repetitions/components, so a decoded delimiter
 * is never re-read as structure, and escapes never nest (\E\R\ decodes to "\R" + "\").
 *
 *   \F\ \S\ \T\ \R\ \E\ (\P\ in v2.7) -> the message's own delimiter characters
 *   \Xhh..\  -> bytes, decoded with `hexBytes` (the message charset); NUL bytes dropped
 *   \H\ \N\ (highlight), \Cxxyy\ \Mxxyyzz\ (charset switch), \Zxx\ (local) -> dropped
 *   \.br\ -> line break; \.sp n\ -> n line breaks (1 when absent); \.sk n\ -> n spaces;
 *   \.ce\ \.in n\ \.ti n\ -> line break unless at the start of a line (indent dropped); \.fi \.nf -> dropped
 *   anything else (unknown sequence, unpaired escape character) -> kept literally
 *
 * Formatting commands are honoured in every text type: feeds put \.br\ into TX as well.
 * CR and CRLF produced by decoding become "\n".
 */
export function unescapeText(value: string, d: Delimiters, hexBytes: (bytes: Uint8Array) => string): string {
  const esc = d.escape;
  if (value.indexOf(esc) === -1) return normalizeBreaks(value);
  let out = '';
  let pendingHex: number[] = [];
  const flushHex = (): void => {
    if (pendingHex.length === 0) return;
    out += hexBytes(Uint8Array.from(pendingHex.filter((b) => b !== 0)));
    pendingHex = [];
  };
  const literal = (s: string): void => {
    if (s.length === 0) return;
    flushHex();
    out += s;
  };
  let pos = 0;
  for (;;) {
    const open = value.indexOf(esc, pos);
    const close = open === -1 ? -1 : value.indexOf(esc, open + 1);
    if (close === -1) {
      literal(value.slice(pos)); // no further sequence; an unpaired escape character stays as it is
      break;
    }
    literal(value.slice(pos, open));
    const seq = value.slice(open + 1, close);
    if (seq.length > 2 && seq[0] === 'X' && seq.length % 2 === 1 && /^X[0-9A-Fa-f]+$/.test(seq)) {
      for (let k = 1; k < seq.length; k += 2) pendingHex.push(parseInt(seq.slice(k, k + 2), 16));
    } else {
      flushHex();
      const decoded = decodeSequence(seq, d, out);
      out += decoded ?? esc + seq + esc;
    }
    pos = close + 1;
  }
  flushHex();
  return normalizeBreaks(out);
}

function decodeSequence(seq: string, d: Delimiters, soFar: string): string | undefined {
  switch (seq) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'P':
      return d.truncation;
    case 'H':
    case 'N':
      return '';
    case '':
      return undefined;
  }
  const c = seq[0];
  if ((c === 'C' && /^C[0-9A-Fa-f]{4}$/.test(seq)) || (c === 'M' && /^M[0-9A-Fa-f]{4,6}$/.test(seq)) || (c === 'Z' && seq.length > 1)) return '';
  if (c === '.') return formatting(seq, soFar);
  return undefined;
}

function formatting(seq: string, soFar: string): string | undefined {
  const m = /^\.(br|sp|in|ti|sk|ce|fi|nf)\s*([+-]?\d+)?\s*$/.exec(seq);
  if (!m) return undefined;
  const n = m[2] === undefined ? undefined : Math.abs(parseInt(m[2], 10));
  switch (m[1]) {
    case 'br':
      return '\n';
    case 'sp':
      return '\n'.repeat(Math.min(n ?? 1, 100));
    case 'sk':
      return ' '.repeat(Math.min(n ?? 1, 100));
    case 'ce':
    case 'in':
    case 'ti':
      // These begin a new output line; .in/.ti may not follow printable text, so mid-line they still break.
      return soFar.length === 0 || soFar.endsWith('\n') ? '' : '\n';
    default:
      return '';
  }
}

function normalizeBreaks(s: string): string {
  return s.indexOf('\r') === -1 ? s : s.replace(/\r\n?/g, '\n');
}
