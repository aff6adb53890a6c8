import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices } from '../support/services.ts';
import {
  committedTotal,
  fhirSearch,
  hl7Note,
  fhirNote,
  pipelineEnv,
  produce,
  readTopic,
  serverMatchesFor,
  setupConfig,
  testId,
  testKafka,
  waitFor,
} from '../fixtures/pipeline/harness.ts';
import { inputTopic } from '../../src/formats/registry.ts';

/**
 * A worker process SIGKILLed while documents are in flight, then restarted:
 * every document's resources are on the FHIR server exactly once, and every
 * offset is committed.
 */
const svc = await integrationServices(['kafka', 'redis', 'fhir']);

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--role', 'all', '--no-http', '--lock-ms', '2000', '--session-ms', '6000'],
    { env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`worker did not start: ${buf.slice(-500)}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('ingest started')) {
        clearTimeout(t);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${buf.slice(-500)}`)));
  });
}

async function outputCount(env: Record<string, string>, topic: string): Promise<number> {
  const admin = testKafka((await import('../../src/config/config.ts')).loadConfig(env)).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, e) => n + Number(e.high), 0);
  } finally {
    await admin.disconnect();
  }
}

test('a worker killed mid-batch and restarted leaves every document exactly once on the FHIR server', { skip: svc.skip, timeout: 150_000 }, async () => {
  if (!svc.ok) return;
  const env = pipelineEnv(svc.services, 'pl-crash', { BATCH_SIZE: '4', BATCH_WAIT_MS: '50' });
  const config = await setupConfig(env);
  const ids = Array.from({ length: 12 }, (_, i) => testId(`crash-${i}`));
  let child = await startWorker(env);
  try {
    await produce(config, inputTopic(config, 'hl7v2'), ids.slice(0, 8).map((id, i) => ({ key: id, value: hl7Note(id, i) })));
    await produce(config, inputTopic(config, 'fhir'), ids.slice(8).map((id, i) => ({ key: id, value: fhirNote(id, i) })));
    // Kill as soon as the first outputs are out: the rest are queued, batched or half written.
    await waitFor('first outputs', async () => (await outputCount(env, config.topics.output)) >= 1, 60_000, 20);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const atKill = await committedTotal(config);
    assert.ok(atKill < ids.length, `some records were still in flight when killed (${atKill} committed)`);

    child = await startWorker(env);
    await waitFor('every record committed after the restart', async () => (await committedTotal(config)) === ids.length, 90_000);
    // Graceful shutdown: SIGTERM drains, commits and exits 0.
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0, 'SIGTERM exits cleanly');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }

  const outputs = await readTopic(config, config.topics.output, ids.length);
  const byDoc = new Map<string, string>();
  for (const o of outputs) byDoc.set(o.headers['medner-document-id']!, o.value);
  assert.deepEqual([...byDoc.keys()].sort(), [...ids].sort(), 'every document produced an output');
  for (const [id, value] of byDoc) {
    for (const m of await serverMatchesFor(config.fhir.baseUrl, JSON.parse(value) as fhir4.Bundle)) {
      assert.equal(m.found, 1, `document ${id}: ${m.type} present ${m.found} times`);
    }
  }
  // One DocumentReference per HL7 document (FHIR inputs are their own DocumentReference).
  for (const id of ids.slice(0, 8)) {
    const refs = await fhirSearch(config.fhir.baseUrl, `DocumentReference?identifier=${encodeURIComponent(id)}`);
    assert.equal(refs.length, 1, `DocumentReference of ${id}`);
  }
  const dead = await readTopic(config, config.topics.deadLetter, 0, 0);
  assert.equal(dead.length, 0, 'nothing dead-lettered');
});
