import { MednerError } from '../core/errors.ts';
/**
 * BERT basic tokenization + WordPiece, matching Hugging Face's Rust tokenizer
 * (BertNormalizer, BertPreTokenizer, WordPiece, special tokens split out of the raw
 * text first). Offsets are UTF-16 code units into the ORIGINAL string, even when
 * lowercasing or accent stripping changes the length of the text.
 */

export interface BertTokenizerOptions {
  lowercase: boolean;
  /** Defaults to `lowercase`, like the reference. */
  stripAccents?: boolean;
  /** Words longer than this (in code points, after normalization) become one [UNK]. */
  maxInputCharsPerWord?: number;
  unkToken?: string;
  /** Tokens kept whole when they occur in the text; those present in the vocab are used. */
  specialTokens?: string[];
}

/** Tokens of one text, without [CLS]/[SEP]. Parallel arrays. */
export interface Tokenized {
  ids: Int32Array;
  /** UTF-16 offsets into the original text. */
  starts: Int32Array;
  ends: Int32Array;
  /** Word index per token (a special token in the text counts as a word). */
  wordIds: Int32Array;
  /** 1 when the token continues a word (a `##` piece), else 0. */
  continuation: Uint8Array;
  /** 1 for special tokens found in the text ([SEP] typed by someone): not labelled. */
  special: Uint8Array;
}

// Character classes for the BMP, precomputed once.
const C_REMOVE = 1; // U+0000, U+FFFD, Unicode category C except \t \n \r
const C_SPACE = 2; // White_Space (Rust char::is_whitespace) and \t \n \r
const C_PUNCT = 4; // ASCII punctuation ranges and Unicode P
const C_CJK = 8;
const C_SIMPLE = 16; // ASCII letters/digits: unchanged by any normalization here
const C_MARK = 32; // Mn (dropped by accent stripping)
const C_UPPER = 64; // ASCII A-Z (not 'simple' when lowercasing)

