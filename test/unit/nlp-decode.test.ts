import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEntities, softmaxInto, viterbiLabels } from '../../src/nlp/decode.ts';
import type { Tokenized } from '../../src/nlp/bert-tokenizer.ts';

const LABELS = ['O', 'B-Disease', 'I-Disease', 'B-Chemical', 'I-Chemical'];

/** Builds tokens from [start, end, continuation?, special?] and one-hot-ish probabilities. */
function fixture(spec: [number, number, number?, number?][], labelIdx: number[], conf = 0.9): { tokens: Tokenized; probs: Float32Array } {
  const n = spec.length;
  const probs = new Float32Array(n * LABELS.length);
  labelIdx.forEach((k, t) => {
    for (let j = 0; j < LABELS.length; j++) probs[t * LABELS.length + j] = j === k ? conf : (1 - conf) / (LABELS.length - 1);
  });
  let word = -1;
  return {
    tokens: {
      ids: new Int32Array(n),
      starts: Int32Array.from(spec, (s) => s[0]),
      ends: Int32Array.from(spec, (s) => s[1]),
      wordIds: Int32Array.from(spec, (s) => (s[2] ? word : ++word)),
      continuation: Uint8Array.from(spec, (s) => s[2] ?? 0),
      special: Uint8Array.from(spec, (s) => s[3] ?? 0),
    },
    probs,
  };
}

test('softmax: sums to 1, stable for large logits, preserves order', () => {
  const out = new Float32Array(3);
  softmaxInto([1000, 1001, 999], 0, 3, out, 0);
  assert.ok(Math.abs(out[0]! + out[1]! + out[2]! - 1) < 1e-6);
  assert.ok(out[1]! > out[0]! && out[0]! > out[2]!);
  assert.ok(Number.isFinite(out[0]!));
});

// "postural hypotension and aspirin": tokens post ##ural hypo ##tension and as ##pirin
const text = 'postural hypotension and aspirin';
const spec: [number, number, number?][] = [
  [0, 4], [4, 8, 1], [9, 13], [13, 20, 1], [21, 24], [25, 27], [27, 32, 1],
];

test('first: one label per word from its first sub-token; B then I merge; O dropped', () => {
  // post=B-Dis ##ural=O (ignored by first) hypo=I-Dis ##tension=B-Chem (ignored) and=O as=B-Chem ##pirin=O
  const { tokens, probs } = fixture(spec, [1, 0, 2, 3, 0, 3, 0]);
  const ents = decodeEntities(text, tokens, probs, LABELS, 'first');
  assert.deepEqual(ents.map((e) => [e.text, e.label]), [['postural hypotension', 'Disease'], ['aspirin', 'Chemical']]);
  assert.ok(Math.abs(ents[0]!.score - 0.9) < 1e-6);
});

test('simple: per token, so a subword labelled O splits the word', () => {
  const { tokens, probs } = fixture(spec, [1, 0, 2, 2, 0, 3, 4]);
  const ents = decodeEntities(text, tokens, probs, LABELS, 'simple');
  assert.deepEqual(ents.map((e) => [e.text, e.label]), [['post', 'Disease'], ['hypotension', 'Disease'], ['aspirin', 'Chemical']]);
});

test('BIO repair: I- after O starts an entity; I- of another type starts a new one; B- splits', () => {
  const t = 'a b c d e';
  const sp: [number, number][] = [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]];
  const { tokens, probs } = fixture(sp, [0, 2, 4, 1, 1]);
  const ents = decodeEntities(t, tokens, probs, LABELS, 'first');
  assert.deepEqual(ents.map((e) => [e.text, e.label]), [['b', 'Disease'], ['c', 'Chemical'], ['d', 'Disease'], ['e', 'Disease']]);
});

test('segment starts: an entity never continues into the next sentence segment', () => {
  const t = 'a b. C d';
  const sp: [number, number][] = [[0, 1], [2, 3], [3, 4], [5, 6], [7, 8]];
  // a=B-Dis b=I-Dis .=I-Dis C=I-Dis d=I-Dis; a segment starts at token 3 ("C")
  const { tokens, probs } = fixture(sp, [1, 2, 2, 2, 2]);
  assert.deepEqual(decodeEntities(t, tokens, probs, LABELS, 'first').map((e) => e.text), ['a b. C d']);
  for (const agg of ['first', 'simple', 'average', 'max'] as const) {
    assert.deepEqual(decodeEntities(t, tokens, probs, LABELS, agg, [3]).map((e) => e.text), ['a b.', 'C d'], agg);
  }
});

