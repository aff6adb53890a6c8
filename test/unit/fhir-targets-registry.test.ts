import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import type { FhirClient } from '../../src/fhir/fhir-client.ts';
import { FhirServerWriter } from '../../src/fhir/fhir-writer.ts';
import { parseLabelMapping } from '../../src/fhir/label-mapping.ts';
import { planWrite } from '../../src/fhir/reconcile.ts';
import { baseOf, concept } from '../../src/fhir/targets/common.ts';
import { DEFAULT_TARGETS, SHIPPED_TARGETS } from '../../src/fhir/targets/registry.ts';
import { statusRetraction, type ResourceTarget } from '../../src/fhir/targets/target.ts';
import { MednerError } from '../../src/core/errors.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/** A resource target the shipped registry does not have: a mention of a risk becomes a RiskAssessment. */
const riskAssessment: ResourceTarget<fhir4.RiskAssessment> = {
  resourceType: 'RiskAssessment',
  selectable: true,
  category: false,
  build(ctx, e) {
    if (e.assertion.negated) return undefined;
    return { resourceType: 'RiskAssessment', ...baseOf(ctx, e), status: 'final', subject: ctx.subject, code: concept(ctx, e), basis: [ctx.docRef] };
  },
  ...statusRetraction<fhir4.RiskAssessment>(),
};

const targets = DEFAULT_TARGETS.with(riskAssessment);
const rawMapping = { labels: { Risk: { resourceType: 'RiskAssessment' }, Disease: { resourceType: 'Condition' } } };
const model = { name: 'm', version: '1' };
const doc = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;

function mention(text: string, word: string, label: string) {
  const start = text.indexOf(word);
  assert.ok(start >= 0, word);
  return { start, end: start + word.length, text: word, label, score: 0.9 };
}

test('the shipped registry lists each derived type once, and only registered targets can be selected by a mapping', () => {
  assert.deepEqual(DEFAULT_TARGETS.types, ['Condition', 'Observation', 'MedicationStatement', 'Procedure', 'FamilyMemberHistory', 'AllergyIntolerance']);
  assert.deepEqual(DEFAULT_TARGETS.selectable, ['Condition', 'Observation', 'MedicationStatement', 'Procedure']);
  assert.equal(SHIPPED_TARGETS.length, DEFAULT_TARGETS.types.length);
  assert.throws(() => DEFAULT_TARGETS.with(riskAssessment, riskAssessment), /registered twice/);
  assert.throws(
    () => parseLabelMapping(rawMapping, 'test mapping'),
    (e: unknown) => e instanceof MednerError && e.code === 'MAPPING_INVALID' && /\/labels\/Risk\/resourceType: "RiskAssessment" is not a resource target/.test(e.message),
  );
});

test('a fake resource target, registered and selected by a label mapping, is built, written, searched and retracted', async () => {
  const mapping = parseLabelMapping(rawMapping, 'test mapping', targets);
  const entities = [mention(doc.text, 'pneumonia', 'Disease'), mention(doc.text, doc.text.slice(0, 4), 'Risk')];
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities), model, mapping, targets });
  const risk = out.bundle.entry!.find((e) => e.resource?.resourceType === 'RiskAssessment');
  assert.ok(risk, 'the RiskAssessment is in the transaction');
  assert.match(risk.request!.url!, /^RiskAssessment\/medner-[0-9a-f]{57}$/);
  assert.equal(risk.request!.method, 'PUT');
  const ra = risk.resource as fhir4.RiskAssessment;
  assert.equal(ra.status, 'final');
  assert.equal(ra.identifier?.length, 1, 'the business identifier every derived resource gets');
  assert.ok(out.resourceIdentifiers.some((r) => r.resourceType === 'RiskAssessment'));
  const prov = out.bundle.entry!.find((e) => e.resource?.resourceType === 'Provenance')!.resource as fhir4.Provenance;
  assert.ok(prov.target.some((t) => t.reference === risk.fullUrl), 'the Provenance names it');
  // Without the target in the registry, the same mention gives nothing.
  const without = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities), model, mapping });
  assert.ok(!without.bundle.entry!.some((e) => e.resource?.resourceType === 'RiskAssessment'));

  // A new run that no longer yields it (only the disease): reconcile retracts the stored RiskAssessment by its own rule.
  const stored = new Map<string, fhir4.Resource>();
  for (const e of out.bundle.entry!) if (e.request?.method === 'PUT' && e.resource) stored.set(e.request.url!, { ...e.resource, meta: { ...e.resource.meta, versionId: '1' } } as fhir4.Resource);
  const next = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities.slice(0, 1)), model, mapping, targets });
  const plan = planWrite(next.bundle, stored, targets);
  assert.deepEqual(plan.retracted, [risk.request!.url!]);
  const retracted = plan.entries.find((e) => e.request?.url === risk.request!.url)!.resource as fhir4.RiskAssessment;
  assert.equal(retracted.status, 'entered-in-error');
  assert.equal(retracted.meta?.versionId, undefined, 'server meta dropped');
  assert.ok(targets.isRetracted(retracted));
  // With the shipped list of types alone, the RiskAssessment is not a derived type and is left alone.
  assert.deepEqual(planWrite(next.bundle, stored, DEFAULT_TARGETS).retracted, []);

  // The writer's full read searches the fake type too, and its write retracts it.
  const searched: string[] = [];
  let sent: fhir4.Bundle | undefined;
  const client = {
    async search(type: string) {
      searched.push(type);
      return [...stored.values()].filter((r) => r.resourceType === type);
    },
    async read(type: string, id: string) {
      return stored.get(`${type}/${id}`);
    },
    async transaction(b: fhir4.Bundle) {
      sent = b;
      return { resourceType: 'Bundle', type: 'transaction-response', entry: [] };
    },
  } as unknown as FhirClient;
  const writer = new FhirServerWriter(client, { alwaysReconcile: true, targets });
  const res = await writer.writeDocument(doc, next);
  assert.ok(searched.includes('RiskAssessment'), `searched ${searched.join(', ')}`);
  assert.equal(res.retracted, 1);
  const put = sent?.entry?.find((e) => e.request?.url === risk.request!.url);
  assert.equal((put?.resource as fhir4.RiskAssessment | undefined)?.status, 'entered-in-error');
});
