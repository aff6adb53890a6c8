import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity, ModelInfo } from '../../src/core/entity.ts';
import { buildDocumentTransaction, type DocumentOutput } from '../../src/fhir/document-output.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping, parseLabelMapping } from '../../src/fhir/label-mapping.ts';
import { outputRecord } from '../../src/fhir/output-record.ts';
import { validateFhirResource, validateOutputMessage } from '../../src/fhir/validate.ts';
import { HL7, URI } from '../../src/fhir/uris.ts';
import { MednerError } from '../../src/core/errors.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

const MODEL: ModelInfo = { name: 'medner-test', version: '1.2.3' };
const RUN_AT = '2026-03-01T12:00:00.000Z';
const CLOCK = () => new Date(RUN_AT);
const bc5cdr = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
const clinical = loadLabelMapping(fileURLToPath(new URL('../../src/fhir/mappings/clinical.label-mapping.json', import.meta.url)));

function loadDoc(name: string): ClinicalDocument {
  return JSON.parse(readFileSync(new URL(`../fixtures/fhir/${name}`, import.meta.url), 'utf8')) as ClinicalDocument;
}

/** Entities for the first occurrence of each word in the text. */
function entitiesOf(text: string, spec: [string, string, number?][]): Entity[] {
  return spec.map(([word, label, score]) => {
    const start = text.indexOf(word);
    assert.ok(start >= 0, `fixture text lacks ${word}`);
    return { start, end: start + word.length, text: word, label, score: score ?? 0.9 };
  });
}

const V2_ENTITIES: [string, string][] = [
  ['pneumonia', 'Disease'],
  ['fever', 'Disease'],
  ['sepsis', 'Disease'],
  ['aspirin', 'Chemical'],
  ['diabetes', 'Disease'],
  ['chest pain', 'Disease'],
];

function v2Output(): { doc: ClinicalDocument; out: DocumentOutput } {
  const doc = loadDoc('hl7v2-document.json');
  return { doc, out: buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text, V2_ENTITIES)), model: MODEL, mapping: bc5cdr, now: CLOCK }) };
}

const resources = (out: DocumentOutput) => (out.bundle.entry ?? []).map((e) => e.resource!);
const ofType = <T extends fhir4.FhirResource>(out: DocumentOutput, t: T['resourceType']) => resources(out).filter((r) => r.resourceType === t) as T[];
const byText = (out: DocumentOutput, text: string) =>
  resources(out).find((r) => {
    const x = r as { code?: fhir4.CodeableConcept; medicationCodeableConcept?: fhir4.CodeableConcept; condition?: { code: fhir4.CodeableConcept }[] };
    return (x.code ?? x.medicationCodeableConcept ?? x.condition?.[0]?.code)?.text === text;
  });
/** The fields the derived types share, loosely typed for assertions. */
type Loose = fhir4.DomainResource & {
  resourceType: string;
  subject?: fhir4.Reference;
  patient?: fhir4.Reference;
  code?: fhir4.CodeableConcept;
  condition?: { code: fhir4.CodeableConcept }[];
  identifier?: fhir4.Identifier[];
  evidence?: fhir4.ConditionEvidence[];
  encounter?: fhir4.Reference;
};
const ext = (r: fhir4.DomainResource, url: string) => r.extension?.filter((e) => e.url === url) ?? [];

