import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices } from '../support/services.ts';

/**
 * The FHIR server behaviours the writer relies on, against the real server
 * (the local HAPI of `medner stack up`, or whatever FHIR_BASE_URL names).
 */
const svc = await integrationServices(['fhir']);
const base = svc.ok ? svc.services.fhirBaseUrl : '';

interface Reply<T> {
  status: number;
  body: T;
  location: string | null;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
  // `path` keeps a raw `|` in the query: the server must accept it (Tomcat relaxed-query-chars).
  const res = await fetch(`${base}/${path}`, {
    method,
    headers: { accept: 'application/fhir+json', ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, location: res.headers.get('location') };
}

/** A test-run-unique identifier system, so runs never see each other's resources. */
const newSystem = () => `urn:medner:test:${randomUUID()}`;

function condition(system: string, value: string, text: string, tag?: fhir4.Coding): fhir4.Condition {
  return {
    resourceType: 'Condition',
    ...(tag ? { meta: { tag: [tag] } } : {}),
    identifier: [{ system, value }],
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    // A Patient that does not exist on this server: the source EHR owns it.
    subject: { reference: `Patient/${randomUUID()}` },
    code: { text },
  };
}

const idsOf = (b: fhir4.Bundle) => (b.entry ?? []).map((e) => e.resource?.id).sort();

test('fhir: create, read back, search by identifier and by _tag', { skip: svc.skip, timeout: 60_000 }, async () => {
  const system = newSystem();
  const tag = { system: 'urn:medner:test:tag', code: randomUUID() };
  const created = await call<fhir4.Condition>('POST', 'Condition', condition(system, 'c-1', 'asthma', tag));
  assert.equal(created.status, 201);
  const id = created.body.id;
  assert.ok(id, 'server assigned an id');
  assert.equal(created.body.meta?.versionId, '1');

  const read = await call<fhir4.Condition>('GET', `Condition/${id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body.identifier, [{ system, value: 'c-1' }]);
  assert.equal(read.body.code?.text, 'asthma');

  const byIdentifier = await call<fhir4.Bundle>('GET', `Condition?identifier=${system}|c-1`);
  assert.equal(byIdentifier.status, 200);
  assert.deepEqual(idsOf(byIdentifier.body), [id]);
  const otherValue = await call<fhir4.Bundle>('GET', `Condition?identifier=${system}|c-2`);
  assert.deepEqual(idsOf(otherValue.body), []);

  const byTag = await call<fhir4.Bundle>('GET', `Condition?_tag=${tag.system}|${tag.code}`);
  assert.equal(byTag.status, 200);
  assert.deepEqual(idsOf(byTag.body), [id]);
});

test('fhir: a search right after a write sees the write (no cached search results)', { skip: svc.skip, timeout: 60_000 }, async () => {
  const system = newSystem();
  const query = `Condition?identifier=${system}|`;
  assert.deepEqual(idsOf((await call<fhir4.Bundle>('GET', query)).body), []);
  const a = await call<fhir4.Condition>('POST', 'Condition', condition(system, 'a', 'x'));
  assert.deepEqual(idsOf((await call<fhir4.Bundle>('GET', query)).body), [a.body.id]);
  const b = await call<fhir4.Condition>('POST', 'Condition', condition(system, 'b', 'y'));
  assert.deepEqual(idsOf((await call<fhir4.Bundle>('GET', query)).body), [a.body.id, b.body.id].sort());
});

test('fhir: conditional update by identifier creates once, is a no-op when identical, versions on change', { skip: svc.skip, timeout: 60_000 }, async () => {
  const system = newSystem();
  const url = `Condition?identifier=${system}|cu-1`;
  const resource = condition(system, 'cu-1', 'type 2 diabetes');

  const first = await call<fhir4.Condition>('PUT', url, resource);
  assert.equal(first.status, 201, 'no match: created');
  const id = first.body.id;
  assert.equal(first.body.meta?.versionId, '1');

  // HAPI detects identical content and does not write a new version.
  const same = await call<fhir4.Condition>('PUT', url, resource);
  assert.equal(same.status, 200);
  assert.equal(same.body.id, id);
  assert.equal(same.body.meta?.versionId, '1');

  const changed = await call<fhir4.Condition>('PUT', url, { ...resource, code: { text: 'type 1 diabetes' } });
  assert.equal(changed.status, 200);
  assert.equal(changed.body.id, id);
  assert.equal(changed.body.meta?.versionId, '2');

  const search = await call<fhir4.Bundle>('GET', url);
  assert.deepEqual(idsOf(search.body), [id], 'still exactly one resource for the identifier');
  assert.equal((search.body.entry?.[0]?.resource as fhir4.Condition).code?.text, 'type 1 diabetes');
});

// What the output stage relies on for resources that many documents share (Patient, Device):
// HAPI serializes concurrent conditional creates of one identifier (its search-URL table), so
// racing writers never make two. Concurrent conditional PUTs carry no such guarantee (two can
// both create), which is why shared resources are written as conditional creates.
test('fhir: concurrent conditional creates of one identifier make exactly one resource', { skip: svc.skip, timeout: 60_000 }, async () => {
  const system = newSystem();
  const resource = condition(system, 'race', 'x');
  const post = async (): Promise<number> => {
    const res = await fetch(`${base}/Condition`, {
      method: 'POST',
      headers: { accept: 'application/fhir+json', 'content-type': 'application/fhir+json', 'if-none-exist': `identifier=${system}|race` },
      body: JSON.stringify(resource),
      signal: AbortSignal.timeout(30_000),
    });
    await res.text();
    return res.status;
  };
  const statuses = await Promise.all(Array.from({ length: 6 }, post));
  for (const st of statuses) assert.ok([200, 201, 409].includes(st), `status ${st}`);
  assert.ok(statuses.filter((st) => st === 201).length <= 1, statuses.join(','));
  // A retry after a 409 finds the winner; in the end exactly one resource exists.
  assert.equal(await post(), 200);
  assert.equal((await call<fhir4.Bundle>('GET', `Condition?identifier=${system}|race`)).body.entry?.length, 1);
});

test('fhir: transaction Bundle with two conditional PUTs, replayed idempotently', { skip: svc.skip, timeout: 60_000 }, async () => {
  const system = newSystem();
  const bundle: fhir4.Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: ['t-1', 't-2'].map((value) => ({
      // every resource entry has a fullUrl (a validating server refuses a transaction without)
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: condition(system, value, `finding ${value}`),
      request: { method: 'PUT', url: `Condition?identifier=${system}|${value}` },
    })),
  };
  const first = await call<fhir4.Bundle>('POST', '', bundle);
  assert.equal(first.status, 200);
  assert.equal(first.body.type, 'transaction-response');
  const statuses = (b: fhir4.Bundle) => (b.entry ?? []).map((e) => e.response?.status);
  const locations = (b: fhir4.Bundle) => (b.entry ?? []).map((e) => e.response?.location);
  assert.deepEqual(statuses(first.body), ['201 Created', '201 Created']);
  for (const loc of locations(first.body)) assert.match(loc ?? '', /^Condition\/[^/]+\/_history\/1$/);

  // Subjects differ per call in condition(): replay the very same bundle for a true no-op.
  const replay = await call<fhir4.Bundle>('POST', '', bundle);
  assert.equal(replay.status, 200);
  assert.deepEqual(statuses(replay.body), ['200 OK', '200 OK']);
  assert.deepEqual(locations(replay.body), locations(first.body), 'same ids, same version 1');

  const all = await call<fhir4.Bundle>('GET', `Condition?identifier=${system}|`);
  assert.equal(all.body.entry?.length, 2);
});

test('fhir: client-assigned ids of any form, including numeric', { skip: svc.skip, timeout: 60_000 }, async () => {
  const system = newSystem();
  for (const id of [`m${randomUUID().slice(0, 8)}`, String(Date.now()) + String(Math.floor(Math.random() * 1000))]) {
    const put = await call<fhir4.Condition>('PUT', `Condition/${id}`, { ...condition(system, id, 'x'), id });
    assert.equal(put.status, 201, `PUT Condition/${id}`);
    const read = await call<fhir4.Condition>('GET', `Condition/${id}`);
    assert.equal(read.body.id, id);
  }
});

test('fhir: $validate reports problems in an invalid resource', { skip: svc.skip, timeout: 120_000 }, async () => {
  const good = await call<fhir4.OperationOutcome>('POST', 'Condition/$validate', condition(newSystem(), 'v', 'x'));
  assert.equal(good.status, 200);
  assert.ok(!good.body.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'), JSON.stringify(good.body.issue));
  // Condition.subject is required (1..1).
  const { subject: _dropped, ...bad } = condition(newSystem(), 'v', 'x');
  const res = await call<fhir4.OperationOutcome>('POST', 'Condition/$validate', bad);
  assert.ok(res.body.issue.some((i) => i.severity === 'error'), JSON.stringify(res.body.issue));
});
