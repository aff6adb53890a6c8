import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/formats/clinical-document.ts';
import { needsReconcile, retract } from '../../src/fhir/fhir-writer.ts';

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