const WHITE_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
const RE_C = /^\p{C}$/u;
const RE_P = /^\p{P}$/u;
const RE_MN = /^\p{Mn}$/u;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isAsciiPunct(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

function classify(cp: number): number {
  const s = String.fromCodePoint(cp);
  let c = 0;
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return C_SPACE;
  if (cp === 0 || cp === 0xfffd || RE_C.test(s)) c |= C_REMOVE;
  if (WHITE_SPACE.has(cp)) c |= C_SPACE;
  if (isAsciiPunct(cp) || RE_P.test(s)) c |= C_PUNCT;
  if (isCjk(cp)) c |= C_CJK;
  if (RE_MN.test(s)) c |= C_MARK;
  if ((cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122)) c |= C_SIMPLE;
  if (cp >= 65 && cp <= 90) c |= C_UPPER;
  return c;
}

const BMP_CLASS = new Uint8Array(0x10000);
for (let cp = 0; cp < 0x10000; cp++) {
  // lone surrogates are category Cs; real pairs are decoded before lookup
  BMP_CLASS[cp] = classify(cp);
}
const astralClass = new Map<number, number>();
function classOf(cp: number): number {
  if (cp < 0x10000) return BMP_CLASS[cp]!;
  let c = astralClass.get(cp);
  if (c === undefined) {
    c = classify(cp);
    astralClass.set(cp, c);
  }
  return c;
}

const IDENTITY = '\u0000identity';

interface GeneralWord {
  word: string;
  idx: number[];
  starts: number[];
  ends: number[];
}

const DEFAULT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export class BertTokenizer {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[];
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  private readonly lowercase: boolean;
  private readonly stripAccents: boolean;
  private readonly maxChars: number;
  private readonly maxInitChars: number;
  private readonly maxContChars: number;
  private readonly specials: string[];
  /** Vocab lookups for the continuation form without building "##" + s strings. */
  private readonly contVocab: Map<string, number>;
  private readonly normCache = new Map<number, string[]>();
  private readonly mapCache = new Map<number, string | null>();
  /** (class & simpleMask) === C_SIMPLE means: append the char unchanged. */
  private readonly simpleMask: number;

  constructor(vocab: string[], opts: BertTokenizerOptions) {
    this.idToToken = vocab;
    this.vocab = new Map();
    this.contVocab = new Map();
    let maxInit = 1;
    let maxCont = 1;
    vocab.forEach((tok, i) => {
      if (!this.vocab.has(tok)) this.vocab.set(tok, i);
      maxInit = Math.max(maxInit, tok.length);
      if (tok.startsWith('##') && tok.length > 2) {
        if (!this.contVocab.has(tok.slice(2))) this.contVocab.set(tok.slice(2), i);
        maxCont = Math.max(maxCont, tok.length - 2);
      }
    });
    // Longest possible match (UTF-16 units, an upper bound in code points) bounds the greedy search.
    this.maxInitChars = maxInit;
    this.maxContChars = maxCont;
    const unk = opts.unkToken ?? '[UNK]';
    const need = (t: string): number => {
      const id = this.vocab.get(t);
      if (id === undefined) throw new MednerError('MODEL_INVALID', `vocabulary has no ${t} token`);
      return id;
    };
    this.unkId = need(unk);
    this.clsId = need('[CLS]');
    this.sepId = need('[SEP]');
    this.padId = this.vocab.get('[PAD]') ?? 0;
    this.lowercase = opts.lowercase;
    this.stripAccents = opts.stripAccents ?? opts.lowercase;
    this.maxChars = opts.maxInputCharsPerWord ?? 100;
    this.simpleMask = this.lowercase ? C_SIMPLE | C_UPPER : C_SIMPLE;
    // Longest first so "[SEP]" style tokens match leftmost-longest.
    this.specials = (opts.specialTokens ?? DEFAULT_SPECIALS)
      .filter((t) => this.vocab.has(t))
      .sort((a, b) => b.length - a.length);
  }

  /** Tokenizes `text` (no [CLS]/[SEP] added). */
  tokenize(text: string): Tokenized {
    const out = new TokenSink(Math.max(16, text.length >> 2));
    let segStart = 0;
    if (this.specials.length > 0 && text.indexOf('[') >= 0) {
      let i = text.indexOf('[');
      while (i >= 0) {
        const hit = this.specials.find((s) => text.startsWith(s, i));
        if (hit !== undefined) {
          this.tokenizeSegment(text, segStart, i, out);
          out.push(this.vocab.get(hit)!, i, i + hit.length, true, false);
          out.word++;
          segStart = i + hit.length;
          i = text.indexOf('[', segStart);
        } else {
          i = text.indexOf('[', i + 1);
        }
      }
    }
    this.tokenizeSegment(text, segStart, text.length, out);
    return out.finish();
  }

  /** Text of token ids, for debugging and tests. */
  tokensOf(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.idToToken[id] ?? '[?]');
  }

  private normalizedChars(cp: number): string[] {
    let r = this.normCache.get(cp);
    if (r !== undefined) return r;
    const s = String.fromCodePoint(cp);
    let parts: string[] = [s];
    if (this.stripAccents) {
      parts = [];
      for (const ch of s.normalize('NFD')) if (!RE_MN.test(ch)) parts.push(ch);
    }
    if (this.lowercase) {
      const low: string[] = [];
      for (const p of parts) for (const ch of p.toLowerCase()) low.push(ch);
      parts = low;
    }
    if (this.normCache.size < 100_000) this.normCache.set(cp, parts);
    r = parts;
    return r;
  }

  /**
   * How a code point normalizes: IDENTITY, a same-length single replacement (ASCII
   * uppercase when lowercasing, é -> e), or null for anything else (removal, expansion,
   * punctuation produced by normalization), which needs per-character offset tracking.
   */
  private mapOf(cp: number): string | null {
    const cached = this.mapCache.get(cp);
    if (cached !== undefined) return cached;
    const orig = String.fromCodePoint(cp);
    const parts = this.normalizedChars(cp);
    let r: string | null = null;
    if (parts.length === 1 && parts[0] === orig) r = IDENTITY;
    else if (parts.length === 1 && parts[0]!.length === orig.length && !(classOf(parts[0]!.codePointAt(0)!) & (C_SPACE | C_PUNCT | C_REMOVE))) r = parts[0]!;
    if (this.mapCache.size < 100_000) this.mapCache.set(cp, r);
    return r;
  }

  private tokenizeSegment(text: string, from: number, to: number, out: TokenSink): void {
    // Fast ("aligned") mode: the normalized word has the same UTF-16 length as the original
    // word, so offsets are positions; `identity` means it IS the original slice. General
    // mode keeps per-code-point original ranges (removed or expanded characters).
    let ws = -1; // start of the open word in the original, -1 when none
    let we = -1;
    let identity = true;
    let norm = '';
    let g: GeneralWord | null = null;
    const lower = this.lowercase;
    const normalizes = this.lowercase || this.stripAccents;

    const toGeneral = (): GeneralWord => {
      const w = identity ? text.slice(ws, we) : norm;
      const gw: GeneralWord = { word: w, idx: [], starts: [], ends: [] };
      for (let k = 0; k < w.length; ) {
        const c = w.charCodeAt(k);
        const len = c >= 0xd800 && c <= 0xdbff && k + 1 < w.length ? 2 : 1;
        gw.idx.push(k);
        gw.starts.push(ws + k);
        gw.ends.push(ws + k + len);
        k += len;
      }
      return gw;
    };
    const flush = (): void => {
      if (g !== null) {
        if (g.idx.length > 0) {
          this.wordPiece(g.word, g.idx, g.starts, g.ends, out);
          out.word++;
        }
      } else if (ws >= 0) {
        this.wordPieceAligned(identity ? text.slice(ws, we) : norm, ws, out);
        out.word++;
      }
      ws = -1;
      g = null;
    };
    const generalAppend = (gw: GeneralWord, parts: string[], start: number, end: number): void => {
      for (const p of parts) {
        // A normalized char may itself be a space or punctuation (rare); the reference
        // pre-tokenizes after normalizing, so honour that.
        const pc = classOf(p.codePointAt(0)!);
        if (pc & C_SPACE) {
          flush();
          g = gw = { word: '', idx: [], starts: [], ends: [] };
          ws = start;
          continue;
        }
        if (pc & C_PUNCT) {
          flush();
          this.wordPiece(p, [0], [start], [end], out);
          out.word++;
          g = gw = { word: '', idx: [], starts: [], ends: [] };
          ws = start;
          continue;
        }
        gw.idx.push(gw.word.length);
        gw.word += p;
        gw.starts.push(start);
        gw.ends.push(end);
      }
    };

    let i = from;
    while (i < to) {
      let cp = text.charCodeAt(i);
      let len = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < to) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          len = 2;
        }
      }
      const cls = classOf(cp);
      const start = i;
      i += len;
      if ((cls & this.simpleMask) === C_SIMPLE) {
        if (ws < 0) {
          ws = start;
          identity = true;
        }
        if (g !== null) generalAppend(g, [text[start]!], start, i);
        else if (!identity) norm += text[start];
        we = i;
        continue;
      }
      if (lower && (cls & C_UPPER)) {
        const low = String.fromCharCode(cp + 32);
        if (ws < 0) {
          ws = start;
          identity = true;
        }
        if (g !== null) generalAppend(g, [low], start, i);
        else {
          if (identity) {
            norm = text.slice(ws, start);
            identity = false;
          }
          norm += low;
        }
        we = i;
        continue;
      }
      if (cls & C_REMOVE) {
        if (ws >= 0 && g === null) g = toGeneral();
        continue;
      }
      if (cls & C_SPACE) {
        flush();
        continue;
      }
      if (cls & (C_PUNCT | C_CJK)) {
        // Punctuation and CJK are single-character words; normalization may still apply.
        flush();
        const m = normalizes ? this.mapOf(cp) : IDENTITY;
        if (m === IDENTITY) this.wordPieceAligned(text.slice(start, i), start, out);
        else if (m !== null) this.wordPieceAligned(m, start, out);
        else {
          const parts = this.normalizedChars(cp);
          if (parts.length === 0) continue;
          const gw: GeneralWord = { word: '', idx: [], starts: [], ends: [] };
          g = gw;
          ws = start;
          generalAppend(gw, parts, start, i);
          flush();
          continue;
        }
        out.word++;
        continue;
      }
      const m = normalizes ? this.mapOf(cp) : IDENTITY;
      if (g !== null) {
        generalAppend(g, m === IDENTITY ? [text.slice(start, i)] : m !== null ? [m] : this.normalizedChars(cp), start, i);
        we = i;
        continue;
      }
      if (m === IDENTITY) {
        if (ws < 0) {
          ws = start;
          identity = true;
        } else if (!identity) norm += text.slice(start, i);
        we = i;
        continue;
      }
      if (m !== null) {
        if (ws < 0) {
          ws = start;
          identity = false;
          norm = '';
        } else if (identity) {
          norm = text.slice(ws, start);
          identity = false;
        }
        norm += m;
        we = i;
        continue;
      }
      // complex normalization: removal (a lone combining mark) or expansion
      const parts = this.normalizedChars(cp);
      if (parts.length === 0) {
        if (ws >= 0 && g === null) g = toGeneral();
        continue;
      }
      if (ws < 0) {
        ws = start;
        g = { word: '', idx: [], starts: [], ends: [] };
      } else if (g === null) g = toGeneral();
      generalAppend(g, parts, start, i);
      we = i;
    }
    flush();
  }

  /** WordPiece on a word whose UTF-16 positions equal original positions (from `base`). */
  private wordPieceAligned(word: string, base: number, out: TokenSink): void {
    const n = word.length;
    if (n > this.maxChars) {
      let cps = 0;
      for (let k = 0; k < n; k++) {
        const c = word.charCodeAt(k);
        if (!(c >= 0xdc00 && c <= 0xdfff && k > 0 && word.charCodeAt(k - 1) >= 0xd800 && word.charCodeAt(k - 1) <= 0xdbff)) cps++;
      }
      if (cps > this.maxChars) {
        out.push(this.unkId, base, base + n, false, false);
        return;
      }
    }
    const whole = this.vocab.get(word);
    if (whole !== undefined) {
      out.push(whole, base, base + n, false, false);
      return;
    }
    const mark = out.mark();
    let s = 0;
    while (s < n) {
      let e = Math.min(n, s + (s === 0 ? this.maxInitChars : this.maxContChars));
      let found = -1;
      while (e > s) {
        const c = e < n ? word.charCodeAt(e) : 0;
        if (!(c >= 0xdc00 && c <= 0xdfff)) {
          // never split a surrogate pair
          const piece = word.slice(s, e);
          const id = s === 0 ? this.vocab.get(piece) : this.contVocab.get(piece);
          if (id !== undefined) {
            found = id;
            break;
          }
        }
        e--;
      }
      if (found < 0) {
        out.reset(mark);
        out.push(this.unkId, base, base + n, false, false);
        return;
      }
      out.push(found, base + s, base + e, false, s > 0);
      s = e;
    }
  }

  private wordPiece(
    word: string,
    idx: number[],
    starts: number[],
    ends: number[],
    out: TokenSink,
  ): void {
    const n = idx.length;
    const wordStart = starts[0]!;
    const wordEnd = ends[n - 1]!;
    if (n > this.maxChars) {
      out.push(this.unkId, wordStart, wordEnd, false, false);
      return;
    }
    const whole = this.vocab.get(word);
    if (whole !== undefined) {
      out.push(whole, wordStart, wordEnd, false, false);
      return;
    }
    const mark = out.mark();
    let s = 0;
    while (s < n) {
      let e = Math.min(n, s + (s === 0 ? this.maxInitChars : this.maxContChars));
      let found = -1;
      const sOff = idx[s]!;
      while (e > s) {
        const eOff = e === n ? word.length : idx[e]!;
        const piece = word.slice(sOff, eOff);
        const id = s === 0 ? this.vocab.get(piece) : this.contVocab.get(piece);
        if (id !== undefined) {
          found = id;
          break;
        }
        e--;
      }
      if (found < 0) {
        out.reset(mark);
        out.push(this.unkId, wordStart, wordEnd, false, false);
        return;
      }
      out.push(found, starts[s]!, ends[e - 1]!, false, s > 0);
      s = e;
    }
  }
}

