import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices, uniqueName } from '../support/services.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity, ModelInfo } from '../../src/core/entity.ts';
import { buildDocumentTransaction, DERIVED_RESOURCE_TYPES } from '../../src/fhir/document-output.ts';
import { FhirClient, FhirError } from '../../src/fhir/fhir-client.ts';
import { FhirServerWriter } from '../../src/fhir/fhir-writer.ts';
import { documentKey, documentTagCode } from '../../src/fhir/ids.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { HL7, URI } from '../../src/fhir/uris.ts';
import { validateFhirResource } from '../../src/fhir/validate.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/**
 * Against the real HAPI FHIR server (FHIR_BASE_URL, or a container).
 * Unique document ids and patient identifiers per run, so runs never meet.
 */

const svc = await integrationServices(['fhir']);
const MODEL: ModelInfo = { name: 'medner-it', version: '0.0.1' };
const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
const clinical = loadLabelMapping(fileURLToPath(new URL('../../src/fhir/mappings/clinical.label-mapping.json', import.meta.url)));
const run = uniqueName('it');

function client(): FhirClient {
  if (!svc.ok) throw new Error('no FHIR server');
  return new FhirClient({ baseUrl: svc.services.fhirBaseUrl, timeoutMs: 30_000, auth: { kind: 'none' }, maxRetries: 3 });
}

function v2Doc(suffix: string, text?: string, extra: Partial<ClinicalDocument> = {}): ClinicalDocument {
  const doc = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
  doc.id = `DOC-${run}-${suffix}`;
  doc.patient.identifier!.value = `MRN-${run}-${suffix}`;
  if (text !== undefined) {
    doc.text = text;
    doc.segments = [{ start: 0, end: text.length, origin: 'OBX[1]' }];
  }
  return { ...doc, ...extra };
}

/** BC5CDR-style entities at every occurrence of these words that is present in the text. */
function entitiesOf(text: string): Entity[] {
  const spec: [string, string][] = [['pneumonia', 'Disease'], ['fever', 'Disease'], ['sepsis', 'Disease'], ['aspirin', 'Chemical'], ['diabetes', 'Disease'], ['chest pain', 'Disease']];
  return spec.flatMap(([w, label]) => {
    const start = text.indexOf(w);
    return start < 0 ? [] : [{ start, end: start + w.length, text: w, label, score: 0.93 }];
  });
}

/** The counts these tests predate: derived resources written and resources retracted. */
const wr = (r: { written: number; retracted: number }) => ({ written: r.written, retracted: r.retracted });

async function write(doc: ClinicalDocument, m = mapping, entities = entitiesOf(doc.text)) {
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities), model: MODEL, mapping: m });
  const res = await new FhirServerWriter(client()).writeDocument(doc, out);
  return { out, res };
}

/** Every derived resource on the server tagged with this document. */
async function derivedOf(doc: ClinicalDocument): Promise<fhir4.Resource[]> {
  const c = client();
  const tag = `${URI.sourceDocumentTag}|${documentTagCode(documentKey(doc))}`;
  const all: fhir4.Resource[] = [];
  for (const t of DERIVED_RESOURCE_TYPES) all.push(...(await c.search(t, { _tag: tag })));
  return all.sort((a, b) => `${a.resourceType}/${a.id}`.localeCompare(`${b.resourceType}/${b.id}`));
}

