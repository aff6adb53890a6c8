import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartBackoffMs, superviseStack } from '../../src/stack/supervise.ts';
import type { ManagedService, ServiceStatus } from '../../src/stack/service.ts';

/** A service whose process can die and whose start can fail, to drive the supervisor. */
function fakeService(name: string, managed: boolean) {
  const s = { alive: true, managed, failStarts: 0, starts: 0 };
  const svc: ManagedService = {
    name,
    address: `${name}:1`,
    isUp: async () => s.alive,
    status: async (): Promise<ServiceStatus> => ({ name, up: s.alive, address: `${name}:1`, managed: s.managed && s.alive }),
    up: async () => {
      s.starts++;
      if (s.failStarts > 0) {
        s.failStarts--;
        throw new Error('port busy');
      }
      s.alive = true;
      return { name, up: true, address: `${name}:1`, managed: s.managed };
    },
    down: async () => undefined,
  };
  return { svc, s };
}

test('restart backoff doubles from 1 s up to a minute', () => {
  assert.deepEqual([0, 1, 2, 3, 7, 20].map((n) => restartBackoffMs(n)), [0, 1000, 2000, 4000, 60000, 60000]);
});

test('a service this stack started is restarted when its process dies, with backoff after failed starts; others are left alone', async () => {
  let t = 0;
  const events: string[] = [];
  const fhir = fakeService('fhir', true);
  const kafka = fakeService('kafka', false); // someone else's: never restarted
  const sup = await superviseStack([fhir.svc, kafka.svc], { log: (e) => events.push(`${e.service}:${e.event}${e.backoffMs ? `:${e.backoffMs}` : ''}`), now: () => t, intervalMs: 60_000 });
  try {
    await sup.tick();
    assert.deepEqual(events, []);
    fhir.s.alive = false;
    kafka.s.alive = false;
    fhir.s.failStarts = 2;
    await sup.tick(); // fails, backoff 1 s
    await sup.tick(); // too early: no attempt
    assert.equal(fhir.s.starts, 1);
    t += 1_000;
    await sup.tick(); // fails again, backoff 2 s
    t += 1_999;
    await sup.tick();
    assert.equal(fhir.s.starts, 2);
    t += 1;
    await sup.tick(); // succeeds
    assert.equal(fhir.s.alive, true);
    assert.equal(sup.restarts.get('fhir'), 1);
    assert.equal(kafka.s.starts, 0, 'a service the stack did not start is not touched');
    assert.deepEqual(events, ['fhir:died', 'fhir:restarting', 'fhir:restart-failed:1000', 'fhir:restarting', 'fhir:restart-failed:2000', 'fhir:restarting', 'fhir:restarted']);
  } finally {
    sup.stop();
  }
});
