import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextBatchRows, planBatches } from '../../src/nlp/batch-plan.ts';

test('similar lengths fill the batch up to maxRows', () => {
  assert.equal(nextBatchRows([100, 101, 102, 103, 104], 4, 0.25), 4);
  assert.deepEqual(planBatches([100, 101, 102, 103, 104], 4, 0.25), [4, 1]);
});

test('a long window after short ones starts a new batch instead of padding them', () => {
  // 40 + 250 padded to 250 twice = 500 tokens of work for 290: 72% padding
  assert.equal(nextBatchRows([40, 250], 32, 0.25), 1);
  assert.deepEqual(planBatches([40, 42, 44, 250, 251], 32, 0.25), [3, 2]);
});

test('the budget is a fraction of the real tokens', () => {
  // [80, 100]: padded 200, real 180: 11% padding
  assert.equal(nextBatchRows([80, 100], 8, 0.1), 1);
  assert.equal(nextBatchRows([80, 100], 8, 0.12), 2);
});

test('Infinity turns the split off; maxRows and the input still bound the batch', () => {
  assert.equal(nextBatchRows([3, 500, 500], 2, Infinity), 2);
  assert.deepEqual(planBatches([3, 10, 200, 500, 510], 2, Infinity), [2, 2, 1]);
  assert.equal(nextBatchRows([], 8, 0.25), 0);
  assert.deepEqual(planBatches([], 8, 0.25), []);
});

test('property: batches cover every window in order, none over maxRows, padding within budget unless alone', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 3, max: 512 }), { maxLength: 200 }),
      fc.integer({ min: 1, max: 64 }),
      fc.constantFrom(0, 0.1, 0.25, 1, Infinity),
      (raw, maxRows, maxPadding) => {
        const lengths = [...raw].sort((a, b) => a - b);
        const plan = planBatches(lengths, maxRows, maxPadding);
        assert.equal(plan.reduce((a, b) => a + b, 0), lengths.length);
        let at = 0;
        for (const rows of plan) {
          assert.ok(rows >= 1 && rows <= maxRows);
          const batch = lengths.slice(at, at + rows);
          const real = batch.reduce((a, b) => a + b, 0);
          if (rows > 1) assert.ok(rows * batch[rows - 1]! <= (1 + maxPadding) * real + 1e-9);
          at += rows;
        }
      },
    ),
  );
});