/** Growable parallel arrays for tokens. */
class TokenSink {
  ids: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
  wordIds: Int32Array;
  cont: Uint8Array;
  special: Uint8Array;
  n = 0;
  word = 0;

  constructor(cap: number) {
    this.ids = new Int32Array(cap);
    this.starts = new Int32Array(cap);
    this.ends = new Int32Array(cap);
    this.wordIds = new Int32Array(cap);
    this.cont = new Uint8Array(cap);
    this.special = new Uint8Array(cap);
  }

  push(id: number, start: number, end: number, special: boolean, cont: boolean): void {
    if (this.n === this.ids.length) this.grow();
    const k = this.n++;
    this.ids[k] = id;
    this.starts[k] = start;
    this.ends[k] = end;
    this.wordIds[k] = this.word;
    this.cont[k] = cont ? 1 : 0;
    this.special[k] = special ? 1 : 0;
  }

  mark(): number {
    return this.n;
  }

  reset(mark: number): void {
    this.n = mark;
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    const g = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.ids = g(this.ids, (n) => new Int32Array(n));
    this.starts = g(this.starts, (n) => new Int32Array(n));
    this.ends = g(this.ends, (n) => new Int32Array(n));
    this.wordIds = g(this.wordIds, (n) => new Int32Array(n));
    this.cont = g(this.cont, (n) => new Uint8Array(n));
    this.special = g(this.special, (n) => new Uint8Array(n));
  }

  finish(): Tokenized {
    const n = this.n;
    return {
      ids: this.ids.slice(0, n),
      starts: this.starts.slice(0, n),
      ends: this.ends.slice(0, n),
      wordIds: this.wordIds.slice(0, n),
      continuation: this.cont.slice(0, n),
      special: this.special.slice(0, n),
    };
  }
}
