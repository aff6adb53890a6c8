import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostileInput } from '../support/hostile.ts';

// Kafka's default message.max.bytes (1,048,588) less room for the record's key and headers.
const RECORD_LIMIT = 1_000_000;

test('hostile inputs stay under Kafka\'s default record limit at the indices a 10,000-document soak reaches (names grow with the index)', () => {
  const kinds = new Set<string>();
  for (let h = 1000; h < 1100; h++) {
    const x = hostileInput(h, 987_654_321);
    kinds.add(x.kind);
    assert.ok((x.value?.length ?? 0) < RECORD_LIMIT, `${x.kind} at index ${h}: ${x.value?.length} bytes`);
  }
  assert.equal(kinds.size, 11, 'every kind checked');
});
