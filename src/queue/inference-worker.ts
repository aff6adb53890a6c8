/**
 * One inference worker: a BullMQ Worker on the live queue whose concurrency is twice the batch size,
 * so a batch fills while the previous one's outputs are written, and one on the replay queue with a
 * few slots (a quarter of the batch size); texts from both meet in a MicroBatcher
 * that calls the (long-lived) NER engine once per batch. Each job then writes its
 * outputs and completes; only then may the ingest side commit its offset.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from '../ops/logger.ts';
import { errorCode, isRetriable, MednerError, errorFields } from '../core/errors.ts';
import type { PipelineMetrics } from '../ops/metrics.ts';
import type { AssertedEntity } from '../core/entity.ts';
import { assertEntities } from '../nlp/assertions.ts';
import { attachAttributes } from '../nlp/attributes.ts';
import type { NerPort, OutputPort } from '../core/ports.ts';
import { MicroBatcher } from './batcher.ts';
import { JOB_NAME, replayQueueName } from './inference-queue.ts';
import { encodeFailure, type InferenceJobData, type InferenceJobResult } from './inference-job.ts';
import { LimitError } from '../fhir/bounds.ts';

export interface InferenceWorkerOptions {
  redisUrl: string;
  queueName: string;
  prefix?: string;
  /** Documents per NER batch (BATCH_SIZE). */
  batchSize: number;
  /**
   * Jobs active at once (default twice the batch size): while one batch's outputs are
   * being written, the next batch fills.
   */
  concurrency?: number;
  /** How long a partial batch waits for more documents (BATCH_WAIT_MS). */
  batchWaitMs: number;
  engine: NerPort;
  output: OutputPort;
  logger: Logger;
  metrics?: PipelineMetrics;
  /** A job whose worker died is retried after its lock expires (ms). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /**
   * While the outputs' server is unreachable (a retriable output error), the worker
   * backs off without spending attempts, for at most this long per job.
   */
  maxOutageMs?: number;
  outageBackoffMs?: number;
  /**
   * Slots for the replay queue (default a quarter of the batch size): at most this many replay
   * jobs are active at once, so a backfill leaves the other slots, and the FHIR server, to the live feed.
   */
  replayConcurrency?: number;
  /** Name for logs (e.g. worker index). */
  name?: string;
}

export interface InferenceWorker {
  /** Serves the live queue. */
  readonly worker: Worker<InferenceJobData, InferenceJobResult>;
  /** Serves the replay queue (replayQueueName) with `replayConcurrency` slots. */
  readonly replayWorker: Worker<InferenceJobData, InferenceJobResult>;
  /** Stop taking jobs; finish the active ones (or hand them back when `force`). */
  close(force?: boolean): Promise<void>;
}

