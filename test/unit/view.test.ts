import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as fhir4 from 'fhir/r4.js';
import { loadConfig } from '../../src/config/config.ts';
import { HL7, URI } from '../../src/fhir/uris.ts';
import { escapeHtml, html } from '../../src/view/html.ts';
import { decodeCursor, encodeCursor, typeStyle } from '../../src/view/pages.ts';
import { summarize } from '../../src/view/patient-summary.ts';
import { readResource } from '../../src/view/resources.ts';
import { authorized, CONTENT_SECURITY_POLICY } from '../../src/view/server.ts';
import { layoutSpans, type LayoutToken } from '../../src/view/text-layout.ts';

/** Rebuild, per span, the text its pieces cover, and check the markup nests. */
function covered(tokens: LayoutToken[]): { text: string; bySpan: Map<string, string> } {
  const stack: string[] = [];
  const bySpan = new Map<string, string>();
  let text = '';
  for (const t of tokens) {
    if (t.kind === 'open') stack.push(t.span);
    else if (t.kind === 'close') assert.ok(stack.pop() !== undefined, 'close without open');
    else {
      text += t.text;
      for (const s of new Set(stack)) bySpan.set(s, (bySpan.get(s) ?? '') + t.text);
    }
  }
  assert.equal(stack.length, 0, 'every piece closed');
  return { text, bySpan };
}

test('text layout: nested and crossing spans keep the text, and each span covers exactly its slice', () => {
  const text = 'Blood pressure 120/80 mmHg, chest pain radiating to left arm.';
  const spans = [
    { id: 'a', start: 0, end: 14 },
    { id: 'b', start: 15, end: 26 },
    { id: 'c', start: 0, end: 26 }, // encloses a and b
    { id: 'd', start: 28, end: 38 },
    { id: 'e', start: 34, end: 48 }, // crosses d
    { id: 'f', start: 34, end: 38 }, // same end as d
    { id: 'g', start: 100, end: 104 }, // outside
    { id: 'h', start: 5, end: 5 }, // empty
  ];
  const { tokens, outside } = layoutSpans(text, spans);
  assert.deepEqual(outside.sort(), ['g', 'h']);
  const { text: rebuilt, bySpan } = covered(tokens);
  assert.equal(rebuilt, text);
  for (const s of spans.filter((x) => !['g', 'h'].includes(x.id))) assert.equal(bySpan.get(s.id), text.slice(s.start, s.end), s.id);
  // the crossing span is split into pieces, and exactly one piece of each span is the last
  const opens = tokens.filter((t): t is Extract<LayoutToken, { kind: 'open' }> => t.kind === 'open');
  assert.ok(opens.filter((t) => t.span === 'e').length >= 2);
  for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) assert.equal(opens.filter((t) => t.span === id && t.last).length, 1, id);
  assert.equal(opens.filter((t) => t.span === 'e' && t.piece === 0).length, 1);
});

test('html escapes every interpolation, including note text with markup and entities', () => {
  const note = '<script>alert("x")</script> &amp; 5 < 6 \' `';
  assert.equal(html`<p title="${note}">${note}</p>`.value, `<p title="${escapeHtml(note)}">${escapeHtml(note)}</p>`);
  assert.ok(!escapeHtml(note).includes('<'));
  assert.ok(escapeHtml('&amp;').startsWith('&amp;amp;'));
  assert.equal(html`${[html`<b>`, '<i>']}`.value, '<b>&lt;i&gt;');
});

test('resources: several derivation-reference extensions, roles, assertions, codes, values and unknown types are read', () => {
  const ext = (offset: number, length: number, role?: string): fhir4.Extension => ({
    url: HL7.derivationReference,
    extension: [
      { url: 'reference', valueReference: { reference: 'DocumentReference/d1' } },
      { url: 'offset', valueInteger: offset },
      { url: 'length', valueInteger: length },
      ...(role ? [{ url: 'kind', valueCode: role }] : []),
    ],
  });
  const obs = {
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    extension: [ext(0, 5), ext(10, 3, 'value'), { url: URI.nlpScore, valueDecimal: 0.91 }, { url: URI.nlpAssertion, valueCode: 'historical' }],
    code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c' }], text: 'HbA1c' },
    valueQuantity: { value: 7.2, unit: '%' },
  } as unknown as fhir4.Observation;
  const v = readResource(obs, 0);
  assert.deepEqual(
    v.spans.map((s) => [s.start, s.end, s.role, s.id]),
    [
      [0, 5, 'mention', 'Observation-o1-0'],
      [10, 13, 'value', 'Observation-o1-1'],
    ],
  );
  assert.equal(v.text, 'HbA1c');
  assert.equal(v.value, '7.2 %');
  assert.deepEqual(v.quantity, { value: 7.2, unit: '%' });
  assert.deepEqual(v.assertions, ['historical']);
  assert.equal(v.score, 0.91);
  const unknown = readResource({ resourceType: 'ClinicalImpression', id: 'x', status: 'entered-in-error', extension: [ext(1, 2)], code: { text: 'thing' } } as unknown as fhir4.Resource, 1);
  assert.equal(unknown.text, 'thing');
  assert.equal(unknown.retracted, true);
  assert.equal(unknown.spans.length, 1);
  assert.match(typeStyle('ClinicalImpression').cls, /^ty-[6-9]$/);
  const allergy = readResource({ resourceType: 'AllergyIntolerance', id: 'a', patient: { reference: 'Patient/p' }, verificationStatus: { coding: [{ code: 'confirmed' }] }, code: { text: 'penicillin' } } as unknown as fhir4.Resource, 2);
  assert.equal(allergy.status, 'confirmed');
  assert.equal(allergy.subject, 'Patient/p');
});

