import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices } from '../support/services.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createStages } from '../../src/pipeline/stages.ts';
import { startWorkerApp, type WorkerApp } from '../../src/pipeline/worker-app.ts';
import { Queue } from 'bullmq';
import { runReplay } from '../../src/pipeline/replay.ts';
import { replayQueueName } from '../../src/queue/inference-queue.ts';
import type { Config } from '../../src/config/config.ts';
import type { Stages } from '../../src/core/ports.ts';
import { deadLetterRecord } from '../../src/formats/dead-letter.ts';
import { MednerError } from '../../src/core/errors.ts';
import {
  committed,
  committedTotal,
  fhirNote,
  fhirRead,
  fhirSearch,
  hl7Note,
  pipelineEnv,
  produce,
  readTopic,
  serverMatchesFor,
  setupConfig,
  sleep,
  startTcpProxy,
  testId,
  waitFor,
} from '../fixtures/pipeline/harness.ts';
import { inputTopic } from '../../src/formats/registry.ts';

/**
 * The worker end to end against real Kafka, Redis and the FHIR server, with the
 * tiny random-weight model: entities are arbitrary, so the assertions are on
 * structure: every output bundle lands, the server holds exactly what each bundle
 * says, offsets commit only after outputs are durable.
 */
const svc = await integrationServices(['kafka', 'redis', 'fhir']);
const logger = createLogger('warn');

async function start(config: Config, extra: Partial<Parameters<typeof startWorkerApp>[0]> = {}): Promise<{ app: WorkerApp; stages: Stages; stop(): Promise<void> }> {
  const stages = await createStages(config, logger);
  const app = await startWorkerApp({ config, role: 'all', logger, stages, commitIntervalMs: 200, backoffMs: 200, ...extra });
  return {
    app,
    stages,
    async stop() {
      await app.stop(10_000);
      await stages.close();
    },
  };
}

/** Every output bundle's conditional entries resolve to exactly one resource on the server. */
async function assertBundlesLanded(base: string, values: string[]): Promise<number> {
  let checked = 0;
  for (const v of values) {
    const bundle = JSON.parse(v) as fhir4.Bundle;
    assert.equal(bundle.type, 'transaction');
    const matches = await serverMatchesFor(base, bundle);
    assert.ok(matches.length > 0, 'bundle has entries');
    for (const m of matches) {
      assert.equal(m.found, 1, `${m.type} entry ${m.url.slice(0, 60)}... found ${m.found} times`);
      assert.ok(m.atId, `${m.type} entry ${m.url.slice(0, 60)}... not at its logical id`);
    }
    checked += matches.length;
  }
  return checked;
}