test('bundle shape for an HL7 v2 document: Patient, DocumentReference, derived resources, Device, Provenance', () => {
  const { out } = v2Output();
  assert.equal(out.bundle.type, 'transaction');
  assert.deepEqual(
    (out.bundle.entry ?? []).map((e) => `${e.request!.method} ${e.resource!.resourceType}`),
    [
      'POST Patient',
      'PUT DocumentReference',
      'PUT Condition', // pneumonia
      'PUT Condition', // fever (refuted)
      'PUT Condition', // sepsis (unconfirmed)
      'PUT MedicationStatement', // aspirin
      'PUT FamilyMemberHistory', // mother: diabetes
      'PUT Device',
      'PUT Provenance',
    ],
  );
  for (const e of out.bundle.entry ?? []) {
    assert.match(e.fullUrl!, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.ok(!e.request!.url.includes('|'), `raw | in ${e.request!.url}`);
    if (e.request!.method === 'PUT') {
      // Updates by logical id, never by a conditional URL (each of which costs the server a search)
      assert.equal(e.request!.url, `${e.resource!.resourceType}/${e.resource!.id}`);
      assert.match(e.resource!.id!, /^medner-[0-9a-f]{57}$/);
      assert.match(e.resource!.id!, /^[A-Za-z0-9\-.]{1,64}$/, 'a valid FHIR id');
    }
  }
  const patient = out.bundle.entry![0]!;
  assert.equal(patient.request!.ifNoneExist, 'identifier=urn%3Aoid%3A2.16.840.1.113883.19.5%7CMRN-0001');
  assert.deepEqual((patient.resource as fhir4.Patient).identifier?.[0]?.value, 'MRN-0001');
  assert.equal(out.resourceIdentifiers.length, 5);
  assert.match(out.patientKey, /^[0-9a-f]{64}$/);
  assert.ok(!out.patientKey.includes('MRN'));
});

test('assertions become verificationStatus, FamilyMemberHistory, and hypothetical mentions are not emitted', () => {
  const { out } = v2Output();
  const status = (t: string) => (byText(out, t) as fhir4.Condition).verificationStatus?.coding?.[0]?.code;
  assert.equal(status('pneumonia'), 'confirmed');
  assert.equal(status('fever'), 'refuted');
  assert.equal(status('sepsis'), 'unconfirmed');
  assert.equal(byText(out, 'chest pain'), undefined, 'return if chest pain: hypothetical');
  const fmh = byText(out, 'diabetes') as fhir4.FamilyMemberHistory;
  assert.equal(fmh.resourceType, 'FamilyMemberHistory');
  assert.deepEqual(fmh.relationship.coding?.[0], { system: HL7.v3RoleCode, code: 'MTH', display: 'mother' });
  assert.equal(ofType<fhir4.Condition>(out, 'Condition').some((c) => c.code?.text === 'diabetes'), false, 'never a Condition on the patient');
  assert.deepEqual(ext(byText(out, 'fever') as fhir4.Condition, URI.nlpAssertion).map((e) => e.valueCode), ['negated']);
  assert.equal((byText(out, 'aspirin') as fhir4.MedicationStatement).status, 'active');
});

test('every derived resource: subject, encounter, span extension, evidence, AIAST, model tag, score, identifier', () => {
  const { doc, out } = v2Output();
  const patientUrl = out.bundle.entry![0]!.fullUrl!;
  const docRefUrl = out.bundle.entry![1]!.fullUrl!;
  const derived = resources(out).filter((r) => ['Condition', 'MedicationStatement', 'FamilyMemberHistory'].includes(r.resourceType)) as Loose[];
  assert.equal(derived.length, 5);
  for (const r of derived) {
    const subject = r.resourceType === 'FamilyMemberHistory' ? r.patient : r.subject;
    assert.equal(subject?.reference, patientUrl);
    const span = ext(r, HL7.derivationReference)[0]!;
    const parts = Object.fromEntries(span.extension!.map((e) => [e.url, e.valueReference ?? e.valueInteger ?? e.valueString]));
    assert.deepEqual(parts.reference, { reference: docRefUrl });
    const text = (r.code ?? r.condition?.[0]?.code ?? (r as unknown as fhir4.MedicationStatement).medicationCodeableConcept)!.text!;
    assert.equal(doc.text.slice(parts.offset as number, (parts.offset as number) + (parts.length as number)), text, 'offset/length point at the mention');
    assert.equal(ext(r, URI.nlpScore)[0]?.valueDecimal, 0.9);
    assert.deepEqual(r.meta?.security, [{ system: HL7.v3ObservationValue, code: 'AIAST', display: 'Artificial Intelligence asserted' }]);
    assert.ok(r.meta?.tag?.some((t) => t.system === URI.modelTag && t.code === 'medner-test@1.2.3'));
    assert.equal(r.identifier?.[0]?.system, URI.derivedIdentifier);
    assert.match(r.identifier![0]!.value!, /^[0-9a-f]{64}$/);
    if (r.resourceType === 'Condition') {
      assert.deepEqual(r.evidence, [{ detail: [{ reference: docRefUrl }] }]);
      assert.deepEqual(r.encounter, { identifier: { system: 'urn:oid:2.16.840.1.113883.19.6', value: 'V-0001' } });
    }
    if (r.resourceType === 'MedicationStatement') assert.deepEqual((r as unknown as fhir4.MedicationStatement).derivedFrom, [{ reference: docRefUrl }]);
  }
  const docRef = out.bundle.entry![1]!.resource as fhir4.DocumentReference;
  assert.deepEqual(docRef.masterIdentifier, { system: 'urn:oid:2.16.840.1.113883.19.5.99', value: 'DOC-0001' });
  assert.equal(Buffer.from(docRef.content[0]!.attachment.data!, 'base64').toString('utf8'), doc.text);
  assert.equal(docRef.docStatus, 'final');
  assert.equal(docRef.date, '2024-03-05T10:15:00+01:00');
  assert.equal(docRef.type?.coding?.[0]?.code, '11506-3');
});

test('Provenance targets every derived resource, source = DocumentReference, agent = Device (assembler), recorded = time of the run, occurred = document time', () => {
  const { out } = v2Output();
  const entries = out.bundle.entry!;
  const prov = entries.at(-1)!.resource as fhir4.Provenance;
  const device = entries.at(-2)!;
  const derivedUrls = entries.filter((e) => ['Condition', 'MedicationStatement', 'FamilyMemberHistory'].includes(e.resource!.resourceType)).map((e) => e.fullUrl);
  assert.deepEqual(prov.target.map((t) => t.reference), derivedUrls);
  assert.deepEqual(prov.entity, [{ role: 'source', what: { reference: entries[1]!.fullUrl } }]);
  // A literal reference: FhirServerWriter leaves the Device entry out once the Device is on the server.
  assert.equal(prov.agent[0]!.who.reference, `Device/${device.resource!.id}`);
  assert.equal(device.request!.url, prov.agent[0]!.who.reference);
  assert.ok(prov.meta?.tag?.some((t) => t.system === URI.provenanceRunTag && /^[0-9a-f]{64}$/.test(t.code!)), 'run tag kept for searches');
  assert.equal(prov.agent[0]!.type?.coding?.[0]?.code, 'assembler');
  assert.equal(prov.activity?.coding?.[0]?.code, 'Derivation');
  assert.equal(prov.recorded, RUN_AT, 'the injected clock');
  assert.equal(prov.occurredDateTime, '2024-03-05T10:15:00+01:00');
  const later = buildDocumentTransaction({ doc: v2Output().doc, entities: assertEntities(v2Output().doc.text, entitiesOf(v2Output().doc.text, V2_ENTITIES)), model: MODEL, mapping: bc5cdr, now: () => new Date('2026-03-02T00:00:00Z') });
  assert.equal((later.bundle.entry!.at(-1)!.resource as fhir4.Provenance).recorded, '2026-03-02T00:00:00.000Z', 'another run, another recorded');
  const dev = device.resource as fhir4.Device;
  assert.deepEqual(dev.deviceName, [{ name: 'medner-test', type: 'model-name' }]);
  assert.deepEqual(dev.version, [{ value: '1.2.3' }]);
  assert.deepEqual(dev.identifier, [{ system: URI.deviceIdentifier, value: 'medner-test@1.2.3' }]);
  const other = buildDocumentTransaction({ doc: loadDoc('fhir-document.json'), entities: assertEntities(loadDoc('fhir-document.json').text, entitiesOf(loadDoc('fhir-document.json').text, [['pneumonia', 'problem']])), model: MODEL, mapping: clinical });
  assert.equal(other.bundle.entry!.at(-2)!.request!.url, device.request!.url, 'one Device per model version, whatever the document');
  const v2 = buildDocumentTransaction({ doc: loadDoc('hl7v2-document.json'), entities: assertEntities(loadDoc('hl7v2-document.json').text, entitiesOf(loadDoc('hl7v2-document.json').text, V2_ENTITIES)), model: { ...MODEL, version: '1.2.4' }, mapping: bc5cdr });
  assert.notEqual(v2.bundle.entry!.at(-2)!.request!.url, device.request!.url, 'another model version, another Device');
});

test('identifiers are stable across runs and differ across concepts and resource types', () => {
  const a = v2Output().out;
  const b = v2Output().out;
  assert.equal(JSON.stringify(a.bundle), JSON.stringify(b.bundle), 'same input, byte-identical bundle');
  const values = a.resourceIdentifiers.map((r) => r.value);
  assert.equal(new Set(values).size, values.length);
  const ids = (a.bundle.entry ?? []).map((e) => e.request!.url);
  assert.equal(new Set(ids).size, ids.length, 'one logical id per entry');
  for (const e of a.bundle.entry ?? []) {
    const ident = (e.resource as { identifier?: fhir4.Identifier[] }).identifier?.find((i) => i.system === URI.derivedIdentifier)?.value;
    if (ident) assert.equal(e.resource!.id, `medner-${ident.slice(0, 57)}`, 'logical id from the identifier value');
  }

  const doc = loadDoc('hl7v2-document.json');
  const one = (e: Entity, mapping = bc5cdr) => buildDocumentTransaction({ doc, entities: assertEntities(doc.text, [e]), model: MODEL, mapping }).resourceIdentifiers[0]!.value;
  const base: Entity = { start: 12, end: 21, text: 'pneumonia', label: 'Disease', score: 0.9 };
  const id = one(base);
  assert.equal(one({ ...base, score: 0.7 }), id, 'score does not change identity');
  assert.notEqual(one({ ...base, start: 13, text: 'neumonia' }), id);
  assert.notEqual(one({ ...base, end: 20, text: 'pneumoni' }), id);
  // one resource per concept: identity is the concept (code, else normalized text) and the assertion, not the span or label
  assert.equal(one({ ...base, label: 'disease' }), id);
  assert.equal(one({ ...base, text: 'Pneumonia' }), id);
  assert.notEqual(one({ ...base, codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'J18.9', score: 0.9 }] }), id);
  assert.notEqual(one(base, parseLabelMapping({ labels: { Disease: { resourceType: 'Observation' } } })), id);
  assert.notEqual(buildDocumentTransaction({ doc: { ...doc, id: 'DOC-0002' }, entities: assertEntities(doc.text, [base]), model: MODEL, mapping: bc5cdr }).resourceIdentifiers[0]!.value, id);
});