test('patient summary: one concept once (by code, and a text some mention coded), negated kept apart in its counts, entered-in-error left out', () => {
  const cond = (id: string, text: string, code?: string, assertions: string[] = [], status = 'confirmed') =>
    readResource(
      {
        resourceType: 'Condition',
        id,
        verificationStatus: { coding: [{ code: status }] },
        code: { text, ...(code ? { coding: [{ system: 'http://snomed.info/sct', code, display: 'Pneumonia' }] } : {}) },
        extension: assertions.map((a) => ({ url: URI.nlpAssertion, valueCode: a })),
      } as unknown as fhir4.Resource,
      0,
    );
  const groups = summarize([
    { view: cond('1', 'pneumonia', '233604007'), provenanceId: 'p1', recorded: '2026-01-01' },
    { view: cond('2', 'Pneumonia ', undefined), provenanceId: 'p2', recorded: '2026-02-01' },
    { view: cond('3', 'pneumonia', '233604007', ['negated'], 'refuted'), provenanceId: 'p3', recorded: '2026-03-01' },
    { view: cond('4', 'fever'), provenanceId: 'p1', recorded: '2026-01-01' },
    { view: cond('5', 'sepsis', undefined, [], 'entered-in-error'), provenanceId: 'p1', recorded: '2026-01-01' },
  ]);
  assert.equal(groups.length, 1);
  const concepts = groups[0]!.concepts;
  assert.deepEqual(concepts.map((c) => [c.title, c.mentions.length]), [
    ['Pneumonia', 3],
    ['fever', 1],
  ]);
  assert.deepEqual(concepts[0]!.states, [
    ['affirmed', 2],
    ['negated', 1],
  ]);
});

test('cursor: only paging paths of the FHIR server survive a round trip', () => {
  assert.equal(decodeCursor(encodeCursor('?_getpages=abc&_getpagesoffset=25')), '?_getpages=abc&_getpagesoffset=25');
  assert.equal(decodeCursor(encodeCursor('Provenance?agent=Device/x&_offset=25')), 'Provenance?agent=Device/x&_offset=25');
  assert.equal(decodeCursor(encodeCursor('http://evil.example/x')), undefined);
  assert.equal(decodeCursor(encodeCursor('Patient/1')), undefined);
  assert.equal(decodeCursor(encodeCursor('?a=../../admin')), undefined);
  assert.equal(decodeCursor('not base64!'), undefined);
});

test('viewer config: defaults to 127.0.0.1:9465 without auth; bearer or basic; bad values named', () => {
  const c = loadConfig({});
  assert.deepEqual([c.view.host, c.view.port, c.view.auth.kind, c.view.fhirLinks], ['127.0.0.1', 9465, 'none', 'proxy']);
  assert.equal(loadConfig({ VIEW_FHIR_LINKS: 'direct' }).view.fhirLinks, 'direct');
  assert.throws(() => loadConfig({ VIEW_FHIR_LINKS: 'auto' }), /VIEW_FHIR_LINKS/);
  assert.deepEqual(loadConfig({ VIEW_BASIC_AUTH: 'ann:secret-pass:x' }).view.auth, { kind: 'basic', user: 'ann', password: 'secret-pass:x' });
  assert.throws(() => loadConfig({ VIEW_BASIC_AUTH: 'nopassword' }), /VIEW_BASIC_AUTH/);
  assert.throws(() => loadConfig({ VIEW_BEARER_TOKEN: 'short' }), /VIEW_BEARER_TOKEN/);
  assert.throws(() => loadConfig({ VIEW_BEARER_TOKEN: 'a'.repeat(20), VIEW_BASIC_AUTH: 'a:bbbbbbbbbb' }), /VIEW_BEARER_TOKEN/);
  assert.throws(() => loadConfig({ VIEW_PORT: '70000' }), /VIEW_PORT/);
});

test('viewer auth: the configured scheme only, compared whole', () => {
  const bearer = { kind: 'bearer' as const, token: 't'.repeat(20) };
  assert.equal(authorized({ kind: 'none' }, undefined), true);
  assert.equal(authorized(bearer, `Bearer ${'t'.repeat(20)}`), true);
  assert.equal(authorized(bearer, `Bearer ${'t'.repeat(19)}`), false);
  assert.equal(authorized(bearer, undefined), false);
  const basic = { kind: 'basic' as const, user: 'ann', password: 'pass-word' };
  assert.equal(authorized(basic, `Basic ${Buffer.from('ann:pass-word').toString('base64')}`), true);
  assert.equal(authorized(basic, `Basic ${Buffer.from('ann:pass-wore').toString('base64')}`), false);
  assert.equal(authorized(basic, `Bearer ${Buffer.from('ann:pass-word').toString('base64')}`), false);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|https?:/);
});
