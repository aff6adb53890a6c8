import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { buildDocumentTransaction, DERIVED_RESOURCE_TYPES } from '../../src/fhir/document-output.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { planWrite } from '../../src/fhir/reconcile.ts';
import { URI } from '../../src/fhir/uris.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
const v2 = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
const fhirDoc = JSON.parse(readFileSync(new URL('../fixtures/fhir/fhir-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
const model = { name: 'm', version: '1' };

function ents(doc: ClinicalDocument, words: [string, string][]) {
  return words.map(([w, label]) => {
    const start = doc.text.indexOf(w);
    assert.ok(start >= 0, w);
    return { start, end: start + w.length, text: w, label, score: 0.9 };
  });
}

/** What HAPI would hold after the transaction: urn:uuid references resolved, versions stripped, meta added. */
function serverCopy(bundle: fhir4.Bundle, patientId = 'Patient/42'): Map<string, fhir4.Resource> {
  const refs = new Map<string, string>();
  for (const e of bundle.entry ?? []) {
    if (e.fullUrl) refs.set(e.fullUrl, e.request?.method === 'POST' ? patientId : e.request!.url!);
  }
  const out = new Map<string, fhir4.Resource>();
  for (const e of bundle.entry ?? []) {
    if (e.request?.method !== 'PUT' || e.resource?.resourceType === 'Device') continue;
    const r = JSON.parse(JSON.stringify(e.resource), (k, v: unknown) =>
      k === 'reference' && typeof v === 'string' ? (refs.get(v) ?? v).replace(/\/_history\/\d+$/, '') : v,
    ) as fhir4.Resource;
    r.meta = { versionId: '3', lastUpdated: '2026-01-01T00:00:00Z', source: '#x', ...r.meta, tag: [...(r.meta?.tag ?? [])].reverse() };
    out.set(e.request.url!, r);
  }
  return out;
}

test('a replay plans nothing: equal content (meta, tag order, versioned references, the Patient id aside) is unchanged', () => {
  for (const doc of [v2, fhirDoc]) {
    const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, ents(doc, [['pneumonia', 'Disease']])), model, mapping });
    const stored = serverCopy(out.bundle);
    const plan = planWrite(out.bundle, stored, DERIVED_RESOURCE_TYPES);
    assert.deepEqual(plan.entries, [], doc.format);
    assert.equal(plan.unchanged.length, stored.size);
    assert.deepEqual([plan.created, plan.updated, plan.retracted, plan.deleted], [[], [], [], []]);
  }
});

test('Provenance.recorded (the time of the run) is not a change; its targets are', () => {
  const out = buildDocumentTransaction({ doc: v2, entities: assertEntities(v2.text, ents(v2, [['pneumonia', 'Disease']])), model, mapping });
  const stored = serverCopy(out.bundle);
  const prov = [...stored.values()].find((r) => r.resourceType === 'Provenance') as fhir4.Provenance;
  prov.recorded = '2020-01-01T00:00:00Z';
  assert.deepEqual(planWrite(out.bundle, stored, DERIVED_RESOURCE_TYPES).entries, []);
  prov.target = prov.target.slice(0, 0);
  const plan = planWrite(out.bundle, stored, DERIVED_RESOURCE_TYPES);
  assert.deepEqual(plan.updated, [`Provenance/${prov.id}`]);
  assert.deepEqual(plan.changedFields[`Provenance/${prov.id}`], ['target']);
  // the left-out Condition is referenced literally, the Patient create and our DocumentReference stay consistent
  const sent = plan.entries.find((e) => e.resource?.resourceType === 'Provenance')!.resource as fhir4.Provenance;
  assert.ok(sent.target.every((t) => /^Condition\/medner-/.test(t.reference!)), JSON.stringify(sent.target));
  assert.ok(plan.entries.some((e) => e.request?.method === 'POST' && e.resource?.resourceType === 'Patient'));
});

test('a run that yields less retracts the rest; a score change updates; another run\'s Provenance is deleted', () => {
  const first = buildDocumentTransaction({ doc: fhirDoc, entities: assertEntities(fhirDoc.text, ents(fhirDoc, [['pneumonia', 'Disease'], ['amoxicillin', 'Chemical']])), model, mapping });
  const stored = serverCopy(first.bundle);
  const next = buildDocumentTransaction({
    doc: fhirDoc,
    entities: assertEntities(fhirDoc.text, ents(fhirDoc, [['pneumonia', 'Disease']]).map((e) => ({ ...e, score: 0.8 }))),
    model: { name: 'm', version: '2' },
    mapping,
  });
  const plan = planWrite(next.bundle, stored, DERIVED_RESOURCE_TYPES);
  const med = [...stored.keys()].find((k) => k.startsWith('MedicationStatement/'))!;
  const oldProv = [...stored.keys()].find((k) => k.startsWith('Provenance/'))!;
  assert.deepEqual(plan.retracted, [med]);
  assert.deepEqual(plan.deleted, [oldProv]);
  assert.equal(plan.updated.length, 1);
  assert.match(plan.updated[0]!, /^Condition\//);
  assert.deepEqual(plan.changedFields[plan.updated[0]!], ['extension', 'meta']);
  assert.equal(plan.created.length, 1);
  assert.match(plan.created[0]!, /^Provenance\//);
  const retracted = plan.entries.find((e) => e.request?.url === med)!.resource as fhir4.MedicationStatement;
  assert.equal(retracted.status, 'entered-in-error');
  assert.deepEqual(plan.entries.find((e) => e.request?.url === oldProv), { request: { method: 'DELETE', url: oldProv } });
  // every entry with a resource has a fullUrl, each its own (a validating server refuses the transaction otherwise)
  const fullUrls = plan.entries.filter((e) => e.resource).map((e) => e.fullUrl);
  assert.ok(fullUrls.every((u) => u?.startsWith('urn:uuid:')), JSON.stringify(fullUrls));
  assert.equal(new Set(fullUrls).size, fullUrls.length);
  // once written, nothing more to do (an already retracted resource stays as it is)
  const after = new Map([...serverCopy(next.bundle), [med, retracted]]);
  assert.deepEqual(planWrite(next.bundle, after, DERIVED_RESOURCE_TYPES).entries, []);
});

test('tags the server carried forward (an earlier model tag) are not a difference a PUT could remove; ours are removed with $meta-delete', () => {
  const out = buildDocumentTransaction({ doc: fhirDoc, entities: assertEntities(fhirDoc.text, ents(fhirDoc, [['pneumonia', 'Disease']])), model, mapping });
  const stored = serverCopy(out.bundle);
  const oldModel = { system: URI.modelTag, code: 'm@0' };
  for (const r of stored.values()) r.meta!.tag!.push({ system: 'https://example.org/theirs', code: 'x' }, oldModel);
  const plan = planWrite(out.bundle, stored, DERIVED_RESOURCE_TYPES);
  assert.deepEqual(plan.entries, []);
  assert.deepEqual(Object.keys(plan.staleTags).sort(), [...stored.keys()].sort());
  for (const tags of Object.values(plan.staleTags)) assert.deepEqual(tags, [oldModel], 'only our own systems');
  // a tag we write that the server lacks is one
  for (const r of stored.values()) r.meta!.tag = r.meta!.tag!.slice(1);
  assert.ok(planWrite(out.bundle, stored, DERIVED_RESOURCE_TYPES).updated.length > 0);
});
