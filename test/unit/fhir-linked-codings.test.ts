import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity } from '../../src/core/entity.ts';
import { buildDocumentTransaction, type DocumentOutput } from '../../src/fhir/document-output.ts';
import { BC5CDR_MAPPING_FILE, linkSettingsFor, loadLabelMapping, parseLabelMapping } from '../../src/fhir/label-mapping.ts';
import { linkedCodings } from '../../src/fhir/linked-codings.ts';
import { URI } from '../../src/fhir/uris.ts';
import { validateFhirResource } from '../../src/fhir/validate.ts';
import { linkDocumentEntities } from '../../src/nlp/linking/link-entities.ts';
import { Linker } from '../../src/nlp/linking/linker.ts';
import { ICD10CM_SYSTEM } from '../../src/core/code-systems.ts';
import { MESH_SYSTEM, sharedTerminology } from '../../src/nlp/linking/tables.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
const tables = sharedTerminology();
const linker = new Linker(tables);
const doc = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;

function entities(spec: [string, string][]): Entity[] {
  return spec.map(([word, label]) => {
    const start = doc.text.indexOf(word);
    assert.ok(start >= 0, word);
    return { start, end: start + word.length, text: word, label, score: 0.9 };
  });
}
const SPEC: [string, string][] = [
  ['pneumonia', 'Disease'],
  ['aspirin', 'Chemical'],
  ['diabetes', 'Disease'],
];
const build = (ents: Entity[]): DocumentOutput => buildDocumentTransaction({ doc, entities: assertEntities(doc.text, ents), model: { name: 'm', version: '1' }, mapping, now: () => new Date('2026-03-01T00:00:00Z') });
const linked = () => linkDocumentEntities(linker, doc.text, entities(SPEC), linkSettingsFor(mapping));
const res = (out: DocumentOutput) => (out.bundle.entry ?? []).map((e) => e.resource!);

test('the shipped BC5CDR mapping links Disease (ICD-10-CM, MeSH) and Chemical (MeSH)', () => {
  assert.deepEqual(linkSettingsFor(mapping)('Disease')?.terminologies, ['icd-10-cm', 'mesh']);
  assert.deepEqual(linkSettingsFor(mapping)('Chemical')?.terminologies, ['mesh']);
  assert.throws(() => parseLabelMapping({ labels: { X: { resourceType: 'Condition', link: { terminologies: ['snomed'], threshold: 0.5 } } } }), /MAPPING_INVALID|invalid/);
  assert.throws(() => parseLabelMapping({ labels: { X: { resourceType: 'Condition', link: { terminologies: ['mesh'], threshold: 2 } } } }));
});

test('Condition, FamilyMemberHistory and MedicationStatement carry the linker codings; code.text keeps the words', () => {
  const out = build(linked());
  const cond = res(out).find((r) => r.resourceType === 'Condition') as fhir4.Condition;
  assert.equal(cond.code?.text, 'pneumonia');
  const icd = cond.code?.coding?.find((c) => c.system === 'http://hl7.org/fhir/sid/icd-10-cm');
  assert.ok(icd, JSON.stringify(cond.code));
  assert.equal(icd.version, '2022');
  assert.equal(icd.display, tables.icd.get(icd.code!)!.display, 'display exactly as in the table');
  assert.match(icd.code!, /^J1[2-8]/);
  const mesh = cond.code?.coding?.find((c) => c.system === 'https://www.nlm.nih.gov/mesh');
  assert.equal(mesh?.code, 'D011014');
  for (const c of cond.code!.coding!) {
    const s = c.extension?.find((x) => x.url === URI.linkScore)?.valueDecimal;
    assert.ok(typeof s === 'number' && s > 0 && s <= 1 && Math.round(s * 100) === s * 100, 'score rounded to two decimals');
  }
  const med = res(out).find((r) => r.resourceType === 'MedicationStatement') as fhir4.MedicationStatement;
  assert.equal(med.medicationCodeableConcept?.text, 'aspirin');
  assert.deepEqual(med.medicationCodeableConcept?.coding?.map((c) => [c.system, c.code]), [[MESH_SYSTEM, 'D001241']]);
  const fmh = res(out).find((r) => r.resourceType === 'FamilyMemberHistory') as fhir4.FamilyMemberHistory;
  assert.equal(fmh.condition?.[0]?.code.text, 'diabetes');
  assert.ok(fmh.condition?.[0]?.code.coding?.some((c) => c.system === MESH_SYSTEM && c.code === 'D003920'), JSON.stringify(fmh.condition));
  for (const r of res(out)) assert.deepEqual(validateFhirResource(r).errors, [], r.resourceType);
});

