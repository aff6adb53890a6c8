import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as fhir4 from 'fhir/r4.js';
import { checkEntityCount, checkNarrative, checkTransaction, limitSpans, LimitError } from '../../src/fhir/bounds.ts';
import { deadLetterRecord, deadLetterTopicMaxBytes, withPayloadBySource, MAX_DEAD_LETTER_HEADER_BYTES } from '../../src/formats/dead-letter.ts';
import { HL7 } from '../../src/fhir/uris.ts';
import { FhirClient } from '../../src/fhir/fhir-client.ts';
import { loadConfig } from '../../src/config/config.ts';

const span = (i: number): fhir4.Extension => ({ url: HL7.derivationReference, extension: [{ url: 'offset', valueInteger: i }] });

test('spans beyond MAX_SPANS_PER_RESOURCE are dropped in document order and counted; other extensions stay', () => {
  const bundle: fhir4.Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: { resourceType: 'Condition', subject: {}, extension: [span(0), { url: 'x', valueString: 'keep' }, span(1), span(2), span(3)] } as fhir4.Condition },
      { resource: { resourceType: 'Observation', status: 'final', code: {}, extension: [span(0)] } as fhir4.Observation },
    ],
  };
  assert.equal(limitSpans(bundle, 2), 2);
  const ext = (bundle.entry![0]!.resource as fhir4.Condition).extension!;
  assert.deepEqual(ext.map((e) => e.url === HL7.derivationReference ? e.extension![0]!.valueInteger : e.url), [0, 'x', 1]);
  assert.equal((bundle.entry![1]!.resource as fhir4.Observation).extension!.length, 1);
  assert.equal(limitSpans(bundle, 2), 0, 'idempotent');
});

test('entity, narrative and transaction bounds throw LimitError with the numbers; at the bound passes', () => {
  checkEntityCount(10, { maxEntitiesPerDocument: 10 });
  assert.throws(() => checkEntityCount(11, { maxEntitiesPerDocument: 10 }), (e: unknown) => e instanceof LimitError && e.code === 'OUTPUT_TOO_LARGE' && e.limit === 'entities' && !e.retriable);
  checkNarrative('a'.repeat(100), 100);
  assert.throws(() => checkNarrative('\u20ac'.repeat(40), 100), (e: unknown) => e instanceof LimitError && e.code === 'DOCUMENT_TOO_LARGE' && e.actual === 120);
  const bundle: fhir4.Bundle = { resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 5 }, () => ({ request: { method: 'PUT', url: 'Condition/x' } })) };
  checkTransaction(bundle, { maxTransactionEntries: 5, maxTransactionBytes: 100_000 });
  assert.throws(() => checkTransaction(bundle, { maxTransactionEntries: 4, maxTransactionBytes: 100_000 }), (e: unknown) => e instanceof LimitError && e.limit === 'transaction_entries');
  assert.throws(() => checkTransaction(bundle, { maxTransactionEntries: 5, maxTransactionBytes: 100 }), (e: unknown) => e instanceof LimitError && e.limit === 'transaction_bytes');
});

test('the bounds have documented defaults and are validated', () => {
  const c = loadConfig({});
  assert.deepEqual(
    [c.limits.maxNarrativeBytes, c.limits.maxEntitiesPerDocument, c.limits.maxSpansPerResource, c.limits.maxTransactionEntries, c.limits.maxTransactionBytes, c.limits.deadLetterAttempts],
    [262_144, 2_000, 50, 2_500, 8_388_608, 10],
  );
  assert.equal(c.fhirServer.heap, '1g');
  assert.throws(() => loadConfig({ MAX_NARRATIVE_BYTES: '12' }), /MAX_NARRATIVE_BYTES/);
  assert.throws(() => loadConfig({ FHIR_SERVER_HEAP: 'lots' }), /FHIR_SERVER_HEAP/);
});

test('a dead-letter record of the largest accepted input fits the dead-letter topic size, whatever its headers', () => {
  const input = 1_048_588;
  const raw = Buffer.alloc(input - 200, 0xab);
  const headers: Record<string, string> = {};
  for (let i = 0; i < 100; i++) headers[`h${i}`] = '\u0001'.repeat(1000); // JSON-escaped 6x: would not fit unbounded
  const rec = deadLetterRecord({ raw, source: { kind: 'kafka', topic: 'medner.documents.hl7v2', partition: 0, offset: '123', key: 'k'.repeat(200) }, headers, error: new Error('x'), stage: 'intake' });
  const size = Buffer.byteLength(JSON.stringify(rec)) + 200;
  assert.ok(size <= deadLetterTopicMaxBytes(input), `${size} > ${deadLetterTopicMaxBytes(input)}`);
  assert.ok(Object.keys(rec.headers).length * 1000 <= MAX_DEAD_LETTER_HEADER_BYTES);
  const claim = withPayloadBySource(rec);
  assert.equal(claim.payload, '');
  assert.equal(claim.payloadLocation, 'source-record');
  assert.equal(claim.payloadSha256, rec.payloadSha256);
});

test('HTTP 413 from the FHIR server is FHIR_REQUEST_TOO_LARGE, not retried', async () => {
  let calls = 0;
  const client = new FhirClient({
    baseUrl: 'http://fhir.test/fhir',
    timeoutMs: 1000,
    auth: { kind: 'none' },
    sleep: async () => undefined,
    fetchImpl: (async () => {
      calls++;
      return new Response(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'too-costly' }] }), { status: 413 });
    }) as typeof fetch,
  });
  await assert.rejects(client.transaction({ resourceType: 'Bundle', type: 'transaction' }), (e: unknown) => (e as { code?: string; retriable?: boolean }).code === 'FHIR_REQUEST_TOO_LARGE' && (e as { retriable: boolean }).retriable === false);
  assert.equal(calls, 1);
});

test('an attachment is read only up to its bound: DOCUMENT_TOO_LARGE, declared or streamed', async () => {
  const body = () =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(500));
        c.close();
      },
    });
  for (const declared of [true, false]) {
    const client = new FhirClient({
      baseUrl: 'http://fhir.test/fhir',
      timeoutMs: 1000,
      auth: { kind: 'none' },
      fetchImpl: (async () => new Response(body(), { status: 200, headers: declared ? { 'content-length': '5000' } : {} })) as typeof fetch,
    });
    await assert.rejects(client.readAttachment('Binary/x', { maxBytes: 1000 }), (e: unknown) => e instanceof LimitError && e.code === 'DOCUMENT_TOO_LARGE' && e.limit === 'attachment_bytes');
    assert.equal((await client.readAttachment('Binary/x', { maxBytes: 5000 })).data.length, 5000);
  }
});
