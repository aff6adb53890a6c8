/**
 * Output sinks through a real inference worker and Redis queue: a sink added to the registry gets
 * every document's result in order, and its retriable failure makes the worker retry the job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { MednerError } from '../../src/core/errors.ts';
import type { DocumentResult, NerPort } from '../../src/core/ports.ts';
import type { FhirClient } from '../../src/fhir/fhir-client.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import type { ProducerPort } from '../../src/kafka/client.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { buildSinks, type SinkFactory } from '../../src/pipeline/sinks/registry.ts';
import { createOutput } from '../../src/pipeline/stages.ts';
import { InferenceQueue } from '../../src/queue/inference-queue.ts';
import { startInferenceWorker } from '../../src/queue/inference-worker.ts';
import { integrationServices, uniqueName } from '../support/services.ts';

const svc = await integrationServices(['redis']);

test('a registered sink gets every document in order; its retriable failure is retried by the worker', { skip: svc.skip, timeout: 60_000 }, async () => {
  if (!svc.ok) return;
  const redisUrl = svc.services.redisUrl;
  const base = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
  const seen: DocumentResult[] = [];
  const tries = new Map<string, number>();
  const audit: SinkFactory = {
    name: 'audit',
    create: () => ({
      name: 'audit',
      async write(r) {
        const n = (tries.get(r.doc.id) ?? 0) + 1;
        tries.set(r.doc.id, n);
        if (r.doc.id === 'd2' && n === 1) throw new MednerError('SINK_UNAVAILABLE', 'audit store busy', { retriable: true });
        seen.push(r);
        return {};
      },
      ready: async () => true,
      close: async () => {},
    }),
  };
  const config = loadConfig({ OUTPUT_SINKS: 'audit' });
  const logger = createLogger('silent');
  const sinks = buildSinks({ config, logger, producer: {} as ProducerPort, fhirClient: {} as FhirClient }, [audit]);
  const output = createOutput(config, sinks, loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE)));
  const engine: NerPort = {
    model: { name: 'm', version: '1' },
    async extract(texts) {
      return texts.map((t) => {
        const start = t.indexOf('pneumonia');
        return [{ start, end: start + 9, text: 'pneumonia', label: 'Disease', score: 0.9 }];
      });
    },
    async close() {},
  };
  const prefix = uniqueName('medner-test-sinks');
  const queueName = 'medner-inference';
  const queue = new InferenceQueue({ redisUrl, queueName, attempts: 3, backoffMs: 50, prefix });
  await queue.start();
  const worker = startInferenceWorker({ redisUrl, queueName, prefix, batchSize: 1, batchWaitMs: 0, concurrency: 1, engine, output, logger, maxOutageMs: 60_000, outageBackoffMs: 100 });
  try {
    for (const id of ['d1', 'd2', 'd3']) {
      const job = await queue.add(`job-${id}`, { doc: { ...base, id }, receivedAt: Date.now() });
      const outcome = await queue.outcome(job);
      assert.ok(outcome.ok, `${id}: ${JSON.stringify(outcome)}`);
      assert.deepEqual(Object.keys(outcome.result.sinks), ['audit']);
    }
    assert.deepEqual(seen.map((r) => r.doc.id), ['d1', 'd2', 'd3'], 'every document, in order');
    assert.equal(tries.get('d2'), 2, 'the retriable failure was retried');
    assert.ok(seen.every((r) => r.output.bundle.type === 'transaction' && r.output.resourceIdentifiers.length === 1));
  } finally {
    await worker.close(true);
    await queue.close();
  }
});
