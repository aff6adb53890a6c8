/**
 * Composes one worker process: `ingest` (Kafka consumers -> queue), `inference`
 * (BullMQ workers with long-lived NER engines -> outputs) or `all`, plus the
 * operations HTTP server. Used by `medner worker`, `medner start`, demo and tests.
 */
import type { Config } from '../config/config.ts';
import type { Logger } from '../ops/logger.ts';
import { createMetrics, type PipelineMetrics } from '../ops/metrics.ts';
import { startOpsServer, type HealthCheck, type JsonRoutes, type OpsServer, type ReadinessCheck } from '../ops/http-server.ts';
import { fitDeadLetterTopic } from '../ingest/topics.ts';
import { connectKafkaAdmin } from '../kafka/admin.ts';
import { errorFields } from '../core/errors.ts';
import { createConsumer, createKafka, type ConsumerPort } from '../kafka/client.ts';
import { IngestRunner } from '../ingest/ingest-runner.ts';
import { InferenceQueue } from '../queue/inference-queue.ts';
import { BacklogReader } from '../queue/queue-backlog.ts';
import { checkLogins } from './connections.ts';
import { startInferenceWorker, type InferenceWorker } from '../queue/inference-worker.ts';
import type { NerPort, Stages } from '../core/ports.ts';
import { DEFAULT_FORMATS } from '../formats/registry.ts';

export type WorkerRole = 'ingest' | 'inference' | 'all';

export interface WorkerAppOptions {
  config: Config;
  role: WorkerRole;
  logger: Logger;
  stages: Stages;
  metrics?: PipelineMetrics;
  /** Start the /health /ready /metrics server (default true). */
  http?: boolean;
  /** BullMQ key prefix (tests isolate with their own). */
  queuePrefix?: string;
  /** Lock duration of inference jobs; a killed worker's jobs are retried after it (ms). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  outageBackoffMs?: number;
  commitIntervalMs?: number;
  backoffMs?: number;
  /** Kafka consumer session timeout: how soon a dead member's partitions move (ms, broker minimum 6000). */
  sessionTimeoutMs?: number;
}

export interface WorkerApp {
  readonly ingest?: IngestRunner;
  readonly workers: InferenceWorker[];
  readonly engines: NerPort[];
  readonly queue: InferenceQueue;
  readonly metrics: PipelineMetrics;
  readonly http?: OpsServer;
  /** Graceful: stop fetching, finish in-flight jobs, commit, close. */
  stop(drainMs?: number): Promise<void>;
}

async function ensureDeadLetterFits(config: Config, logger: Logger): Promise<void> {
  try {
    const admin = await connectKafkaAdmin({ ...config.kafka, clientId: `${config.kafka.clientId}-admin` });
    try {
      const r = await fitDeadLetterTopic(config, admin);
      if (r.raised) logger.info({ topic: config.topics.deadLetter, maxMessageBytes: r.bytes, inputMaxBytes: r.inputMaxBytes }, 'dead-letter topic resized to fit the largest input');
    } finally {
      await admin.close().catch(() => undefined);
    }
  } catch (err) {
    logger.warn({ topic: config.topics.deadLetter, ...errorFields(err) }, 'could not check the dead-letter topic size; oversized dead letters fall back to claim checks');
  }
}

