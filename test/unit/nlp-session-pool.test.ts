import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionPool } from '../../src/nlp/session-pool.ts';
import { MednerError } from '../../src/core/errors.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelPath = path.join(repo, 'test/fixtures/models/tiny-bert/model.onnx');
// [CLS]=2 [UNK]=1 [SEP]=3 in the tiny vocab
const batch = () => ({ ids: Int32Array.from([2, 50, 60, 3, 2, 70, 3, 0]), lengths: Int32Array.from([4, 3]) });

test('pool runs padded batches in worker threads and returns [batch, seq, labels] logits', async () => {
  const pool = await SessionPool.start({ modelPath, provider: 'cpu', gpuId: 0, intraOpThreads: 1, sessions: 2, probeIds: [2, 1, 3] });
  try {
    assert.equal(pool.size, 2);
    assert.deepEqual(pool.ready.probeDims, [1, 3, 5]);
    const { ids, lengths } = batch();
    const r = await pool.run(ids, lengths, 2, 4);
    assert.deepEqual(r.dims, [2, 4, 5]);
    assert.equal(r.logits.length, 40);
    assert.ok(r.logits.every(Number.isFinite));
  } finally {
    await pool.close();
  }
});

test('a dead worker fails its batch (retriable) and is replaced for the next one', async () => {
  const pool = await SessionPool.start({ modelPath, provider: 'cpu', gpuId: 0, intraOpThreads: 1, sessions: 1, probeIds: [2, 1, 3] });
  try {
    const first = pool.threads[0]!;
    // The worker is stopping (its 'exit' has not fired yet) when the batch is handed to it, so the
    // batch never starts. Terminating a thread inside a native session.run instead can abort the
    // whole process in onnxruntime-node's binding, which is not what this test is about.
    const stopping = first.terminate();
    const b1 = batch();
    const pending = pool.run(b1.ids, b1.lengths, 2, 4);
    await stopping;
    await assert.rejects(pending, (err: unknown) => err instanceof MednerError && err.code === 'INFERENCE_FAILED' && err.retriable);
    const b2 = batch();
    const r = await pool.run(b2.ids, b2.lengths, 2, 4);
    assert.deepEqual(r.dims, [2, 4, 5]);
    assert.notEqual(pool.threads[0], first);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run(Int32Array.of(2, 3), Int32Array.of(2), 1, 2), /closed/);
});
