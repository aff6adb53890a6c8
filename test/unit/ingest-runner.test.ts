import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestRunner } from '../../src/ingest/ingest-runner.ts';
import type { ConsumedMessage, ConsumerPort } from '../../src/kafka/client.ts';
import type { TopicPartitionOffset } from '../../src/kafka/client.ts';
import type { JobOutcome, JobQueuePort } from '../../src/queue/inference-queue.ts';
import type { InferenceJobData } from '../../src/queue/inference-job.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { DeadLetterInput } from '../../src/core/ports.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createMetrics } from '../../src/ops/metrics.ts';

/** The ingest runner's offset, dead-letter and backpressure logic with in-memory fakes (no broker). */

class FakeConsumer implements ConsumerPort {
  handle!: (m: ConsumedMessage) => Promise<void>;
  commits: TopicPartitionOffset[][] = [];
  pauses = 0;
  resumes = 0;
  async run(_t: string[], handle: (m: ConsumedMessage) => Promise<void>) {
    this.handle = handle;
  }
  pause() {
    this.pauses++;
  }
  resume() {
    this.resumes++;
  }
  seek() {}
  async commit(o: TopicPartitionOffset[]) {
    this.commits.push(o);
  }
  onAssignment() {}
  owns = true;
  ownsPartitions() {
    return this.owns;
  }
  async lag() {
    return [];
  }
  async stop() {}
  lastCommitted(partition = 0): string | undefined {
    for (let i = this.commits.length - 1; i >= 0; i--) {
      const c = this.commits[i]!.find((x) => x.partition === partition);
      if (c) return c.offset;
    }
    return undefined;
  }
}

class FakeQueue implements JobQueuePort<string> {
  jobs = new Map<string, { data: InferenceJobData; settle?: (o: JobOutcome) => void; done: Promise<JobOutcome> }>();
  added: string[] = [];
  depthValue = 0;
  async start() {}
  async add(jobId: string, data: InferenceJobData) {
    if (!this.jobs.has(jobId)) {
      let settle!: (o: JobOutcome) => void;
      const done = new Promise<JobOutcome>((r) => (settle = r));
      this.jobs.set(jobId, { data, settle, done });
      this.added.push(jobId);
    }
    return jobId;
  }
  outcome(jobId: string) {
    return this.jobs.get(jobId)!.done;
  }
  async depth() {
    return this.depthValue;
  }
  complete(jobId: string) {
    this.jobs.get(jobId)!.settle!({ ok: true, result: { entities: 0, resources: 0, sinks: { fhir: {}, kafka: {} } } });
  }
  fail(jobId: string) {
    this.jobs.get(jobId)!.settle!({ ok: false, failure: { stage: 'output', code: 'FHIR_REJECTED', message: 'refused' }, attempts: 3 });
  }
}

const doc = (id: string): ClinicalDocument => ({
  id,
  format: 'hl7v2',
  messageType: 'MDM^T02',
  patient: {},
  status: 'current',
  lifecycle: { action: 'original' },
  source: { kind: 'file', path: 'x', index: 0 },
  text: 't',
  segments: [],
});

const msg = (offset: number, value = 'ok', partition = 0): ConsumedMessage => ({
  topic: 'in',
  partition,
  offset: String(offset),
  timestamp: String(Date.now()),
  key: null,
  value: Buffer.from(value),
  headers: {},
});

const settle = () => new Promise((r) => setTimeout(r, 30));

