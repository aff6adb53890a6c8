/**
 * `medner replay`: re-reads a range of an input topic (offsets looked up by
 * timestamp) with a consumer group of its own, enqueues on the replay queue
 * (a few slots per inference worker, lower priority than the live feed), and stops by itself at the end of the range. Outputs are
 * updates by deterministic ids (PUT Type/<id>), so a replay of processed records
 * leaves the FHIR server as it was. The inference pool of a running worker does
 * the work (or an in-process one, see the CLI).
 */
import cliProgress from 'cli-progress';
import type { Config } from '../config/config.ts';
import type { Logger } from '../ops/logger.ts';
import type { PipelineMetrics } from '../ops/metrics.ts';
import { createConsumer, createKafka, topicOffsets } from '../kafka/client.ts';
import { IngestRunner } from '../ingest/ingest-runner.ts';
import { InferenceQueue, replayQueueName } from '../queue/inference-queue.ts';
import type { Stages, WriteChanges } from '../core/ports.ts';
import { rangeSize, replayRanges } from './replay-ranges.ts';
import { DEFAULT_FORMATS } from '../formats/registry.ts';
import { unwrapDeadLetter } from './dead-letter-unwrap.ts';

/**
 * Replay jobs go to the replay queue (replayQueueName), which the inference workers serve with a few
 * slots of their own: that, not this priority, keeps them behind the live feed (the queues are
 * separate, so the priority orders nothing). It only puts replay jobs in BullMQ's `prioritized`
 * set, which GET /queue and deploy/README.md's autoscaling count as such.
 */
export const REPLAY_PRIORITY = 10;

export interface ReplayOptions {
  config: Config;
  logger: Logger;
  stages: Pick<Stages, 'parse' | 'deadLetter'>;
  topic: string;
  from?: Date;
  to?: Date;
  partitions?: number[];
  /** Consumer group (default: a new one per run). */
  group?: string;
  /** Show a progress bar on stderr. */
  progress?: boolean;
  onProgress?: (done: number, total: number) => void;
  metrics?: PipelineMetrics;
  queuePrefix?: string;
  /** Replay dead-letter records: the topic holds dead-letter records, each is unwrapped to its original. */
  deadLetter?: boolean;
}

export interface ReplaySummary {
  topic: string;
  run: string;
  group: string;
  records: number;
  deadLettered: number;
  /** What the FHIR writes changed, summed over the replayed documents (all 0 with FHIR writing off). */
  changes: WriteChanges;
  ms: number;
  ranges: { partition: number; start: string; end: string }[];
}

export async function runReplay(o: ReplayOptions): Promise<ReplaySummary> {
  const { config, logger } = o;
  const t0 = Date.now();
  const run = `replay-${t0.toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const group = o.group ?? `${config.kafka.groupId}-${run}`;
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-replay` }, logger);
  const offsets = await topicOffsets(kafka, o.topic, {
    ...(o.from ? { from: o.from.getTime() } : {}),
    ...(o.to ? { to: o.to.getTime() } : {}),
  });
  const ranges = replayRanges(o.topic, offsets, o.partitions);
  const total = rangeSize(ranges);
  const changes: WriteChanges = { created: 0, updated: 0, unchanged: 0, retracted: 0, deleted: 0 };
  const summary = (records: number, deadLettered: number): ReplaySummary => ({
    topic: o.topic,
    run,
    group,
    records,
    deadLettered,
    changes: { ...changes },
    ms: Date.now() - t0,
    ranges: ranges.map((r) => ({ partition: r.partition, start: r.start.toString(), end: r.end.toString() })),
  });
  if (total === 0) return summary(0, 0);

  const bar = o.progress
    ? new cliProgress.SingleBar(
        { format: 'replay {bar} {value}/{total} docs | {rate}/s | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { rate: '0.0' });

  const queue = new InferenceQueue({
    redisUrl: config.redis.url,
    queueName: replayQueueName(config.redis.queueName),
    attempts: config.redis.jobAttempts,
    ...(o.queuePrefix ? { prefix: o.queuePrefix } : {}),
  });
  const consumer = createConsumer(kafka, { groupId: group });
  let done = 0;
  let deadLettered = 0;
  const runner = new IngestRunner({
    consumer,
    topics: [o.topic],
    formatOf: DEFAULT_FORMATS.formatOfTopic(config),
    parse: o.stages.parse,
    queue,
    deadLetter: o.stages.deadLetter,
    logger,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    highWater: config.redis.highWater,
    lowWater: config.redis.lowWater,
    commitIntervalMs: 500,
    priority: REPLAY_PRIORITY,
    run,
    ranges,
    ...(o.deadLetter
      ? {
          unwrap: (m) => unwrapDeadLetter(m, DEFAULT_FORMATS.formatOfTopic(config)),
          originalDeadLetterIdOf: (m) => unwrapDeadLetter(m, DEFAULT_FORMATS.formatOfTopic(config))?.id,
        }
      : {}),
    onRecordDone: (r) => {
      done++;
      if (r.deadLettered) deadLettered++;
      for (const res of r.results ?? []) {
        for (const sink of Object.values(res.sinks ?? {})) {
          if (!sink.changes) continue;
          for (const k of Object.keys(changes) as (keyof WriteChanges)[]) changes[k] += sink.changes[k] ?? 0;
        }
      }
      const secs = (Date.now() - t0) / 1000;
      bar?.update(done, { rate: (done / Math.max(secs, 0.001)).toFixed(1) });
      o.onProgress?.(done, total);
    },
  });
  try {
    await runner.start({ fromBeginning: true });
    await runner.finished;
  } finally {
    await runner.stop(10_000);
    await queue.close();
    bar?.stop();
  }
  return summary(done, deadLettered);
}