/** The server's $validate when it offers it, else our R4 subset schema. */
async function assertValid(resources: fhir4.Resource[]): Promise<void> {
  const base = svc.ok ? svc.services.fhirBaseUrl : '';
  for (const r of resources) {
    const resp = await fetch(`${base}/${r.resourceType}/$validate`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(r) });
    if (resp.status === 404 || resp.status === 501) {
      await resp.body?.cancel();
      const check = validateFhirResource(r);
      assert.ok(check.ok, `${r.resourceType}: ${check.errors.join('; ')}`);
      continue;
    }
    const body = (await resp.json()) as fhir4.OperationOutcome;
    const errors = (body.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    // AIAST is in terminology.hl7.org v3-ObservationValue since THO 5; the R4 core terminology bundled with HAPI predates it.
    const real = errors.filter((i) => !/Unknown code .*v3-ObservationValue#AIAST/.test(i.diagnostics ?? ''));
    assert.deepEqual(real.map((i) => i.diagnostics), [], `${r.resourceType} $validate`);
  }
}

const textOf = (r: fhir4.Resource) => {
  const x = r as { code?: fhir4.CodeableConcept; medicationCodeableConcept?: fhir4.CodeableConcept; condition?: { code: fhir4.CodeableConcept }[] };
  return (x.code ?? x.medicationCodeableConcept ?? x.condition?.[0]?.code)?.text;
};
const statusOf = (r: fhir4.Resource) =>
  r.resourceType === 'Condition' ? (r as fhir4.Condition).verificationStatus?.coding?.[0]?.code : (r as { status?: string }).status;
const spanOf = (r: fhir4.DomainResource) => {
  const e = r.extension?.find((x) => x.url === HL7.derivationReference);
  return Object.fromEntries((e?.extension ?? []).map((x) => [x.url, x.valueReference?.reference ?? x.valueInteger ?? x.valueString]));
};

test('an HL7 v2 document produces the expected resources, subject, verificationStatus, span and Provenance', { skip: svc.skip }, async () => {
  const doc = v2Doc('a');
  const { res, out } = await write(doc);
  assert.deepEqual(wr(res), { written: 5, retracted: 0 });
  assert.equal(res.created, 7, 'DocumentReference, five derived resources, Provenance');
  const found = await derivedOf(doc);
  const summary = found.map((r) => `${r.resourceType}:${textOf(r)}:${statusOf(r)}`).sort();
  assert.deepEqual(summary, [
    'Condition:fever:refuted',
    'Condition:pneumonia:confirmed',
    'Condition:sepsis:unconfirmed',
    'FamilyMemberHistory:diabetes:partial',
    'MedicationStatement:aspirin:active',
  ]);
  const c = client();
  // subject: the Patient created by the conditional create, carrying the identifier
  const cond = found.find((r) => textOf(r) === 'pneumonia') as fhir4.Condition;
  const patient = await c.read<fhir4.Patient>('Patient', cond.subject.reference!.split('/')[1]!);
  assert.equal(patient?.identifier?.[0]?.value, doc.patient.identifier!.value);
  const fmh = found.find((r) => r.resourceType === 'FamilyMemberHistory') as fhir4.FamilyMemberHistory;
  assert.equal(fmh.patient.reference, cond.subject.reference);
  assert.equal(fmh.relationship.coding?.[0]?.code, 'MTH');
  // span: resolves to our DocumentReference, whose attachment holds the text the offsets index
  const span = spanOf(cond);
  assert.match(String(span.reference), /^DocumentReference\/[^/]+$/);
  const docRef = await c.read<fhir4.DocumentReference>('DocumentReference', String(span.reference).split('/')[1]!);
  const text = Buffer.from(docRef!.content[0]!.attachment.data!, 'base64').toString('utf8');
  assert.equal(text.slice(span.offset as number, (span.offset as number) + (span.length as number)), 'pneumonia');
  assert.equal(docRef?.masterIdentifier?.value, doc.id);
  assert.deepEqual(cond.evidence?.[0]?.detail?.[0]?.reference, span.reference);
  // Provenance: one, targeting every derived resource
  const runTag = (out.bundle.entry!.at(-1)!.resource as fhir4.Provenance).meta!.tag!.find((t) => t.system === URI.provenanceRunTag)!;
  const provs = await c.search<fhir4.Provenance>('Provenance', { _tag: `${runTag.system}|${runTag.code}` });
  assert.equal(provs.length, 1);
  assert.deepEqual(provs[0]!.target.map((t) => t.reference!.replace(/\/_history\/\d+$/, '')).sort(), found.map((r) => `${r.resourceType}/${r.id}`).sort());
  assert.equal(provs[0]!.entity?.[0]?.what.reference, span.reference);
  const device = await c.read<fhir4.Device>('Device', provs[0]!.agent[0]!.who.reference!.split('/')[1]!);
  assert.equal(device?.version?.[0]?.value, MODEL.version);
  await assertValid([...found, patient!, docRef!, provs[0]!, device!]);
});

test('sending a document three times leaves resource count and versions unchanged', { skip: svc.skip }, async () => {
  const doc = v2Doc('b');
  const snapshot = async () => {
    const c = client();
    const derived = await derivedOf(doc);
    const provs = await c.search('Provenance', { _tag: `${URI.sourceDocumentTag}|${documentTagCode(documentKey(doc))}` });
    const docRefs = await c.search('DocumentReference', { identifier: `${doc.idSystem}|${doc.id}` });
    const patients = await c.search('Patient', { identifier: `${doc.patient.identifier!.system}|${doc.patient.identifier!.value}` });
    return [...derived, ...provs, ...docRefs, ...patients].map((r) => `${r.resourceType}/${r.id}@${r.meta?.versionId}`).sort();
  };
  await write(doc);
  const first = await snapshot();
  assert.equal(first.length, 5 + 1 + 1 + 1);
  assert.ok(first.every((s) => s.endsWith('@1')), first.join(' '));
  await write(doc);
  await write(doc);
  assert.deepEqual(await snapshot(), first);
});

test('an amended version retracts what disappeared; a cancel retracts all', { skip: svc.skip }, async () => {
  const original = v2Doc('c');
  await write(original);
  // T08 edit: "Possible sepsis." and the family sentence are gone; aspirin moves (a new span of the same concept: the same resource, a new version).
  const editedText = 'Patient has pneumonia. No fever. Takes aspirin daily.';
  const edited = v2Doc('c', editedText, { lifecycle: { action: 'edit' }, docStatus: 'amended', messageType: 'MDM^T08' });
  const { res } = await write(edited);
  assert.deepEqual(wr(res), { written: 3, retracted: 2 });
  const after = (await derivedOf(original)).map((r) => `${r.resourceType}:${textOf(r)}:${statusOf(r)}@${r.meta?.versionId}`).sort();
  assert.deepEqual(after, [
    'Condition:fever:refuted@1',
    'Condition:pneumonia:confirmed@1',
    'Condition:sepsis:entered-in-error@2',
    'FamilyMemberHistory:diabetes:entered-in-error@2',
    'MedicationStatement:aspirin:active@2', // one resource per concept: the span moved, the resource stays
  ]);
  // replaying the edit changes nothing
  assert.deepEqual(await write(edited).then((x) => wr(x.res)), { written: 3, retracted: 0 });
  // T11 cancel
  const cancelled = v2Doc('c', editedText, { lifecycle: { action: 'cancel' }, status: 'entered-in-error', messageType: 'MDM^T11' });
  const cancel = await write(cancelled);
  assert.deepEqual(wr(cancel.res), { written: 0, retracted: 3 });
  const final = await derivedOf(original);
  assert.equal(final.length, 5);
  assert.ok(final.every((r) => statusOf(r) === 'entered-in-error'), final.map(statusOf).join(','));
  const docRefs = await client().search<fhir4.DocumentReference>('DocumentReference', { identifier: `${original.idSystem}|${original.id}` });
  assert.equal(docRefs.length, 1);
  assert.equal(docRefs[0]!.status, 'entered-in-error');
});

test('a FHIR source document: references as given, Observation with NEG, every stored resource passes $validate (or the schema)', { skip: svc.skip }, async () => {
  const c = client();
  const created = await c.transaction({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:6f1c1a7e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:medner:it', value: run }] }, request: { method: 'POST', url: 'Patient' } },
      {
        // every resource entry has a fullUrl (a validating server refuses one without, when it holds references)
        fullUrl: 'urn:uuid:6f1c1a7e-0000-4000-8000-000000000002',
        resource: {
          resourceType: 'DocumentReference',
          status: 'current',
          subject: { reference: 'urn:uuid:6f1c1a7e-0000-4000-8000-000000000001' },
          content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('x').toString('base64') } }],
        },
        request: { method: 'POST', url: 'DocumentReference' },
      },
    ],
  });
  const [patientRef, docRefRef] = created.entry!.map((e) => e.response!.location!.replace(/\/_history\/\d+$/, ''));
  const text = 'Cough for two days. No rash. Chest x-ray negative for pneumonia. Started amoxicillin.';
  const doc: ClinicalDocument = {
    id: `note-${run}`,
    format: 'fhir',
    messageType: 'DocumentReference',
    patient: { reference: patientRef! },
    date: '2024-03-05T10:15:00Z',
    status: 'current',
    lifecycle: { action: 'original' },
    sourceReference: docRefRef!,
    source: { kind: 'file', path: 'it.json', index: 0 },
    text,
    segments: [{ start: 0, end: text.length, origin: 'content[0]' }],
  };
  const entities: Entity[] = [['Cough', 'sign'], ['rash', 'sign'], ['pneumonia', 'problem'], ['amoxicillin', 'treatment']].map(([w, label]) => {
    const start = text.indexOf(w!);
    return { start, end: start + w!.length, text: w!, label: label!, score: 0.8 };
  });
  const { res } = await write(doc, clinical, entities);
  assert.equal(res.written, 4);
  const found = await derivedOf(doc);
  assert.deepEqual(found.map((r) => `${r.resourceType}:${textOf(r)}:${statusOf(r)}`).sort(), ['Condition:pneumonia:refuted', 'MedicationStatement:amoxicillin:active', 'Observation:Cough:final', 'Observation:rash:final']);
  const rash = found.find((r) => textOf(r) === 'rash') as fhir4.Observation;
  assert.equal(rash.interpretation?.[0]?.coding?.[0]?.code, 'NEG');
  assert.equal((found.find((r) => textOf(r) === 'Cough') as fhir4.Observation).interpretation, undefined);
  for (const r of found) {
    assert.equal((r as fhir4.Observation).subject?.reference, patientRef);
    assert.equal(spanOf(r as fhir4.DomainResource).reference, docRefRef);
  }
  const provs = await c.search('Provenance', { _tag: `${URI.sourceDocumentTag}|${documentTagCode(documentKey(doc))}` });
  assert.equal(provs.length, 1);
  await assertValid([...found, ...provs]);
});

