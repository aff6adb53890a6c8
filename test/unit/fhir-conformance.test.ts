import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conformanceResources, ASSERTION_CODES } from '../../src/fhir/conformance.ts';
import { loadConfig } from '../../src/config/config.ts';
import { DEFAULT_FHIR_CANONICAL_BASE, URI } from '../../src/fhir/uris.ts';

test('conformance resources: one StructureDefinition per extension we write, under the canonical base, and the code systems we use', () => {
  const base = 'https://fhir.example-hospital.org/nlp';
  const rs = conformanceResources(base);
  const urls = rs.map((r) => r.url);
  assert.ok(urls.includes(`${base}/StructureDefinition/nlp-score`));
  assert.ok(urls.includes(`${base}/StructureDefinition/nlp-assertion`));
  assert.ok(urls.includes(`${base}/CodeSystem/nlp-model`) && urls.includes(`${base}/CodeSystem/source-document`) && urls.includes(`${base}/CodeSystem/provenance-run`));
  assert.ok(rs.every((r) => r.url!.startsWith(base)));
  // the default resources name exactly the URIs document-output writes
  const defaults = conformanceResources().map((r) => r.url);
  for (const u of [URI.nlpScore, URI.nlpAssertion, URI.linkScore, URI.modelTag, URI.sourceDocumentTag, URI.provenanceRunTag, URI.assertionTag]) assert.ok(defaults.includes(u), u);
  assert.deepEqual(ASSERTION_CODES.map((c) => c.code), ['negated', 'uncertain', 'historical', 'family']);
});

test('FHIR_CANONICAL_BASE: default documented, a bad value named', () => {
  assert.equal(loadConfig({}).fhir.canonicalBase, DEFAULT_FHIR_CANONICAL_BASE);
  assert.equal(loadConfig({ FHIR_CANONICAL_BASE: 'https://fhir.example-hospital.org/nlp' }).fhir.canonicalBase, 'https://fhir.example-hospital.org/nlp');
  assert.throws(() => loadConfig({ FHIR_CANONICAL_BASE: 'https://x.org/fhir/' }), /FHIR_CANONICAL_BASE/);
  assert.throws(() => loadConfig({ FHIR_CANONICAL_BASE: 'not a url' }), /FHIR_CANONICAL_BASE/);
});
