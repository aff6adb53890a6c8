import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../src/config/config.ts';
import { connectKafkaAdmin } from '../../src/kafka/admin.ts';
import { ensureTopics } from '../../src/ingest/topics.ts';
import { integrationServices, uniqueName } from '../support/services.ts';

const svc = await integrationServices(['kafka']);
const brokers = svc.ok ? svc.services.kafkaBrokers : [];

test('kafka: produce and consume through a consumer group on a fresh topic', { skip: svc.skip, timeout: 60_000 }, async () => {
  const topic = uniqueName('medner-test-roundtrip');
  const kafka = new Kafka({ clientId: uniqueName('medner-test'), brokers, logLevel: logLevel.NOTHING });
  const admin = await connectKafkaAdmin({ brokers, clientId: 'medner-test-admin' });
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: uniqueName('medner-test-group') });
  try {
    assert.deepEqual(await admin.createTopics([{ topic, partitions: 2, replicationFactor: 1 }]), [topic]);
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const sent = Array.from({ length: 6 }, (_, i) => ({ key: `patient-${i % 2}`, value: `document-${i}` }));
    const received: { key: string; value: string; partition: number }[] = [];
    const allIn = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          received.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await producer.send({ topic, messages: sent });
    await allIn;
    assert.deepEqual(received.map((r) => r.value).sort(), sent.map((m) => m.value).sort());
    // Same key, same partition, in send order: the ordering guarantee the worker relies on.
    for (const key of ['patient-0', 'patient-1']) {
      const mine = received.filter((r) => r.key === key);
      assert.equal(new Set(mine.map((r) => r.partition)).size, 1, key);
      assert.deepEqual(mine.map((r) => r.value), sent.filter((m) => m.key === key).map((m) => m.value));
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.close();
  }
});

test('ensureTopics creates the four project topics once, with the configured partitions', { skip: svc.skip, timeout: 60_000 }, async () => {
  const base = uniqueName('medner-test-topics');
  const config = loadConfig({
    KAFKA_BROKERS: brokers.join(','),
    TOPIC_FHIR_IN: `${base}.fhir`,
    TOPIC_HL7_IN: `${base}.hl7`,
    TOPIC_OUTPUT: `${base}.out`,
    TOPIC_DEAD_LETTER: `${base}.dlq`,
    TOPIC_PARTITIONS: '2',
  });
  const names = [`${base}.fhir`, `${base}.hl7`, `${base}.out`, `${base}.dlq`];
  const admin = await connectKafkaAdmin({ brokers, clientId: 'medner-test-admin' });
  try {
    const first = await ensureTopics(config);
    assert.deepEqual([...first.created].sort(), [...names].sort());
    assert.deepEqual(first.existing, []);
    const second = await ensureTopics(config);
    assert.deepEqual(second.created, []);
    assert.deepEqual([...second.existing].sort(), [...names].sort());
    assert.deepEqual(second.partitionMismatch, []);
    const infos = await admin.describeTopics(names);
    assert.deepEqual(infos.map((i) => i.partitions), [2, 2, 2, 2]);
    const listed = new Set(await admin.listTopics());
    assert.ok(names.every((n) => listed.has(n)));

    // A differently configured partition count on existing topics is reported, not silently ignored.
    const third = await ensureTopics({ ...config, topics: { ...config.topics, partitions: 3 } });
    assert.equal(third.partitionMismatch.length, 4);
  } finally {
    await admin.deleteTopics(names).catch(() => undefined);
    await admin.close();
  }
});