test('a replacement (T10) with a new document id retracts what the replaced document derived and the new one does not', { skip: svc.skip }, async () => {
  const parent = v2Doc('d');
  await write(parent);
  const replacement = v2Doc('d-r', 'Patient has pneumonia. Takes aspirin daily.', {
    lifecycle: { action: 'replace', parentId: parent.id },
    messageType: 'MDM^T10',
    patient: parent.patient,
  });
  const { res } = await write(replacement);
  assert.deepEqual(wr(res), { written: 2, retracted: 5 }, 'every span of the parent differs from the new document id, so all five go');
  const old = await derivedOf(parent);
  assert.equal(old.length, 5);
  assert.ok(old.every((r) => statusOf(r) === 'entered-in-error'));
  const fresh = (await derivedOf(replacement)).map((r) => `${r.resourceType}:${textOf(r)}:${statusOf(r)}`).sort();
  assert.deepEqual(fresh, ['Condition:pneumonia:confirmed', 'MedicationStatement:aspirin:active']);
  const docRefs = await client().search<fhir4.DocumentReference>('DocumentReference', { identifier: `${replacement.idSystem}|${replacement.id}` });
  assert.equal(docRefs[0]?.relatesTo?.[0]?.code, 'replaces');
  assert.equal(docRefs[0]?.relatesTo?.[0]?.target.identifier?.value, parent.id);
});

