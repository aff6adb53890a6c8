import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PartitionWatermark, WatermarkTracker } from '../../src/ingest/watermark.ts';

test('commit point is the first unfinished offset, or one past the last when all are done', () => {
  const w = new PartitionWatermark();
  assert.equal(w.commitPoint(), undefined);
  for (const o of [10n, 11n, 12n, 13n]) assert.equal(w.start(o), true);
  assert.equal(w.commitPoint(), 10n);
  w.finish(12n);
  assert.equal(w.commitPoint(), 10n);
  w.finish(10n);
  assert.equal(w.commitPoint(), 11n);
  w.finish(11n);
  assert.equal(w.commitPoint(), 13n);
  w.finish(13n);
  assert.equal(w.commitPoint(), 14n);
  assert.equal(w.inFlight, 0);
});

test('gaps between offsets do not block the commit point', () => {
  const w = new PartitionWatermark();
  w.start(5n);
  w.start(9n);
  w.finish(9n);
  assert.equal(w.commitPoint(), 5n);
  w.finish(5n);
  assert.equal(w.commitPoint(), 10n);
});

test('a redelivered offset is refused and unknown finishes are ignored', () => {
  const w = new PartitionWatermark();
  w.start(1n);
  w.start(2n);
  assert.equal(w.start(2n), false);
  assert.equal(w.start(0n), false);
  w.finish(7n);
  w.finish(0n);
  assert.equal(w.commitPoint(), 1n);
  assert.equal(w.inFlight, 2);
});

test('property: commit point never passes an unfinished offset and reaches the end when all finish', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 200 }), fc.infiniteStream(fc.nat()), (raw, rnd) => {
      const offsets = [...raw].sort((a, b) => a - b).map(BigInt);
      const w = new PartitionWatermark();
      for (const o of offsets) w.start(o);
      const order = [...offsets];
      const it = rnd[Symbol.iterator]();
      for (let i = order.length - 1; i > 0; i--) {
        const j = (it.next().value as number) % (i + 1);
        [order[i], order[j]] = [order[j] as bigint, order[i] as bigint];
      }
      const done = new Set<bigint>();
      for (const o of order) {
        w.finish(o);
        done.add(o);
        const p = w.commitPoint() as bigint;
        for (const s of offsets) if (s < p) assert.ok(done.has(s), `offset ${s} below commit point ${p} is not done`);
        const firstOpen = offsets.find((s) => !done.has(s));
        assert.equal(p, firstOpen ?? (offsets.at(-1) as bigint) + 1n);
      }
    }),
    { numRuns: 200 },
  );
});

test('tracker reports only moved commit points and forgets revoked partitions', () => {
  const t = new WatermarkTracker();
  t.start('a', 0, '0');
  t.start('a', 1, '100');
  t.start('a', 0, '1');
  assert.deepEqual(t.pending(), [
    { topic: 'a', partition: 0, offset: '0' },
    { topic: 'a', partition: 1, offset: '100' },
  ]);
  t.markCommitted(t.pending());
  assert.deepEqual(t.pending(), []);
  t.finish('a', 0, '1');
  assert.deepEqual(t.pending(), []);
  t.finish('a', 0, '0');
  assert.deepEqual(t.pending(), [{ topic: 'a', partition: 0, offset: '2' }]);
  assert.equal(t.inFlight, 1);
  t.retain([{ topic: 'a', partitions: [0] }]);
  assert.equal(t.inFlight, 0);
});
