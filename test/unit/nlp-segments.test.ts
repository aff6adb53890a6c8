import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { BertTokenizer } from '../../src/nlp/bert-tokenizer.ts';
import { readVocab } from '../../src/nlp/model-folder.ts';
import { segmentWindows, sentenceStarts } from '../../src/nlp/segments.ts';
import { planWindows } from '../../src/nlp/windows.ts';

const vocab = readVocab(path.join(import.meta.dirname, '..', 'fixtures', 'models', 'tiny-bert', 'vocab.txt'));
const tok = new BertTokenizer(vocab, { lowercase: true });

/** The text of each sentence segment, trimmed. */
function sentences(text: string): string[] {
  const t = tok.tokenize(text);
  if (t.ids.length === 0) return [];
  const bounds = [0, ...sentenceStarts(text, t), t.ids.length];
  const out: string[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) out.push(text.slice(t.starts[bounds[k]!]!, t.ends[bounds[k + 1]! - 1]!));
  return out;
}

test('sentence segments: after . ! ? before an upper-case word, and at line breaks', () => {
  assert.deepEqual(sentences('Fever since Monday. The patient was admitted!\nHe got aspirin 81 mg? Yes.'), [
    'Fever since Monday.',
    'The patient was admitted!',
    'He got aspirin 81 mg?',
    'Yes.',
  ]);
  // a heading line, a list, a blank line
  assert.deepEqual(sentences('Medications:\naspirin 81 mg daily\n- metoprolol 25 mg\n\nno fever'), [
    'Medications:',
    'aspirin 81 mg daily',
    '- metoprolol 25 mg',
    'no fever',
  ]);
});

test('sentence segments: no cut inside numbers, before lower case, without a space, or in a hard-wrapped sentence', () => {
  assert.deepEqual(sentences('Potassium 3.5 mmol/L, e.g. low. i.v. fluids were given'), ['Potassium 3.5 mmol/L, e.g. low. i.v. fluids were given']);
  assert.deepEqual(sentences('fever.The cough'), ['fever.The cough']);
  assert.deepEqual(sentences('He was started on\nlevetiracetam 2 x 500 mg/day\nfor seizures.'), ['He was started on\nlevetiracetam 2 x 500 mg/day\nfor seizures.']);
  assert.deepEqual(sentences(''), []);
});

test('segment windows: no window holds two segments, every token owned by exactly one window', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 600 }), fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 20 }), fc.integer({ min: 4, max: 130 }), (n, cuts, maxLength) => {
      const starts = [...new Set(cuts.filter((c) => c > 0 && c < n))].sort((a, b) => a - b);
      const stride = Math.floor((maxLength - 3) / 2);
      const ws = segmentWindows(n, starts, maxLength, stride);
      const owner = new Int32Array(n).fill(-1);
      for (const [k, w] of ws.entries()) {
        assert.ok(w.end - w.start <= maxLength - 2);
        assert.ok(!starts.some((s) => s > w.start && s < w.end), `window ${w.start}-${w.end} crosses a segment start`);
        for (let t = w.ownStart; t < w.ownEnd; t++) {
          assert.equal(owner[t], -1, `token ${t} owned twice`);
          owner[t] = k;
        }
      }
      assert.ok(owner.every((o) => o >= 0));
    }),
  );
  // no segment starts: the document's windows
  assert.deepEqual(segmentWindows(300, [], 102, 20), planWindows(300, 102, 20));
});