test('two Patients with the same identifier: the conditional create fails with FHIR_MULTIPLE_MATCHES, not retried', { skip: svc.skip }, async () => {
  const doc = v2Doc('e', 'Patient has pneumonia.');
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text)), model: MODEL, mapping });
  const dup: fhir4.Patient = { resourceType: 'Patient', identifier: [{ system: doc.patient.identifier!.system!, value: doc.patient.identifier!.value }] };
  const c = client();
  await c.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [1, 2].map(() => ({ resource: dup, request: { method: 'POST' as const, url: 'Patient' } })) });
  await assert.rejects(new FhirServerWriter(c).writeDocument(doc, out), (e: unknown) => {
    assert.ok(e instanceof FhirError, String(e));
    assert.equal(e.code, 'FHIR_MULTIPLE_MATCHES');
    assert.equal(e.retriable, false);
    assert.equal(e.status, 412);
    assert.equal(e.outcome?.resourceType, 'OperationOutcome');
    return true;
  });
});

test('every resource we own lands at its logical id; a replay makes no new version, the Device is written once per writer', { skip: svc.skip }, async () => {
  const doc = v2Doc('g');
  const model: ModelInfo = { name: 'medner-it', version: `ids-${run}` };
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text)), model, mapping });
  const c = client();
  const sent: fhir4.Bundle[] = [];
  const recording = Object.assign(Object.create(c) as FhirClient, {
    transaction: async (b: fhir4.Bundle) => {
      sent.push(b);
      return c.transaction(b);
    },
  });
  const writer = new FhirServerWriter(recording);
  await writer.writeDocument(doc, out);
  const owned = out.bundle.entry!.filter((e) => e.request!.method === 'PUT');
  assert.deepEqual(owned.map((e) => e.resource!.resourceType), ['DocumentReference', 'Condition', 'Condition', 'Condition', 'MedicationStatement', 'FamilyMemberHistory', 'Device', 'Provenance']);
  const at = async () =>
    Promise.all(
      owned.map(async (e) => {
        const [type, id] = e.request!.url.split('/') as [string, string];
        const r = await c.read(type, id);
        assert.ok(r, `${type} at its logical id`);
        return `${type}/${r.id}@${r.meta?.versionId}`;
      }),
    );
  const first = await at();
  assert.ok(first.every((x) => x.endsWith('@1')), first.join(' '));
  await writer.writeDocument(doc, out);
  await new FhirServerWriter(c).writeDocument(doc, out);
  assert.deepEqual(await at(), first, 'replays (Device left out, then sent again by a new writer) change nothing');
  assert.deepEqual(
    sent.map((b) => b.entry!.some((e) => e.resource?.resourceType === 'Device')),
    [true],
    'the replay sent nothing (every resource unchanged), so no Device either',
  );
  // identifiers and tags stay searchable
  const cond = owned.find((e) => e.resource!.resourceType === 'Condition')!.resource as fhir4.Condition;
  const byIdent = await c.search('Condition', { identifier: `${URI.derivedIdentifier}|${cond.identifier![0]!.value}` });
  assert.deepEqual(byIdent.map((r) => r.id), [cond.id]);
  const prov = owned.at(-1)!.resource as fhir4.Provenance;
  const runTag = prov.meta!.tag!.find((t) => t.system === URI.provenanceRunTag)!;
  assert.deepEqual((await c.search('Provenance', { _tag: `${runTag.system}|${runTag.code}` })).map((r) => r.id), [prov.id]);
  assert.deepEqual((await c.search('DocumentReference', { identifier: `${doc.idSystem}|${doc.id}` })).map((r) => r.id), [owned[0]!.resource!.id]);
});

