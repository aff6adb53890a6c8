import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNerEngine, type NerEngine } from '../../src/nlp/engine.ts';
import { planWindows } from '../../src/nlp/windows.ts';
import type { Entity } from '../../src/core/entity.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelDir = path.join(repo, 'test/fixtures/models/tiny-bert');

const WORDS = ('Patient with postural hypotension after selegiline ; aspirin 81 mg daily , no fever . ' +
  'Café naïve 😀 日本 [SEP] IL-2 5-FU (b.i.d.) Na+/K+ x² history of diabetes mellitus type 2 and renal failure').split(' ');

function makeDocs(n: number, seed = 7): string[] {
  let s = seed;
  const rnd = (k: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % k;
  };
  return Array.from({ length: n }, () => {
    const len = 1 + rnd(60);
    return Array.from({ length: len }, () => WORDS[rnd(WORDS.length)]).join(rnd(5) === 0 ? '\n' : ' ');
  });
}

let engine: NerEngine;
const ready = createNerEngine({ modelDir, variant: 'fp32', batchSize: 16, intraOpThreads: 1 }).then((e) => (engine = e));
after(async () => {
  await (await ready).close();
});

function assertSlices(texts: string[], out: Entity[][]): void {
  assert.equal(out.length, texts.length);
  out.forEach((ents, i) => {
    let last = 0;
    for (const e of ents) {
      assert.equal(e.text, texts[i]!.slice(e.start, e.end), `doc ${i}`);
      assert.ok(e.start >= last && e.end > e.start && e.end <= texts[i]!.length);
      assert.ok(e.score > 0 && e.score <= 1);
      assert.ok(['Disease', 'Chemical'].includes(e.label));
      last = e.end;
    }
  });
}

test('engine loads the tiny model and reports what runs', async () => {
  await ready;
  assert.equal(engine.model.name, 'medner-tiny-test');
  assert.deepEqual(engine.config.labels, ['O', 'B-Disease', 'I-Disease', 'B-Chemical', 'I-Chemical']);
  assert.equal(engine.runtime.executionProvider, 'cpu');
  assert.equal(engine.runtime.variant, 'fp32');
});

test('shapes and offsets: one result per text, entity text is the slice (300 docs + edge cases)', async () => {
  await ready;
  const texts = ['', '   ', '[SEP]', '😀😀', ...makeDocs(300)];
  const out = await engine.extract(texts);
  assertSlices(texts, out);
  assert.deepEqual(out[0], []);
  assert.deepEqual(out[1], []);
  assert.ok(out.flat().length > 50, 'the random test model tags plenty of spans');
});

test('determinism: same input twice gives the same entities', async () => {
  await ready;
  const texts = makeDocs(40, 11);
  assert.deepEqual(await engine.extract(texts), await engine.extract(texts));
});

test('batch invariance: a document alone and inside a batch of 64 gives the same entities', async () => {
  await ready;
  const others = makeDocs(63, 99);
  for (const doc of makeDocs(5, 3)) {
    const [alone] = await engine.extract([doc]);
    const inBatch = (await engine.extract([...others.slice(0, 31), doc, ...others.slice(31)]))[31]!;
    assert.deepEqual(
      inBatch.map((e) => [e.start, e.end, e.label]),
      alone!.map((e) => [e.start, e.end, e.label]),
    );
    // padding changes kernel shapes, so scores agree to float tolerance, not bit for bit
    inBatch.forEach((e, k) => assert.ok(Math.abs(e.score - alone![k]!.score) < 1e-4));
  }
});

test('padding budget: on CPU a mixed batch is split (default 0.1), with the entities of one batch padded to its longest', async () => {
  await ready;
  assert.equal(engine.runtime.maxPadding, 0.1);
  // The padding budget applies where windows share batches (batchInvariant: false; on CPU each window runs alone by default).
  assert.equal(engine.runtime.batchInvariant, true);
  const padded = await createNerEngine({ modelDir, variant: 'fp32', batchSize: 64, maxPadding: Infinity, intraOpThreads: 1, batchInvariant: false });
  const splitter = await createNerEngine({ modelDir, variant: 'fp32', batchSize: 64, intraOpThreads: 1, batchInvariant: false });
  try {
    assert.equal(padded.runtime.maxPadding, Infinity);
    assert.equal(splitter.runtime.maxPadding, 0.1);
    const texts = makeDocs(64, 21); // 1 to 60 words each: one padded batch of 64 vs several split ones
    const [split, whole] = [await splitter.extract(texts), await padded.extract(texts)];
    split.forEach((ents, i) => {
      assert.deepEqual(ents.map((e) => [e.start, e.end, e.label]), whole[i]!.map((e) => [e.start, e.end, e.label]), `doc ${i}`);
      ents.forEach((e, k) => assert.ok(Math.abs(e.score - whole[i]![k]!.score) < 1e-4));
    });
  } finally {
    await padded.close();
    await splitter.close();
  }
  await assert.rejects(createNerEngine({ modelDir, maxPadding: -1, intraOpThreads: 1 }), /maxPadding -1/);
});

