/**
 * The ingest side: Kafka record -> intake -> inference job(s); learns when the
 * jobs finish and commits offsets only up to the first record whose outputs
 * (or dead-letter record) are not durably written yet. Poison records are
 * dead-lettered, never retried forever, so a partition never stops.
 */
import type { SourceCoordinates, SourceFormat } from '../core/clinical-document.ts';
import type { Stage } from '../core/stage.ts';
import type { Logger } from '../ops/logger.ts';
import { MednerError, errorCode, isRetriable, type ErrorCode, errorFields } from '../core/errors.ts';
import { IntakeError } from '../formats/errors.ts';
import type { PipelineMetrics } from '../ops/metrics.ts';
import type { DeadLetterPort, ParseDocuments } from '../core/ports.ts';
import type { JobQueuePort, JobOutcome } from '../queue/inference-queue.ts';
import type { InferenceJobResult } from '../queue/inference-job.ts';
import { jobIdFor } from '../queue/job-id.ts';
import { backpressureAction } from './backpressure.ts';
import type { ConsumedMessage, ConsumerPort } from '../kafka/client.ts';
import { WatermarkTracker } from './watermark.ts';
import { checkNarrative, LimitError } from '../fhir/bounds.ts';

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset to process. */
  start: bigint;
  /** First offset NOT to process (exclusive end). */
  end: bigint;
}

export interface IngestOptions {
  consumer: ConsumerPort;
  topics: string[];
  /** Format by topic (undefined: let intake sniff). */
  formatOf: (topic: string) => SourceFormat | undefined;
  parse: ParseDocuments;
  queue: JobQueuePort;
  deadLetter: DeadLetterPort;
  logger: Logger;
  metrics?: PipelineMetrics;
  /** Pause consuming above this queue depth (QUEUE_HIGH_WATER) ... */
  highWater: number;
  /** ... and resume below this one (QUEUE_LOW_WATER). */
  lowWater: number;
  commitIntervalMs?: number;
  pollIntervalMs?: number;
  lagIntervalMs?: number;
  /** BullMQ priority for this feed's jobs (replays use a lower one: a higher number). */
  priority?: number;
  /** Replay run name (part of job ids, so replays re-run documents). */
  run?: string;
  /** Replay: process only these ranges, then resolve `finished`. */
  ranges?: PartitionRange[];
  /** UTF-8 bytes of one document's narrative (MAX_NARRATIVE_BYTES); above: dead letter DOCUMENT_TOO_LARGE. */
  maxNarrativeBytes?: number;
  /** Tries to write one dead-letter record (DEAD_LETTER_ATTEMPTS) before the consumer stops, unhealthy. */
  deadLetterAttempts?: number;
  /** Called once when the consumer stopped for good (a record could not be dead-lettered). */
  onFatal?: (reason: string) => void;
  /** Called once per record when it is durably done (progress bars). */
  onRecordDone?: (m: { topic: string; partition: number; offset: string; deadLettered: boolean; results?: InferenceJobResult[] }) => void;
  /** Overrides how a record is turned into dead-letter metadata (dead-letter replay links originals). */
  originalDeadLetterIdOf?: (m: ConsumedMessage) => string | undefined;
  /** Replaces record -> (raw, source) (dead-letter replay unwraps the original record). */
  unwrap?: (m: ConsumedMessage) => { raw: Buffer; source: SourceCoordinates; format?: SourceFormat; headers?: Record<string, string> } | undefined;
}

export class IngestRunner {
  private readonly tracker = new WatermarkTracker();
  private readonly log: Logger;
  private stopping = false;
  private paused = false;
  /** Set when a record could not be dead-lettered: the consumer stopped and the process is unhealthy. */
  private fatalReason: string | undefined;
  private committing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly settling = new Set<Promise<void>>();
  private readonly ranges = new Map<string, PartitionRange>();
  private resolveFinished!: () => void;
  /** Replay mode: resolves when every range is done and committed. */
  readonly finished: Promise<void>;