test('an HL7 v2 note and a FHIR note go end to end; a poison record is dead-lettered while the next is processed', { skip: svc.skip, timeout: 90_000 }, async () => {
  if (!svc.ok) return;
  const config = await setupConfig(pipelineEnv(svc.services, 'pl-e2e'));
  const w = await start(config);
  try {
    const a = testId('e2e-hl7');
    const b = testId('e2e-fhir');
    // Same key -> same partition, so the poison record sits between two good ones.
    await produce(config, inputTopic(config, 'hl7v2'), [
      { key: 'k', value: hl7Note(a) },
      { key: 'k', value: Buffer.from('this is not a clinical message') },
      { key: 'k', value: hl7Note(`${a}-2`, 1) },
    ]);
    await produce(config, inputTopic(config, 'fhir'), [{ key: 'k', value: fhirNote(b) }]);

    await waitFor('all four records committed', async () => (await committedTotal(config)) === 4, 60_000);
    const outputs = await readTopic(config, config.topics.output, 3);
    assert.equal(outputs.length, 3, 'one output record per good document');
    const ids = outputs.map((o) => o.headers['medner-document-id']).sort();
    assert.deepEqual(ids, [a, `${a}-2`, b].sort());
    const dead = await readTopic(config, config.topics.deadLetter, 1);
    assert.equal(dead.length, 1);
    const rec = JSON.parse(dead[0]!.value) as { reasonCode: string; stage: string; source: { offset: string; topic: string }; payload: string };
    assert.equal(rec.stage, 'intake');
    assert.equal(rec.reasonCode, 'NOT_HL7');
    assert.equal(rec.source.topic, inputTopic(config, 'hl7v2'));
    assert.equal(Buffer.from(rec.payload, 'base64').toString(), 'this is not a clinical message');

    await assertBundlesLanded(config.fhir.baseUrl, outputs.map((o) => o.value));

    const metrics = await (await fetch(`${w.app.http!.url}/metrics`)).text();
    assert.match(metrics, /medner_documents_out_total\{format="hl7v2"\} 2/);
    assert.match(metrics, /medner_documents_out_total\{format="fhir"\} 1/);
    assert.match(metrics, /medner_documents_dead_lettered_total\{stage="intake",reason="NOT_HL7"\} 1/);
    // The FHIR server may answer slowly right after a burst: /ready gets a few tries.
    await waitFor('/ready 200', async () => (await fetch(`${w.app.http!.url}/ready`)).status === 200, 30_000);
    assert.equal((await fetch(`${w.app.http!.url}/health`)).status, 200);
    // The backlog the inference autoscaler reads: every job is done, nothing waits or runs.
    const backlog = (await (await fetch(`${w.app.http!.url}/queue`)).json()) as { live: { total: number }; replay: { total: number }; total: number };
    assert.deepEqual([backlog.live.total, backlog.replay.total, backlog.total], [0, 0, 0]);
  } finally {
    await w.stop();
  }
});

test('FHIR server unreachable: nothing is committed until it is back, then everything arrives', { skip: svc.skip, timeout: 120_000 }, async () => {
  if (!svc.ok) return;
  const target = new URL(svc.services.fhirBaseUrl);
  const proxy = await startTcpProxy(target);
  const base = `http://127.0.0.1:${proxy.port}${target.pathname}`;
  const config = await setupConfig(pipelineEnv(svc.services, 'pl-outage', { FHIR_BASE_URL: base, FHIR_TIMEOUT_MS: '2000' }));
  await proxy.down();
  const w = await start(config, { outageBackoffMs: 300 });
  try {
    const ids = [testId('outage-a'), testId('outage-b'), testId('outage-c')];
    await produce(config, inputTopic(config, 'hl7v2'), ids.map((id, i) => ({ key: id, value: hl7Note(id, i) })));
    await sleep(6_000);
    assert.equal(await committedTotal(config), 0, 'nothing committed while the FHIR server is down');
    assert.equal((await readTopic(config, config.topics.output, 0, 0)).length, 0, 'no output published');
    assert.equal((await readTopic(config, config.topics.deadLetter, 0, 0)).length, 0, 'nothing dead-lettered for an outage');
    const ready = await fetch(`${w.app.http!.url}/ready`);
    assert.equal(ready.status, 503, '/ready reports the FHIR server down');
    assert.equal(((await ready.json()) as { checks: Record<string, boolean> }).checks.fhir, false, '/ready names the FHIR output as what is down');
    const waited = /^medner_fhir_wait_seconds_total (\S+)$/m.exec(await (await fetch(`${w.app.http!.url}/metrics`)).text())?.[1];
    assert.ok(Number(waited) > 0, `jobs' wait for the FHIR server is measured (medner_fhir_wait_seconds_total ${waited})`);

    await proxy.up();
    await waitFor('all committed after the outage', async () => (await committedTotal(config)) === 3, 60_000);
    const outputs = await readTopic(config, config.topics.output, 3);
    assert.deepEqual(outputs.map((o) => o.headers['medner-document-id']).sort(), [...ids].sort());
    await assertBundlesLanded(svc.services.fhirBaseUrl, outputs.map((o) => o.value));
  } finally {
    await w.stop();
    await proxy.close();
  }
});

