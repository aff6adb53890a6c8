import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.ts';
import { envExports, formatStatusLines } from '../../src/stack/status-line.ts';

test('one aligned line per service with up/down, address, version and who manages it', () => {
  const lines = formatStatusLines([
    { name: 'kafka', up: true, address: '127.0.0.1:9092', version: '4.1.1', managed: true, pid: 123 },
    { name: 'redis', up: true, address: '127.0.0.1:6379', version: '7.0.15', managed: false },
    { name: 'fhir', up: false, address: 'http://127.0.0.1:8080/fhir', managed: false },
  ]);
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0]?.split(/\s+/), ['kafka', 'up', '127.0.0.1:9092', '4.1.1', 'managed', '(pid', '123)']);
  assert.deepEqual(lines[1]?.split(/\s+/), ['redis', 'up', '127.0.0.1:6379', '7.0.15', 'external']);
  assert.deepEqual(lines[2]?.split(/\s+/), ['fhir', 'down', 'http://127.0.0.1:8080/fhir', '-', '-']);
  // Columns line up: the address column starts at the same offset on every line.
  const starts = lines.map((l) => l.indexOf(l.split(/\s+/)[2] ?? ''));
  assert.equal(new Set(starts).size, 1);
});

test('no services, no lines', () => {
  assert.deepEqual(formatStatusLines([]), []);
});

test('envExports: shell lines for the three service variables, quoted when needed', () => {
  const lines = envExports(loadConfig({ KAFKA_BROKERS: 'a:1,b:2', REDIS_URL: "redis://:it's@127.0.0.1:6380", FHIR_BASE_URL: 'http://h:8080/fhir/' }));
  assert.deepEqual(lines, [
    'export KAFKA_BROKERS=a:1,b:2',
    `export REDIS_URL='redis://:it'\\''s@127.0.0.1:6380'`,
    'export FHIR_BASE_URL=http://h:8080/fhir',
  ]);
});