test('a Device the server lost (reset, deleted) is written again by the next writer, and by a writer past deviceRefreshMs', { skip: svc.skip }, async () => {
  const model: ModelInfo = { name: 'medner-it', version: `lost-${run}` };
  const c = client();
  const outOf = (doc: ClinicalDocument) => buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text)), model, mapping });
  const deviceUrl = outOf(v2Doc('h1')).bundle.entry!.find((e) => e.resource?.resourceType === 'Device')!.request!.url;
  const [, deviceId] = deviceUrl.split('/') as [string, string];
  const lose = async () => {
    const res = await fetch(`${svc.ok ? svc.services.fhirBaseUrl : ''}/${deviceUrl}`, { method: 'DELETE' });
    assert.ok(res.ok, `DELETE ${res.status}`);
    await res.body?.cancel();
    assert.equal(await c.read('Device', deviceId), undefined);
  };
  await new FhirServerWriter(c).writeDocument(v2Doc('h1'), outOf(v2Doc('h1')));
  assert.ok(await c.read('Device', deviceId));
  await lose();
  await new FhirServerWriter(c).writeDocument(v2Doc('h2'), outOf(v2Doc('h2')));
  assert.equal((await c.read<fhir4.Device>('Device', deviceId))?.version?.[0]?.value, model.version, 'a new writer (worker restart) puts it back');
  await lose();
  const refreshing = new FhirServerWriter(c, { deviceRefreshMs: 0 });
  await refreshing.writeDocument(v2Doc('h3'), outOf(v2Doc('h3')));
  await refreshing.writeDocument(v2Doc('h4'), outOf(v2Doc('h4')));
  assert.ok(await c.read('Device', deviceId), 'sent with every transaction when deviceRefreshMs is 0');
});