test('FHIR source: subject and encounter as given, span to the source DocumentReference, no DocumentReference or Patient entry', () => {
  const doc = loadDoc('fhir-document.json');
  const entities = entitiesOf(doc.text, [
    ['Cough', 'sign'],
    ['Chest x-ray', 'test'],
    ['pneumonia', 'problem'],
    ['amoxicillin', 'treatment'],
    ['Appendectomy', 'procedure'],
  ]);
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities), model: MODEL, mapping: clinical });
  assert.deepEqual(resources(out).map((r) => r.resourceType), ['Observation', 'Observation', 'Condition', 'MedicationStatement', 'Procedure', 'Device', 'Provenance']);
  const cough = byText(out, 'Cough') as fhir4.Observation;
  assert.deepEqual(cough.subject, { reference: 'Patient/pat-1' });
  assert.deepEqual(cough.encounter, { reference: 'Encounter/enc-1' });
  assert.deepEqual(cough.derivedFrom, [{ reference: 'DocumentReference/note-77/_history/3' }]);
  assert.equal(cough.status, 'final');
  assert.equal(cough.interpretation, undefined);
  assert.equal(cough.effectiveDateTime, '2024-03-05', 'a time without a zone is cut back to the date');
  const span = ext(cough, HL7.derivationReference)[0]!.extension!;
  assert.deepEqual(span.find((e) => e.url === 'path')?.valueString, 'DocumentReference.content[0].attachment');
  assert.equal((byText(out, 'pneumonia') as fhir4.Condition).verificationStatus?.coding?.[0]?.code, 'refuted');
  assert.equal((byText(out, 'pneumonia') as fhir4.Condition).category?.[0]?.coding?.[0]?.code, 'problem-list-item');
  assert.equal((byText(out, 'Appendectomy') as fhir4.Procedure).status, 'unknown');
  const prov = resources(out).at(-1) as fhir4.Provenance;
  assert.equal(prov.occurredDateTime, '2024-03-05', 'a date without time stays a date');
  assert.ok(resources(out).every((r) => r.resourceType !== 'Patient' && r.resourceType !== 'DocumentReference'));
});