function setup(opts: { high?: number; low?: number; maxNarrativeBytes?: number; deadLetterFails?: boolean; deadLetterAttempts?: number } = {}) {
  const consumer = new FakeConsumer();
  const queue = new FakeQueue();
  const dead: DeadLetterInput[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  let deadLetterTries = 0;
  const runner = new IngestRunner({
    consumer,
    topics: ['in'],
    formatOf: () => 'hl7v2',
    parse: async (raw) => {
      if (raw.toString() === 'poison') throw new IntakeError('NOT_HL7', 'not HL7');
      if (raw.toString() === 'empty') return [];
      if (raw.toString() === 'partial') return [{ ...doc('partial'), text: 'kept narrative', omitted: [{ origin: 'OBX[4]', reason: 'BAD_ENCODING' as const, raw: 'OBX|4|ED|^TEXT^PLAIN^Base64^<<placeholder>>' }] }];
      return [{ ...doc(raw.toString()), text: raw.toString() }];
    },
    queue,
    deadLetter: async (d) => {
      deadLetterTries++;
      if (opts.deadLetterFails) throw Object.assign(new Error('broker says no'), { type: 'NOT_ENOUGH_REPLICAS' });
      dead.push(d);
    },
    logger: createLogger('silent'),
    metrics,
    highWater: opts.high ?? 100,
    lowWater: opts.low ?? 10,
    commitIntervalMs: 10,
    pollIntervalMs: 10,
    ...(opts.maxNarrativeBytes !== undefined ? { maxNarrativeBytes: opts.maxNarrativeBytes } : {}),
    ...(opts.deadLetterAttempts !== undefined ? { deadLetterAttempts: opts.deadLetterAttempts } : {}),
  });
  return { consumer, queue, dead, runner, metrics, deadLetterTries: () => deadLetterTries };
}

test('a document whose narrative is over MAX_NARRATIVE_BYTES is dead-lettered DOCUMENT_TOO_LARGE with its size, and counted', async () => {
  const { consumer, queue, dead, runner, metrics } = setup({ maxNarrativeBytes: 1024 });
  await runner.start();
  await consumer.handle(msg(0, 'x'.repeat(1024)));
  await consumer.handle(msg(1, '\u00e9'.repeat(600))); // 600 chars, 1,200 UTF-8 bytes
  await settle();
  assert.deepEqual(queue.added, ['k@in@0@0@0'], 'exactly at the bound is processed');
  assert.equal(dead.length, 1);
  assert.equal((dead[0]!.error as { code: string }).code, 'DOCUMENT_TOO_LARGE');
  assert.match((dead[0]!.error as Error).message, /1200 over the limit of 1024/);
  assert.match(await metrics.registry.getSingleMetricAsString('medner_limit_exceeded_total'), /limit="narrative_bytes"\} 1/);
  queue.complete('k@in@0@0@0');
  await settle();
  assert.equal(consumer.lastCommitted(), '2');
  await runner.stop(100);
});

test('a record that cannot be dead-lettered stops the consumer loudly after DEAD_LETTER_ATTEMPTS tries, committing nothing past it', async () => {
  const { consumer, runner, metrics, deadLetterTries } = setup({ deadLetterFails: true, deadLetterAttempts: 2 });
  await runner.start();
  await consumer.handle(msg(0, 'poison'));
  await settle();
  assert.equal(deadLetterTries(), 2);
  assert.match(runner.fatal ?? '', /in\/0@0 could not be dead-lettered after 2 tries/);
  assert.equal(runner.ownsPartitions, false);
  assert.ok(consumer.pauses >= 1, 'consumption paused');
  assert.match(await metrics.registry.getSingleMetricAsString('medner_consumer_stopped'), /medner_consumer_stopped 1/);
  assert.match(await metrics.registry.getSingleMetricAsString('medner_dead_letter_failures_total'), /medner_dead_letter_failures_total 2/);
  await consumer.handle(msg(1, 'good'));
  await settle();
  assert.notEqual(consumer.lastCommitted(), '1');
  assert.notEqual(consumer.lastCommitted(), '2');
  await runner.stop(100);
});

