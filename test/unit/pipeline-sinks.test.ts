import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { isRetriable, MednerError } from '../../src/core/errors.ts';
import type { DocumentResult } from '../../src/core/ports.ts';
import type { FhirClient } from '../../src/fhir/fhir-client.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import type { ProducerPort } from '../../src/kafka/client.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createOutput } from '../../src/pipeline/stages.ts';
import { buildSinks, SHIPPED_SINKS, type SinkFactory } from '../../src/pipeline/sinks/registry.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
const model = { name: 'm', version: '1' };
const base = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
const doc = (id: string): ClinicalDocument => ({ ...base, id });
const pneumonia = (d: ClinicalDocument) => {
  const start = d.text.indexOf('pneumonia');
  return [{ start, end: start + 9, text: 'pneumonia', label: 'Disease', score: 0.9 }];
};

/** A sink the shipped registry does not have: it records each document's result, and fails (retriably) when told. */
function auditSink() {
  const seen: DocumentResult[] = [];
  const failOnce = new Set<string>();
  let closed = false;
  const factory: SinkFactory = {
    name: 'audit',
    create: () => ({
      name: 'audit',
      async write(r) {
        if (failOnce.delete(r.doc.id)) throw new MednerError('SINK_UNAVAILABLE', 'audit store busy', { retriable: true });
        seen.push(r);
        return {};
      },
      ready: async () => !closed,
      close: async () => {
        closed = true;
      },
    }),
  };
  return { factory, seen, failOnce, isClosed: () => closed };
}

function fakeProducer() {
  const sent: { topic: string; key: string | undefined }[] = [];
  const producer: ProducerPort = {
    async send(topic, messages) {
      for (const m of messages) sent.push({ topic, key: m.key === undefined || m.key === null ? undefined : String(m.key) });
    },
    async close() {},
  };
  return { producer, sent };
}

const ctx = (env: Record<string, string>, producer: ProducerPort) => ({
  config: loadConfig(env),
  logger: createLogger('silent'),
  producer,
  fhirClient: {} as FhirClient,
});

test('OUTPUT_SINKS: default fhir,kafka (ndjson,kafka with OUTPUT_SINK=ndjson, kafka with FHIR_WRITE=false); bad values are named', () => {
  assert.deepEqual(loadConfig({}).sinks, ['fhir', 'kafka']);
  assert.deepEqual(loadConfig({ FHIR_WRITE: 'false' }).sinks, ['kafka']);
  assert.deepEqual(loadConfig({ OUTPUT_SINK: 'ndjson', NDJSON_DIR: '/tmp/x' }).sinks, ['ndjson', 'kafka']);
  assert.deepEqual(loadConfig({ OUTPUT_SINKS: 'kafka, fhir' }).sinks, ['kafka', 'fhir']);
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.problems.join('\n');
    }
    return '';
  };
  assert.match(problems({ OUTPUT_SINKS: 'fhir,fhir' }), /OUTPUT_SINKS="fhir,fhir": a sink is listed twice/);
  assert.match(problems({ OUTPUT_SINKS: 'FHIR' }), /OUTPUT_SINKS="FHIR": expected sink names/);
  assert.match(problems({ OUTPUT_SINKS: 'ndjson,kafka' }), /OUTPUT_SINKS=ndjson,kafka: the ndjson sink also needs NDJSON_DIR/);
  assert.match(problems({ OUTPUT_SINKS: 'fhir,kafka', FHIR_WRITE: 'false' }), /names fhir, but FHIR_WRITE=false/);
  // A name the registry does not know is named when the sinks are built.
  assert.throws(() => buildSinks(ctx({ OUTPUT_SINKS: 'kafka,audit' }, fakeProducer().producer)), (e: unknown) => e instanceof ConfigError && /unknown sink "audit" \(known: fhir, kafka, ndjson\)/.test(e.message));
});

test('a fake sink added to the registry gets every document result in order, after the sinks before it; its retriable failure fails the write for a retry', async () => {
  const audit = auditSink();
  const { producer, sent } = fakeProducer();
  const sinks = buildSinks(ctx({ OUTPUT_SINKS: 'kafka,audit', TOPIC_OUTPUT: 'out' }, producer), [...SHIPPED_SINKS, audit.factory]);
  assert.deepEqual(sinks.map((s) => s.name), ['kafka', 'audit']);
  const output = createOutput(loadConfig({}), sinks, mapping);

  const docs = ['d1', 'd2', 'd3'].map(doc);
  audit.failOnce.add('d2');
  const summaries = [];
  let failed: unknown;
  for (const d of docs) {
    try {
      summaries.push(await output.write(d, assertEntities(d.text, pneumonia(d)), model));
    } catch (err) {
      failed = err;
      // The job is retried (the worker retries retriable output errors): the same document is written again.
      summaries.push(await output.write(d, assertEntities(d.text, pneumonia(d)), model));
    }
  }
  assert.ok(failed instanceof MednerError && failed.code === 'SINK_UNAVAILABLE');
  assert.equal(isRetriable(failed), true, 'a retriable sink failure fails the job for a retry, not to the dead-letter topic');
  assert.deepEqual(audit.seen.map((r) => r.doc.id), ['d1', 'd2', 'd3'], 'every document, in order');
  for (const r of audit.seen) {
    assert.equal(r.output.bundle.type, 'transaction');
    assert.ok(r.output.resourceIdentifiers.length > 0);
    assert.equal(r.model.name, 'm');
  }
  // kafka comes first: d2 was published twice (once before audit failed, once on the retry); at least once is the rule.
  assert.equal(sent.length, 4);
  assert.ok(sent.every((m) => m.topic === 'out'));
  assert.deepEqual(summaries.map((s) => Object.keys(s.sinks)), [['kafka', 'audit'], ['kafka', 'audit'], ['kafka', 'audit']]);

  // A permanent failure is not retriable: the document goes to the dead-letter topic.
  const rejecting: SinkFactory = { name: 'audit', create: () => ({ name: 'audit', write: async () => Promise.reject(new MednerError('SINK_REJECTED', 'no')), ready: async () => true, close: async () => {} }) };
  const strict = createOutput(loadConfig({}), buildSinks(ctx({ OUTPUT_SINKS: 'audit' }, producer), [rejecting]), mapping);
  await assert.rejects(strict.write(docs[0]!, assertEntities(docs[0]!.text, pneumonia(docs[0]!)), model), (e: unknown) => !isRetriable(e));

  assert.equal(await sinks[1]!.ready(), true);
  for (const s of sinks) await s.close();
  assert.ok(audit.isClosed());
});