export function startInferenceWorker(o: InferenceWorkerOptions): InferenceWorker {
  const log = o.logger.child({ component: 'inference-worker', worker: o.name ?? '0' });
  const batcher = new MicroBatcher<string, AssertedEntity[]>({
    maxSize: o.batchSize,
    maxWaitMs: o.batchWaitMs,
    // The NLP stage: NER, then attributes by relation (a value to its test, a dose to its drug: src/nlp/attributes.ts),
    // then screening and assertions (src/nlp/assertions.ts). src/fhir maps this output as it is.
    run: async (texts) => (await o.engine.extract(texts)).map((entities, i) => assertEntities(texts[i]!, attachAttributes(texts[i]!, entities))),
    onBatch: (size, ms) => {
      o.metrics?.batchSize.observe(size);
      o.metrics?.inferenceMs.observe(ms);
      log.debug({ size, ms: Math.round(ms) }, 'batch');
    },
  });
  const maxOutageMs = o.maxOutageMs ?? 15 * 60_000;
  const outageBackoffMs = o.outageBackoffMs ?? 2_000;

  const replayLimit = Math.max(1, o.replayConcurrency ?? Math.floor(o.batchSize / 4));
  /** When the output last started failing with a retriable error (undefined while it works). */
  let outageSince: number | undefined;
  const outageTimer = setInterval(() => o.metrics?.fhirOutageSeconds.set(outageSince === undefined ? 0 : (Date.now() - outageSince) / 1000), 1_000);
  outageTimer.unref();

  const process = async (job: Job<InferenceJobData, InferenceJobResult>, from: Worker<InferenceJobData, InferenceJobResult>): Promise<InferenceJobResult> => {
    const { doc } = job.data;
    let entities: AssertedEntity[];
    try {
      entities = await batcher.push(doc.text);
    } catch (err) {
      log.warn({ jobId: job.id, attempt: job.attemptsMade + 1, ...errorFields(err) }, 'inference failed');
      throw new MednerError('JOB_FAILED', encodeFailure({ stage: 'inference', code: errorCode(err), message: safeMessage(err) }));
    }
    let summary;
    try {
      summary = await o.output.write(doc, entities, o.engine.model, { receivedAt: job.data.receivedAt });
    } catch (err) {
      const code = errorCode(err);
      const failure = encodeFailure({ stage: 'output', code, message: safeMessage(err) });
      if (err instanceof LimitError) o.metrics?.limitExceeded.inc({ limit: err.limit });
      if (!isRetriable(err)) {
        log.warn({ jobId: job.id, code }, 'output failed, not retriable');
        throw new UnrecoverableError(failure);
      }
      if (Date.now() - job.data.receivedAt < maxOutageMs) {
        // The server is down or overloaded: pause this worker and put the job back
        // without spending one of its attempts.
        log.warn({ jobId: job.id, code, backoffMs: outageBackoffMs }, 'output unavailable, backing off');
        outageSince ??= Date.now();
        o.metrics?.fhirWaitSeconds.inc(outageBackoffMs / 1000);
        await from.rateLimit(outageBackoffMs);
        throw Worker.RateLimitError();
      }
      log.warn({ jobId: job.id, attempt: job.attemptsMade + 1, code }, 'output failed');
      throw new MednerError('JOB_FAILED', failure);
    }
    outageSince = undefined;
    if (summary.spansDropped) {
      o.metrics?.spansDropped.inc(summary.spansDropped);
      o.metrics?.limitExceeded.inc({ limit: 'spans_per_resource' });
    }
    if (job.data.producedAt !== undefined) {
      o.metrics?.endToEndSeconds.observe({ feed: job.data.run ? 'replay' : 'live' }, (Date.now() - job.data.producedAt) / 1000);
    }
    o.metrics?.documentsOut.inc({ format: doc.format });
    for (const [reason, n] of Object.entries(summary.dropped ?? {})) o.metrics?.mentionsDropped.inc({ reason }, n);
    for (const field of summary.identifiersDropped ?? []) o.metrics?.identifiersDropped.inc({ field });
    return { entities: entities.length, ...summary };
  };

  const startWorker = (queueName: string, concurrency: number): Worker<InferenceJobData, InferenceJobResult> => {
    const w: Worker<InferenceJobData, InferenceJobResult> = new Worker<InferenceJobData, InferenceJobResult>(
      queueName,
      async (job) => {
        if (job.name !== JOB_NAME) throw new UnrecoverableError(`unknown job ${job.name}`);
        return process(job, w);
      },
      {
        connection: { url: o.redisUrl, maxRetriesPerRequest: null },
        prefix: o.prefix ?? 'medner',
        concurrency,
        lockDuration: o.lockDurationMs ?? 30_000,
        stalledInterval: o.stalledIntervalMs ?? 30_000,
        // A worker killed mid-batch stalls its jobs; they go back to the queue instead of failing.
        maxStalledCount: 5,
      },
    );
    w.on('error', (err) => log.error({ queue: queueName, ...errorFields(err), err: safeMessage(err) }, 'worker error'));
    return w;
  };
  // Both feed the one batcher: replay documents share batches with live ones but never hold more than replayLimit slots.
  const worker = startWorker(o.queueName, o.concurrency ?? o.batchSize * 2);
  const replayWorker = startWorker(replayQueueName(o.queueName), replayLimit);

  return {
    worker,
    replayWorker,
    async close(force = false) {
      clearInterval(outageTimer);
      await Promise.all([worker.close(force), replayWorker.close(force)]);
      await batcher.close();
    },
  };
}

/** Error text for logs and dead letters: first line, bounded (messages are ours, not patient text). */
function safeMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return (m.split('\n')[0] ?? '').slice(0, 300);
}
