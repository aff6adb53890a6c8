import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity } from '../../src/core/entity.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { validateFhirResource } from '../../src/fhir/validate.ts';
import { HL7 } from '../../src/fhir/uris.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/**
 * Our clinical check set (test/fixtures/clinical/clinical-set.json): sentences and short notes with
 * hand-placed entities, through the whole FHIR mapping (sections, assertions, allergies, merging).
 */

interface Expect {
  type: string;
  text: string;
  verification?: string | null;
  clinical?: string | null;
  status?: string;
  interpretation?: string | null;
  allergyType?: string;
  criticality?: string;
  reactions?: string[];
  relationship?: string;
  spans?: number;
}
interface Case {
  id: string;
  rule: string;
  text: string;
  entities: [string, string, ('all' | number)?][];
  expect?: Expect[];
  none?: string[];
  count?: Record<string, number>;
}

const set = JSON.parse(readFileSync(new URL('../fixtures/clinical/clinical-set.json', import.meta.url), 'utf8')) as { cases: Case[] };
const mapping = loadLabelMapping(fileURLToPath(new URL('../../src/fhir/mappings/clinical.label-mapping.json', import.meta.url)));

function entitiesOf(c: Case): Entity[] {
  const out: Entity[] = [];
  for (const [mention, label, which] of c.entities) {
    const starts: number[] = [];
    for (let i = c.text.indexOf(mention); i >= 0; i = c.text.indexOf(mention, i + 1)) starts.push(i);
    assert.ok(starts.length > 0, `${c.id}: text lacks ${mention}`);
    const chosen = which === 'all' ? starts : [starts[typeof which === 'number' ? which : 0]!];
    for (const start of chosen) out.push({ start, end: start + mention.length, text: mention, label, score: 0.9 });
  }
  return out;
}

function docOf(c: Case): ClinicalDocument {
  return {
    id: `CLIN-${c.id}`,
    idSystem: 'urn:oid:2.16.840.1.113883.19.5.99',
    format: 'fhir',
    messageType: 'DocumentReference',
    patient: { reference: 'Patient/clinical-set' },
    date: '2026-03-01T09:00:00Z',
    status: 'current',
    lifecycle: { action: 'original' },
    source: { kind: 'file', path: 'clinical-set.json', index: 0 },
    text: c.text,
    segments: [{ start: 0, end: c.text.length, origin: 'content[0]' }],
  } as unknown as ClinicalDocument;
}

type AnyDerived = fhir4.DomainResource & Record<string, unknown>;

function conceptText(r: AnyDerived): string | undefined {
  const cc = (r.code ?? r.medicationCodeableConcept ?? (r.condition as { code: fhir4.CodeableConcept }[] | undefined)?.[0]?.code) as fhir4.CodeableConcept | undefined;
  return cc?.text;
}

const derivedTypes = new Set(['Condition', 'Observation', 'MedicationStatement', 'Procedure', 'FamilyMemberHistory', 'AllergyIntolerance']);

/** The failed checks of one case (empty when it passes). */
function check(c: Case): string[] {
  const out = buildDocumentTransaction({ doc: docOf(c), entities: assertEntities(docOf(c).text, entitiesOf(c)), model: { name: 'clinical-set', version: '1' }, mapping, now: () => new Date('2026-03-01T10:00:00Z') } as Parameters<typeof buildDocumentTransaction>[0]);
  const resources = (out.bundle.entry ?? []).map((e) => e.resource as AnyDerived).filter((r) => derivedTypes.has(r.resourceType));
  const fails: string[] = [];
  for (const r of resources) {
    const v = validateFhirResource(r);
    if (!v.ok) fails.push(`${r.resourceType} ${conceptText(r)} does not validate: ${v.errors.join('; ')}`);
  }
  for (const e of c.expect ?? []) {
    const candidates = resources.filter((r) => r.resourceType === e.type && conceptText(r) === e.text);
    const problems = candidates.map((r) => mismatches(r, e));
    if (!problems.some((p) => p.length === 0)) {
      fails.push(candidates.length === 0 ? `no ${e.type} "${e.text}" (got ${resources.map((r) => `${r.resourceType}:${conceptText(r)}`).join(', ') || 'nothing'})` : `${e.type} "${e.text}": ${problems.map((p) => p.join(', ')).join(' | ')}`);
    }
  }
  for (const t of c.none ?? []) {
    const found = resources.filter((r) => conceptText(r)?.toLowerCase() === t.toLowerCase() || (r.reaction as { manifestation: fhir4.CodeableConcept[] }[] | undefined)?.some(() => false));
    if (found.length > 0) fails.push(`"${t}" became ${found.map((r) => r.resourceType).join(', ')}`);
  }
  for (const [type, n] of Object.entries(c.count ?? {})) {
    const got = resources.filter((r) => r.resourceType === type).length;
    if (got !== n) fails.push(`${n} ${type} expected, got ${got}`);
  }
  return fails;
}

function mismatches(r: AnyDerived, e: Expect): string[] {
  const m: string[] = [];
  const code = (cc: unknown) => (cc as fhir4.CodeableConcept | undefined)?.coding?.[0]?.code ?? null;
  const eq = (what: string, got: unknown, want: unknown) => {
    if (want !== undefined && got !== want) m.push(`${what} ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  };
  eq('verificationStatus', code(r.verificationStatus), e.verification);
  eq('clinicalStatus', code(r.clinicalStatus), e.clinical);
  eq('status', r.status, e.status);
  eq('interpretation', code((r.interpretation as unknown[] | undefined)?.[0]), e.interpretation);
  eq('type', r.type, e.allergyType);
  eq('criticality', r.criticality, e.criticality);
  eq('relationship', code(r.relationship), e.relationship);
  if (e.reactions) {
    const got = ((r.reaction as { manifestation: fhir4.CodeableConcept[] }[] | undefined) ?? []).flatMap((x) => x.manifestation.map((y) => y.text));
    eq('reactions', JSON.stringify(got), JSON.stringify(e.reactions));
  }
  if (e.spans !== undefined) eq('spans', (r.extension ?? []).filter((x) => x.url === HL7.derivationReference).length, e.spans);
  return m;
}

assert.ok(set.cases.length >= 60, 'the clinical set has at least 60 cases');

const results = new Map<string, string[]>();
for (const c of set.cases) {
  test(`clinical set ${c.id} (${c.rule}): ${JSON.stringify(c.text.length > 70 ? `${c.text.slice(0, 70)}...` : c.text)}`, () => {
    const fails = check(c);
    results.set(c.id, fails);
    assert.deepEqual(fails, [], `${c.id}: ${fails.join('\n')}`);
  });
}

test('clinical set: every rule of issue 17 is covered', () => {
  const rules = new Set(set.cases.map((c) => c.rule.split(' ')[0]));
  for (const r of ['negation', 'post-trigger', 'rule', 'evaluate', 'testing', 'possible', 'historical', 'history', 'discontinued', 'held', 'allergic', 'allergies', 'no', 'NKDA', 'family', 'header', 'semantic', 'fragments', 'one', 'plan']) {
    assert.ok(rules.has(r), `no case for ${r}`);
  }
  const checks = [...results.values()];
  const passed = checks.filter((f) => f.length === 0).length;
  console.log(`clinical set: ${passed}/${checks.length} cases pass`);
});