test('long documents: windows cover every token, entities across window edges come out once, whole', async () => {
  await ready;
  const doc = makeDocs(40, 5).join(' ');
  const tokens = engine.tokenizer.tokenize(doc);
  const windows = planWindows(tokens.ids.length, engine.config.maxLength, engine.config.stride);
  assert.ok(windows.length >= 4, `${tokens.ids.length} tokens -> ${windows.length} windows`);
  const [ents] = await engine.extract([doc]);
  assertSlices([doc], [ents!]);
  // find an entity that spans an ownership boundary between windows
  const boundaries = windows.slice(1).map((w) => tokens.starts[w.ownStart]!);
  const crossing = ents!.filter((e) => boundaries.some((b) => e.start < b && b < e.end));
  assert.ok(crossing.length > 0, 'expected the random model to tag at least one span across a window boundary');
  // the same text in one batch with copies still decodes identically (windows from many docs batch together)
  const again = await engine.extract([doc, doc.slice(0, 500), doc]);
  assert.deepEqual(again[0]!.map((e) => [e.start, e.end, e.label]), ents!.map((e) => [e.start, e.end, e.label]));
  assert.deepEqual(again[2]!.map((e) => [e.start, e.end, e.label]), ents!.map((e) => [e.start, e.end, e.label]));
});

test('aggregation option changes decoding; concurrent calls are independent', async () => {
  await ready;
  const simple = await createNerEngine({ modelDir, variant: 'fp32', aggregation: 'simple', intraOpThreads: 1 });
  try {
    const texts = makeDocs(30, 21);
    const [a, b, c] = await Promise.all([engine.extract(texts), simple.extract(texts), engine.extract(texts.slice(0, 10))]);
    assertSlices(texts, b!);
    assert.notDeepEqual(a, b);
    assert.deepEqual(c, a!.slice(0, 10));
  } finally {
    await simple.close();
  }
});

test('minScore drops exactly the entities scoring below it; out-of-range values are refused', async () => {
  await ready;
  const texts = makeDocs(40, 33);
  const all = (await engine.extract(texts)).flat();
  assert.ok(all.length >= 10, `need entities to filter, got ${all.length}`);
  const scores = all.map((e) => e.score).sort((x, y) => x - y);
  const cut = scores[Math.floor(scores.length / 2)]!; // the median: some entities go, some stay
  const filtering = await createNerEngine({ modelDir, variant: 'fp32', batchSize: 16, intraOpThreads: 1, minScore: cut });
  try {
    assert.equal(filtering.runtime.minScore, cut);
    const kept = await filtering.extract(texts);
    const expected = (await engine.extract(texts)).map((es) => es.filter((e) => e.score >= cut));
    assert.deepEqual(kept, expected);
    assert.ok(kept.flat().length < all.length && kept.flat().length > 0);
  } finally {
    await filtering.close();
  }
  await assert.rejects(createNerEngine({ modelDir, minScore: 1.5, intraOpThreads: 1 }), /minScore 1.5/);
});

test('variant auto runs the int8 model on CPU; its entities mostly agree with fp32', async () => {
  await ready;
  const q = await createNerEngine({ modelDir, intraOpThreads: 1 });
  try {
    assert.equal(q.runtime.variant, 'int8');
    assert.match(q.runtime.onnxPath, /model\.int8\.onnx$/);
    const texts = makeDocs(100, 17);
    const [a, b] = await Promise.all([engine.extract(texts), q.extract(texts)]);
    assertSlices(texts, b);
    let same = 0;
    let total = 0;
    a.forEach((ents, i) => {
      const keys = new Set(b[i]!.map((e) => `${e.start}:${e.end}:${e.label}`));
      total += ents.length;
      for (const e of ents) if (keys.has(`${e.start}:${e.end}:${e.label}`)) same++;
    });
    assert.ok(total > 0 && same / total >= 0.9, `int8 agrees on ${same}/${total} entities`);
  } finally {
    await q.close();
  }
});

test('segment sentence: each sentence is inferred alone (a document gives the entities of its sentences run one by one)', async () => {
  const e = await createNerEngine({ modelDir, variant: 'fp32', intraOpThreads: 1, segment: 'sentence' });
  try {
    assert.equal(e.runtime.segment, 'sentence');
    assert.equal(engine.runtime.segment, 'none', "the tiny model's config has no segment");
    // sentences of random words with no . or line break inside, each starting with an upper-case word
    const sentences = makeDocs(30, 5).map((d) => `The ${d.replace(/[\n.]/g, ' ').trim()}.`);
    const docs = [0, 6, 12, 18, 24].map((k) => sentences.slice(k, k + 6));
    const texts = docs.map((ss, k) => ss.join(k % 2 === 0 ? ' ' : '\n'));
    const out = await e.extract(texts);
    const alone = await e.extract(sentences);
    const shifted: [number, number, string][][] = docs.map((ss, k) => {
      let at = 0;
      return ss.flatMap((s, i) => {
        const got = alone[k * 6 + i]!.map((x): [number, number, string] => [x.start + at, x.end + at, x.label]);
        at += s.length + 1;
        return got;
      });
    });
    assert.deepEqual(out.map((es) => es.map((x) => [x.start, x.end, x.label])), shifted);
    // whole-document windows give other entities on this random model: the test can tell the two apart
    const whole = await engine.extract(texts);
    assert.notDeepEqual(whole.map((es) => es.map((x) => [x.start, x.end, x.label])), shifted);
  } finally {
    await e.close();
  }
});

test('closed engine refuses work', async () => {
  const e = await createNerEngine({ modelDir, intraOpThreads: 1 });
  await e.close();
  await assert.rejects(e.extract(['x']), /closed/);
});