test('negated Observation: interpretation NEG, or no resource when the mapping says skip', () => {
  const doc = { ...loadDoc('fhir-document.json'), text: 'No cough today.', segments: [{ start: 0, end: 15, origin: 'content[0]' }] };
  const entities = entitiesOf(doc.text, [['cough', 'sign']]);
  const neg = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities), model: MODEL, mapping: clinical });
  const obs = ofType<fhir4.Observation>(neg, 'Observation')[0]!;
  assert.deepEqual(obs.interpretation, [{ coding: [{ system: HL7.v3ObservationInterpretation, code: 'NEG', display: 'Negative' }] }]);
  const skip = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities), model: MODEL, mapping: { ...clinical, negatedObservation: 'skip' } });
  assert.equal(skip.resourceIdentifiers.length, 0);
  assert.equal(skip.bundle.entry?.length, 0, 'nothing derived: no Device, no Provenance');
});

test('FHIR source with only a patient identifier: a logical reference', () => {
  const doc = { ...loadDoc('fhir-document.json'), patient: { identifier: { system: 'urn:mrn', value: 'X1' } } };
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text, [['pneumonia', 'problem']])), model: MODEL, mapping: clinical });
  assert.deepEqual((byText(out, 'pneumonia') as fhir4.Condition).subject, { identifier: { system: 'urn:mrn', value: 'X1' } });
  assert.throws(
    () => buildDocumentTransaction({ doc: { ...doc, patient: {} }, entities: [], model: MODEL, mapping: clinical }),
    (e: unknown) => e instanceof MednerError && e.code === 'DOCUMENT_NO_PATIENT' && !e.retriable,
  );
});

