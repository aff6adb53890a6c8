import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices, uniqueName } from '../support/services.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity, ModelInfo } from '../../src/core/entity.ts';
import { buildDocumentTransaction, DERIVED_RESOURCE_TYPES } from '../../src/fhir/document-output.ts';
import { FhirClient } from '../../src/fhir/fhir-client.ts';
import { FhirServerWriter } from '../../src/fhir/fhir-writer.ts';
import { documentKey, documentTagCode } from '../../src/fhir/ids.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { URI } from '../../src/fhir/uris.ts';
import { isRetriable } from '../../src/core/errors.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/**
 * Issue 20, write races against the real HAPI server: many documents of ONE patient and several
 * versions of ONE document, written at the same time. HAPI answers some of these 409 (a version
 * conflict on the shared Patient/Device/DocumentReference, or hfj_res_search_url_pkey when two
 * conditional creates of the Patient meet); the client retries those, and past its retries the
 * worker puts the job back (modelled here by `writeLikeTheWorker`). Everything must converge:
 * one Patient, one Device, one DocumentReference per document, no duplicate derived resource.
 * Ids and identifiers are unique to the run, so runs never meet (and the live data is not touched).
 */
const svc = await integrationServices(['fhir']);
const run = uniqueName('race');
const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
const model: ModelInfo = { name: 'medner-it', version: `race20-${run}` };

function entitiesOf(text: string): Entity[] {
  const spec: [string, string][] = [['pneumonia', 'Disease'], ['fever', 'Disease'], ['sepsis', 'Disease'], ['aspirin', 'Chemical'], ['chest pain', 'Disease']];
  return spec.flatMap(([w, label]) => {
    const start = text.indexOf(w);
    return start < 0 ? [] : [{ start, end: start + w.length, text: w, label, score: 0.93 }];
  });
}

function doc(id: string, text: string, extra: Partial<ClinicalDocument> = {}): ClinicalDocument {
  const d = JSON.parse(readFileSync(new URL('../fixtures/fhir/hl7v2-document.json', import.meta.url), 'utf8')) as ClinicalDocument;
  d.id = id;
  d.patient = { ...d.patient, identifier: { ...d.patient.identifier!, value: `MRN-${run}` } };
  d.text = text;
  d.segments = [{ start: 0, end: text.length, origin: 'OBX[1]' }];
  return { ...d, ...extra };
}

test('many documents of one patient and several versions of one document, written concurrently, converge', { skip: svc.skip, timeout: 240_000 }, async () => {
  if (!svc.ok) return;
  const base = svc.services.fhirBaseUrl;
  let conflicts = 0;
  const counting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (res.status === 409) conflicts++;
    return res;
  };
  const client = new FhirClient({ baseUrl: base, timeoutMs: 60_000, auth: { kind: 'none' }, maxRetries: 4, baseBackoffMs: 50, fetchImpl: counting });
  const writer = new FhirServerWriter(client);
  /** The worker's policy: a retriable failure puts the job back (no attempt spent), here up to 20 times. */
  const writeLikeTheWorker = async (d: ClinicalDocument) => {
    for (let i = 0; ; i++) {
      try {
        return await writer.writeDocument(d, buildDocumentTransaction({ doc: d, entities: assertEntities(d.text, entitiesOf(d.text)), model, mapping }));
      } catch (err) {
        if (!isRetriable(err) || i >= 20) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
      }
    }
  };

  const many = Array.from({ length: 16 }, (_, i) => doc(`DOC-${run}-${i}`, ['Patient has pneumonia. Takes aspirin daily.', 'Patient has sepsis. Takes aspirin daily.', 'Has chest pain and fever.'][i % 3]!));
  const versions = [
    doc(`DOC-${run}-v`, 'Patient has pneumonia. Takes aspirin daily.'),
    doc(`DOC-${run}-v`, 'Patient has pneumonia and sepsis. Takes aspirin daily.', { lifecycle: { action: 'edit' }, docStatus: 'amended', messageType: 'MDM^T08' }),
    doc(`DOC-${run}-v`, 'Patient has sepsis. Fever.', { lifecycle: { action: 'edit' }, docStatus: 'amended', messageType: 'MDM^T08' }),
    doc(`DOC-${run}-v`, 'Now chest pain only.', { lifecycle: { action: 'edit' }, docStatus: 'amended', messageType: 'MDM^T08' }),
  ];
  const results = await Promise.allSettled([...many, ...versions].map((d) => writeLikeTheWorker(d)));
  assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), [], 'every write converged');
  process.stderr.write(`# ${many.length + versions.length} concurrent documents of one patient: ${conflicts} HTTP 409 answers, all retried\n`);

  const c = new FhirClient({ baseUrl: base, timeoutMs: 60_000, auth: { kind: 'none' } });
  const pid = many[0]!.patient.identifier!;
  assert.equal((await c.search('Patient', { identifier: `${pid.system}|${pid.value}` })).length, 1, 'one Patient');
  assert.equal((await c.search('Device', { identifier: `${URI.deviceIdentifier}|medner-it@${model.version}` })).length, 1, 'one Device');
  for (const d of [...many, versions[0]!]) {
    const refs = await c.search<fhir4.DocumentReference>('DocumentReference', { identifier: `${d.idSystem}|${d.id}` });
    assert.equal(refs.length, 1, `one DocumentReference for ${d.id}`);
  }
  // Derived resources: each identifier once (no copies from racing writers), for every document.
  for (const d of [...many, versions[0]!]) {
    const tag = `${URI.sourceDocumentTag}|${documentTagCode(documentKey(d))}`;
    const seen = new Map<string, number>();
    let total = 0;
    for (const t of DERIVED_RESOURCE_TYPES) {
      for (const r of await c.search(t, { _tag: tag })) {
        total++;
        const ident = (r as { identifier?: fhir4.Identifier[] }).identifier?.find((i) => i.system === URI.derivedIdentifier)?.value ?? r.id!;
        seen.set(ident, (seen.get(ident) ?? 0) + 1);
      }
    }
    assert.ok(total > 0, `${d.id} has derived resources`);
    assert.deepEqual([...seen.values()].filter((n) => n > 1), [], `${d.id}: no derived resource twice`);
  }
  // The versions: whatever order they landed in, writing the last one again settles the document at it.
  const last = versions.at(-1)!;
  await writeLikeTheWorker(last);
  const tag = `${URI.sourceDocumentTag}|${documentTagCode(documentKey(last))}`;
  const live: string[] = [];
  for (const t of DERIVED_RESOURCE_TYPES) {
    for (const r of await c.search(t, { _tag: tag })) {
      const cond = r as fhir4.Condition & { status?: string };
      const retracted = cond.status === 'entered-in-error' || cond.verificationStatus?.coding?.some((x) => x.code === 'entered-in-error');
      if (!retracted) live.push(`${r.resourceType}:${(cond.code?.text ?? cond.code?.coding?.[0]?.display ?? '').toLowerCase()}`);
    }
  }
  assert.deepEqual(live, ['Condition:chest pain'], 'only what the last version says is live');
});
