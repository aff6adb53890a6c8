import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rangeSize, replayRanges } from '../../src/pipeline/replay-ranges.ts';

const offsets = [
  { partition: 0, low: 0n, high: 10n },
  { partition: 1, low: 5n, high: 8n, from: 6n, to: 7n },
  { partition: 2, low: 0n, high: 4n, from: 4n, to: 4n },
];

test('ranges run from the --from offset (else oldest) to the --to offset (else end), exclusive', () => {
  const r = replayRanges('t', offsets);
  assert.deepEqual(
    r.map((x) => [x.partition, x.start, x.end]),
    [
      [0, 0n, 10n],
      [1, 6n, 7n],
      [2, 4n, 4n],
    ],
  );
  assert.equal(rangeSize(r), 11);
});

test('offsets outside what the topic keeps are clamped, an inverted range is empty', () => {
  const r = replayRanges('t', [{ partition: 0, low: 5n, high: 9n, from: 1n, to: 20n }, { partition: 1, low: 0n, high: 9n, from: 7n, to: 3n }]);
  assert.deepEqual(r.map((x) => [x.start, x.end]), [[5n, 9n], [7n, 7n]]);
});

test('--partitions selects partitions and refuses unknown ones', () => {
  assert.deepEqual(replayRanges('t', offsets, [1]).map((x) => x.partition), [1]);
  assert.throws(() => replayRanges('t', offsets, [7]), /no partition 7/);
});