test('offsets commit only up to the first record whose job is not finished', async () => {
  const { consumer, queue, runner } = setup();
  await runner.start();
  for (const o of [0, 1, 2]) await consumer.handle(msg(o));
  assert.deepEqual(queue.added, ['k@in@0@0@0', 'k@in@0@1@0', 'k@in@0@2@0']);
  await settle();
  assert.equal(consumer.lastCommitted(), '0', 'nothing finished: the commit point stays at the first offset');
  queue.complete('k@in@0@2@0');
  queue.complete('k@in@0@1@0');
  await settle();
  assert.equal(consumer.lastCommitted(), '0', 'offset 0 still running holds the partition');
  queue.complete('k@in@0@0@0');
  await settle();
  assert.equal(consumer.lastCommitted(), '3');
  await runner.stop(100);
});

test('a poison record is dead-lettered and committed past; a failed job is dead-lettered with its stage', async () => {
  const { consumer, queue, dead, runner } = setup();
  await runner.start();
  await consumer.handle(msg(0, 'poison'));
  await consumer.handle(msg(1, 'empty'));
  await consumer.handle(msg(2, 'good'));
  await settle();
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.stage, 'intake');
  assert.equal(consumer.lastCommitted(), '2');
  queue.fail('k@in@0@2@0');
  await settle();
  assert.equal(dead.length, 2);
  assert.equal(dead[1]!.stage, 'output');
  assert.equal(dead[1]!.attempts, 3);
  assert.equal((dead[1]!.error as { code: string }).code, 'FHIR_REJECTED');
  assert.equal(dead[1]!.raw.toString(), 'good', 'the original bytes go to the dead letter');
  assert.equal(consumer.lastCommitted(), '3');
  await runner.stop(100);
});

test('a redelivered record in the same session is not enqueued twice', async () => {
  const { consumer, queue, runner } = setup();
  await runner.start();
  await consumer.handle(msg(0));
  await consumer.handle(msg(0));
  assert.equal(queue.added.length, 1);
  await runner.stop(10);
});

test('consumption pauses above the high water mark and resumes below the low one', async () => {
  const { consumer, queue, runner } = setup({ high: 5, low: 2 });
  await runner.start();
  queue.depthValue = 6;
  await settle();
  assert.equal(consumer.pauses, 1);
  queue.depthValue = 3;
  await settle();
  assert.equal(consumer.resumes, 0);
  queue.depthValue = 1;
  await settle();
  assert.equal(consumer.resumes, 1);
  await runner.stop(10);
});

test('stop waits for in-flight records, then commits what finished', async () => {
  const { consumer, queue, runner } = setup();
  await runner.start();
  await consumer.handle(msg(0));
  const stopping = runner.stop(5_000);
  setTimeout(() => queue.complete('k@in@0@0@0'), 50);
  await stopping;
  assert.equal(consumer.lastCommitted(), '1');
});

test('a message with one bad part: the part alone is dead-lettered (reason, bytes, medner-part header), the document is queued without the bytes', async () => {
  const { consumer, queue, dead, runner } = setup();
  await runner.start();
  await consumer.handle(msg(0, 'partial'));
  await settle();
  assert.deepEqual(queue.added, ['k@in@0@0@0'], 'the document with its other parts is processed');
  assert.equal(dead.length, 1);
  assert.equal((dead[0]!.error as { code: string }).code, 'BAD_ENCODING');
  assert.equal(dead[0]!.raw.toString(), 'OBX|4|ED|^TEXT^PLAIN^Base64^<<placeholder>>');
  assert.equal(dead[0]!.headers?.['medner-part'], 'OBX[4]');
  assert.equal(dead[0]!.stage, 'intake');
  const queued = queue.jobs.get('k@in@0@0@0')!.data.doc;
  assert.equal(queued.text, 'kept narrative');
  assert.deepEqual(queued.omitted, [{ origin: 'OBX[4]', reason: 'BAD_ENCODING' }], 'listed, without the bytes');
  queue.complete('k@in@0@0@0');
  await settle();
  assert.equal(consumer.lastCommitted(), '1');
  await runner.stop(100);
});
