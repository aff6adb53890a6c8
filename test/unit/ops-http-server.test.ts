import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOpsServer, runReadiness, CheckCache } from '../../src/ops/http-server.ts';
import { createMetrics } from '../../src/ops/metrics.ts';

test('/health is ok until a health problem, /ready follows the (background) checks, /metrics serves the registry', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.documentsOut.inc({ format: 'hl7v2' }, 3);
  metrics.deadLettered.inc({ stage: 'intake', reason: 'NOT_HL7' });
  let fhirUp = false;
  let stopped: string | undefined;
  const srv = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    checks: [
      { name: 'redis', check: async () => true },
      { name: 'fhir', check: async () => fhirUp },
    ],
    health: [{ name: 'consumer', problem: () => stopped }],
  });
  try {
    await srv.refresh();
    assert.equal((await fetch(`${srv.url}/health`)).status, 200);
    const notReady = await fetch(`${srv.url}/ready`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(((await notReady.json()) as { checks: unknown }).checks, { redis: true, fhir: false });
    fhirUp = true;
    await srv.refresh();
    assert.equal((await fetch(`${srv.url}/ready`)).status, 200);
    stopped = 'record t/0@1 could not be dead-lettered';
    const unhealthy = await fetch(`${srv.url}/health`);
    assert.equal(unhealthy.status, 503);
    assert.deepEqual(await unhealthy.json(), { status: 'unhealthy', problems: { consumer: stopped } });
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(text, /medner_documents_out_total\{format="hl7v2"\} 3/);
    assert.match(text, /medner_documents_dead_lettered_total\{stage="intake",reason="NOT_HL7"\} 1/);
    assert.match(text, /# TYPE medner_end_to_end_seconds histogram/);
    assert.equal((await fetch(`${srv.url}/nope`)).status, 404);
    assert.equal((await fetch(`${srv.url}/health`, { method: 'POST' })).status, 405);
  } finally {
    await srv.close();
  }
});

test('/ready and /health answer at once while a dependency check hangs', async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const srv = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    checks: [{ name: 'fhir', check: () => new Promise<boolean>(() => undefined) }],
    checkTimeoutMs: 3_000,
  });
  try {
    for (const path of ['/ready', '/health']) {
      const t0 = performance.now();
      const res = await fetch(`${srv.url}${path}`);
      const ms = performance.now() - t0;
      assert.equal(res.status, path === '/ready' ? 503 : 200);
      // Not a speed test: a probe that ran the check would wait out its 3 s limit.
      assert.ok(ms < 2_500, `${path} waited ${ms} ms on a hanging check`);
    }
  } finally {
    await srv.close();
  }
});

test('a stale result counts as not ready; before the first round nothing is ready', () => {
  const cache = new CheckCache([{ name: 'a', check: () => true }], { intervalMs: 1000, timeoutMs: 100, staleMs: 500 });
  assert.deepEqual(cache.snapshot(), { ready: false, checks: { a: false } });
  return cache.refresh().then(() => {
    assert.equal(cache.snapshot().ready, true);
    const later = cache.snapshot(Date.now() + 10_000);
    assert.equal(later.ready, false);
    assert.equal(later.stale, true);
  });
});

test('a readiness check that hangs or throws counts as not ready', async () => {
  const r = await runReadiness(
    [
      { name: 'hangs', check: () => new Promise<boolean>(() => undefined) },
      { name: 'throws', check: async () => { throw new Error('x'); } },
      { name: 'ok', check: async () => true },
    ],
    50,
  );
  assert.deepEqual(r, { ready: false, checks: { hangs: false, throws: false, ok: true } });
});

test('JSON routes: 200 with the body, 503 when the handler rejects, 404 for other paths and inherited names', async () => {
  let fail = false;
  const srv = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry: createMetrics({ defaultMetrics: false }).registry,
    checks: [],
    routes: { '/queue': async () => (fail ? Promise.reject(new Error('down')) : { live: { total: 3 }, total: 3 }) },
  });
  try {
    const ok = await fetch(`${srv.url}/queue?x=1`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await ok.json(), { live: { total: 3 }, total: 3 });
    fail = true;
    assert.equal((await fetch(`${srv.url}/queue`)).status, 503);
    assert.equal((await fetch(`${srv.url}/constructor`)).status, 404);
    assert.equal((await fetch(`${srv.url}/nope`)).status, 404);
  } finally {
    await srv.close();
  }
});
