/**
 * Sentence segments of a tokenized document (pure), for models trained on one sentence per
 * sequence (medner-model.json `segment: "sentence"`, e.g. the clinical model: MACCROBAT has a
 * sentence a line and training fed each line alone). Such a model sees only its sentence and
 * [CLS]/[SEP] around it; fed 256-token windows that run over several sentences it mislabels
 * entity starts (B- of the wrong type or I-), which cuts the first word off many entities.
 *
 * A segment starts at token i (> 0) when the text between token i-1 and token i:
 *   - holds a line break, unless the next line starts with a lower-case letter and the line
 *     before does not end in . ! ? or : (a hard-wrapped sentence stays whole), or a blank line
 *     (always a break);
 *   - or is whitespace after a token "." "!" or "?" and token i starts with an upper-case letter
 *     ("fever. The patient"); "Dr. Smith" is cut too (rare, costs context, not entities).
 * Special tokens typed in the text ([SEP]) do not end segments.
 */
import type { Tokenized } from './bert-tokenizer.ts';
import { planWindows, type TokenWindow } from './windows.ts';

export type Segmentation = 'none' | 'sentence';

const END = new Set(['.', '!', '?']);
const LINE_END = new Set(['.', '!', '?', ':']);
const UPPER = /^\p{Lu}/u;
const LOWER = /^\p{Ll}/u;

/** Token indices (ascending, each > 0) where a new sentence segment starts. */
export function sentenceStarts(text: string, tokens: Tokenized): number[] {
  const out: number[] = [];
  const n = tokens.ids.length;
  for (let i = 1; i < n; i++) {
    const prevEnd = tokens.ends[i - 1]!;
    const start = tokens.starts[i]!;
    if (start <= prevEnd) continue; // no gap: same word or adjacent punctuation
    const gap = text.slice(prevEnd, start);
    if (!/^\s+$/u.test(gap)) continue; // something the tokenizer dropped (control characters): not a boundary
    const prev = text.slice(tokens.starts[i - 1]!, prevEnd);
    const next = text.slice(start, start + 2);
    const newlines = gap.split('\n').length - 1;
    if (newlines >= 2) out.push(i);
    else if (newlines === 1) {
      if (LINE_END.has(prev) || !LOWER.test(next)) out.push(i);
    } else if (END.has(prev) && UPPER.test(next)) out.push(i);
  }
  return out;
}

/**
 * Windows over the tokens of each segment (`planWindows` within it, offsets into the document's
 * tokens), so that no window holds tokens of two segments. `starts` as from `sentenceStarts`;
 * empty: the whole document is one segment (the windows of `planWindows`).
 */
export function segmentWindows(numTokens: number, starts: readonly number[], maxLength: number, stride: number): TokenWindow[] {
  const out: TokenWindow[] = [];
  const bounds = [0, ...starts.filter((s) => s > 0 && s < numTokens), numTokens];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const from = bounds[k]!;
    const to = bounds[k + 1]!;
    if (to <= from) continue;
    for (const w of planWindows(to - from, maxLength, stride)) {
      out.push({ start: w.start + from, end: w.end + from, ownStart: w.ownStart + from, ownEnd: w.ownEnd + from });
    }
  }
  return out;
}
