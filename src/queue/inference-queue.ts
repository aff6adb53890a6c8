/**
 * The BullMQ queue between the ingest side and the inference pool, from the
 * ingest side: add jobs (idempotently, by job id), learn when they finish,
 * and read the depth for backpressure.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { InferenceJobData, InferenceJobResult } from './inference-job.ts';
import { decodeFailure, type JobFailure } from './inference-job.ts';
import { MednerError } from '../core/errors.ts';

export const JOB_NAME = 'ner';

/** The Redis key prefix of medner's queues (tests may isolate with their own). */
export const QUEUE_PREFIX = 'medner';

/**
 * Replays and backfills go to a queue of their own, which each inference worker serves with a few
 * slots only: a replay can neither take the live feed's slots nor fill the live queue up to its
 * high-water mark (which would pause the live consumers).
 */
export function replayQueueName(queueName: string): string {
  return `${queueName}-replay`;
}

export interface InferenceQueueOptions {
  redisUrl: string;
  queueName: string;
  /** Attempts per job before it fails for good (JOB_ATTEMPTS). */
  attempts: number;
  /** First retry delay; doubles per attempt. */
  backoffMs?: number;
  /** Redis key prefix (tests may isolate with their own). */
  prefix?: string;
}

export type JobOutcome = { ok: true; result: InferenceJobResult } | { ok: false; failure: JobFailure; attempts: number };

/** What the ingest side needs from the queue (InferenceQueue; fakes in unit tests). */
export interface JobQueuePort<J = unknown> {
  start(): Promise<void>;
  add(jobId: string, data: InferenceJobData, opts?: { priority?: number }): Promise<J>;
  outcome(job: J): Promise<JobOutcome>;
  depth(): Promise<number>;
}

export class InferenceQueue implements JobQueuePort<Job<InferenceJobData, InferenceJobResult>> {
  readonly queue: Queue<InferenceJobData, InferenceJobResult>;
  readonly events: QueueEvents;
  private ready: Promise<unknown> | undefined;
  private closing = false;

  constructor(private readonly opts: InferenceQueueOptions) {
    const connection = { url: opts.redisUrl, maxRetriesPerRequest: null };
    const prefix = opts.prefix ?? QUEUE_PREFIX;
    this.queue = new Queue<InferenceJobData, InferenceJobResult>(opts.queueName, { connection, prefix });
    this.events = new QueueEvents(opts.queueName, { connection, prefix });
    this.events.setMaxListeners(0);
    this.queue.setMaxListeners(0);
  }

  /** Connects the event stream before the first job is added, so no completion is missed. */
  async start(): Promise<void> {
    this.ready ??= Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    await this.ready;
  }

  /**
   * Adds the job unless one with this id exists (a redelivery): then the existing
   * job, queued, running or finished, is what the caller waits on.
   */
  async add(jobId: string, data: InferenceJobData, opts: { priority?: number } = {}): Promise<Job<InferenceJobData, InferenceJobResult>> {
    await this.start();
    return this.queue.add(JOB_NAME, data, {
      jobId,
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: this.opts.backoffMs ?? 1000 },
      // Completed jobs stay a while so redeliveries after a crash match them.
      removeOnComplete: { age: 3600, count: 100_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
      ...(opts.priority ? { priority: opts.priority } : {}),
    });
  }

  /**
   * Resolves when the job completed or failed for good. Events can be missed (a
   * reconnect), so the job's state is re-read every `recheckMs`. Rejects only when
   * the queue closes first: the record then stays uncommitted and is redelivered.
   */
  async outcome(job: Job<InferenceJobData, InferenceJobResult>, recheckMs = 15_000): Promise<JobOutcome> {
    for (;;) {
      if (this.closing) throw new MednerError('QUEUE_CLOSING', 'queue closing before the job finished');
      try {
        return { ok: true, result: await job.waitUntilFinished(this.events, recheckMs) };
      } catch {
        // failed, timed out or closing: the stored state decides
      }
      if (this.closing) throw new MednerError('QUEUE_CLOSING', 'queue closing before the job finished');
      try {
        const fresh = job.id ? await this.queue.getJob(job.id) : undefined;
        if (!fresh) return { ok: false, failure: { stage: 'inference', code: 'JOB_LOST', message: 'the job disappeared from the queue' }, attempts: 0 };
        const state = await fresh.getState();
        if (state === 'completed') return { ok: true, result: fresh.returnvalue };
        if (state === 'failed') return { ok: false, failure: decodeFailure(fresh.failedReason), attempts: fresh.attemptsMade };
      } catch {
        // Redis unreachable for now: keep waiting (the record's offset stays uncommitted meanwhile)
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Jobs not finished yet: waiting, prioritized, delayed and running. */
  async depth(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async ping(): Promise<boolean> {
    try {
      await withTimeout(this.queue.getJobCounts('waiting'), 2000);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(t));
}

/** Running inference workers that serve the replay queue of `queueName` (medner replay: does anyone serve it?). */
export async function replayWorkerCount(redisUrl: string, queueName: string, prefix = QUEUE_PREFIX): Promise<number> {
  const q = new Queue(replayQueueName(queueName), { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix });
  try {
    return (await q.getWorkers()).length;
  } finally {
    await q.close();
  }
}
