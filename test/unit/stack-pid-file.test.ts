import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  formatPidFile,
  isAlive,
  isOurs,
  livePid,
  parsePidFile,
  readPidFile,
  servesAddress,
  stopProcess,
  writePidFile,
} from '../../src/stack/pid-file.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'medner-pid-'));

test('pid file round trip and rejection of foreign content', () => {
  assert.deepEqual(parsePidFile(formatPidFile({ pid: 4242, marker: '/x/server.properties' })), { pid: 4242, marker: '/x/server.properties' });
  assert.deepEqual(parsePidFile('77\n'), { pid: 77, marker: '' });
  const withAddress = parsePidFile(formatPidFile({ pid: 99, marker: 'redis-server', address: '127.0.0.1:6390' }));
  assert.deepEqual(withAddress, { pid: 99, marker: 'redis-server', address: '127.0.0.1:6390' });
  assert.equal(servesAddress(withAddress!, '127.0.0.1:6390'), true);
  assert.equal(servesAddress(withAddress!, '127.0.0.1:6379'), false);
  assert.equal(servesAddress({ pid: 99, marker: 'x' }, '127.0.0.1:6379'), false);
  for (const bad of ['', 'abc\n', '-5\n', '1\n', '12abc\n', '1e3\n']) assert.equal(parsePidFile(bad), undefined, JSON.stringify(bad));
});

test('isOurs requires a live pid whose command line carries the marker', () => {
  const self = { pid: process.pid, marker: 'kafka.Kafka' };
  assert.equal(isOurs(self, () => 'java -cp lib/* kafka.Kafka /s/server.properties'), true);
  assert.equal(isOurs(self, () => 'python3 something-else'), false);
  assert.equal(isOurs(self, () => ''), false);
  assert.equal(isOurs(self, () => undefined), true);
  assert.equal(isOurs({ pid: 2 ** 22 + 12345, marker: '' }, () => 'x'), false);
});

test('livePid removes a stale pid file and keeps a live one', () => {
  const dir = tmp();
  const file = path.join(dir, 'sub', 'svc.pid');
  writePidFile(file, { pid: 2 ** 22 + 54321, marker: 'x' });
  assert.equal(livePid(file), undefined);
  assert.equal(fs.existsSync(file), false);
  writePidFile(file, { pid: process.pid, marker: '' });
  assert.deepEqual(readPidFile(file), { pid: process.pid, marker: '' });
  assert.equal(livePid(file)?.pid, process.pid);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('stopProcess: SIGTERM stops a cooperative process; SIGKILL after the grace period otherwise', async () => {
  const polite = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  const stubborn = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')"], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((r) => stubborn.stdout?.once('data', r));
  try {
    assert.ok(polite.pid && stubborn.pid);
    const exits = (c: typeof polite) => new Promise((r) => c.once('exit', r));
    const [p1, p2] = [exits(polite), exits(stubborn)];
    assert.equal(await stopProcess(polite.pid, 5_000), 'stopped');
    assert.equal(await stopProcess(stubborn.pid, 300), 'killed');
    await Promise.all([p1, p2]);
    assert.equal(isAlive(stubborn.pid), false);
    assert.equal(await stopProcess(stubborn.pid, 100), 'not-running');
  } finally {
    polite.kill('SIGKILL');
    stubborn.kill('SIGKILL');
  }
});
