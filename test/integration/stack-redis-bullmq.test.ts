import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { redisAddress } from '../../src/stack/redis-info.ts';
import { integrationServices, uniqueName } from '../support/services.ts';

const svc = await integrationServices(['redis']);

test('bullmq: a job goes from Queue.add through a Worker to a result seen by QueueEvents', { skip: svc.skip, timeout: 30_000 }, async () => {
  if (!svc.ok) return;
  const url = new URL(svc.services.redisUrl);
  const { host, port } = redisAddress(svc.services.redisUrl);
  const connection = {
    host,
    port,
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    maxRetriesPerRequest: null,
  };
  const name = uniqueName('medner-test-queue');
  const queue = new Queue<{ n: number }, { doubled: number; by: string }>(name, { connection });
  const events = new QueueEvents(name, { connection });
  const worker = new Worker<{ n: number }, { doubled: number; by: string }>(
    name,
    async (job) => ({ doubled: job.data.n * 2, by: job.name }),
    { connection, concurrency: 2 },
  );
  try {
    await events.waitUntilReady();
    await worker.waitUntilReady();
    const jobs = await Promise.all([21, 5].map((n) => queue.add(`double-${n}`, { n })));
    const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 15_000)));
    assert.deepEqual(results, [
      { doubled: 42, by: 'double-21' },
      { doubled: 10, by: 'double-5' },
    ]);
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting');
    assert.deepEqual(counts, { completed: 2, failed: 0, waiting: 0 });
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
});
