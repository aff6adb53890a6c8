import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity } from '../../src/core/entity.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { parseLabelMapping } from '../../src/fhir/label-mapping.ts';
import { HL7 } from '../../src/fhir/uris.ts';
import { validateFhirResource, validateOutputMessage } from '../../src/fhir/validate.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

const base = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
const mapping = parseLabelMapping({
  labels: {
    Disease: { resourceType: 'Condition' },
    Sign: { resourceType: 'Observation' },
    Drug: { resourceType: 'MedicationStatement' },
    Proc: { resourceType: 'Procedure' },
  },
});
const words = ['no', 'fever', 'mother', 'has', 'possible', 'history', 'of', 'if', 'but', 'cough', 'aspirin', '.', ';', '\n', 'ÿ', '😀', 'denies'];

const docAndEntities = fc
  .array(fc.constantFrom(...words), { minLength: 1, maxLength: 40 })
  .map((ws) => ws.join(' '))
  .chain((text) =>
    fc.tuple(
      fc.constant(text),
      fc.array(
        fc.record({ a: fc.nat(text.length), b: fc.nat(text.length), label: fc.constantFrom('Disease', 'Sign', 'Drug', 'Proc', 'Gene'), score: fc.double({ min: 0, max: 1, noNaN: true }) }),
        { maxLength: 8 },
      ).map((es) => [...es, ...es.slice(0, 2).map((e) => ({ ...e, score: 1 - e.score }))]), // same spans, other scores
    ),
  )
  .map(([text, raw]) => {
    const entities: Entity[] = raw
      .map(({ a, b, label, score }) => ({ start: Math.min(a, b), end: Math.max(a, b), label, score }))
      .filter((e) => e.end > e.start && text.slice(e.start, e.end).trim() !== '')
      .map((e) => ({ ...e, text: text.slice(e.start, e.end) }));
    return { text, entities };
  });

test('for any text and spans: every resource validates, spans point at the mention, output is deterministic', () => {
  fc.assert(
    fc.property(docAndEntities, ({ text, entities }) => {
      const doc: ClinicalDocument = { ...base, text, segments: [{ start: 0, end: text.length, origin: 'OBX[1]' }] };
      const now = () => new Date('2026-03-01T00:00:00Z');
      const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entities), model: { name: 'p', version: '1' }, mapping, now });
      const again = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, [...entities].reverse()), model: { name: 'p', version: '1' }, mapping, now });
      assert.equal(JSON.stringify(again.bundle), JSON.stringify(out.bundle), 'entity order does not matter');
      assert.ok(validateOutputMessage(out.bundle).ok);
      const ids = out.resourceIdentifiers.map((r) => r.value);
      assert.equal(new Set(ids).size, ids.length);
      for (const e of out.bundle.entry ?? []) {
        const r = e.resource!;
        const check = validateFhirResource(r);
        assert.ok(check.ok, `${r.resourceType}: ${check.errors.join('; ')}`);
        const span = (r as fhir4.DomainResource).extension?.find((x) => x.url === HL7.derivationReference);
        if (!span) continue;
        const get = (u: string) => span.extension!.find((x) => x.url === u)!.valueInteger!;
        const mention = text.slice(get('offset'), get('offset') + get('length'));
        const x = r as { code?: fhir4.CodeableConcept; medicationCodeableConcept?: fhir4.CodeableConcept; condition?: { code: fhir4.CodeableConcept }[] };
        assert.equal((x.code ?? x.medicationCodeableConcept ?? x.condition?.[0]?.code)?.text, mention);
      }
    }),
    { numRuns: 150 },
  );
});
