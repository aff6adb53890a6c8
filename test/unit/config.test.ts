import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { loadConfig, ConfigError } from '../../src/config/config.ts';
import { defaultIntraOpThreads, defaultSessions } from '../../src/config/threads.ts';

test('defaults point at the embedded local stack', () => {
  const c = loadConfig({});
  assert.deepEqual(c.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(c.redis.url, 'redis://127.0.0.1:6379');
  assert.equal(c.fhir.baseUrl, 'http://127.0.0.1:8080/fhir');
  assert.equal(c.fhir.auth.kind, 'none');
  assert.ok(c.model.intraOpThreads >= 1);
});

test('parses lists and numbers from the environment', () => {
  const c = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', TOPIC_PARTITIONS: '6', FHIR_BASE_URL: 'http://x:1/fhir/' });
  assert.deepEqual(c.kafka.brokers, ['a:1', 'b:2']);
  assert.equal(c.topics.partitions, 6);
  assert.equal(c.fhir.baseUrl, 'http://x:1/fhir');
});

test('reports one line per bad value', () => {
  try {
    loadConfig({ KAFKA_BROKERS: 'nohost', TOPIC_PARTITIONS: 'zero', EXECUTION_PROVIDER: 'tpu' });
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const keys = e.problems.map((p) => p.split('=')[0]);
    assert.deepEqual(keys.sort(), ['EXECUTION_PROVIDER', 'KAFKA_BROKERS', 'TOPIC_PARTITIONS']);
  }
});

test('cross-field rules: water marks and partial OAuth2 settings', () => {
  assert.throws(() => loadConfig({ QUEUE_HIGH_WATER: '10', QUEUE_LOW_WATER: '10' }), /QUEUE_LOW_WATER/);
  assert.throws(() => loadConfig({ FHIR_OAUTH_CLIENT_ID: 'x' }), /also need FHIR_OAUTH_TOKEN_URL/);
  const c = loadConfig({ FHIR_BEARER_TOKEN: 't' });
  assert.deepEqual(c.fhir.auth, { kind: 'bearer', token: 't' });
});

test('BATCH_MAX_PADDING: auto leaves the engine default, off is Infinity, numbers parse, junk is named', () => {
  assert.equal(loadConfig({}).model.maxPadding, undefined);
  assert.equal(loadConfig({ BATCH_MAX_PADDING: 'off' }).model.maxPadding, Infinity);
  assert.equal(loadConfig({ BATCH_MAX_PADDING: '0.25' }).model.maxPadding, 0.25);
  assert.throws(() => loadConfig({ BATCH_MAX_PADDING: '-1' }), /BATCH_MAX_PADDING/);
});

test('sessions and threads: several sessions on CPU, the cores shared out, one session on a GPU', () => {
  const cpu = loadConfig({ INFERENCE_WORKERS: '1' }).model;
  assert.ok(cpu.sessions >= 1 && cpu.sessions <= 4);
  assert.ok(cpu.sessions * cpu.intraOpThreads <= Math.max(cpu.sessions, os.availableParallelism()));
  assert.equal(loadConfig({ EXECUTION_PROVIDER: 'cuda' }).model.sessions, 1);
  const set = loadConfig({ INFERENCE_SESSIONS: '3', INTRA_OP_THREADS: '5' }).model;
  assert.deepEqual([set.sessions, set.intraOpThreads], [3, 5]);
  assert.throws(() => loadConfig({ INFERENCE_SESSIONS: '-1' }), /INFERENCE_SESSIONS/);
  assert.deepEqual([defaultSessions('cpu', 2), defaultSessions('cpu', 16), defaultSessions('webgpu', 16)], [2, 4, 1]);
  assert.deepEqual([defaultIntraOpThreads(2, 2), defaultIntraOpThreads(4, 16), defaultIntraOpThreads(8, 2)], [1, 4, 1]);
});