test('a cancelled document derives nothing; minScore and unmapped labels filter entities', () => {
  const doc = loadDoc('hl7v2-document.json');
  const entities = entitiesOf(doc.text, V2_ENTITIES);
  const cancelled = buildDocumentTransaction({ doc: { ...doc, lifecycle: { action: 'cancel' }, status: 'entered-in-error' }, entities: assertEntities(doc.text, entities), model: MODEL, mapping: bc5cdr });
  assert.deepEqual(resources(cancelled).map((r) => r.resourceType), ['Patient', 'DocumentReference']);
  assert.equal((resources(cancelled)[1] as fhir4.DocumentReference).status, 'entered-in-error');
  const low = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities.map((e, i) => ({ ...e, score: i === 0 ? 0.49 : 0.9 }))), model: MODEL, mapping: bc5cdr });
  assert.equal(byText(low, 'pneumonia'), undefined);
  assert.equal(low.resourceIdentifiers.length, 4);
  const unmapped = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, [{ ...entities[0]!, label: 'Gene' }]), model: MODEL, mapping: bc5cdr });
  assert.equal(unmapped.resourceIdentifiers.length, 0);
});

test('a message without text (status change) neither wipes the DocumentReference nor sends anything; a cancel without text still retracts it', () => {
  const doc = { ...loadDoc('hl7v2-document.json'), text: '', segments: [], lifecycle: { action: 'status-change' as const } };
  const out = buildDocumentTransaction({ doc, entities: [], model: MODEL, mapping: bc5cdr });
  assert.deepEqual(out.bundle.entry, []);
  const cancel = buildDocumentTransaction({ doc: { ...doc, lifecycle: { action: 'cancel' }, status: 'entered-in-error' }, entities: [], model: MODEL, mapping: bc5cdr });
  const docRef = resources(cancel).find((r) => r.resourceType === 'DocumentReference') as fhir4.DocumentReference;
  assert.equal(docRef.status, 'entered-in-error');
  assert.deepEqual(docRef.content, [{ attachment: { contentType: 'text/plain; charset=utf-8' } }]);
  assert.ok(validateFhirResource(docRef).ok);
});

