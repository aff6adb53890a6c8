import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MednerError } from '../../src/core/errors.ts';
import { BC5CDR_MAPPING_FILE, codingsFor, loadLabelMapping, parseLabelMapping, targetFor } from '../../src/fhir/label-mapping.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/fhir/${name}`, import.meta.url));

test('the shipped mappings load and map the BC5CDR labels', () => {
  const m = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
  assert.equal(targetFor(m, 'Disease')?.resourceType, 'Condition');
  assert.equal(targetFor(m, 'Disease')?.category?.[0]?.code, 'encounter-diagnosis');
  assert.equal(targetFor(m, 'Chemical')?.resourceType, 'MedicationStatement');
  const clinical = loadLabelMapping(fileURLToPath(new URL('../../src/fhir/mappings/clinical.label-mapping.json', import.meta.url)));
  assert.deepEqual(
    ['problem', 'test', 'treatment', 'procedure'].map((l) => targetFor(clinical, l)?.resourceType),
    ['Condition', 'Observation', 'MedicationStatement', 'Procedure'],
  );
});

test('labels match exactly, then case-insensitively; unknown labels are unmapped', () => {
  const m = parseLabelMapping({ labels: { Disease: { resourceType: 'Condition' }, disease: { resourceType: 'Observation' } } });
  assert.equal(targetFor(m, 'disease')?.resourceType, 'Observation');
  assert.equal(targetFor(m, 'DISEASE')?.resourceType, 'Condition');
  assert.equal(targetFor(m, 'Gene'), undefined);
});

test('an invalid mapping throws MAPPING_INVALID naming the file and each problem', () => {
  const path = fixture('bad-mapping.json');
  try {
    loadLabelMapping(path);
    assert.fail('expected MAPPING_INVALID');
  } catch (e) {
    assert.ok(e instanceof MednerError);
    assert.equal(e.code, 'MAPPING_INVALID');
    assert.equal(e.retriable, false);
    assert.match(e.message, /bad-mapping\.json/);
    assert.match(e.message, /\/labels\/Disease\/resourceType/);
    assert.match(e.message, /Condition, Observation/); // the allowed values are listed
    assert.match(e.message, /\/codings\/0/);
    assert.match(e.message, /\/labels\/Chemical/); // a category on a MedicationStatement
  }
});

test('unreadable or non-JSON files throw MAPPING_INVALID too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medner-map-'));
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "labels": ');
  assert.throws(() => loadLabelMapping(broken), (e: unknown) => e instanceof MednerError && e.code === 'MAPPING_INVALID' && /not valid JSON/.test(e.message));
  assert.throws(() => loadLabelMapping(join(dir, 'missing.json')), (e: unknown) => e instanceof MednerError && e.code === 'MAPPING_INVALID' && /ENOENT/.test(e.message));
  assert.throws(() => parseLabelMapping({ labels: {} }), /fewer than 1/);
});

test('codings come only from the lookup table: normalized term, optional label restriction', () => {
  const m = parseLabelMapping({
    labels: { Disease: { resourceType: 'Condition' }, Chemical: { resourceType: 'MedicationStatement' } },
    codings: [
      { term: 'Type 2  diabetes mellitus', system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' },
      { term: 'aspirin', label: 'Chemical', system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1191' },
    ],
  });
  assert.deepEqual(codingsFor(m, 'Disease', 'type 2 diabetes\nmellitus'), [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }]);
  assert.deepEqual(codingsFor(m, 'Chemical', 'Aspirin'), [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1191' }]);
  assert.deepEqual(codingsFor(m, 'Disease', 'aspirin'), []);
  assert.deepEqual(codingsFor(m, 'Disease', 'pneumonia'), []);
});