test('a copy an earlier release wrote by conditional update (server-assigned id) is retracted when its document is reconciled', { skip: svc.skip }, async () => {
  const doc = v2Doc('i', 'Patient has pneumonia.');
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text)), model: MODEL, mapping });
  const cond = out.bundle.entry!.find((e) => e.resource?.resourceType === 'Condition')!.resource as fhir4.Condition;
  // The old request shape: PUT Condition?identifier=system|value, which made a server-assigned id.
  const { id: _ownId, ...legacy } = cond;
  const ident = cond.identifier![0]!;
  const c = client();
  const entries = out.bundle.entry!.filter((e) => e.resource!.resourceType !== 'Provenance');
  const k = entries.findIndex((e) => e.resource === cond);
  entries[k] = { ...entries[k]!, resource: legacy, request: { method: 'PUT', url: `Condition?identifier=${encodeURIComponent(ident.system!)}%7C${ident.value}` } };
  const made = await c.transaction({ resourceType: 'Bundle', type: 'transaction', entry: entries });
  const legacyId = made.entry![k]!.response!.location!.split('/')[1]!;
  assert.notEqual(legacyId, cond.id);
  const edited = { ...doc, lifecycle: { action: 'edit' as const }, docStatus: 'amended' as const, messageType: 'MDM^T08' };
  const { res } = await write(edited);
  assert.deepEqual(wr(res), { written: 1, retracted: 1 });
  const byIdent = (await c.search<fhir4.Condition>('Condition', { identifier: `${ident.system}|${ident.value}` })).map((r) => `${r.id === cond.id ? 'own' : r.id === legacyId ? 'legacy' : r.id}:${statusOf(r)}`);
  assert.deepEqual(byIdent.sort(), ['legacy:entered-in-error', 'own:confirmed']);
});

test('documents of one patient written concurrently: one Patient, one Device, every document stored', { skip: svc.skip }, async () => {
  const model: ModelInfo = { name: 'medner-it', version: `race-${run}` };
  const docs = [1, 2, 3, 4].map((i) => {
    const d = v2Doc(`f${i}`);
    return { ...d, patient: { ...d.patient, identifier: { ...d.patient.identifier!, value: `MRN-${run}-race` } } };
  });
  const c = new FhirClient({ baseUrl: svc.ok ? svc.services.fhirBaseUrl : '', timeoutMs: 30_000, auth: { kind: 'none' }, maxRetries: 6, baseBackoffMs: 100 });
  const results = await Promise.allSettled(
    docs.map((doc) => new FhirServerWriter(c).writeDocument(doc, buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text)), model, mapping }))),
  );
  assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as Error).message))), ['ok', 'ok', 'ok', 'ok']);
  const id = docs[0]!.patient.identifier!;
  assert.equal((await c.search('Patient', { identifier: `${id.system}|${id.value}` })).length, 1);
  assert.equal((await c.search('Device', { identifier: `${URI.deviceIdentifier}|medner-it@race-${run}` })).length, 1);
  for (const doc of docs) assert.equal((await derivedOf(doc)).length, 5);
});