test('codings from the lookup table, code.text always the mention', () => {
  const doc = loadDoc('hl7v2-document.json');
  const mapping = parseLabelMapping({ ...bc5cdr, codings: [{ term: 'Pneumonia', system: 'http://snomed.info/sct', code: '233604007', display: 'Pneumonia' }] });
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text, [['pneumonia', 'Disease'], ['sepsis', 'Disease']])), model: MODEL, mapping });
  assert.deepEqual((byText(out, 'pneumonia') as fhir4.Condition).code, { coding: [{ system: 'http://snomed.info/sct', code: '233604007', display: 'Pneumonia' }], text: 'pneumonia' });
  assert.deepEqual((byText(out, 'sepsis') as fhir4.Condition).code, { text: 'sepsis' });
});

test('offsets are UTF-16 code units into the extracted text', () => {
  const doc = { ...loadDoc('hl7v2-document.json'), text: '😀 Patient has pneumonia.', segments: [{ start: 0, end: 25, origin: 'OBX[1]' }] };
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text, [['pneumonia', 'Disease']])), model: MODEL, mapping: bc5cdr });
  const span = ext(byText(out, 'pneumonia') as fhir4.Condition, HL7.derivationReference)[0]!.extension!;
  assert.equal(span.find((e) => e.url === 'offset')?.valueInteger, 15); // the emoji is 2 code units
  assert.equal(span.find((e) => e.url === 'length')?.valueInteger, 9);
});

test('every generated resource validates against the R4 subset schema; the schema catches misplaced elements', () => {
  const { out } = v2Output();
  const doc = loadDoc('fhir-document.json');
  const fhirOut = buildDocumentTransaction({
    doc,
    entities: assertEntities(doc.text, entitiesOf(doc.text, [['Cough', 'sign'], ['pneumonia', 'problem'], ['amoxicillin', 'treatment'], ['Appendectomy', 'procedure']])),
    model: MODEL,
    mapping: clinical,
  });
  for (const r of [...resources(out), ...resources(fhirOut)]) {
    const check = validateFhirResource(r);
    assert.ok(check.ok, `${r.resourceType}: ${check.errors.join('; ')}`);
  }
  const med = structuredClone(byText(out, 'aspirin')) as unknown as Record<string, unknown>;
  med.encounter = med.context; // R4 MedicationStatement has context, not encounter
  assert.equal(validateFhirResource(med).ok, false);
  const cond = structuredClone(byText(out, 'pneumonia')) as unknown as Record<string, unknown>;
  delete cond.subject;
  assert.equal(validateFhirResource(cond).ok, false);
});

