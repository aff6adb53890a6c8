import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { integrationServices } from '../support/services.ts';
import { TINY_MODEL } from '../fixtures/pipeline/harness.ts';

/**
 * A short soak (issue 20) inside `npm test`: 44 inputs, 11 of them hostile (one of each kind), a
 * real worker process SIGKILLed and restarted midway, the tiny test model. The long run is
 * `npm run soak -- --docs N` (bench/soak.ts; results in bench/RESULTS.md).
 */
const svc = await integrationServices(['kafka', 'redis']);

test('short soak: every input placed (output or dead letter with a reason), RSS bounded, no PHI in the worker log', { skip: svc.skip, timeout: 240_000 }, () => {
  if (!svc.ok) return;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/soak.ts', '--docs', '44', '--hostile-every', '4', '--kill-at', '0.5', '--timeout', '150'], {
    env: { ...process.env, KAFKA_BROKERS: svc.services.kafkaBrokers.join(','), REDIS_URL: svc.services.redisUrl, MODEL_DIR: TINY_MODEL, BATCH_SIZE: '4', INTRA_OP_THREADS: '1' },
    encoding: 'utf8',
    timeout: 230_000,
  });
  const file = /JSON: (\S+\.json)/.exec(r.stdout)?.[1];
  assert.ok(file, `soak wrote its JSON (exit ${r.status}): ${r.stdout.slice(-800)}${r.stderr.slice(-800)}`);
  const res = JSON.parse(fs.readFileSync(file, 'utf8')) as { pass: boolean; drained: boolean; placement: { wrong: number; examples: string[] }; hostile: number; rss: { withinBound: boolean }; phi: { hits: number }; byKind: Record<string, { n: number; ok: number }> };
  assert.equal(res.drained, true);
  assert.deepEqual(res.placement.examples, []);
  assert.equal(res.hostile, 11);
  assert.equal(Object.keys(res.byKind).length, 12, 'good notes plus all 11 hostile kinds');
  assert.equal(res.phi.hits, 0);
  assert.equal(res.rss.withinBound, true);
  assert.equal(res.pass, true);
  assert.equal(r.status, 0);
});
