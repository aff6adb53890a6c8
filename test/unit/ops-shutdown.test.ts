import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onShutdown } from '../../src/ops/shutdown.ts';
import { createLogger } from '../../src/ops/logger.ts';

/** Runs onShutdown with process.exit and the signal handlers captured; emits signals at chosen times. */
function harness() {
  let t = 0;
  const exits: number[] = [];
  let steps = 0;
  const realExit = process.exit;
  // Records the code; unlike the real one it returns, so only the first exit code counts.
  process.exit = ((code?: number) => {
    exits.push(code ?? 0);
    return undefined as never;
  }) as typeof process.exit;
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  const off = onShutdown(
    createLogger('silent'),
    async () => {
      steps++;
      await done;
    },
    { now: () => t, hardTimeoutMs: 10_000 },
  );
  return {
    at(ms: number, signal: NodeJS.Signals) {
      t = ms;
      process.emit(signal);
    },
    exits,
    steps: () => steps,
    async finish() {
      release();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      off();
      process.exit = realExit;
    },
  };
}

test('a signal relayed again within 1 s (npm and tsx both forward SIGTERM) does not cut the drain short', async () => {
  const h = harness();
  h.at(0, 'SIGTERM');
  h.at(32, 'SIGTERM');
  assert.deepEqual(h.exits, [], 'no exit while the steps run');
  assert.equal(h.steps(), 1);
  await h.finish();
  assert.deepEqual(h.exits, [0], 'exit 0 once the steps are done');
});

test('a second signal later than 1 s exits at once', async () => {
  const h = harness();
  h.at(0, 'SIGINT');
  assert.deepEqual(h.exits, []);
  h.at(1500, 'SIGINT');
  assert.equal(h.exits[0], 130);
  await h.finish();
});
