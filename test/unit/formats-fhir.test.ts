import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDocuments, type IntakeOptions } from '../../src/formats/intake.ts';
import { IntakeError } from '../../src/formats/errors.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url));
const parse = (name: string, extra: Partial<IntakeOptions> = {}): Promise<ClinicalDocument[]> =>
  parseDocuments(fixture(name), { source: { kind: 'kafka', topic: 'medner.documents.fhir', partition: 0, offset: '7' }, ...extra });
async function one(name: string, extra: Partial<IntakeOptions> = {}): Promise<ClinicalDocument> {
  const docs = await parse(name, extra);
  assert.equal(docs.length, 1);
  return docs[0]!;
}
async function rejects(name: string, code: string, extra: Partial<IntakeOptions> = {}): Promise<void> {
  await assert.rejects(parse(name, extra), (e: unknown) => e instanceof IntakeError && e.code === code, `${name} should fail with ${code}`);
}

test('DocumentReference: ids, references, status and type mapped', async () => {
  const d = await one('docref-charset.json');
  assert.equal(d.id, 'DOC-F1');
  assert.equal(d.idSystem, 'urn:oid:2.16.840.1.113883.3.999.1');
  assert.equal(d.format, 'fhir');
  assert.equal(d.messageType, 'DocumentReference');
  assert.equal(d.messageId, 'dr-1');
  assert.equal(d.sourceReference, 'DocumentReference/dr-1/_history/3');
  assert.deepEqual(d.patient, { reference: 'Patient/p-1' });
  assert.deepEqual(d.encounter, { reference: 'Encounter/e-1' });
  assert.equal(d.date, '2024-03-12T09:30:00-05:00');
  assert.equal(d.status, 'current');
  assert.equal(d.docStatus, 'final');
  assert.deepEqual(d.type, { system: 'http://loinc.org', code: '11506-3', display: 'Progress note' });
  assert.deepEqual(d.source, { kind: 'kafka', topic: 'medner.documents.fhir', partition: 0, offset: '7' });
});

test('charset from contentType is honoured', async () => {
  assert.equal((await one('docref-charset.json')).text, 'Fièvre légère, 38°C.');
});

test('text/html becomes text; a PDF rendition next to it is listed as an alternative', async () => {
  const d = await one('docref-html.json');
  assert.equal(d.text, 'Progress note\nPatient has chest pain & dyspnea.\nAspirin 81\u00a0mg\nTemp 38°C');
  assert.deepEqual(d.segments, [{ start: 0, end: d.text.length, origin: 'content[1]' }]);
  assert.deepEqual(d.omitted, [{ origin: 'content[0]', reason: 'ALTERNATIVE', contentType: 'application/pdf' }]);
});

test('text/plain is preferred over html', async () => {
  const d = await one('docref-plain-preferred.json');
  assert.equal(d.text, 'Plain rendition');
  assert.equal(d.segments[0]!.origin, 'content[1]');
});

test('attachment.url is fetched through fetchBinary (raw bytes or a Binary resource); failures are retriable', async () => {
  const urls: string[] = [];
  const raw = await one('docref-binary-url.json', {
    fetchBinary: async (url) => {
      urls.push(url);
      return { contentType: 'text/plain', data: Buffer.from('Fetched note.') };
    },
  });
  assert.equal(raw.text, 'Fetched note.');
  assert.deepEqual(urls, ['Binary/bin-1']);
  const wrapped = await one('docref-binary-url.json', {
    fetchBinary: async () => ({ contentType: 'application/fhir+json', data: Buffer.from(JSON.stringify({ resourceType: 'Binary', contentType: 'text/plain', data: Buffer.from('From Binary.').toString('base64') })) }),
  });
  assert.equal(wrapped.text, 'From Binary.');
  await assert.rejects(
    parse('docref-binary-url.json', { fetchBinary: async () => { throw new Error('ECONNREFUSED'); } }),
    (e: unknown) => e instanceof IntakeError && e.code === 'BINARY_FETCH_FAILED' && e.retriable,
  );
  await rejects('docref-binary-url.json', 'BINARY_FETCH_FAILED');
});

test('relatesTo and status drive the lifecycle', async () => {
  assert.deepEqual((await one('docref-replaces.json')).lifecycle, { action: 'replace', parentId: 'dr-1', parentReference: 'DocumentReference/dr-1' });
  assert.deepEqual((await one('docref-appends.json')).lifecycle, { action: 'append', parentId: 'dr-1', parentReference: 'DocumentReference/dr-1' });
  const cancelled = await one('docref-entered-in-error.json');
  assert.deepEqual(cancelled.lifecycle, { action: 'cancel', parentId: 'DOC-F1' });
  assert.equal(cancelled.status, 'entered-in-error');
});

test('DiagnosticReport.presentedForm', async () => {
  const d = await one('diagnosticreport.json');
  assert.equal(d.id, 'rep-1');
  assert.equal(d.messageType, 'DiagnosticReport');
  assert.equal(d.text, 'FINDINGS: Lungs clear.\nIMPRESSION: Normal chest.');
  assert.deepEqual(d.segments, [{ start: 0, end: d.text.length, origin: 'presentedForm[0]' }]);
  assert.deepEqual(d.encounter, { reference: 'Encounter/e-1' });
  assert.equal(d.sourceReference, 'DiagnosticReport/rep-1');
});

