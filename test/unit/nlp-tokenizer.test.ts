import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../src/nlp/bert-tokenizer.ts';
import { readVocab } from '../../src/nlp/model-folder.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vocab = readVocab(path.join(repo, 'test/fixtures/models/tiny-bert/vocab.txt'));
const cased = new BertTokenizer(vocab, { lowercase: false });
const uncased = new BertTokenizer(vocab, { lowercase: true });

const pieces = (tok: BertTokenizer, text: string): [string, string][] => {
  const t = tok.tokenize(text);
  return Array.from(t.ids, (id, i) => [tok.idToToken[id]!, text.slice(t.starts[i], t.ends[i])]);
};

test('offsets are UTF-16 code units: an emoji before a word shifts it by two', () => {
  const t = cased.tokenize('😀 aspirin');
  assert.equal(cased.idToToken[t.ids[1]!], 'aspirin');
  assert.deepEqual([t.starts[0], t.ends[0], t.starts[1], t.ends[1]], [0, 2, 3, 10]);
});

test('uncased: lowercasing and accent stripping map back to the original characters', () => {
  const text = 'ÉCOLE Café';
  const got = pieces(uncased, text);
  assert.deepEqual(got.map((p) => p[0]), uncased.tokensOf(uncased.tokenize(text).ids));
  assert.equal(got.map((p) => p[1]).join(''), 'ÉCOLECafé');
  assert.equal(got[0]![0].toLowerCase(), got[0]![0]);
  // decomposed input: the combining mark belongs to no token; the letter keeps its own offset
  const t = uncased.tokenize('e\u0301');
  assert.deepEqual([t.ids.length, t.starts[0], t.ends[0]], [1, 0, 1]);
});

test('cased keeps case and accents', () => {
  assert.notDeepEqual(Array.from(cased.tokenize('Aspirin').ids), Array.from(cased.tokenize('aspirin').ids));
  assert.deepEqual(Array.from(uncased.tokenize('Aspirin').ids), Array.from(uncased.tokenize('aspirin').ids));
});

test('punctuation and CJK split; whitespace and control characters vanish', () => {
  const got = pieces(cased, 'IL-2,x\u0000y  日本');
  assert.equal(got.map((p) => p[1]).join(''), 'IL-2,xy日本');
  for (const single of ['-', ',', '日', '本']) assert.ok(got.some((p) => p[1] === single), single);
  // the removed control character joins x and y into one word: y is a ## continuation
  const t = cased.tokenize('x\u0000y');
  assert.deepEqual(Array.from(t.continuation), [0, 1]);
});

test('100-character rule and unknown words: one [UNK] covering the whole word', () => {
  const long = 'a'.repeat(101);
  const t = cased.tokenize(`x ${long} y`);
  assert.equal(t.ids.length, 3);
  assert.equal(t.ids[1], cased.unkId);
  assert.deepEqual([t.starts[1], t.ends[1]], [2, 103]);
  const ok = cased.tokenize('a'.repeat(100));
  assert.ok(ok.ids.length >= 1 && !Array.from(ok.ids).includes(cased.unkId));
  const unk = cased.tokenize('ab☃cd');
  assert.deepEqual([unk.ids.length, unk.ids[0], unk.starts[0], unk.ends[0]], [1, cased.unkId, 0, 5]);
});

test('special tokens in the text stay whole and are flagged', () => {
  const text = 'a[SEP]b [CLS] [sep]';
  const t = cased.tokenize(text);
  const toks = cased.tokensOf(t.ids);
  assert.deepEqual(toks.slice(0, 4), ['a', '[SEP]', 'b', '[CLS]']);
  assert.deepEqual(Array.from(t.special.slice(0, 4)), [0, 1, 0, 1]);
  assert.ok(!toks.slice(4).includes('[SEP]'));
});

test('empty and whitespace-only input give no tokens', () => {
  assert.equal(cased.tokenize('').ids.length, 0);
  assert.equal(cased.tokenize(' \t\n\u00a0\u3000').ids.length, 0);
});

// Speed is measured by `npm run bench:ner` (tokenizer MB/s), never asserted here: a 2.2 MB input
// tokenizes to exactly the repeated line's tokens (no state leaks between repeats).
test('a 2.2 MB input gives the repeated line\'s tokens, repeated', () => {
  const line = 'The patient, a 67-year-old male with hypertension and type 2 diabetes, was given aspirin 81 mg and metoprolol. ';
  const one = cased.tokenize(line).ids;
  const t = cased.tokenize(line.repeat(20_000)); // ~2.2 MB
  assert.equal(t.ids.length, one.length * 20_000);
  assert.deepEqual(t.ids.slice(-one.length), one);
});
