/**
 * GET /queue (what KEDA's metrics-api trigger reads for the inference role) against a real Redis:
 * the live and the replay queue's waiting, prioritized, delayed and active jobs. Also pins the
 * BullMQ key layout the choice rests on (deploy/README.md): a prioritized job is in the
 * `prioritized` sorted set, not the `wait` list that KEDA's redis-lists scaler would read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startOpsServer } from '../../src/ops/http-server.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { replayQueueName } from '../../src/queue/inference-queue.ts';
import { BacklogReader, type Backlogs } from '../../src/queue/queue-backlog.ts';
import { integrationServices, uniqueName } from '../support/services.ts';

const svc = await integrationServices(['redis']);

test('GET /queue counts waiting, prioritized (replays), delayed and active jobs of both queues', { skip: svc.skip, timeout: 30_000 }, async () => {
  if (!svc.ok) return;
  const redisUrl = svc.services.redisUrl;
  const prefix = uniqueName('medner-test-backlog');
  const name = 'medner-inference';
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const live = new Queue(name, { connection, prefix });
  const replay = new Queue(replayQueueName(name), { connection, prefix });
  const reader = new BacklogReader({ redisUrl, queueName: name, prefix });
  const redis = new Redis(redisUrl);
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  let taken = () => {};
  const running = new Promise<void>((r) => (taken = r));
  const worker = new Worker(
    name,
    async () => {
      taken();
      await held;
    },
    { connection, prefix, concurrency: 1, autorun: false },
  );
  const srv = await startOpsServer({ host: '127.0.0.1', port: 0, registry: createMetrics({ defaultMetrics: false }).registry, checks: [], routes: { '/queue': () => reader.read() } });
  try {
    await live.add('ner', { n: 1 }, { jobId: 'a' });
    await live.add('ner', { n: 2 }, { jobId: 'b' });
    await live.add('ner', { n: 3 }, { jobId: 'c' });
    await live.add('ner', { n: 4 }, { jobId: 'd', delay: 60_000 });
    await replay.add('ner', { n: 5 }, { jobId: 'r1', priority: 10 });
    await replay.add('ner', { n: 6 }, { jobId: 'r2', priority: 10 });
    void worker.run();
    await running;
    const res = await fetch(`${srv.url}/queue`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Backlogs;
    assert.deepEqual(body, {
      live: { waiting: 2, prioritized: 0, delayed: 1, active: 1, total: 4 },
      replay: { waiting: 0, prioritized: 2, delayed: 0, active: 0, total: 2 },
      total: 6,
    });
    // The key layout: replays are invisible to a scaler reading the wait list.
    assert.equal(await redis.llen(`${prefix}:${replayQueueName(name)}:wait`), 0);
    assert.equal(await redis.zcard(`${prefix}:${replayQueueName(name)}:prioritized`), 2);
    assert.equal(await redis.llen(`${prefix}:${name}:wait`), 2);
    assert.equal(await redis.llen(`${prefix}:${name}:active`), 1);
  } finally {
    release();
    await worker.close();
    await srv.close();
    await reader.close();
    await Promise.allSettled([live.obliterate({ force: true }), replay.obliterate({ force: true })]);
    await Promise.allSettled([live.close(), replay.close()]);
    redis.disconnect();
  }
});

test('GET /queue answers 503 when Redis does not answer', { timeout: 30_000 }, async () => {
  // A port nothing listens on: the read fails, the endpoint says unavailable (KEDA then uses its fallback).
  const reader = new BacklogReader({ redisUrl: 'redis://127.0.0.1:1', queueName: 'medner-inference' });
  const srv = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry: createMetrics({ defaultMetrics: false }).registry,
    checks: [],
    routes: { '/queue': () => reader.read(1500) },
  });
  try {
    const res = await fetch(`${srv.url}/queue`);
    assert.equal(res.status, 503);
  } finally {
    await srv.close();
    await reader.close();
  }
});