test('Bundle: DocumentReference and DiagnosticReport entries, other entries ignored', async () => {
  const docs = await parse('bundle.json');
  assert.deepEqual(docs.map((d) => [d.messageType, d.id, d.text]), [
    ['DocumentReference', 'DOC-F1', 'Bundle note one.'],
    ['DiagnosticReport', 'rep-1', 'FINDINGS: Lungs clear.\nIMPRESSION: Normal chest.'],
  ]);
});

test('non-R4 resources are NOT_R4; malformed ones INVALID_FHIR; others typed', async () => {
  await rejects('docref-r5-size.json', 'NOT_R4');
  await rejects('docref-r5-relatesto.json', 'NOT_R4');
  await rejects('docref-no-resourcetype.json', 'NOT_R4');
  await rejects('docref-invalid-status.json', 'INVALID_FHIR');
  await rejects('docref-truncated.json', 'INVALID_FHIR');
  await rejects('docref-pdf-only.json', 'UNSUPPORTED_CONTENT_TYPE');
  await rejects('patient.json', 'UNSUPPORTED_RESOURCE');
  const r5 = JSON.parse(fixture('docref-charset.json').toString()) as Record<string, unknown>;
  r5.fhirVersion = '5.0.0';
  await assert.rejects(parseDocuments(Buffer.from(JSON.stringify(r5)), { source: { kind: 'file', path: 'x', index: 0 } }), (e: unknown) => e instanceof IntakeError && e.code === 'NOT_R4');
});

test('the JSON parse error message does not quote the input', async () => {
  const secret = '{"resourceType":"DocumentReference","note":"Jane Secretname has HIV" oops}';
  await assert.rejects(parseDocuments(Buffer.from(secret), { source: { kind: 'file', path: 'x', index: 0 } }), (e: unknown) => e instanceof IntakeError && e.code === 'INVALID_FHIR' && !e.message.includes('Secretname'));
});

test('document Bundle: the Composition sections become the text', async () => {
  const d = await one('bundle-document-composition.json');
  assert.equal(d.messageType, 'Composition');
  assert.equal(d.id, 'DS-2024-77');
  assert.equal(d.idSystem, 'urn:oid:2.16.840.1.113883.3.999.2');
  assert.equal(d.text, 'Discharge summary\nHospital course\nAdmitted with community-acquired pneumonia.\nTreated with amoxicillin & recovered.\nMedications\nAmoxicillin 500 mg TID\nStopped\nIbuprofen');
  assert.deepEqual(d.segments.map((s) => s.origin), ['title', 'section[0]', 'section[1]', 'section[1].section[0]']);
  assert.deepEqual(d.patient, { reference: 'Patient/p-1' });
  assert.deepEqual(d.encounter, { reference: 'Encounter/e-1' });
  assert.equal(d.docStatus, 'final');
  assert.equal(d.sourceReference, 'Composition/comp-1');
});

test('partial DocumentReference: a bad base64 part and a url the server refuses (404) are skipped and listed with their bytes; the other parts are read', async () => {
  const refused = Object.assign(new Error('attachment GET: HTTP 404'), { retriable: false });
  const d = await one('docref-partial.json', { fetchBinary: async () => { throw refused; } });
  assert.equal(d.text, 'Progress note. Patient has chest pain.\nPlan: aspirin 81 mg daily.');
  assert.deepEqual(d.segments.map((s) => s.origin), ['content[0]', 'content[3]']);
  assert.deepEqual(d.omitted?.map((o) => [o.origin, o.reason, o.contentType]), [
    ['content[1]', 'BAD_ENCODING', 'text/plain'],
    ['content[2]', 'UNREACHABLE', 'text/plain'],
  ]);
  // the attachment as received, for its dead-letter record
  assert.deepEqual(JSON.parse(d.omitted![0]!.raw!), { contentType: 'text/plain', data: '[base64 placeholder: scanned page]' });
  assert.deepEqual(JSON.parse(d.omitted![1]!.raw!), { contentType: 'text/plain', url: 'Binary/missing-part' });
});

test('partial DocumentReference: a transient fetch failure (network, 5xx) still fails the document, retriable: no part is dropped for an outage', async () => {
  const outage = Object.assign(new Error('attachment GET: HTTP 503'), { retriable: true });
  await assert.rejects(
    parse('docref-partial.json', { fetchBinary: async () => { throw outage; } }),
    (e: unknown) => e instanceof IntakeError && e.code === 'BINARY_FETCH_FAILED' && e.retriable,
  );
});

test('partial DiagnosticReport: an undecodable presentedForm is skipped next to a readable one; alone it fails as before', async () => {
  const d = await one('diagnosticreport-partial.json');
  assert.equal(d.text, 'DIAGNOSIS: Benign nevus.');
  assert.deepEqual(d.omitted?.map((o) => [o.origin, o.reason]), [['presentedForm[0]', 'BAD_ENCODING']]);
  const only = JSON.parse(fixture('diagnosticreport-partial.json').toString('utf8')) as { presentedForm: unknown[] };
  only.presentedForm = only.presentedForm.slice(0, 1);
  await assert.rejects(
    parseDocuments(Buffer.from(JSON.stringify(only)), { source: { kind: 'file', path: 'x.json', index: 0 } }),
    (e: unknown) => e instanceof IntakeError && e.code === 'INVALID_FHIR',
  );
});