test('the Kafka output record: Bundle value that validates, patient key, source and model headers', () => {
  const { doc, out } = v2Output();
  const rec = outputRecord(out, doc, MODEL);
  assert.equal(rec.key, out.patientKey);
  const value = JSON.parse(rec.value) as fhir4.Bundle;
  const check = validateOutputMessage(value);
  assert.ok(check.ok, check.errors.join('; '));
  assert.deepEqual(value, out.bundle);
  assert.equal(rec.headers['medner-source-topic'], 'medner.documents.hl7v2');
  assert.equal(rec.headers['medner-source-partition'], '1');
  assert.equal(rec.headers['medner-source-offset'], '42');
  assert.equal(rec.headers['medner-model-name'], 'medner-test');
  assert.equal(rec.headers['medner-model-version'], '1.2.3');
  assert.equal(rec.headers['medner-document-id'], 'DOC-0001');
  const broken = structuredClone(value);
  broken.entry![2]!.request!.url = 'Condition?identifier=a|b';
  assert.equal(validateOutputMessage(broken).ok, false, 'a raw | in a request URL is refused');
});

test('each assertion flag is repeated as a searchable meta.tag (URI.assertionTag), exactly the extension codes', () => {
  const { out } = v2Output();
  const derived = resources(out).filter((r) => !['Device', 'Provenance', 'DocumentReference', 'Patient'].includes(r.resourceType)) as fhir4.DomainResource[];
  assert.ok(derived.length >= 4);
  for (const r of derived) {
    const flags = (r.extension ?? []).filter((x) => x.url === URI.nlpAssertion).map((x) => x.valueCode).sort();
    const tags = (r.meta?.tag ?? []).filter((t) => t.system === URI.assertionTag).map((t) => t.code).sort();
    assert.deepEqual(tags, flags, `${r.resourceType} ${JSON.stringify(flags)}`);
  }
  assert.ok(derived.some((r) => r.meta?.tag?.some((t) => t.system === URI.assertionTag && t.code === 'negated')));
  assert.ok(derived.some((r) => r.meta?.tag?.some((t) => t.system === URI.assertionTag && t.code === 'family')));
});

test('HL7 pass-through codes: MRN -> v2-0203 MR, unknown type left out and counted, an unusable OID never passed on', () => {
  const { doc } = v2Output();
  const run = (d: ClinicalDocument) => buildDocumentTransaction({ doc: d, entities: assertEntities(d.text, entitiesOf(d.text, V2_ENTITIES)), model: MODEL, mapping: bc5cdr, now: CLOCK });
  const mrn = run({ ...doc, patient: { ...doc.patient, identifier: { ...doc.patient.identifier!, type: 'MRN' } } });
  const patient = resources(mrn)[0] as fhir4.Patient;
  assert.deepEqual(patient.identifier?.[0]?.type, { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] });
  assert.deepEqual(mrn.identifiersDropped, []);
  const odd = run({ ...doc, patient: { ...doc.patient, identifier: { ...doc.patient.identifier!, type: 'XYZ' } } });
  assert.equal((resources(odd)[0] as fhir4.Patient).identifier?.[0]?.type, undefined);
  assert.deepEqual(odd.identifiersDropped, ['patient.identifier.type']);
  // PV1-19 under "urn:oid:1.2": no encounter at all rather than a bad identifier
  const badEnc = run({ ...doc, encounter: { identifier: { system: 'urn:oid:1.2', value: 'V-1' } } });
  assert.ok(!JSON.stringify(badEnc.bundle).includes('urn:oid:1.2'));
  assert.deepEqual(badEnc.identifiersDropped, ['encounter.identifier']);
  assert.equal((byText(badEnc, 'pneumonia') as fhir4.Condition).encounter, undefined);
  // a patient identifier under such a system: dead-lettered, never matched by a bare value
  assert.throws(
    () => run({ ...doc, patient: { ...doc.patient, identifier: { system: 'urn:oid:1.2', value: 'MRN-1' } } }),
    (e: unknown) => e instanceof MednerError && e.code === 'PATIENT_IDENTIFIER_UNUSABLE' && !e.retriable,
  );
  assert.throws(() => run({ ...doc, patient: { ...doc.patient, identifier: { system: 'GENHOSP', value: 'MRN-1' } } }), (e: unknown) => e instanceof MednerError && e.code === 'PATIENT_IDENTIFIER_UNUSABLE');
});

