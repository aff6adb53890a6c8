import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseDocuments } from '../../src/formats/intake.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import { deadLetterRecord, deadLetterId } from '../../src/formats/dead-letter.ts';
import { MednerError } from '../../src/core/errors.ts';

const schema = (name: string): object => JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')) as object;
// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validDocument = ajv.compile(schema('clinical-document.schema.json'));
const validDeadLetter = ajv.compile(schema('dead-letter.schema.json'));
const fixturesDir = new URL('../fixtures/formats/', import.meta.url);

test('every document parsed from the fixtures validates against clinical-document.schema.json', async () => {
  let count = 0;
  for (const name of readdirSync(fixturesDir).sort()) {
    let docs;
    try {
      docs = await parseDocuments(readFileSync(new URL(name, fixturesDir)), {
        source: { kind: 'file', path: name, index: 0 },
        fetchBinary: async () => ({ contentType: 'text/plain', data: Buffer.from('x') }),
      });
    } catch (e) {
      assert.ok(e instanceof IntakeError && e.code !== 'INTERNAL', `${name}: ${String(e)}`);
      continue;
    }
    for (const d of docs) {
      assert.ok(validDocument(d), `${name}: ${JSON.stringify(validDocument.errors)}`);
      for (const s of d.segments) assert.ok(s.start <= s.end && s.end <= d.text.length, `${name}: segment in range`);
      count++;
    }
  }
  assert.ok(count >= 20, `validated ${count} documents`);
});

test('the schema rejects a document without text or with a bad status', () => {
  const d = { id: 'x', format: 'hl7v2', messageType: 'MDM^T02', patient: { identifier: { value: '1' } }, status: 'current', lifecycle: { action: 'original' }, source: { kind: 'file', path: 'a', index: 0 }, text: 't', segments: [] };
  assert.ok(validDocument(d));
  assert.equal(validDocument({ ...d, text: undefined }), false);
  assert.equal(validDocument({ ...d, status: 'final' }), false);
});

test('dead-letter records validate, carry the original bytes, and never patient text', async () => {
  const raw = readFileSync(new URL('mdm-t06-no-parent.hl7', fixturesDir));
  const source = { kind: 'kafka', topic: 'medner.documents.hl7v2', partition: 2, offset: '12345' } as const;
  let error: unknown;
  try {
    await parseDocuments(raw, { source });
  } catch (e) {
    error = e;
  }
  const rec = deadLetterRecord({ raw, source, headers: { 'content-type': 'x-application/hl7-v2+er7' }, error, stage: 'intake', failedAt: new Date('2024-03-12T10:00:00Z') });
  assert.ok(validDeadLetter(rec), JSON.stringify(validDeadLetter.errors));
  assert.equal(rec.reasonCode, 'MISSING_FIELD');
  assert.equal(rec.retriable, false);
  assert.equal(rec.attempts, 1);
  assert.equal(rec.failedAt, '2024-03-12T10:00:00.000Z');
  assert.deepEqual(Buffer.from(rec.payload, 'base64'), raw);
  assert.ok(!rec.message.includes('MRN12345') && !rec.message.includes('Addendum'));
  assert.equal(rec.id, deadLetterId(source), 'id is deterministic from the source coordinates');
  assert.notEqual(rec.id, deadLetterId({ ...source, offset: '12346' }));

  const retry = deadLetterRecord({ raw, source: { kind: 'file', path: 'a.json', index: 3 }, error: new IntakeError('BINARY_FETCH_FAILED', 'fetch failed'), stage: 'intake', attempts: 3, originalDeadLetterId: rec.id });
  assert.ok(validDeadLetter(retry), JSON.stringify(validDeadLetter.errors));
  assert.equal(retry.retriable, true);
  assert.equal(retry.originalDeadLetterId, rec.id);

  // A foreign error's message may quote its input: only its type is kept.
  const foreign = deadLetterRecord({ raw, source, error: new SyntaxError('Unexpected token in "Jane Doe has cancer"'), stage: 'inference' });
  assert.ok(validDeadLetter(foreign));
  assert.equal(foreign.reasonCode, 'INTERNAL');
  assert.ok(!foreign.message.includes('Jane'));
  const other = deadLetterRecord({ raw, source, error: new MednerError('MODEL_FAILED', 'onnx session failed', { retriable: true }), stage: 'inference' });
  assert.equal(other.reasonCode, 'MODEL_FAILED');
  assert.equal(other.retriable, true);
  assert.equal(validDeadLetter({ ...rec, payload: undefined }), false);
});
