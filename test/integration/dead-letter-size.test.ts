import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { integrationServices } from '../support/services.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createStages } from '../../src/pipeline/stages.ts';
import { startWorkerApp } from '../../src/pipeline/worker-app.ts';
import { connectKafkaAdmin } from '../../src/kafka/admin.ts';
import { deadLetterTopicMaxBytes } from '../../src/formats/dead-letter.ts';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from '../../src/ingest/topics.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import type { Config } from '../../src/config/config.ts';
import { pipelineEnv, produce, readTopic, setupConfig } from '../fixtures/pipeline/harness.ts';
import { inputTopic } from '../../src/formats/registry.ts';

/**
 * Issue 20: a dead-letter record always fits. Against the real broker: an HL7 v2 message just under
 * the input topic's limit (10,000 OBX, too large a narrative for MAX_NARRATIVE_BYTES) goes through the
 * worker's intake and lands on the dead-letter topic whole (DOCUMENT_TOO_LARGE, bytes and hash);
 * and a dead-letter topic too small even so gets a claim check instead of blocking.
 */
const svc = await integrationServices(['kafka', 'redis']);
const logger = createLogger('silent');

/** A valid ORU^R01 of about `bytes` bytes: OBX TX lines of a repeated finding. */
function bigOru(id: string, bytes: number): Buffer {
  const head = [`MSH|^~\\&|LAB|GENHOSP|MEDNER|GENHOSP|20260301093000||ORU^R01|${id}|P|2.5.1`, `PID|1||${id}-mrn^^^GENHOSP^MR||Testperson^Alex||19700101|F`, `OBR|1||${id}-obr|11502-2^Lab report^LN`];
  const lines = [...head];
  let size = head.join('\r').length + 1;
  for (let i = 1; size < bytes - 120; i++) {
    const line = `OBX|${i}|TX|11502-2^Lab report^LN||Mild anemia noted; repeat CBC in 2 weeks.||||||F`;
    if (size + line.length + 1 > bytes) break;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join('\r')}\r`, 'latin1');
}

async function deleteTopics(config: Config): Promise<void> {
  const admin = await connectKafkaAdmin({ brokers: config.kafka.brokers, clientId: 'test-cleanup' });
  try {
    await admin.deleteTopics([inputTopic(config, 'hl7v2'), inputTopic(config, 'fhir'), config.topics.output, config.topics.deadLetter]);
  } finally {
    await admin.close();
  }
}

test('a message just under the input limit is dead-lettered whole (DOCUMENT_TOO_LARGE) on a topic sized for it', { skip: svc.skip, timeout: 120_000 }, async () => {
  if (!svc.ok) return;
  const config = await setupConfig(pipelineEnv({ ...svc.services, fhirBaseUrl: 'http://127.0.0.1:9/fhir' }, 'dl-size', { FHIR_WRITE: 'false' }));
  try {
    const admin = await connectKafkaAdmin({ brokers: config.kafka.brokers, clientId: 'test-admin' });
    let inputMax: number;
    try {
      const limits = await admin.topicConfig([inputTopic(config, 'hl7v2'), config.topics.deadLetter], 'max.message.bytes');
      inputMax = Number(limits.get(inputTopic(config, 'hl7v2')) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
      assert.ok(Number(limits.get(config.topics.deadLetter)) >= deadLetterTopicMaxBytes(inputMax), 'ensureTopics sized the dead-letter topic');
    } finally {
      await admin.close();
    }
    const raw = bigOru('DL-SIZE-1', inputMax - 2_000);
    assert.ok(raw.length > inputMax - 3_000 && raw.length < inputMax);
    await produce(config, inputTopic(config, 'hl7v2'), [{ key: 'DL-SIZE-1', value: raw }]);

    const stages = await createStages(config, logger);
    const app = await startWorkerApp({ config, role: 'ingest', logger, stages, http: false, commitIntervalMs: 200, queuePrefix: `test-${config.kafka.clientId}` });
    try {
      const [rec] = await readTopic(config, config.topics.deadLetter, 1, 60_000);
      assert.ok(rec, 'a dead-letter record was written');
      const dl = JSON.parse(rec.value) as { reasonCode: string; message: string; payload: string; payloadBytes: number; payloadSha256: string; payloadLocation?: string };
      assert.equal(dl.reasonCode, 'DOCUMENT_TOO_LARGE');
      assert.match(dl.message, /narrative bytes: \d+ over the limit of 262144/);
      assert.equal(dl.payloadBytes, raw.length);
      assert.equal(dl.payloadLocation, undefined, 'stored inline');
      assert.deepEqual(Buffer.from(dl.payload, 'base64'), raw);
      assert.equal(dl.payloadSha256, createHash('sha256').update(raw).digest('hex'));
      assert.ok(Buffer.byteLength(rec.value) > inputMax, 'the dead-letter record is larger than any input record could be');
      assert.equal(app.ingest?.fatal, undefined);
    } finally {
      await app.stop(5_000);
      await stages.close();
    }
  } finally {
    await deleteTopics(config);
  }
});

test('on a dead-letter topic too small for the record, a claim check (hash, source coordinates) is written instead of blocking', { skip: svc.skip, timeout: 60_000 }, async () => {
  if (!svc.ok) return;
  const config = await setupConfig(pipelineEnv({ ...svc.services, fhirBaseUrl: 'http://127.0.0.1:9/fhir' }, 'dl-claim', { FHIR_WRITE: 'false' }));
  try {
    const admin = await connectKafkaAdmin({ brokers: config.kafka.brokers, clientId: 'test-admin' });
    try {
      await admin.setTopicConfig(config.topics.deadLetter, { 'max.message.bytes': '100000' });
    } finally {
      await admin.close();
    }
    const stages = await createStages(config, logger);
    try {
      const raw = Buffer.alloc(300_000, 0x41);
      const source = { kind: 'kafka' as const, topic: inputTopic(config, 'hl7v2'), partition: 1, offset: '42' };
      await stages.deadLetter({ raw, source, error: new IntakeError('NOT_HL7', 'no MSH segment'), stage: 'intake' });
      const [rec] = await readTopic(config, config.topics.deadLetter, 1, 30_000);
      assert.ok(rec);
      const dl = JSON.parse(rec.value) as { reasonCode: string; payload: string; payloadBytes: number; payloadSha256: string; payloadLocation?: string; source: unknown };
      assert.equal(dl.reasonCode, 'NOT_HL7');
      assert.equal(dl.payloadLocation, 'source-record');
      assert.equal(dl.payload, '');
      assert.equal(dl.payloadBytes, raw.length);
      assert.equal(dl.payloadSha256, createHash('sha256').update(raw).digest('hex'));
      assert.deepEqual(dl.source, source);
    } finally {
      await stages.close();
    }
  } finally {
    await deleteTopics(config);
  }
});