test('replaying a processed range re-runs every document and leaves the FHIR server unchanged', { skip: svc.skip, timeout: 120_000 }, async () => {
  if (!svc.ok) return;
  // The default variant (int8 on CPU): batch-invariant inference makes a replay yield the same resources.
  const config = await setupConfig(pipelineEnv(svc.services, 'pl-replay'));
  const w = await start(config);
  try {
    const ids = [testId('replay-a'), testId('replay-b'), testId('replay-c')];
    await produce(config, inputTopic(config, 'hl7v2'), ids.slice(0, 2).map((id, i) => ({ key: id, value: hl7Note(id, i) })));
    await produce(config, inputTopic(config, 'fhir'), [{ key: ids[2]!, value: fhirNote(ids[2]!) }]);
    await waitFor('live feed committed', async () => (await committedTotal(config)) === 3, 60_000);
    const outputs = await readTopic(config, config.topics.output, 3);
    const before = await Promise.all(outputs.map((o) => serverMatchesFor(config.fhir.baseUrl, JSON.parse(o.value) as fhir4.Bundle)));
    const versionsBefore = await versions(config.fhir.baseUrl, outputs.map((o) => o.value));

    let done = 0;
    const summaries = [];
    for (const topic of [inputTopic(config, 'hl7v2'), inputTopic(config, 'fhir')]) {
      summaries.push(await runReplay({ config, logger, stages: w.stages, topic, progress: false, onProgress: (d) => (done = d) }));
    }
    assert.deepEqual(summaries.map((s) => s.records), [2, 1]);
    assert.deepEqual(summaries.map((s) => s.deadLettered), [0, 0]);
    assert.equal(done, 1);
    // The writer found everything unchanged and sent nothing.
    for (const s of summaries) {
      assert.deepEqual({ ...s.changes, unchanged: 0 }, { created: 0, updated: 0, unchanged: 0, retracted: 0, deleted: 0 });
      assert.ok(s.changes.unchanged > 0, 'unchanged resources counted');
    }
    // Replay jobs ran on the replay queue, the live feed's on its own (completed jobs are kept an hour).
    const completedIds = async (name: string) => {
      const q = new Queue(name, { connection: { url: config.redis.url }, prefix: 'medner' });
      try {
        return (await q.getJobs(['completed'])).map((j) => (j.id ?? '').split('@')[0]).sort();
      } finally {
        await q.close();
      }
    };
    assert.deepEqual(await completedIds(config.redis.queueName), ['k', 'k', 'k']);
    assert.deepEqual(await completedIds(replayQueueName(config.redis.queueName)), ['r', 'r', 'r']);

    const replayed = await readTopic(config, config.topics.output, 6);
    assert.equal(replayed.length, 6, 'the replay published every document again');
    const after = await Promise.all(outputs.map((o) => serverMatchesFor(config.fhir.baseUrl, JSON.parse(o.value) as fhir4.Bundle)));
    assert.deepEqual(after, before, 'same resources, each exactly once');
    assert.deepEqual(await versions(config.fhir.baseUrl, outputs.map((o) => o.value)), versionsBefore, 'no resource was changed by the replay');
    // The live group's offsets are untouched by the replay's own group.
    assert.equal(await committedTotal(config), 3);
    assert.ok(Object.values(await committed(config)).every((o) => o <= 2));
  } finally {
    await w.stop();
  }
});