test('replay converges: linking again gives the same bundle and the same resource ids', () => {
  const a = build(linked());
  const b = build(linkDocumentEntities(new Linker(sharedTerminology()), doc.text, entities(SPEC).reverse(), linkSettingsFor(mapping)).reverse());
  assert.deepEqual(b.bundle, a.bundle);
  assert.deepEqual(b.resourceIdentifiers, a.resourceIdentifiers);
});

test('ICD-10-CM only on conditions; a composite mention (several codes of one system) gets no coding', () => {
  const icd = { system: ICD10CM_SYSTEM, code: 'C50', display: 'Malignant neoplasm of breast', version: '2022', score: 0.9 };
  const mesh = { system: MESH_SYSTEM, code: 'D001943', score: 0.91 };
  assert.deepEqual(linkedCodings([icd, mesh], false).map((c) => c.system), [MESH_SYSTEM]);
  assert.deepEqual(linkedCodings([icd, mesh], true), [
    { extension: [{ url: URI.linkScore, valueDecimal: 0.9 }], system: ICD10CM_SYSTEM, version: '2022', code: 'C50', display: 'Malignant neoplasm of breast' },
    { extension: [{ url: URI.linkScore, valueDecimal: 0.91 }], system: MESH_SYSTEM, code: 'D001943' },
  ]);
  assert.deepEqual(linkedCodings([icd, mesh, { ...icd, code: 'C56' }, { ...mesh, code: 'D010051' }], true), []);
  assert.deepEqual(linkedCodings(undefined, true), []);
});

test('clinical labels (MACCROBAT mapping): diagnoses get their ICD-10-CM category, medications MeSH', () => {
  const clinical = loadLabelMapping(fileURLToPath(new URL('../../src/fhir/mappings/maccrobat.label-mapping.json', import.meta.url)));
  const text = 'A 58-year-old man with type 2 diabetes mellitus, essential hypertension and asthma was started on metformin.';
  const cdoc: ClinicalDocument = { ...doc, text, segments: undefined } as unknown as ClinicalDocument;
  const spec: [string, string][] = [
    ['type 2 diabetes mellitus', 'Disease_disorder'],
    ['essential hypertension', 'Disease_disorder'],
    ['asthma', 'Disease_disorder'],
    ['metformin', 'Medication'],
  ];
  const ents = spec.map(([w, label]) => ({ start: text.indexOf(w), end: text.indexOf(w) + w.length, text: w, label, score: 0.9 }));
  const coded = linkDocumentEntities(linker, text, ents, linkSettingsFor(clinical));
  const out = buildDocumentTransaction({ doc: cdoc, entities: assertEntities(cdoc.text, coded), model: { name: 'm', version: '1' }, mapping: clinical });
  const cats = res(out)
    .filter((r) => r.resourceType === 'Condition')
    .map((r) => [(r as fhir4.Condition).code?.text, (r as fhir4.Condition).code?.coding?.find((c) => c.system === ICD10CM_SYSTEM)?.code?.slice(0, 3)]);
  assert.deepEqual(
    cats.sort(),
    [
      ['asthma', 'J45'],
      ['essential hypertension', 'I10'],
      ['type 2 diabetes mellitus', 'E11'],
    ],
  );
  const med = res(out).find((r) => r.resourceType === 'MedicationStatement') as fhir4.MedicationStatement;
  assert.deepEqual(med.medicationCodeableConcept?.coding?.map((c) => [c.system, c.code]), [[MESH_SYSTEM, 'D008687']]);
});
