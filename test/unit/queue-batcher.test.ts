import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MicroBatcher } from '../../src/queue/batcher.ts';

test('a full batch runs at once, in order, one result per caller', async () => {
  const batches: number[][] = [];
  const b = new MicroBatcher<number, number>({
    maxSize: 3,
    maxWaitMs: 10_000,
    run: async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 10);
    },
  });
  const out = await Promise.all([1, 2, 3].map((x) => b.push(x)));
  assert.deepEqual(out, [10, 20, 30]);
  assert.deepEqual(batches, [[1, 2, 3]]);
  await b.close();
});

test('a partial batch runs after the wait window', async () => {
  const sizes: number[] = [];
  const b = new MicroBatcher<string, number>({ maxSize: 10, maxWaitMs: 30, run: async (xs) => xs.map((x) => x.length), onBatch: (n) => sizes.push(n) });
  const t0 = Date.now();
  const out = await Promise.all([b.push('a'), b.push('bb')]);
  assert.deepEqual(out, [1, 2]);
  assert.ok(Date.now() - t0 >= 25, 'waited for the window');
  assert.deepEqual(sizes, [2]);
  await b.close();
});

test('one batch at a time; items arriving meanwhile form the next batch', async () => {
  let running = 0;
  let maxRunning = 0;
  const batches: number[][] = [];
  const b = new MicroBatcher<number, number>({
    maxSize: 4,
    maxWaitMs: 1,
    run: async (xs) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      batches.push(xs);
      await sleep(30);
      running--;
      return xs;
    },
  });
  const first = b.push(0);
  await sleep(5);
  const rest = [1, 2, 3, 4, 5].map((x) => b.push(x));
  assert.deepEqual(await Promise.all([first, ...rest]), [0, 1, 2, 3, 4, 5]);
  assert.equal(maxRunning, 1);
  assert.deepEqual(batches, [[0], [1, 2, 3, 4], [5]]);
  await b.close();
});

test('a failing batch rejects all of its callers, later batches still run', async () => {
  let calls = 0;
  const b = new MicroBatcher<number, number>({
    maxSize: 2,
    maxWaitMs: 1,
    run: async (xs) => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return xs;
    },
  });
  const r = await Promise.allSettled([b.push(1), b.push(2)]);
  assert.deepEqual(r.map((x) => x.status), ['rejected', 'rejected']);
  assert.equal(await b.push(3), 3);
  await b.close();
  await assert.rejects(b.push(4), /closed/);
});