test('replaying the dead-letter topic reprocesses fixed records and links new failures to the originals', { skip: svc.skip, timeout: 90_000 }, async () => {
  if (!svc.ok) return;
  const config = await setupConfig(pipelineEnv(svc.services, 'pl-dlq'));
  const w = await start(config);
  try {
    // One record that fails again (still not HL7), one whose cause was fixed (say the FHIR server rejected it then).
    await produce(config, inputTopic(config, 'hl7v2'), [{ key: 'k', value: Buffer.from('still not a clinical message') }]);
    await waitFor('poison dead-lettered', async () => (await committedTotal(config)) === 1, 60_000);
    const fixedId = testId('dlq-fixed');
    const earlier = deadLetterRecord({
      raw: hl7Note(fixedId),
      source: { kind: 'kafka', topic: inputTopic(config, 'hl7v2'), partition: 1, offset: '999' },
      error: new MednerError('FHIR_REJECTED', 'server refused the transaction'),
      stage: 'output',
      attempts: 3,
    });
    await produce(config, config.topics.deadLetter, [{ key: 'x', value: Buffer.from(JSON.stringify(earlier)) }]);
    const before = await readTopic(config, config.topics.deadLetter, 2);
    const poisonId = (JSON.parse(before.find((r) => !r.value.includes(earlier.id))!.value) as { id: string }).id;

    const s = await runReplay({ config, logger, stages: w.stages, topic: config.topics.deadLetter, deadLetter: true });
    assert.equal(s.records, 2);
    assert.equal(s.deadLettered, 1);

    const outputs = await readTopic(config, config.topics.output, 1);
    assert.deepEqual(outputs.map((o) => o.headers['medner-document-id']), [fixedId]);
    await assertBundlesLanded(config.fhir.baseUrl, outputs.map((o) => o.value));
    const after = await readTopic(config, config.topics.deadLetter, 3);
    assert.equal(after.length, 3);
    const again = after.map((r) => JSON.parse(r.value) as { id: string; originalDeadLetterId?: string; reasonCode: string }).filter((r) => r.originalDeadLetterId);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.originalDeadLetterId, poisonId);
    assert.equal(again[0]!.reasonCode, 'NOT_HL7');
  } finally {
    await w.stop();
  }
});

test('backpressure: the ingest side pauses above the high water mark and resumes when inference drains the queue', { skip: svc.skip, timeout: 120_000 }, async () => {
  if (!svc.ok) return;
  const config = await setupConfig(pipelineEnv(svc.services, 'pl-bp', { QUEUE_HIGH_WATER: '6', QUEUE_LOW_WATER: '2' }));
  const stages = await createStages(config, logger);
  const ingest = await startWorkerApp({ config, role: 'ingest', logger, stages, commitIntervalMs: 200 });
  let inference: WorkerApp | undefined;
  try {
    const ids = Array.from({ length: 40 }, () => testId('bp'));
    for (let i = 0; i < ids.length; i += 8) {
      await produce(config, inputTopic(config, 'hl7v2'), ids.slice(i, i + 8).map((id, k) => ({ key: id, value: hl7Note(id, i + k) })));
      await sleep(700);
    }
    await sleep(1_500);
    const depth = await ingest.queue.depth();
    assert.ok(depth >= 6 && depth < 40, `paused with ${depth} jobs queued, not all 40`);
    assert.match(await ingest.metrics.registry.getSingleMetricAsString('medner_ingest_paused'), /medner_ingest_paused 1/);
    assert.equal(await committedTotal(config), 0, 'nothing done, nothing committed');

    inference = await startWorkerApp({ config, role: 'inference', logger, stages, http: false });
    await waitFor('all 40 committed after resuming', async () => (await committedTotal(config)) === 40, 90_000);
    // The ingest side checks the queue depth on a timer: the last resume may come a tick after the last commit.
    await waitFor('ingest resumed', async () => /medner_ingest_paused 0/.test(await ingest.metrics.registry.getSingleMetricAsString('medner_ingest_paused')), 10_000);
    const outputs = await readTopic(config, config.topics.output, 40);
    assert.equal(new Set(outputs.map((o) => o.headers['medner-document-id'])).size, 40);
  } finally {
    await ingest.stop(10_000);
    await inference?.stop(10_000);
    await stages.close();
  }
});

/** versionId of every resource a set of bundles addresses (an idempotent rewrite keeps them). */
async function versions(base: string, values: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const v of values) {
    for (const e of (JSON.parse(v) as fhir4.Bundle).entry ?? []) {
      const url = e.request?.url;
      if (!url) continue;
      if (e.request?.method === 'PUT' && !url.includes('?')) {
        // by logical id
        const r = await fhirRead(base, url);
        out.push(`${r?.resourceType}/${r?.id}/${r?.meta?.versionId}`);
        continue;
      }
      const query = e.request?.ifNoneExist ? `${url}?${e.request.ifNoneExist}` : url.includes('?') ? url : undefined;
      if (!query) continue;
      for (const r of await fhirSearch(base, query)) out.push(`${r.resourceType}/${r.id}/${r.meta?.versionId}`);
    }
  }
  return out.sort();
}
