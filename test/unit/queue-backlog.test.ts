import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backlogOf, BACKLOG_STATES } from '../../src/queue/queue-backlog.ts';

test('backlogOf sums waiting, prioritized, delayed and active; missing states count 0; others are ignored', () => {
  assert.deepEqual(BACKLOG_STATES, ['waiting', 'prioritized', 'delayed', 'active']);
  assert.deepEqual(backlogOf({ waiting: 2, prioritized: 5, delayed: 1, active: 3, completed: 100, failed: 7 }), {
    waiting: 2,
    prioritized: 5,
    delayed: 1,
    active: 3,
    total: 11,
  });
  assert.deepEqual(backlogOf({ prioritized: 4 }), { waiting: 0, prioritized: 4, delayed: 0, active: 0, total: 4 });
});