test('TXA-2 document types: LOINC where certain plus v2-0270 with its system; unknown local codes as text only', () => {
  const { doc } = v2Output();
  const typeOf = (code: string, display?: string) =>
    (resources(buildDocumentTransaction({ doc: { ...doc, type: { code, ...(display ? { display } : {}) } }, entities: [], model: MODEL, mapping: bc5cdr, now: CLOCK }))[1] as fhir4.DocumentReference).type;
  assert.deepEqual(typeOf('DS', 'Discharge summary'), {
    coding: [
      { system: 'http://loinc.org', code: '18842-5', display: 'Discharge summary' },
      { system: 'http://terminology.hl7.org/CodeSystem/v2-0270', code: 'DS' },
    ],
    text: 'Discharge summary',
  });
  assert.deepEqual(typeOf('SP', 'Surgical pathology'), { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0270', code: 'SP' }], text: 'Surgical pathology' });
  assert.deepEqual(typeOf('NOTE42', 'Clinic letter'), { text: 'Clinic letter' });
  for (const r of [typeOf('DS'), typeOf('PR'), typeOf('XX')]) assert.ok(r === undefined || (r.coding ?? []).every((c) => c.system), 'no coding without a system');
});

test('a skipped part (ClinicalDocument.omitted) reaches the output: our DocumentReference says what was skipped and why, no patient text', () => {
  const { doc } = v2Output();
  const out = buildDocumentTransaction({ doc: { ...doc, omitted: [{ origin: 'OBX[4]', reason: 'BAD_ENCODING', contentType: 'text/plain' }] }, entities: [], model: MODEL, mapping: bc5cdr, now: CLOCK });
  const ref = resources(out).find((r) => r.resourceType === 'DocumentReference') as fhir4.DocumentReference;
  assert.equal(ref.description, 'medner skipped OBX[4] (BAD_ENCODING text/plain)');
  assert.ok(validateFhirResource(ref).ok);
  assert.equal((resources(v2Output().out).find((r) => r.resourceType === 'DocumentReference') as fhir4.DocumentReference).description, undefined);
});

test('skipped parts reach the Provenance: one skipped-part extension (origin, reason, media type) per part on the source entity; alternatives are not warnings', () => {
  const { doc } = v2Output();
  const omitted: ClinicalDocument['omitted'] = [
    { origin: 'content[1]', reason: 'BAD_ENCODING', contentType: 'text/plain' },
    { origin: 'content[2]', reason: 'UNREACHABLE' },
    { origin: 'content[3]', reason: 'ALTERNATIVE', contentType: 'application/pdf' },
  ];
  const out = buildDocumentTransaction({ doc: { ...doc, omitted }, entities: assertEntities(doc.text, entitiesOf(doc.text, V2_ENTITIES)), model: MODEL, mapping: bc5cdr, now: CLOCK });
  const prov = ofType<fhir4.Provenance>(out, 'Provenance')[0]!;
  const source = prov.entity!.find((e) => e.role === 'source')!;
  assert.deepEqual(source.extension, [
    { url: URI.skippedPart, extension: [{ url: 'origin', valueString: 'content[1]' }, { url: 'reason', valueCode: 'BAD_ENCODING' }, { url: 'contentType', valueCode: 'text/plain' }] },
    { url: URI.skippedPart, extension: [{ url: 'origin', valueString: 'content[2]' }, { url: 'reason', valueCode: 'UNREACHABLE' }] },
  ]);
  assert.ok(validateFhirResource(prov).ok);
  // nothing skipped: no extension
  assert.equal(ofType<fhir4.Provenance>(v2Output().out, 'Provenance')[0]!.entity![0]!.extension, undefined);
});