test('viterbi: a weak B- of another type joins the entity its words agree on (greedy cuts its first word)', () => {
  // "3 x 250": 3 = B-Chemical 0.5 / B-Disease 0.4; x and 250 = I-Disease 0.9
  const t = '3 x 250 then';
  const sp: [number, number][] = [[0, 1], [2, 3], [4, 7], [8, 12]];
  const { tokens, probs } = fixture(sp, [3, 2, 2, 0]);
  probs.set([0.04, 0.4, 0.03, 0.5, 0.03], 0);
  assert.deepEqual(decodeEntities(t, tokens, probs, LABELS, 'first').map((e) => [e.text, e.label]), [['3', 'Chemical'], ['x 250', 'Disease']]);
  const v = decodeEntities(t, tokens, probs, LABELS, 'first', [], 'viterbi');
  assert.deepEqual(v.map((e) => [e.text, e.label]), [['3 x 250', 'Disease']]);
  assert.ok(Math.abs(v[0]!.score - (0.4 + 0.9 + 0.9) / 3) < 1e-6, 'score: mean probability of the chosen labels');
});

test('viterbi: no I- at a segment start; the entity starts again there', () => {
  const t = 'a b. C d';
  const sp: [number, number][] = [[0, 1], [2, 3], [3, 4], [5, 6], [7, 8]];
  const { tokens, probs } = fixture(sp, [1, 2, 2, 2, 2]);
  assert.deepEqual(decodeEntities(t, tokens, probs, LABELS, 'first', [3], 'viterbi').map((e) => [e.text, e.label]), [['a b.', 'Disease'], ['C d', 'Disease']]);
  // the first item cannot be I- either
  assert.deepEqual(viterbiLabels([Float32Array.of(0.1, 0.2, 0.7, 0, 0)], LABELS, [true]), [1]);
});

test('property: viterbi labels are BIO-valid, and equal the greedy labels whenever those are', () => {
  const valid = (ks: number[], starts: boolean[]): boolean =>
    ks.every((k, i) => !LABELS[k]!.startsWith('I-') || (!starts[i] && LABELS[ks[i - 1]!]!.slice(2) === LABELS[k]!.slice(2)));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.array(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: 5, maxLength: 5 }), fc.boolean()), { maxLength: 30 }), (rows) => {
      const dists = rows.map(([p]) => {
        const z = p.reduce((a, b) => a + b, 0);
        return Float32Array.from(p, (x) => x / z);
      });
      const starts = rows.map(([, st], i) => i === 0 || st);
      const v = viterbiLabels(dists, LABELS, starts);
      assert.equal(v.length, dists.length);
      assert.ok(valid(v, starts), JSON.stringify(v));
      const greedy = dists.map((d) => d.indexOf(Math.max(...d)));
      if (valid(greedy, starts)) assert.deepEqual(v, greedy);
    }),
  );
});

test('average and max pick labels from all sub-tokens', () => {
  const t = 'hypotension';
  const sp: [number, number, number?][] = [[0, 4], [4, 7, 1], [7, 11, 1]];
  const { tokens, probs } = fixture(sp, [0, 1, 1], 0.6);
  // make the last sub-token very confident
  probs.fill(0.01, 2 * 5, 3 * 5);
  probs[2 * 5 + 1] = 0.96;
  assert.deepEqual(decodeEntities(t, tokens, probs, LABELS, 'first'), []);
  const avg = decodeEntities(t, tokens, probs, LABELS, 'average');
  assert.deepEqual(avg.map((e) => [e.text, e.label]), [['hypotension', 'Disease']]);
  const expectedAvg = (0.1 + 0.6 + 0.96) / 3;
  assert.ok(Math.abs(avg[0]!.score - expectedAvg) < 1e-5, `${avg[0]!.score} vs ${expectedAvg}`);
  const mx = decodeEntities(t, tokens, probs, LABELS, 'max');
  assert.ok(Math.abs(mx[0]!.score - 0.96) < 1e-6);
});

test('special tokens typed in the text are skipped (neighbours still merge)', () => {
  const t = 'a [SEP] b';
  const { tokens, probs } = fixture([[0, 1], [2, 7, 0, 1], [8, 9]], [1, 1, 2]);
  const ents = decodeEntities(t, tokens, probs, LABELS, 'first');
  assert.deepEqual(ents.map((e) => [e.start, e.end, e.text]), [[0, 9, 'a [SEP] b']]);
});

test('property: entity text is always the slice at its offsets, entities ordered and disjoint', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.integer({ min: 0, max: 4 })), { minLength: 0, maxLength: 40 }),
      fc.constantFrom('first', 'simple', 'average', 'max' as const),
      (parts, agg) => {
        let pos = 0;
        const sp: [number, number, number?][] = [];
        for (const [len, gap, cont] of parts) {
          pos += sp.length > 0 && cont ? 0 : gap;
          sp.push([pos, pos + len, sp.length > 0 && cont ? 1 : 0]);
          pos += len;
        }
        const t = 'x'.repeat(pos);
        const { tokens, probs } = fixture(sp, parts.map((p) => p[3]));
        const ents = decodeEntities(t, tokens, probs, LABELS, agg);
        let last = -1;
        for (const e of ents) {
          assert.equal(e.text, t.slice(e.start, e.end));
          assert.ok(e.start >= last && e.end > e.start);
          assert.ok(e.score > 0 && e.score <= 1);
          last = e.end;
        }
      },
    ),
  );
});
