import type { Aggregation, Entity } from '../core/entity.ts';
import type { Tokenized } from './bert-tokenizer.ts';

/**
 * Pure decoding with the semantics of Hugging Face's token-classification pipeline:
 * softmax per token, then aggregation `simple` (per token) or `first` / `average` /
 * `max` (one label per word), grouping of neighbours (B- starts a new entity, I- or a
 * bare label continues the same type; so I- after O or after another type starts one),
 * and O removed after grouping. Special tokens found in the text are skipped. With segment
 * starts (token indices, engine `segment: "sentence"`), an entity never continues across one.
 *
 * Decoder `greedy` (default, as the HF pipeline): each item takes its most probable label.
 * Decoder `viterbi`: the items' labels are the most probable sequence (sum of log probabilities)
 * in which I-X follows only B-X or I-X and no segment starts with I-; then grouped as above, each
 * item's score the probability of its label. A model whose B- outputs are weak (e.g. "3" of
 * "3 x 250 mg/day" most probably B-Lab_value, the rest I-Dosage) then gives one entity of the
 * type the words agree on instead of a wrong one-word entity and a span without its first word.
 */
export type Decoder = 'greedy' | 'viterbi';

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
  /** The item's label distribution (the probabilities its label and score come from). */
  dist: Float32Array;
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
      out.push({ tok: t, labelIdx: k, score: probs[t * nl + k]!, start: tokens.starts[t]!, end: tokens.ends[t]!, dist: probs.subarray(t * nl, t * nl + nl) });
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
    let dist: Float32Array;
    if (aggregation === 'first') {
      labelIdx = argmax(probs, t * nl, nl);
      score = probs[t * nl + labelIdx]!;
      dist = probs.subarray(t * nl, t * nl + nl);
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
      dist = probs.subarray(bestTok * nl, bestTok * nl + nl);
    } else {
      avg.fill(0);
      for (let u = t; u < e; u++) for (let k = 0; k < nl; k++) avg[k] = avg[k]! + probs[u * nl + k]!;
      for (let k = 0; k < nl; k++) avg[k] = avg[k]! / (e - t);
      labelIdx = argmax(avg, 0, nl);
      score = avg[labelIdx]!;
      dist = avg.slice();
    }
    out.push({ tok: t, labelIdx, score, start: tokens.starts[t]!, end: tokens.ends[e - 1]!, dist });
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
  decoder: Decoder = 'greedy',
): Entity[] {
  const nl = labels.length;
  const breaks = new Set(segmentStarts);
  const tags = labels.map(splitTag);
  const list = items(tokens, probs, nl, aggregation);
  if (decoder === 'viterbi') {
    const lab = viterbiLabels(list.map((x) => x.dist), labels, list.map((x, i) => i === 0 || breaks.has(x.tok)));
    list.forEach((x, i) => {
      x.labelIdx = lab[i]!;
      x.score = x.dist[lab[i]!]!;
    });
  }
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

/**
 * Constrained BIO decoding: per item the label index of the most probable label sequence (sum of
 * log probabilities of `dists`) in which a label I-X follows only B-X or I-X and is never at a
 * `segStart` item (the first item always is one). Labels without a B-/I- prefix are unconstrained.
 */
export function viterbiLabels(dists: readonly Float32Array[], labels: readonly string[], segStart: readonly boolean[]): number[] {
  const nl = labels.length;
  const n = dists.length;
  if (n === 0) return [];
  const isI = labels.map((l) => l.startsWith('I-'));
  // for each I-X: the labels it may follow (B-X and I-X)
  const preds = labels.map((l) => (l.startsWith('I-') ? labels.flatMap((m, j) => (m === `B-${l.slice(2)}` || m === l ? [j] : [])) : []));
  const log = (p: number): number => Math.log(Math.max(p, 1e-12));
  let score = new Float64Array(nl);
  let next = new Float64Array(nl);
  const back = new Int32Array(n * nl);
  for (let i = 0; i < n; i++) {
    const d = dists[i]!;
    if (i === 0 || segStart[i]) {
      // a fresh start: I- is not allowed; any predecessor is (the best one)
      let bestAll = 0;
      for (let k = 1; k < nl; k++) if (score[k]! > score[bestAll]!) bestAll = k;
      const base = i === 0 ? 0 : score[bestAll]!;
      for (let k = 0; k < nl; k++) {
        next[k] = isI[k] ? -Infinity : base + log(d[k]!);
        back[i * nl + k] = bestAll;
      }
    } else {
      let bestAll = 0;
      for (let k = 1; k < nl; k++) if (score[k]! > score[bestAll]!) bestAll = k;
      for (let k = 0; k < nl; k++) {
        let from = bestAll;
        if (isI[k]) {
          from = -1;
          for (const j of preds[k]!) if (from < 0 || score[j]! > score[from]!) from = j;
        }
        next[k] = from < 0 ? -Infinity : score[from]! + log(d[k]!);
        back[i * nl + k] = from < 0 ? bestAll : from;
      }
    }
    [score, next] = [next, score];
  }
  let best = 0;
  for (let k = 1; k < nl; k++) if (score[k]! > score[best]!) best = k;
  const out = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = best;
    best = back[i * nl + best]!;
  }
  return out;
}
