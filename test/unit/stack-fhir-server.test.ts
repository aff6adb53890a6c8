import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/config.ts';
import {
  chooseDatabase,
  createFhirServerService,
  javaArgs,
  localServerAddress,
  needsBuild,
  newestSourceMtime,
  serverEnv,
} from '../../src/stack/fhir-server.ts';
import { writePidFile } from '../../src/stack/pid-file.ts';
import { StackError } from '../../src/stack/service.ts';

test('localServerAddress: host and port of an http .../fhir base URL', () => {
  assert.deepEqual(localServerAddress('http://127.0.0.1:8080/fhir'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(localServerAddress('http://localhost:18080/fhir/'), { host: '127.0.0.1', port: 18080 });
  assert.deepEqual(localServerAddress('http://[::1]/fhir'), { host: '::1', port: 80 });
  assert.throws(() => localServerAddress('https://127.0.0.1:8443/fhir'), StackError);
  assert.throws(() => localServerAddress('http://127.0.0.1:8080/baseR4'), /serves its API at \/fhir/);
});

test('needsBuild: missing jar or any source newer than the jar', () => {
  assert.equal(needsBuild(undefined, 1), true);
  assert.equal(needsBuild(100, 101), true);
  assert.equal(needsBuild(101, 100), false);
  assert.equal(needsBuild(100, 100), false);
});

test('chooseDatabase: auto follows PostgreSQL reachability; explicit choices pass; nonsense is refused', () => {
  assert.equal(chooseDatabase('auto', true), 'postgres');
  assert.equal(chooseDatabase('auto', false), 'h2');
  assert.equal(chooseDatabase('h2', true), 'h2');
  assert.equal(chooseDatabase('postgres', false), 'postgres');
  assert.equal(chooseDatabase('jdbc:postgresql://db:5432/fhir', false), 'jdbc:postgresql://db:5432/fhir');
  assert.throws(() => chooseDatabase('mysql', true), /expected auto, postgres, h2/);
  assert.throws(() => chooseDatabase('jdbc:mysql://x/y', true), StackError);
});

test('javaArgs: C1-only JIT only when quick; heap, marker and jar in place', () => {
  const full = javaArgs({ heap: '1g', jit: 'full', marker: '-Dmedner.stack=x', jar: '/j.jar' });
  assert.deepEqual(full, ['-Xmx1g', '-XX:+ExitOnOutOfMemoryError', '-XX:+UseSerialGC', '-Dmedner.stack=x', '-jar', '/j.jar']);
  const quick = javaArgs({ heap: '2g', jit: 'quick', marker: '-Dmedner.stack=x', jar: '/j.jar' });
  assert.deepEqual(quick, ['-Xmx2g', '-XX:+ExitOnOutOfMemoryError', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dmedner.stack=x', '-jar', '/j.jar']);
});

test('FHIR_SERVER_JIT: full by default, quick accepted, anything else named', () => {
  assert.equal(loadConfig({}).fhirServerJit, 'full');
  assert.equal(loadConfig({ FHIR_SERVER_JIT: 'quick' }).fhirServerJit, 'quick');
  assert.throws(() => loadConfig({ FHIR_SERVER_JIT: 'c1' }), /FHIR_SERVER_JIT/);
});

test('serverEnv: the variables deploy/fhir-server reads', () => {
  assert.deepEqual(serverEnv({ host: '127.0.0.1', port: 18080, db: 'h2', dataDir: '/s/d' }), {
    FHIR_SERVER_HOST: '127.0.0.1',
    FHIR_SERVER_PORT: '18080',
    FHIR_SERVER_DB: 'h2',
    FHIR_SERVER_DATA_DIR: '/s/d',
    FHIR_SERVER_PACKAGES: '',
    FHIR_SERVER_CONFORMANCE_DIRS: '',
    FHIR_SERVER_VALIDATE: 'false',
  });
  // The tests' and the soak's own PostgreSQL database (DatabaseSettings.java reads FHIR_SERVER_PG_DATABASE).
  assert.equal(serverEnv({ host: '127.0.0.1', port: 18080, db: 'postgres', dataDir: '/s/d', pgDatabase: 'medner_test' }).FHIR_SERVER_PG_DATABASE, 'medner_test');
  const env = serverEnv({ host: '127.0.0.1', port: 18080, db: 'h2', dataDir: '/s/d', packageDirs: ['/p/a', '/p/b'], conformanceDirs: ['/c'], validate: true });
  assert.equal(env.FHIR_SERVER_PACKAGES, '/p/a,/p/b');
  assert.equal(env.FHIR_SERVER_CONFORMANCE_DIRS, '/c');
  assert.equal(env.FHIR_SERVER_VALIDATE, 'true');
  assert.equal(loadConfig({}).fhirServer.validate, false);
  assert.equal(loadConfig({ FHIR_SERVER_VALIDATE: 'true' }).fhirServer.validate, true);
});

test('newestSourceMtime: newest of pom.xml and files under src/', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-fhir-src-'));
  try {
    const pom = path.join(dir, 'pom.xml');
    const deep = path.join(dir, 'src', 'main', 'java', 'A.java');
    fs.writeFileSync(pom, '<project/>');
    fs.mkdirSync(path.dirname(deep), { recursive: true });
    fs.writeFileSync(deep, 'class A {}');
    fs.utimesSync(pom, 1_000, 1_000);
    fs.utimesSync(deep, 2_000, 2_000);
    assert.equal(newestSourceMtime(dir), 2_000_000);
    fs.utimesSync(pom, 3_000, 3_000);
    assert.equal(newestSourceMtime(dir), 3_000_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('up: a port taken by something that is not a FHIR server is a one-line StackError; down leaves it alone', async () => {
  const stack = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-fhir-stack-'));
  const other = http.createServer((_req, res) => res.writeHead(404).end('not here'));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  try {
    const { port } = other.address() as AddressInfo;
    const config = loadConfig({ FHIR_BASE_URL: `http://127.0.0.1:${port}/fhir`, STACK_DIR: stack });
    const svc = createFhirServerService(config, { deployDir: path.join(stack, 'no-such-deploy') });
    assert.equal(await svc.isUp(), false);
    await assert.rejects(svc.up(), (err: unknown) => {
      assert.ok(err instanceof StackError);
      assert.equal(err.message, `port ${port} on 127.0.0.1 is taken by something that is not a FHIR server`);
      return true;
    });
    await svc.down();
    const s = await svc.status();
    assert.deepEqual(s, { name: 'fhir', up: false, address: config.fhir.baseUrl, managed: false });
    assert.equal(other.listening, true, 'down did not touch a server it did not start');
  } finally {
    other.close();
    fs.rmSync(stack, { recursive: true, force: true });
  }
});

test('up: a non-local FHIR_BASE_URL that does not answer is refused, not started', async () => {
  const stack = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-fhir-stack-'));
  try {
    // 192.0.2.0/24 is TEST-NET-1: never routable.
    const config = loadConfig({ FHIR_BASE_URL: 'http://192.0.2.1:8080/fhir', STACK_DIR: stack });
    const svc = createFhirServerService(config);
    await assert.rejects(svc.up(), /not a local address this stack can start/);
  } finally {
    fs.rmSync(stack, { recursive: true, force: true });
  }
});

test('up/down: a stack dir already running a FHIR server for another address is refused, and down does not stop it', async () => {
  const stack = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-fhir-stack-'));
  const free = http.createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const { port } = free.address() as AddressInfo;
  await new Promise<void>((r) => free.close(() => r()));
  try {
    // This test process stands in for a server started for another port.
    const pidFile = path.join(stack, 'fhir-server.pid');
    writePidFile(pidFile, { pid: process.pid, marker: '', address: 'http://127.0.0.1:1/fhir' });
    const config = loadConfig({ FHIR_BASE_URL: `http://127.0.0.1:${port}/fhir`, STACK_DIR: stack });
    const svc = createFhirServerService(config);
    await assert.rejects(svc.up(), /already runs a FHIR server for http:\/\/127\.0\.0\.1:1\/fhir/);
    assert.equal((await svc.status()).managed, false);
    await svc.down();
    assert.ok(fs.existsSync(pidFile), 'the other instance keeps its pid file');
  } finally {
    fs.rmSync(stack, { recursive: true, force: true });
  }
});
