import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { FhirServerWriter, needsReconcile, retract } from '../../src/fhir/fhir-writer.ts';
import { FhirError, type FhirClient } from '../../src/fhir/fhir-client.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { assertEntities } from '../../src/nlp/assertions.ts';

test('retract marks each derived type entered-in-error the way its R4 definition allows', () => {
  const cond: fhir4.Condition = {
    resourceType: 'Condition',
    id: 'c1',
    meta: { versionId: '3', lastUpdated: '2024-01-01T00:00:00Z', tag: [{ system: 's', code: 'c' }] },
    clinicalStatus: { coding: [{ code: 'active' }] },
    verificationStatus: { coding: [{ code: 'confirmed' }] },
    subject: { reference: 'Patient/1' },
  };
  const r = retract('Condition', cond) as fhir4.Condition;
  assert.equal(r.verificationStatus?.coding?.[0]?.code, 'entered-in-error');
  assert.equal(r.clinicalStatus, undefined, 'con-5');
  assert.equal(r.meta?.versionId, undefined);
  assert.deepEqual(r.meta?.tag, [{ system: 's', code: 'c' }], 'tags kept so a later reconciliation still finds it');
  assert.equal(cond.verificationStatus?.coding?.[0]?.code, 'confirmed', 'input not mutated');
  assert.equal(retract('Condition', r), undefined, 'already retracted: nothing to write');

  const types = ['Observation', 'MedicationStatement', 'Procedure', 'FamilyMemberHistory'] as const;
  for (const t of types) {
    const res = { resourceType: t, id: 'x', status: 'final' } as unknown as fhir4.Resource;
    const out = retract(t, res) as unknown as { status: string };
    assert.equal(out.status, 'entered-in-error', t);
    assert.equal(retract(t, out as unknown as fhir4.Resource), undefined, t);
  }

  const allergy: fhir4.AllergyIntolerance = { resourceType: 'AllergyIntolerance', id: 'a1', clinicalStatus: { coding: [{ code: 'active' }] }, patient: { reference: 'Patient/1' } };
  const ra = retract('AllergyIntolerance', allergy) as fhir4.AllergyIntolerance;
  assert.equal(ra.verificationStatus?.coding?.[0]?.code, 'entered-in-error');
  assert.equal(ra.verificationStatus?.coding?.[0]?.system, 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification');
  assert.equal(ra.clinicalStatus, undefined, 'ait-2');
  assert.equal((ra as unknown as { status?: string }).status, undefined, 'AllergyIntolerance has no status element');
  assert.equal(retract('AllergyIntolerance', ra), undefined);
});

test('reconcile on edits, replacements, amendments and cancellations only', () => {
  const doc = (lifecycle: ClinicalDocument['lifecycle'], extra: Partial<ClinicalDocument> = {}) => ({ lifecycle, status: 'current', docStatus: 'final', ...extra }) as ClinicalDocument;
  assert.equal(needsReconcile(doc({ action: 'original' })), false);
  assert.equal(needsReconcile(doc({ action: 'append', parentId: 'p' })), false);
  assert.equal(needsReconcile(doc({ action: 'edit' })), true);
  assert.equal(needsReconcile(doc({ action: 'replace', parentId: 'p' })), true);
  assert.equal(needsReconcile(doc({ action: 'cancel' })), true);
  assert.equal(needsReconcile(doc({ action: 'original' }, { docStatus: 'amended' })), true);
  assert.equal(needsReconcile(doc({ action: 'status-change' }, { status: 'entered-in-error' })), true);
});

/**
 * A stand-in for the FHIR server's referential integrity, enough to drive the
 * writer's Device handling: a transaction whose Provenance names a Device that
 * neither the Bundle nor the "server" holds is rejected (HAPI-1094 style, 400).
 */
function fakeServer(opts: { enforce: boolean }) {
  const devices = new Set<string>();
  const sent: string[][] = [];
  let failNext: FhirError | undefined;
  const client = {
    async transaction(b: fhir4.Bundle): Promise<fhir4.Bundle> {
      sent.push((b.entry ?? []).map((e) => `${e.request!.method} ${e.resource!.resourceType}`));
      if (failNext) {
        const f = failNext;
        failNext = undefined;
        throw f;
      }
      const inBundle = new Set((b.entry ?? []).filter((e) => e.resource?.resourceType === 'Device').map((e) => e.request!.url));
      for (const e of b.entry ?? []) {
        const who = (e.resource as fhir4.Provenance | undefined)?.agent?.[0]?.who?.reference;
        if (opts.enforce && who && !inBundle.has(who) && !devices.has(who)) throw new FhirError('FHIR_REJECTED', 'referential integrity', { status: 400 });
      }
      for (const d of inBundle) devices.add(d);
      return { resourceType: 'Bundle', type: 'transaction-response', entry: [] };
    },
    async search() {
      return [];
    },
    async read() {
      return undefined;
    },
  };
  return { client: client as unknown as FhirClient, devices, sent, failOnce: (e: FhirError) => (failNext = e) };
}

const v2 = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
const outFor = (doc: ClinicalDocument) => {
  const start = doc.text.indexOf('pneumonia');
  return buildDocumentTransaction({
    doc,
    entities: assertEntities(doc.text, [{ start, end: start + 9, text: 'pneumonia', label: 'Disease', score: 0.9 }]),
    model: { name: 'm', version: '1' },
    mapping: loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE)),
  });
};
const hasDevice = (entries: string[]) => entries.includes('PUT Device');

