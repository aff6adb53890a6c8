import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as fhir4 from 'fhir/r4.js';
import { FhirClient, FhirError, summarizeOutcome, type FhirClientOptions } from '../../src/fhir/fhir-client.ts';
import { MednerError, isRetriable } from '../../src/core/errors.ts';

/** A scripted fetch: each call takes the next step; records what was sent. */
function scripted(steps: (Response | Error | ((url: string, init: RequestInit) => Response))[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const impl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init: init ?? {} });
    const step = steps.shift();
    if (!step) throw new Error('unexpected extra request');
    if (step instanceof Error) throw step;
    return typeof step === 'function' ? step(url, init ?? {}) : step;
  }) as typeof fetch;
  return { impl, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/fhir+json', ...headers } });
const outcome = (code: string): fhir4.OperationOutcome => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: code as 'invalid', diagnostics: 'HAPI-0450: bad thing' }] });
const BUNDLE: fhir4.Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [] };
const OK: fhir4.Bundle = { resourceType: 'Bundle', type: 'transaction-response', entry: [] };

function client(fetchImpl: typeof fetch, extra: Partial<FhirClientOptions> = {}) {
  const sleeps: number[] = [];
  const c = new FhirClient({
    baseUrl: 'http://fhir.test/fhir/',
    timeoutMs: 1000,
    auth: { kind: 'none' },
    fetchImpl,
    sleep: async (ms) => void sleeps.push(ms),
    ...extra,
  });
  return { c, sleeps };
}

test('transaction POSTs the bundle to the base as FHIR JSON', async () => {
  const s = scripted([json(200, OK)]);
  const { c } = client(s.impl);
  assert.deepEqual(await c.transaction(BUNDLE), OK);
  assert.equal(s.calls[0]!.url, 'http://fhir.test/fhir/');
  assert.equal(s.calls[0]!.init.method, 'POST');
  assert.equal((s.calls[0]!.init.headers as Record<string, string>)['content-type'], 'application/fhir+json');
  // The writer needs only each entry's status: no resources echoed back, no compression of so small a reply.
  assert.equal((s.calls[0]!.init.headers as Record<string, string>)['prefer'], 'return=minimal');
  assert.equal((s.calls[0]!.init.headers as Record<string, string>)['accept-encoding'], 'identity');
  assert.deepEqual(JSON.parse(String(s.calls[0]!.init.body)), BUNDLE);
});

test('retries 503, 429 (honouring Retry-After), network errors and timeouts, then succeeds', async () => {
  const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
  const s = scripted([json(503, outcome('transient')), json(429, {}, { 'retry-after': '2' }), new TypeError('fetch failed'), timeout, json(200, OK)]);
  const { c, sleeps } = client(s.impl);
  assert.deepEqual(await c.transaction(BUNDLE), OK);
  assert.equal(s.calls.length, 5);
  assert.equal(sleeps.length, 4);
  assert.ok(sleeps[1]! >= 2000, `Retry-After honoured (${sleeps[1]})`);
  assert.ok(sleeps[0]! <= 200 && sleeps[2]! <= 800 && sleeps[3]! <= 1600, `backoff within exponential caps: ${sleeps.join(',')}`);
});

test('gives up after maxRetries with a retriable FHIR_UNAVAILABLE', async () => {
  const s = scripted([json(500, outcome('exception')), json(502, {}), json(500, outcome('exception'))]);
  const { c } = client(s.impl, { maxRetries: 2 });
  await assert.rejects(c.transaction(BUNDLE), (e: unknown) => {
    assert.ok(e instanceof FhirError && e instanceof MednerError);
    assert.equal(e.code, 'FHIR_UNAVAILABLE');
    assert.equal(isRetriable(e), true);
    assert.equal(e.status, 500);
    assert.match(e.message, /3 attempts/);
    return true;
  });
  assert.equal(s.calls.length, 3);
});

test('400 is FHIR_REJECTED, not retried, carrying the OperationOutcome; messages hold no ids or search values', async () => {
  const s = scripted([json(400, outcome('invalid'))]);
  const { c } = client(s.impl);
  await assert.rejects(c.search('Condition', { identifier: 'urn:mrn|SECRET-MRN' }), (e: unknown) => {
    assert.ok(e instanceof FhirError);
    assert.equal(e.code, 'FHIR_REJECTED');
    assert.equal(e.retriable, false);
    assert.equal(e.outcome?.issue[0]?.code, 'invalid');
    assert.ok(!e.message.includes('SECRET'), e.message);
    assert.match(e.message, /Condition: HTTP 400 \(error\/invalid HAPI-0450\)/);
    return true;
  });
  assert.equal(s.calls.length, 1);
});

