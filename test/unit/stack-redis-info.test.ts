import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisInfo, redisAddress } from '../../src/stack/redis-info.ts';
import { isLocalHost, parseHostPort } from '../../src/stack/process.ts';

test('parseRedisInfo reads key:value lines and skips section headers', () => {
  const info = parseRedisInfo('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nexecutable:/usr/bin/redis-server\r\n\r\n');
  assert.equal(info.get('redis_version'), '7.0.15');
  assert.equal(info.get('executable'), '/usr/bin/redis-server');
  assert.equal(info.has('# Server'), false);
  assert.equal(info.size, 3);
});

test('redisAddress: host and port with the default port', () => {
  assert.deepEqual(redisAddress('redis://127.0.0.1:6380'), { host: '127.0.0.1', port: 6380 });
  assert.deepEqual(redisAddress('redis://:secret@localhost'), { host: 'localhost', port: 6379 });
  assert.deepEqual(redisAddress('rediss://[::1]:7000/2'), { host: '::1', port: 7000 });
  assert.throws(() => redisAddress('http://127.0.0.1:6379'), /redis:\/\//);
});

test('parseHostPort and isLocalHost', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:9092'), { host: '127.0.0.1', port: 9092 });
  assert.deepEqual(parseHostPort('[::1]:9092'), { host: '::1', port: 9092 });
  assert.throws(() => parseHostPort('kafka'), /host:port/);
  assert.equal(isLocalHost('localhost'), true);
  assert.equal(isLocalHost('kafka.internal'), false);
});