  constructor(private readonly o: IngestOptions) {
    this.log = o.logger.child({ component: 'ingest', ...(o.run ? { run: o.run } : {}) });
    for (const r of o.ranges ?? []) this.ranges.set(key(r.topic, r.partition), r);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  async start(opts: { fromBeginning?: boolean } = {}): Promise<void> {
    await this.o.queue.start();
    this.o.consumer.onAssignment((owned) => {
      this.tracker.retain(owned);
      this.log.info({ assignment: owned }, 'partitions assigned');
      if (this.ranges.size > 0) this.seekRanges(owned);
    });
    await this.o.consumer.run(this.o.topics, (m) => this.handleSafely(m), { fromBeginning: opts.fromBeginning ?? true });
    this.timers.push(setInterval(() => void this.commit(), this.o.commitIntervalMs ?? 500));
    this.timers.push(setInterval(() => void this.checkBackpressure(), this.o.pollIntervalMs ?? 250));
    if (this.o.metrics) this.timers.push(setInterval(() => void this.updateLag(), this.o.lagIntervalMs ?? 10_000));
    this.checkRangesDone();
  }

  /** Why the consumer stopped for good, if it did (health reports it). */
  get fatal(): string | undefined {
    return this.fatalReason;
  }

  /** Whether the consumer is a member of its group and owns its partitions (after a rebalance or a broker restart: only once it joined again). */
  get ownsPartitions(): boolean {
    const owns = this.fatalReason === undefined && !this.stopping && this.o.consumer.ownsPartitions();
    this.o.metrics?.consumerAssigned.set(owns ? 1 : 0);
    return owns;
  }

  /** Records read and not yet durably done. */
  get inFlight(): number {
    return this.tracker.inFlight;
  }

  /**
   * Graceful stop: no more fetching, wait (up to `drainMs`) for in-flight records
   * to finish, commit what is done, disconnect. What did not finish is redelivered later.
   */
  async stop(drainMs = 30_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.o.consumer.pause(this.o.topics.map((topic) => ({ topic })));
    const deadline = Date.now() + drainMs;
    while (this.settling.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.settling]), sleep(Math.max(1, deadline - Date.now()))]);
    }
    for (const t of this.timers) clearInterval(t);
    await this.commit();
    if (this.settling.size > 0) this.log.warn({ inFlight: this.settling.size }, 'stopped with records in flight; they will be redelivered');
    await this.o.consumer.stop().catch((err) => this.log.warn(errorFields(err), 'consumer disconnect failed'));
  }

  /** Nothing may escape to kafkajs (it would restart the consumer); an unfinished record only holds its partition's commit point. */
  private async handleSafely(m: ConsumedMessage): Promise<void> {
    try {
      await this.handle(m);
    } catch (err) {
      this.log.error({ topic: m.topic, partition: m.partition, offset: m.offset, ...errorFields(err) }, 'record not handled; it will be redelivered');
    }
  }

  private async handle(m: ConsumedMessage): Promise<void> {
    if (this.stopping || this.fatalReason !== undefined) return;
    const range = this.ranges.get(key(m.topic, m.partition));
    if (this.ranges.size > 0) {
      if (!range || BigInt(m.offset) < range.start) return;
      if (BigInt(m.offset) >= range.end) {
        this.o.consumer.pause([{ topic: m.topic, partitions: [m.partition] }]);
        return;
      }
    }
    if (!this.tracker.start(m.topic, m.partition, m.offset)) return;
    this.o.metrics?.documentsIn.inc({ topic: m.topic });
    const unwrapped = this.o.unwrap ? this.o.unwrap(m) : undefined;
    const raw = unwrapped?.raw ?? m.value ?? Buffer.alloc(0);
    const source: SourceCoordinates = unwrapped?.source ?? {
      kind: 'kafka',
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      timestamp: new Date(Number(m.timestamp)).toISOString(),
      ...(m.key ? { key: m.key.toString('utf8') } : {}),
    };
    const headers = unwrapped?.headers ?? m.headers;
    const originalDeadLetterId = this.o.originalDeadLetterIdOf?.(m);
    const dead = (error: unknown, stage: Stage, attempts?: number) =>
      this.deadLetter(m, { raw, source, headers, error, stage, ...(attempts !== undefined ? { attempts } : {}), ...(originalDeadLetterId ? { originalDeadLetterId } : {}) });

    if (this.o.unwrap && !unwrapped) {
      await dead(new MednerError('DEAD_LETTER_UNREADABLE', 'dead-letter record could not be read'), 'intake');
      return this.done(m, true);
    }

    let docs;
    try {
      docs = await this.parseWithRetry(raw, source, unwrapped?.format ?? this.o.formatOf(m.topic));
      if (this.o.maxNarrativeBytes !== undefined) for (const d of docs) checkNarrative(d.text, this.o.maxNarrativeBytes);
    } catch (err) {
      if (err instanceof LimitError) this.o.metrics?.limitExceeded.inc({ limit: err.limit });
      this.log.warn({ topic: m.topic, partition: m.partition, offset: m.offset, ...errorFields(err) }, 'intake failed, dead-lettering');
      await dead(err, 'intake');
      return this.done(m, true);
    }
    // A part skipped next to usable narrative (an undecodable or unsupported ED) goes to the
    // dead-letter topic on its own, with its reason and bytes; the document keeps the rest.
    for (const doc of docs) {
      for (const part of doc.omitted ?? []) {
        if (part.raw === undefined) continue;
        // UNREACHABLE: the server refused the attachment url for good (4xx); the part's record is not retriable.
        const error =
          part.reason === 'UNREACHABLE'
            ? new MednerError('BINARY_FETCH_FAILED', `${part.origin} skipped: ${part.reason}`, { retriable: false })
            : new IntakeError(part.reason === 'BAD_ENCODING' ? 'BAD_ENCODING' : 'UNSUPPORTED_CONTENT_TYPE', `${part.origin} skipped: ${part.reason}`);
        await this.deadLetter(m, { raw: Buffer.from(part.raw, 'utf8'), source, headers: { ...(headers ?? {}), 'medner-part': part.origin }, error, stage: 'intake' });
        delete part.raw;
      }
    }
    if (docs.length === 0) {
      this.log.info({ topic: m.topic, partition: m.partition, offset: m.offset }, 'record holds no document text; skipped');
      return this.done(m, false);
    }
    const producedAt = Number(m.timestamp);
    const receivedAt = Date.now();
    const jobs = await this.untilDone('enqueue', () =>
      Promise.all(
        docs.map((doc, index) =>
          this.o.queue.add(
            jobIdFor({ topic: m.topic, partition: m.partition, offset: m.offset, index, ...(this.o.run ? { run: this.o.run } : {}) }),
            { doc, producedAt, receivedAt, ...(this.o.run ? { run: this.o.run } : {}) },
            this.o.priority ? { priority: this.o.priority } : {},
          ),
        ),
      ),
    );
    if (!jobs) return; // stopping: the record is redelivered later
    const settle = (async () => {
      const outcomes: JobOutcome[] = await Promise.all(jobs.map((j) => this.o.queue.outcome(j)));
      let deadLettered = false;
      for (const out of outcomes) {
        if (out.ok) continue;
        deadLettered = true;
        // The code crossed the queue as JSON; errorCode() gave it in the inference worker.
        const err = new MednerError(out.failure.code as ErrorCode, out.failure.message);
        await dead(err, out.failure.stage, out.attempts);
      }
      this.done(m, deadLettered, outcomes.flatMap((o) => (o.ok ? [o.result] : [])));
    })();
    this.settling.add(settle);
    void settle
      .catch((err) => this.log.error({ topic: m.topic, partition: m.partition, offset: m.offset, ...errorFields(err) }, 'record not settled; it will be redelivered'))
      .finally(() => this.settling.delete(settle));
  }

  private done(m: ConsumedMessage, deadLettered: boolean, results?: InferenceJobResult[]): void {
    this.tracker.finish(m.topic, m.partition, m.offset);
    this.o.onRecordDone?.({ topic: m.topic, partition: m.partition, offset: m.offset, deadLettered, ...(results ? { results } : {}) });
    if (this.ranges.size > 0) this.checkRangesDone();
  }

  private async deadLetter(m: ConsumedMessage, input: Parameters<DeadLetterPort>[0]): Promise<void> {
    const maxAttempts = this.o.deadLetterAttempts ?? 10;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new MednerError('STOPPING', 'stopped before the dead-letter record was written');
      if (this.fatalReason !== undefined) throw new MednerError('CONSUMER_STOPPED', 'the consumer stopped; the record will be redelivered');
      try {
        await this.o.deadLetter(input);
        break;
      } catch (err) {
        this.o.metrics?.deadLetterFailures.inc();
        if (attempt >= maxAttempts) {
          this.stopForGood(m, errorCode(err), attempt);
          throw new MednerError('DEAD_LETTER_FAILED', `dead-letter record not written after ${attempt} tries`, { cause: err });
        }
        this.log.warn({ topic: m.topic, partition: m.partition, offset: m.offset, attempt, ...errorFields(err) }, 'dead-letter write failed; retrying');
        await sleep(Math.min(10_000, 200 * 2 ** Math.min(attempt, 6)));
      }
    }
    this.o.metrics?.deadLettered.inc({ stage: input.stage, reason: errorCode(input.error) });
    this.log.warn({ topic: m.topic, partition: m.partition, offset: m.offset, stage: input.stage, ...errorFields(input.error) }, 'dead-lettered');
  }

  /**
   * A record that can be neither processed nor dead-lettered: stop consuming (every partition, so
   * nothing is committed past it) and say so loudly: log at fatal, medner_consumer_stopped 1, /health 503.
   * A restart (the orchestrator's, on the failed health check) redelivers it.
   */
  private stopForGood(m: ConsumedMessage, code: string, attempts: number): void {
    if (this.fatalReason !== undefined) return;
    this.fatalReason = `record ${m.topic}/${m.partition}@${m.offset} could not be dead-lettered after ${attempts} tries (${code})`;
    this.o.consumer.pause(this.o.topics.map((topic) => ({ topic })));
    this.o.metrics?.consumerStopped.set(1);
    this.o.metrics?.consumerAssigned.set(0);
    this.log.fatal({ topic: m.topic, partition: m.partition, offset: m.offset, attempts, code }, 'consumer stopped: a record could not be dead-lettered; restart the worker once the dead-letter topic takes writes');
    this.o.onFatal?.(this.fatalReason);
  }

  private async parseWithRetry(raw: Buffer, source: SourceCoordinates, format: SourceFormat | undefined) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.o.parse(raw, source, format);
      } catch (err) {
        if (!isRetriable(err) || attempt >= 3 || this.stopping) throw err;
        await sleep(250 * 2 ** attempt);
      }
    }
  }

  /** Retries an infrastructure step (Redis, Kafka) until it works or we stop; undefined when stopping. */
  private async untilDone<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopping) return undefined;
        this.log.warn({ what, attempt, ...errorFields(err) }, 'retrying');
        await sleep(Math.min(10_000, 200 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  private async commit(): Promise<void> {
    if (this.committing) return this.committing;
    this.committing = (async () => {
      const pending = this.tracker.pending();
      if (pending.length === 0) return;
      try {
        await this.o.consumer.commit(pending);
        this.tracker.markCommitted(pending);
        this.log.debug({ offsets: pending }, 'committed');
        if (this.ranges.size > 0) this.checkRangesDone();
      } catch (err) {
        this.log.warn({ ...errorFields(err), err: err instanceof Error ? err.message : String(err) }, 'commit failed; will retry');
      }
    })().finally(() => (this.committing = undefined));
    return this.committing;
  }

  private async checkBackpressure(): Promise<void> {
    if (this.stopping || this.fatalReason !== undefined) return;
    try {
      const depth = await this.o.queue.depth();
      this.o.metrics?.queueDepth.set(depth);
      const action = backpressureAction(depth, this.paused, { high: this.o.highWater, low: this.o.lowWater });
      if (action === 'pause') {
        this.paused = true;
        this.o.consumer.pause(this.o.topics.map((topic) => ({ topic })));
        this.log.info({ depth }, 'queue above high water: paused');
      } else if (action === 'resume') {
        this.paused = false;
        this.o.consumer.resume(this.o.topics.map((topic) => ({ topic })));
        this.log.info({ depth }, 'queue below low water: resumed');
      }
      this.o.metrics?.paused.set(this.paused ? 1 : 0);
    } catch (err) {
      this.log.warn(errorFields(err), 'queue depth unavailable');
    }
  }

  private async updateLag(): Promise<void> {
    try {
      for (const l of await this.o.consumer.lag(this.o.topics)) {
        this.o.metrics?.consumerLag.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
      }
    } catch {
      // lag is best effort
    }
  }

  private seekRanges(owned: { topic: string; partitions: number[] }[]): void {
    for (const t of owned) {
      for (const p of t.partitions) {
        const r = this.ranges.get(key(t.topic, p));
        if (!r || r.start >= r.end) this.o.consumer.pause([{ topic: t.topic, partitions: [p] }]);
        else this.o.consumer.seek(t.topic, p, r.start.toString());
      }
    }
  }

  private checkRangesDone(): void {
    if (this.ranges.size === 0) return;
    for (const r of this.ranges.values()) {
      if (r.start >= r.end) continue;
      const p = this.tracker.commitPoint(r.topic, r.partition);
      if (p === undefined || p < r.end || this.tracker.inFlight > 0) return;
    }
    this.resolveFinished();
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
