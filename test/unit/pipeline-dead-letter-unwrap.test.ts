import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadLetterRecord } from '../../src/formats/dead-letter.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import { unwrapDeadLetter } from '../../src/pipeline/dead-letter-unwrap.ts';

const formatOf = (t: string) => (t === 'in.hl7' ? ('hl7v2' as const) : undefined);

test('a dead-letter record unwraps to the original bytes, source, format and its id', () => {
  const raw = Buffer.from('MSH|^~\\&|X\rPID|1\r');
  const source = { kind: 'kafka' as const, topic: 'in.hl7', partition: 1, offset: '42' };
  const rec = deadLetterRecord({ raw, source, headers: { h: 'v' }, error: new IntakeError('NOT_HL7', 'x'), stage: 'intake' });
  const u = unwrapDeadLetter({ value: Buffer.from(JSON.stringify(rec)) }, formatOf);
  assert.ok(u);
  assert.equal(u.id, rec.id);
  assert.deepEqual(u.raw, raw);
  assert.deepEqual(u.source, source);
  assert.equal(u.format, 'hl7v2');
  assert.deepEqual(u.headers, { h: 'v' });
});

test('anything else is refused', () => {
  for (const v of ['', 'not json', '{}', JSON.stringify({ schemaVersion: 2, id: 'x', payload: '', source: {} }), JSON.stringify({ schemaVersion: 1, id: 'x', payload: 5, source: {} })]) {
    assert.equal(unwrapDeadLetter({ value: Buffer.from(v) }, formatOf), undefined, v);
  }
  assert.equal(unwrapDeadLetter({ value: null }, formatOf), undefined);
});