test('a refusal message lists every error before any warning, with element paths and message ids, never diagnostics or ids', () => {
  const mid = (id: string) => [{ url: 'http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id', valueString: id }];
  const warning = (n: number): fhir4.OperationOutcomeIssue => ({ severity: 'warning', code: 'invalid', diagnostics: `dom-6 SECRET-${n}`, expression: [`Bundle.entry[${n}].resource`], extension: mid('http://hl7.org/fhir/StructureDefinition/DomainResource#dom-6') });
  const o: fhir4.OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      warning(0),
      warning(1),
      warning(2),
      warning(3),
      { severity: 'error', code: 'structure', diagnostics: 'HAPI-1234: SECRET-MRN', location: ['Bundle.entry[4].resource/*Condition/SECRET-ID*/.extension[0]'], extension: mid('Extension_EXT_Unknown') },
      { severity: 'error', code: 'code-invalid', diagnostics: 'Unknown code SECRET', expression: ['Bundle.entry[5].resource.code'] },
    ],
  };
  const text = summarizeOutcome(o);
  assert.equal(text, 'error/structure Bundle.entry[4].resource.extension[0] [Extension_EXT_Unknown] HAPI-1234; error/code-invalid Bundle.entry[5].resource.code; +4 more');
  assert.ok(!text.includes('SECRET'), text);
  // no error: up to three warnings, then the count
  const w = summarizeOutcome({ resourceType: 'OperationOutcome', issue: [warning(0), warning(1), warning(2), warning(3)] });
  assert.match(w, /^warning\/invalid Bundle\.entry\[0\]\.resource; .*; warning\/invalid Bundle\.entry\[2\]\.resource; \+1 more$/);
  // many errors: the first 20, and how many errors were left out
  const many = summarizeOutcome({ resourceType: 'OperationOutcome', issue: Array.from({ length: 25 }, (_, n) => ({ severity: 'error' as const, code: 'invalid' as const, expression: [`Bundle.entry[${n}]`] })) });
  assert.equal(many.split('; ').length, 21);
  assert.match(many, /\+5 more \(5 errors\)$/);
});

test('412 is FHIR_MULTIPLE_MATCHES, not retried', async () => {
  const s = scripted([json(412, outcome('processing'))]);
  const { c } = client(s.impl);
  await assert.rejects(c.transaction(BUNDLE), (e: unknown) => e instanceof FhirError && e.code === 'FHIR_MULTIPLE_MATCHES' && !e.retriable && e.status === 412);
  assert.equal(s.calls.length, 1);
});

test('read returns undefined on 404; search follows next links and keeps only matches', async () => {
  const page1: fhir4.Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'next', url: 'http://fhir.test/fhir?_getpages=abc&_getpagesoffset=1' }],
    entry: [
      { resource: { resourceType: 'Condition', id: '1', subject: {} }, search: { mode: 'match' } },
      { resource: { resourceType: 'Patient', id: 'p' }, search: { mode: 'include' } },
    ],
  };
  const page2: fhir4.Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Condition', id: '2', subject: {} } }] };
  const s = scripted([json(404, outcome('not-found')), json(200, page1), json(200, page2)]);
  const { c } = client(s.impl);
  assert.equal(await c.read('Condition', 'nope'), undefined);
  const found = await c.search('Condition', { _tag: 'http://x|y' });
  assert.deepEqual(found.map((r) => r.id), ['1', '2']);
  assert.equal(s.calls[1]!.url, 'http://fhir.test/fhir/Condition?_tag=http%3A%2F%2Fx%7Cy');
  assert.equal(s.calls[2]!.url, 'http://fhir.test/fhir?_getpages=abc&_getpagesoffset=1');
});

test('bearer token goes in the Authorization header', async () => {
  const s = scripted([json(200, OK)]);
  const { c } = client(s.impl, { auth: { kind: 'bearer', token: 't0k' } });
  await c.transaction(BUNDLE);
  assert.equal((s.calls[0]!.init.headers as Record<string, string>).authorization, 'Bearer t0k');
});

test('OAuth2 client credentials: token fetched once, cached, refreshed after a 401', async () => {
  let issued = 0;
  const token = () => json(200, { access_token: `tok-${++issued}`, token_type: 'Bearer', expires_in: 3600 });
  const s = scripted([token, json(200, OK), json(200, OK), json(401, outcome('login')), token, json(200, OK)]);
  const { c } = client(s.impl, { auth: { kind: 'oauth2', tokenUrl: 'http://auth.test/token', clientId: 'medner', clientSecret: 's3cret' } });
  await c.transaction(BUNDLE);
  await c.transaction(BUNDLE);
  await c.transaction(BUNDLE);
  const urls = s.calls.map((x) => x.url);
  assert.deepEqual(urls, ['http://auth.test/token', 'http://fhir.test/fhir/', 'http://fhir.test/fhir/', 'http://fhir.test/fhir/', 'http://auth.test/token', 'http://fhir.test/fhir/']);
  const tokenReq = s.calls[0]!.init;
  assert.equal(String(tokenReq.body), 'grant_type=client_credentials');
  assert.equal((tokenReq.headers as Record<string, string>).authorization, `Basic ${Buffer.from('medner:s3cret').toString('base64')}`);
  assert.equal((s.calls[2]!.init.headers as Record<string, string>).authorization, 'Bearer tok-1');
  assert.equal((s.calls[5]!.init.headers as Record<string, string>).authorization, 'Bearer tok-2');
});

test('OAuth2: a refused client is FHIR_AUTH and not retried', async () => {
  const s = scripted([json(401, { error: 'invalid_client' })]);
  const { c } = client(s.impl, { auth: { kind: 'oauth2', tokenUrl: 'http://auth.test/token', clientId: 'x', clientSecret: 'y' } });
  await assert.rejects(c.transaction(BUNDLE), (e: unknown) => e instanceof FhirError && e.code === 'FHIR_AUTH' && !e.retriable);
  assert.equal(s.calls.length, 1);
});