export async function startWorkerApp(o: WorkerAppOptions): Promise<WorkerApp> {
  const { config, logger, stages } = o;
  const metrics = o.metrics ?? createMetrics();
  // A TOPIC_<KEY>_IN no format reads, or two formats on one topic, stops the worker before it connects.
  DEFAULT_FORMATS.checkConfig(config);
  // Wrong credentials or TLS settings stop the worker here, before any consumer joins its group.
  await checkLogins(config, logger);
  const queue = new InferenceQueue({
    redisUrl: config.redis.url,
    queueName: config.redis.queueName,
    attempts: config.redis.jobAttempts,
    ...(o.backoffMs !== undefined ? { backoffMs: o.backoffMs } : {}),
    ...(o.queuePrefix ? { prefix: o.queuePrefix } : {}),
  });
  await queue.start();

  const engines: NerPort[] = [];
  const workers: InferenceWorker[] = [];
  let consumer: ConsumerPort | undefined;
  let ingest: IngestRunner | undefined;
  try {
    if (o.role !== 'ingest') {
      for (let i = 0; i < config.model.workers; i++) {
        const engine = await stages.createEngine(i);
        engines.push(engine);
        workers.push(
          startInferenceWorker({
            redisUrl: config.redis.url,
            queueName: config.redis.queueName,
            ...(o.queuePrefix ? { prefix: o.queuePrefix } : {}),
            batchSize: config.model.batchSize,
            batchWaitMs: config.model.batchWaitMs,
            engine,
            output: stages.output,
            logger,
            metrics,
            name: String(i),
            ...(o.lockDurationMs !== undefined ? { lockDurationMs: o.lockDurationMs } : {}),
            ...(o.stalledIntervalMs !== undefined ? { stalledIntervalMs: o.stalledIntervalMs } : {}),
            ...(o.outageBackoffMs !== undefined ? { outageBackoffMs: o.outageBackoffMs } : {}),
            maxOutageMs: config.limits.fhirMaxOutageMs,
          }),
        );
      }
      logger.info({ workers: workers.length, model: engines[0]?.model, batchSize: config.model.batchSize }, 'inference workers started');
    }
    if (o.role !== 'inference') {
      // Dead letters must fit (issue 20): size the dead-letter topic for the largest input (best effort: ACLs may forbid it).
      await ensureDeadLetterFits(config, logger);
      const kafka = createKafka({ ...config.kafka, clientId: config.kafka.clientId }, logger);
      consumer = createConsumer(kafka, {
        groupId: config.kafka.groupId,
        ...(o.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: o.sessionTimeoutMs, heartbeatIntervalMs: Math.max(500, Math.floor(o.sessionTimeoutMs / 5)) } : {}),
      });
      ingest = new IngestRunner({
        consumer,
        topics: DEFAULT_FORMATS.topics(config),
        formatOf: DEFAULT_FORMATS.formatOfTopic(config),
        parse: stages.parse,
        queue,
        deadLetter: stages.deadLetter,
        logger,
        metrics,
        highWater: config.redis.highWater,
        lowWater: config.redis.lowWater,
        maxNarrativeBytes: config.limits.maxNarrativeBytes,
        deadLetterAttempts: config.limits.deadLetterAttempts,
        ...(o.commitIntervalMs !== undefined ? { commitIntervalMs: o.commitIntervalMs } : {}),
      });
      await ingest.start();
      logger.info({ topics: DEFAULT_FORMATS.topics(config), group: config.kafka.groupId }, 'ingest started');
    }
  } catch (err) {
    await Promise.allSettled(workers.map((w) => w.close(true)));
    await Promise.allSettled(engines.map((e) => e.close()));
    await queue.close();
    throw err;
  }

  const checks: ReadinessCheck[] = [{ name: 'redis', check: () => queue.ping() }];
  const health: HealthCheck[] = [];
  if (ingest) {
    const runner = ingest;
    // Ready only while the consumer owns its partitions (after a Kafka restart: once it joined its group again).
    checks.push({ name: 'kafka', check: () => runner.ownsPartitions });
    health.push({ name: 'consumer', problem: () => runner.fatal });
  }
  // Each output sink's readiness under its name (`fhir`: the FHIR server answers); a name a check already has is ANDed with it.
  for (const sink of stages.sinks) {
    const same = checks.find((c) => c.name === sink.name);
    if (!same) checks.push({ name: sink.name, check: () => sink.ready() });
    else {
      const first = same.check;
      same.check = async () => (await first()) && (await sink.ready());
    }
  }
  if (o.role !== 'ingest') checks.push({ name: 'model', check: async () => engines.length > 0 });

  // GET /queue on ingest roles: the backlog the inference autoscaler reads (deploy/k8s/keda).
  // Ingest, not inference, serves it, so inference can scale to zero and still be woken.
  const backlog = o.role !== 'inference' && (o.http ?? true) ? new BacklogReader({ redisUrl: config.redis.url, queueName: config.redis.queueName, ...(o.queuePrefix ? { prefix: o.queuePrefix } : {}) }) : undefined;
  const routes: JsonRoutes = backlog ? { '/queue': () => backlog.read() } : {};
  const http = (o.http ?? true) ? await startOpsServer({ host: config.http.host, port: config.http.port, registry: metrics.registry, checks, health, routes }) : undefined;
  if (http) logger.info({ url: http.url }, `operations endpoints: /health /ready /metrics${backlog ? ' /queue' : ''}`);

  let stopped: Promise<void> | undefined;
  return {
    ...(ingest ? { ingest } : {}),
    workers,
    engines,
    queue,
    metrics,
    ...(http ? { http } : {}),
    stop(drainMs = 30_000) {
      stopped ??= (async () => {
        // Ingest first: no new records; its in-flight records finish while the workers still run.
        if (ingest) await ingest.stop(drainMs);
        await Promise.allSettled(workers.map((w) => w.close()));
        await Promise.allSettled(engines.map((e) => e.close()));
        await queue.close();
        await backlog?.close();
        await http?.close();
      })();
      return stopped;
    },
  };
}
