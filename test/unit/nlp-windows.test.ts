import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planWindows } from '../../src/nlp/windows.ts';

test('short documents get one window', () => {
  assert.deepEqual(planWindows(10, 128, 32), [{ start: 0, end: 10, ownStart: 0, ownEnd: 10 }]);
  assert.deepEqual(planWindows(0, 128, 32), [{ start: 0, end: 0, ownStart: 0, ownEnd: 0 }]);
});

test('long documents: full windows overlapping by stride, last one ends at the end', () => {
  const ws = planWindows(300, 102, 20); // 100 tokens per window, step 80
  assert.deepEqual(ws.map((w) => [w.start, w.end]), [[0, 100], [80, 180], [160, 260], [200, 300]]);
  // the overlap 80..100 is split in the middle
  assert.equal(ws[0]!.ownEnd, ws[1]!.ownStart);
  assert.ok(ws[0]!.ownEnd >= 89 && ws[0]!.ownEnd <= 91);
});

test('rejects stride that would not advance', () => {
  assert.throws(() => planWindows(500, 10, 8), RangeError);
});

test('property: each token owned by exactly one window, the one where it is farthest from an edge', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 3, max: 300 }), fc.double({ min: 0, max: 0.95, noNaN: true }), (n, maxLength, f) => {
      const size = maxLength - 2;
      const stride = Math.floor(f * (size - 1));
      const ws = planWindows(n, maxLength, stride);
      const owner = new Int32Array(n).fill(-1);
      ws.forEach((w, k) => {
        assert.ok(w.end - w.start <= size && w.start >= 0 && w.end <= n);
        for (let t = w.ownStart; t < w.ownEnd; t++) {
          assert.equal(owner[t], -1, `token ${t} owned twice`);
          owner[t] = k;
        }
      });
      for (let t = 0; t < n; t++) {
        const k = owner[t]!;
        assert.ok(k >= 0, `token ${t} not owned`);
        const d = (w: { start: number; end: number }): number => Math.min(t - w.start, w.end - 1 - t);
        for (const w of ws) if (w.start <= t && t < w.end) assert.ok(d(w) <= d(ws[k]!));
      }
    }),
    { numRuns: 300 },
  );
});