test('the writer sends the shared Device until a transaction with it succeeded, then leaves it out', async () => {
  const s = fakeServer({ enforce: true });
  const w = new FhirServerWriter(s.client);
  await w.writeDocument(v2, outFor(v2));
  await w.writeDocument(v2, outFor(v2));
  await w.writeDocument(v2, outFor(v2));
  assert.deepEqual(s.sent.map(hasDevice), [true, false, false]);
  assert.deepEqual(s.sent[1], ['POST Patient', 'PUT DocumentReference', 'PUT Condition', 'PUT Provenance']);
  // a transaction that failed does not count as the Device written
  const f = fakeServer({ enforce: true });
  const w2 = new FhirServerWriter(f.client);
  f.failOnce(new FhirError('FHIR_UNAVAILABLE', 'down', { retriable: true, status: 503 }));
  await assert.rejects(w2.writeDocument(v2, outFor(v2)));
  await w2.writeDocument(v2, outFor(v2));
  assert.deepEqual(f.sent.map(hasDevice), [true, true]);
});

test('a Device the server lost: rejected once, sent again with the Device; without integrity checks, back at the next refresh', async () => {
  const s = fakeServer({ enforce: true });
  const w = new FhirServerWriter(s.client);
  await w.writeDocument(v2, outFor(v2));
  s.devices.clear(); // server reset
  await w.writeDocument(v2, outFor(v2));
  assert.deepEqual(s.sent.map(hasDevice), [true, false, true], 'the rejected lean transaction is resent with the Device');
  assert.equal(s.devices.size, 1);
  await w.writeDocument(v2, outFor(v2));
  assert.equal(hasDevice(s.sent.at(-1)!), false, 'and left out again afterwards');

  // other errors are not resent
  const r = fakeServer({ enforce: true });
  const wr = new FhirServerWriter(r.client);
  await wr.writeDocument(v2, outFor(v2));
  r.failOnce(new FhirError('FHIR_UNAVAILABLE', 'down', { retriable: true, status: 503 }));
  await assert.rejects(wr.writeDocument(v2, outFor(v2)), (e: unknown) => e instanceof FhirError && e.code === 'FHIR_UNAVAILABLE');
  assert.equal(r.sent.length, 2);

  // a rejection of a transaction that carried the Device anyway is not resent
  const q = fakeServer({ enforce: true });
  q.failOnce(new FhirError('FHIR_REJECTED', 'invalid', { status: 422 }));
  await assert.rejects(new FhirServerWriter(q.client).writeDocument(v2, outFor(v2)), (e: unknown) => e instanceof FhirError && e.code === 'FHIR_REJECTED');
  assert.equal(q.sent.length, 1);

  const lax = fakeServer({ enforce: false });
  const wl = new FhirServerWriter(lax.client, { deviceRefreshMs: 1000 });
  await wl.writeDocument(v2, outFor(v2));
  lax.devices.clear();
  await wl.writeDocument(v2, outFor(v2));
  assert.equal(lax.devices.size, 0, 'no integrity check: accepted without the Device');
  await new Promise((r) => setTimeout(r, 1100));
  await wl.writeDocument(v2, outFor(v2));
  assert.deepEqual(lax.sent.map(hasDevice), [true, false, true]);
  assert.equal(lax.devices.size, 1, 'back after deviceRefreshMs');
});
