import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { isAlive, readPidFile } from '../../src/stack/pid-file.ts';
import { findExecutable } from '../../src/stack/process.ts';
import { createKafkaService } from '../../src/stack/kafka.ts';
import { createRedisService } from '../../src/stack/redis.ts';
import { StackError } from '../../src/stack/service.ts';

// `medner stack` itself: a managed redis-server on a free port in a throwaway STACK_DIR.
const noRedisServer = findExecutable('redis-server') ? undefined : 'redis-server is not installed';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('redis: up starts and records it, up again is a no-op, down stops it and leaves nothing running', { skip: noRedisServer, timeout: 30_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-stack-'));
  const port = await freePort();
  const redis = createRedisService(loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, STACK_DIR: dir }));
  try {
    assert.equal(await redis.isUp(), false);
    const first = await redis.up();
    assert.equal(first.up, true);
    assert.equal(first.managed, true);
    assert.match(first.version ?? '', /^\d+\.\d+/);
    const pid = first.pid;
    assert.ok(pid !== undefined && isAlive(pid));
    assert.deepEqual(readPidFile(path.join(dir, 'redis', 'redis.pid')), { pid, marker: 'redis-server', address: `127.0.0.1:${port}` });

    const second = await redis.up();
    assert.equal(second.pid, pid, 'a second up must not start another redis-server');

    // Another stack directory sees the same Redis as external and never stops it.
    const other = createRedisService(loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, STACK_DIR: path.join(dir, 'other') }));
    const seen = await other.status();
    assert.equal(seen.up, true);
    assert.equal(seen.managed, false);
    await other.down();
    assert.equal(await redis.isUp(), true);

    await redis.down();
    assert.equal(isAlive(pid), false);
    assert.equal(await redis.isUp(), false);
    assert.equal(fs.existsSync(path.join(dir, 'redis', 'redis.pid')), false);
    const after = await redis.status();
    assert.equal(after.up, false);
    assert.equal(after.managed, false);
  } finally {
    await redis.down().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a port held by something else gives a one-line StackError, for Redis and for Kafka', { timeout: 30_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-stack-'));
  const sockets = new Set<net.Socket>();
  const squatter = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined); // probes reset the connection
    s.end('HTTP/1.0 200 OK\r\n\r\n');
  });
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const port = (squatter.address() as net.AddressInfo).port;
  try {
    const config = loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, KAFKA_BROKERS: `127.0.0.1:${port}`, STACK_DIR: dir });
    for (const svc of [createRedisService(config), createKafkaService(config)]) {
      await assert.rejects(svc.up(), (err: unknown) => {
        assert.ok(err instanceof StackError, String(err));
        assert.match(err.message, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is taken by something that is not`));
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    }
    assert.equal(fs.existsSync(path.join(dir, 'kafka', 'kafka.pid')), false);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => squatter.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a non-local address that does not answer is reported, not started', { timeout: 30_000 }, async () => {
  const config = loadConfig({ REDIS_URL: 'redis://192.0.2.1:6379', STACK_DIR: os.tmpdir() });
  await assert.rejects(createRedisService(config).up(), /not a local address/);
});
