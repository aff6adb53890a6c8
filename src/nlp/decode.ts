import type { Aggregation, Entity } from '../core/entity.ts';
import type { Tokenized } from './bert-tokenizer.ts';

/**
 * Pure decoding with the semantics of Hugging Face's token-classification pipeline:
 * softmax per token, then aggregation `simple` (per token) or `first` / `average` /
 * `max` (one label per word), grouping of neighbours (B- starts a new entity, I- or a
 * bare label continues the same type; so I- after O or after another type starts one),
 * and O removed after grouping. Special tokens found in the text are skipped. With segment
 * starts (token indices, engine `segment: "sentence"`), an entity never continues across one.
 */

/** Softmax of `n` logits at `from` into `out` at `to` (numerically stable). */
export function softmaxInto(logits: ArrayLike<number>, from: number, n: number, out: Float32Array, to: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[from + i]!);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[from + i]! - max);
    out[to + i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[to + i] = out[to + i]! / sum;
}

interface Item {
  /** First token of the item. */
  tok: number;
  labelIdx: number;
  score: number;
  start: number;
  end: number;
}

function argmax(p: Float32Array, from: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (p[from + i]! > p[from + best]!) best = i;
  return best;
}

function splitTag(label: string): { bi: 'B' | 'I'; tag: string } {
  if (label.startsWith('B-')) return { bi: 'B', tag: label.slice(2) };
  if (label.startsWith('I-')) return { bi: 'I', tag: label.slice(2) };
  return { bi: 'I', tag: label };
}

/** Per-token items (aggregation simple) or per-word items (first / average / max). */
function items(tokens: Tokenized, probs: Float32Array, nl: number, aggregation: Aggregation): Item[] {
  const out: Item[] = [];
  const n = tokens.ids.length;
  if (aggregation === 'simple') {
    for (let t = 0; t < n; t++) {
      if (tokens.special[t]) continue;
      const k = argmax(probs, t * nl, nl);
      out.push({ tok: t, labelIdx: k, score: probs[t * nl + k]!, start: tokens.starts[t]!, end: tokens.ends[t]! });
    }
    return out;
  }
  const avg = new Float32Array(nl);
  let t = 0;
  while (t < n) {
    if (tokens.special[t]) {
      t++;
      continue;
    }
    let e = t + 1;
    while (e < n && tokens.continuation[e] && !tokens.special[e]) e++;
    let labelIdx: number;
    let score: number;
    if (aggregation === 'first') {
      labelIdx = argmax(probs, t * nl, nl);
      score = probs[t * nl + labelIdx]!;
    } else if (aggregation === 'max') {
      let bestTok = t;
      let bestScore = -Infinity;
      for (let u = t; u < e; u++) {
        const s = probs[u * nl + argmax(probs, u * nl, nl)]!;
        if (s > bestScore) {
          bestScore = s;
          bestTok = u;
        }
      }
      labelIdx = argmax(probs, bestTok * nl, nl);
      score = probs[bestTok * nl + labelIdx]!;
    } else {
      avg.fill(0);
      for (let u = t; u < e; u++) for (let k = 0; k < nl; k++) avg[k] = avg[k]! + probs[u * nl + k]!;
      for (let k = 0; k < nl; k++) avg[k] = avg[k]! / (e - t);
      labelIdx = argmax(avg, 0, nl);
      score = avg[labelIdx]!;
    }
    out.push({ tok: t, labelIdx, score, start: tokens.starts[t]!, end: tokens.ends[e - 1]! });
    t = e;
  }
  return out;
}

/**
 * Entities of one document from per-token probabilities (`probs[t * labels.length + k]`).
 * Invariant: entity.text === text.slice(entity.start, entity.end).
 */
export function decodeEntities(
  text: string,
  tokens: Tokenized,
  probs: Float32Array,
  labels: readonly string[],
  aggregation: Aggregation,
  segmentStarts: readonly number[] = [],
): Entity[] {
  const nl = labels.length;
  const breaks = new Set(segmentStarts);
  const tags = labels.map(splitTag);
  const list = items(tokens, probs, nl, aggregation);
  const entities: Entity[] = [];
  let i = 0;
  while (i < list.length) {
    const first = list[i]!;
    const tag = tags[first.labelIdx]!.tag;
    let j = i + 1;
    let sum = first.score;
    while (j < list.length) {
      const next = tags[list[j]!.labelIdx]!;
      if (next.tag !== tag || next.bi === 'B' || breaks.has(list[j]!.tok)) break;
      sum += list[j]!.score;
      j++;
    }
    if (tag !== 'O') {
      const start = first.start;
      const end = list[j - 1]!.end;
      entities.push({ start, end, text: text.slice(start, end), label: tag, score: sum / (j - i) });
    }
    i = j;
  }
  return entities;
}
