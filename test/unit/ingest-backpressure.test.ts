import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backpressureAction } from '../../src/ingest/backpressure.ts';

test('pauses above the high water mark and resumes only below the low one', () => {
  const limits = { high: 100, low: 20 };
  const rows: [number, boolean, string][] = [
    [0, false, 'none'],
    [100, false, 'none'],
    [101, false, 'pause'],
    [500, true, 'none'],
    [50, true, 'none'],
    [20, true, 'none'],
    [19, true, 'resume'],
    [19, false, 'none'],
  ];
  for (const [depth, paused, want] of rows) assert.equal(backpressureAction(depth, paused, limits), want, `depth ${depth} paused ${paused}`);
});
