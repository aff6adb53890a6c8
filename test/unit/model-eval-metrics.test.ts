import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bioTokenSpans, entityTypes, formatScores, parseBio, scoreSpans, toEvalDocument } from '../../src/nlp/eval-metrics.ts';
import { evaluateBio, type EvalEngine } from '../../src/nlp/eval.ts';
import type { Entity } from '../../src/core/entity.ts';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'eval');
const read = (f: string) => readFileSync(path.join(fixtures, f), 'utf8');

test('parseBio splits sentences on blank lines and keeps token/tag order', () => {
  const s = parseBio(read('gold.tsv'));
  assert.equal(s.length, 2);
  assert.deepEqual(s[0]!.tokens, ['Aspirin', 'caused', 'acute', 'renal', 'failure', '.']);
  assert.deepEqual(s[1]!.tags.slice(-3), ['B-Chemical', 'I-Chemical', 'O']);
});

test('parseBio tolerates CRLF, extra columns and DOCSTART; rejects a line without a tag', () => {
  const s = parseBio('-DOCSTART-\tO\r\n\r\nFoo\tB-X\textra\r\nbar\tI-X\r\n');
  assert.deepEqual(s, [{ tokens: ['Foo', 'bar'], tags: ['B-X', 'I-X'] }]);
  assert.throws(() => parseBio('ok\tO\nbroken\n'), /line 2/);
  assert.throws(() => parseBio('tok\tX-Foo\n'), /line 1/);
});

test('bioTokenSpans is strict: I- after O or another type starts a new span', () => {
  assert.deepEqual(bioTokenSpans(['I-A', 'I-A', 'O', 'B-A', 'B-A', 'I-B', 'I-B']), [
    { start: 0, end: 2, label: 'A' },
    { start: 3, end: 4, label: 'A' },
    { start: 4, end: 5, label: 'A' },
    { start: 5, end: 7, label: 'B' },
  ]);
  assert.deepEqual(bioTokenSpans(['O', 'O']), []);
});

test('toEvalDocument joins tokens with single spaces and maps gold spans to character offsets', () => {
  const [s1, s2] = parseBio(read('gold.tsv')).map(toEvalDocument);
  assert.equal(s1!.text, 'Aspirin caused acute renal failure .');
  assert.deepEqual(
    s1!.gold.map((g) => [s1!.text.slice(g.start, g.end), g.label]),
    [
      ['Aspirin', 'Chemical'],
      ['acute renal failure', 'Disease'],
    ],
  );
  assert.deepEqual(
    s2!.gold.map((g) => [s2!.text.slice(g.start, g.end), g.label]),
    [
      ['hepatitis', 'Disease'],
      ['lithium carbonate', 'Chemical'],
    ],
  );
});

// Expected values are counted by hand in test/fixtures/eval/README.md.
test('scoreSpans gives the hand-counted strict scores for pred.tsv against gold.tsv', () => {
  const gold = parseBio(read('gold.tsv')).map((s) => toEvalDocument(s).gold);
  const pred = parseBio(read('pred.tsv')).map((s) => toEvalDocument(s).gold);
  const s = scoreSpans(gold, pred);
  assert.deepEqual(Object.keys(s.labels), ['Chemical', 'Disease']);
  const chem = s.labels['Chemical']!;
  assert.deepEqual([chem.tp, chem.fp, chem.fn], [1, 1, 1]);
  assert.equal(chem.f1, 0.5);
  const dis = s.labels['Disease']!;
  assert.deepEqual([dis.tp, dis.fp, dis.fn], [1, 2, 1]);
  assert.ok(Math.abs(dis.precision - 1 / 3) < 1e-12);
  assert.ok(Math.abs(dis.f1 - 0.4) < 1e-12);
  assert.deepEqual([s.micro.tp, s.micro.fp, s.micro.fn], [2, 3, 2]);
  assert.ok(Math.abs(s.micro.f1 - 4 / 9) < 1e-12);
  assert.match(formatScores(s), /micro\s+40\.00\s+50\.00\s+44\.44/);
});

test('scoreSpans: perfect predictions score 1, empty predictions score 0, duplicates are false positives', () => {
  const gold = parseBio(read('gold.tsv')).map((s) => toEvalDocument(s).gold);
  assert.equal(scoreSpans(gold, gold).micro.f1, 1);
  const none = scoreSpans(gold, gold.map(() => []));
  assert.deepEqual([none.micro.tp, none.micro.fn, none.micro.f1], [0, 4, 0]);
  const dup = scoreSpans(gold, gold.map((g) => [...g, ...g]));
  assert.deepEqual([dup.micro.tp, dup.micro.fp, dup.micro.fn], [4, 4, 0]);
  assert.throws(() => scoreSpans(gold, []), /documents/);
});

test('scoreSpans with a label list ignores other labels and reports listed labels with no data', () => {
  const gold = [[{ start: 0, end: 3, label: 'Disease' }]];
  const pred = [[{ start: 0, end: 3, label: 'Disease' }, { start: 4, end: 6, label: 'Gene' }]];
  const s = scoreSpans(gold, pred, ['Chemical', 'Disease']);
  assert.deepEqual(Object.keys(s.labels), ['Chemical', 'Disease']);
  assert.equal(s.labels['Chemical']!.f1, 0);
  assert.equal(s.micro.fp, 0);
});

test('entityTypes strips BIO prefixes and drops O', () => {
  assert.deepEqual(entityTypes(['O', 'B-Disease', 'I-Disease', 'B-Chemical', 'I-Chemical']), ['Chemical', 'Disease']);
});

/** An engine that returns fixed entities per sentence text (the pred.tsv spans). */
function replayEngine(answers: Map<string, Entity[]>): EvalEngine & { calls: number } {
  return {
    calls: 0,
    model: { name: 'replay', version: '0' },
    config: { labels: ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease'] },
    async extract(texts: string[]) {
      this.calls++;
      return texts.map((t) => answers.get(t) ?? []);
    },
  };
}

test('evaluateBio runs the engine over rebuilt sentence texts and scores its entities', async () => {
  const answers = new Map<string, Entity[]>();
  for (const s of parseBio(read('pred.tsv'))) {
    const d = toEvalDocument(s);
    answers.set(d.text, d.gold.map((g) => ({ ...g, text: d.text.slice(g.start, g.end), score: 0.9 })));
  }
  const engine = replayEngine(answers);
  const r = await evaluateBio(engine, read('gold.tsv'), 'gold.tsv', { chunkSize: 1 });
  assert.equal(engine.calls, 2);
  assert.equal(r.documents, 2);
  assert.equal(r.goldEntities, 4);
  assert.deepEqual([r.scores.micro.tp, r.scores.micro.fp, r.scores.micro.fn], [2, 3, 2]);
  assert.ok(r.documentsPerSecond > 0);
  const limited = await evaluateBio(replayEngine(answers), read('gold.tsv'), 'gold.tsv', { limit: 1 });
  assert.equal(limited.documents, 1);
  assert.deepEqual([limited.scores.micro.tp, limited.scores.micro.fp, limited.scores.micro.fn], [1, 1, 1]);
});
