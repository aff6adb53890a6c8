import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobIdFor, parseJobId } from '../../src/queue/job-id.ts';

test('job ids are deterministic per topic, partition, offset and document index', () => {
  const c = { topic: 'medner.documents.hl7v2', partition: 2, offset: '1234', index: 0 };
  assert.equal(jobIdFor(c), 'k@medner.documents.hl7v2@2@1234@0');
  assert.equal(jobIdFor(c), jobIdFor({ ...c }));
  assert.notEqual(jobIdFor(c), jobIdFor({ ...c, index: 1 }));
  assert.notEqual(jobIdFor(c), jobIdFor({ ...c, partition: 1 }));
  assert.notEqual(jobIdFor(c), jobIdFor({ ...c, offset: '1235' }));
  assert.notEqual(jobIdFor(c), jobIdFor({ ...c, run: 'replay-1' }));
});

test('job ids round-trip and never contain a colon or look like integers', () => {
  for (const c of [
    { topic: 't', partition: 0, offset: '0', index: 0 },
    { topic: 'a-b_c.d', partition: 17, offset: '99999999999999', index: 3, run: 'r1' },
  ]) {
    const id = jobIdFor(c);
    assert.ok(!id.includes(':'));
    assert.ok(!/^\d+$/.test(id));
    assert.deepEqual(parseJobId(id), c);
  }
  assert.equal(parseJobId('something-else'), undefined);
  assert.equal(parseJobId('k@t@x@1@0'), undefined);
});

test('invalid coordinates are refused', () => {
  assert.throws(() => jobIdFor({ topic: 'a@b', partition: 0, offset: '1', index: 0 }));
  assert.throws(() => jobIdFor({ topic: 'a', partition: -1, offset: '1', index: 0 }));
  assert.throws(() => jobIdFor({ topic: 'a', partition: 0, offset: '-1', index: 0 }));
  assert.throws(() => jobIdFor({ topic: 'a', partition: 0, offset: '1', index: 0, run: 'x:y' }));
});
