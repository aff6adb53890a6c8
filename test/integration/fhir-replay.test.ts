import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices, uniqueName } from '../support/services.ts';
import { seededOrder, syntheaLikeNotes } from '../support/clinical-notes.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity, ModelInfo } from '../../src/core/entity.ts';
import { createNerEngine, type NerEngine } from '../../src/nlp/engine.ts';
import { buildDocumentTransaction, DERIVED_RESOURCE_TYPES } from '../../src/fhir/document-output.ts';
import { FhirClient } from '../../src/fhir/fhir-client.ts';
import { FhirServerWriter, type WriteResult } from '../../src/fhir/fhir-writer.ts';
import { documentKey, documentTagCode } from '../../src/fhir/ids.ts';
import { loadLabelMapping, type LabelMapping } from '../../src/fhir/label-mapping.ts';
import { isRetracted } from '../../src/fhir/retract.ts';
import { URI } from '../../src/fhir/uris.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/**
 * Issue 21 against the real FHIR server (FHIR_BASE_URL, or a container): 200 Synthea-like notes
 * through the shipped default model and the writer, then replayed twice with other batch
 * compositions: zero new versions, zero new resources (the server's own history says so, not
 * only our counts). Then an upgrade (another model version and label mapping) supersedes: what
 * the new run yields and nothing else is in force, every such resource is a target of the
 * document's one Provenance, which names the new run.
 */

const svc = await integrationServices(['fhir']);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelDir = path.join(repo, 'models/medner-bc5cdr-bge-small');
const mapping = loadLabelMapping(path.join(modelDir, 'label-mapping.json'));
const run = uniqueName('replay');
const N = 200;
const notes = syntheaLikeNotes(N, 500);

let engine: NerEngine | undefined;
after(async () => {
  await engine?.close();
});

function client(): FhirClient {
  if (!svc.ok) throw new Error('no FHIR server');
  return new FhirClient({ baseUrl: svc.services.fhirBaseUrl, timeoutMs: 60_000, auth: { kind: 'none' }, maxRetries: 3 });
}

/** Half HL7 v2 (Patient conditional create, our DocumentReference), half FHIR DocumentReference sources. */
function docOf(i: number): ClinicalDocument {
  const text = notes[i]!;
  const fixture = i % 2 === 0 ? 'hl7v2-document.json' : 'fhir-document.json';
  const doc = JSON.parse(readFileSync(new URL(`../fixtures/fhir/${fixture}`, import.meta.url), 'utf8')) as ClinicalDocument;
  doc.id = `DOC-${run}-${i}`;
  if (doc.patient.identifier) doc.patient.identifier.value = `MRN-${run}-${i}`;
  else doc.patient = { reference: `Patient/${run}-p${i}` };
  if (doc.sourceReference) doc.sourceReference = `DocumentReference/${run}-d${i}`;
  doc.text = text;
  doc.segments = [{ start: 0, end: text.length, origin: doc.format === 'hl7v2' ? 'OBX[1]' : 'content[0]' }];
  return doc;
}
const docs = Array.from({ length: N }, (_, i) => docOf(i));
const tags = new Set(docs.map((d) => documentTagCode(documentKey(d))));

type Totals = Omit<WriteResult, 'written'> & { docs: number };
const zero = (): Totals => ({ docs: 0, created: 0, updated: 0, unchanged: 0, retracted: 0, deleted: 0 });

/** Runs the documents in `order`, `size` per extract call (the batch composition), and writes each. */
async function processAll(order: number[], size: number, model: ModelInfo, m: LabelMapping, only?: Set<number>): Promise<Totals> {
  engine ??= await createNerEngine({ modelDir });
  const writer = new FhirServerWriter(client());
  const t = zero();
  const todo = only ? order.filter((i) => only.has(i)) : order;
  for (let k = 0; k < todo.length; k += size) {
    const idx = todo.slice(k, k + size);
    const ents: Entity[][] = await engine.extract(idx.map((i) => docs[i]!.text));
    // four documents written at a time, as several workers would
    for (let j = 0; j < idx.length; j += 4) {
      const results = await Promise.all(
        idx.slice(j, j + 4).map((i, q) => writer.writeDocument(docs[i]!, buildDocumentTransaction({ doc: docs[i]!, entities: assertEntities(docs[i]!.text, ents[j + q]!), model, mapping: m }))),
      );
      for (const r of results) {
        t.docs++;
        t.created += r.created;
        t.updated += r.updated;
        t.unchanged += r.unchanged;
        t.retracted += r.retracted;
        t.deleted += r.deleted;
      }
    }
  }
  return t;
}

/** Versions the server made since `since` of resources tagged with our documents (creates included), from its history. */
async function versionsSince(since: string): Promise<{ versions: number; byType: Record<string, number> }> {
  const c = client();
  const byType: Record<string, number> = {};
  let versions = 0;
  for (const type of [...DERIVED_RESOURCE_TYPES, 'Provenance', 'DocumentReference']) {
    const found = await c.search(`${type}/_history`, { _since: since, _count: '1000' }, { maxPages: 1000 });
    const ours = found.filter((r) => r.meta?.tag?.some((g) => g.system === URI.sourceDocumentTag && tags.has(g.code ?? '')) || (type === 'DocumentReference' && r.id && docRefIds.has(r.id)));
    if (ours.length > 0) byType[type] = ours.length;
    versions += ours.length;
  }
  return { versions, byType };
}
const docRefIds = new Set<string>();

const shuffled = seededOrder;

const MODEL: ModelInfo = { name: 'medner-bc5cdr-bge-small', version: `it-${run}` };

test('HAPI: a transaction PUT of identical content makes no version; a moved Provenance.recorded does', { skip: svc.skip }, async () => {
  const doc = { ...docOf(1), id: `DOC-${run}-hapi` }; // a document of its own: the tests below start theirs from nothing
  const m = /(bronchitis|hypertension|diabetes|anemia|asthma|sepsis|pneumonia|migraine|gout|hyperlipidemia|sinusitis|pharyngitis|depression)/.exec(doc.text)!;
  const out = buildDocumentTransaction({ doc, entities: assertEntities(doc.text, [{ start: m.index, end: m.index + m[0].length, text: m[0], label: 'Disease', score: 0.91 }]), model: MODEL, mapping });
  const c = client();
  const versionOf = async (url: string) => (await c.read(url.split('/')[0]!, url.split('/')[1]!))?.meta?.versionId;
  const urls = (out.bundle.entry ?? []).map((e) => e.request!.url!);
  await c.transaction(out.bundle);
  await c.transaction(out.bundle);
  for (const u of urls) assert.equal(await versionOf(u), '1', u);
  const moved = structuredClone(out.bundle);
  const prov = moved.entry!.find((e) => e.resource?.resourceType === 'Provenance')!;
  (prov.resource as fhir4.Provenance).recorded = '2031-01-01T00:00:00Z';
  await c.transaction(moved);
  assert.equal(await versionOf(prov.request!.url!), '2');
  for (const u of urls.filter((x) => !x.startsWith('Provenance/'))) assert.equal(await versionOf(u), '1', u);
});

test('a note in which the model finds nothing (a DocumentReference, no Provenance): its replay sends nothing and the writer sees it unchanged', { skip: svc.skip }, async () => {
  const doc = { ...docOf(0), id: `DOC-${run}-empty` };
  const out = buildDocumentTransaction({ doc, entities: [], model: MODEL, mapping });
  const puts = (out.bundle.entry ?? []).filter((e) => e.request?.method === 'PUT').map((e) => e.request!.url!);
  assert.ok(puts.some((u) => u.startsWith('DocumentReference/')), 'an HL7 v2 note: medner writes its DocumentReference');
  assert.ok(!puts.some((u) => u.startsWith('Provenance/')), 'no derived resource, so no Provenance');
  const writer = new FhirServerWriter(client());
  const first = await writer.writeDocument(doc, out);
  assert.equal(first.created, 1, 'the DocumentReference');
  const plan = await writer.plan(doc, out);
  assert.deepEqual(plan.entries, [], 'nothing to send again');
  assert.deepEqual(plan.created, []);
  assert.deepEqual(plan.unchanged, puts.filter((u) => u.startsWith('DocumentReference/')));
  const full = await writer.plan(doc, out, { full: true });
  assert.deepEqual(full.entries, [], 'medner verify (a full read) sees it as a clean run writes it');
  const again = await writer.writeDocument(doc, out);
  assert.equal(again.created + again.updated, 0);
  const [type, id] = puts.find((u) => u.startsWith('DocumentReference/'))!.split('/') as [string, string];
  assert.equal((await client().read(type, id))?.meta?.versionId, '1');
});

test('200 notes processed, then replayed twice in other batch compositions: no new resource, no new version', { skip: svc.skip, timeout: 1_800_000 }, async () => {
  const first = await processAll(docs.map((_, i) => i), 32, MODEL, mapping);
  assert.ok(first.created > N, `first run created ${first.created} resources`);
  assert.equal(first.updated + first.unchanged + first.retracted + first.deleted, 0);
  for (const d of docs) {
    const out = buildDocumentTransaction({ doc: d, entities: [], model: MODEL, mapping });
    for (const e of out.bundle.entry ?? []) if (e.resource?.resourceType === 'DocumentReference' && e.resource.id) docRefIds.add(e.resource.id);
  }
  await new Promise((r) => setTimeout(r, 1100)); // _since has one-second resolution
  const since = new Date().toISOString();
  const replay1 = await processAll(shuffled(N, 7), 8, MODEL, mapping);
  const replay2 = await processAll(shuffled(N, 99).reverse(), 64, MODEL, mapping);
  for (const r of [replay1, replay2]) {
    assert.deepEqual({ ...r, unchanged: 0 }, { ...zero(), docs: N });
    assert.equal(r.unchanged, first.created, 'every resource of the first run found unchanged');
  }
  const made = await versionsSince(since);
  assert.deepEqual(made, { versions: 0, byType: {} }, 'the server made versions during the replays');
});

test('an upgrade (new model version and label mapping) supersedes: retracted what it no longer yields, one Provenance naming the new run, no orphans', { skip: svc.skip, timeout: 900_000 }, async () => {
  const subset = new Set(Array.from({ length: 20 }, (_, k) => k * 10));
  const next: ModelInfo = { name: MODEL.name, version: `${MODEL.version}-next` };
  // The new mapping drops chemicals: every MedicationStatement of the first run must go.
  const noChemicals: LabelMapping = JSON.parse(JSON.stringify(mapping)) as LabelMapping;
  for (const [label, target] of Object.entries(noChemicals.labels)) if (/chemical/i.test(label)) (target as { resourceType: string }).resourceType = 'ignore';
  const up = await processAll([...subset], 8, next, noChemicals, subset);
  assert.ok(up.retracted > 0, 'expected medications retracted');
  assert.ok(up.updated > 0 && up.deleted === subset.size, `updated ${up.updated}, superseded Provenance deleted ${up.deleted}`);
  const c = client();
  for (const i of subset) {
    const tag = `${URI.sourceDocumentTag}|${documentTagCode(documentKey(docs[i]!))}`;
    const provs = await c.search<fhir4.Provenance>('Provenance', { _tag: tag });
    assert.equal(provs.length, 1, `doc ${i}: one Provenance`);
    const p = provs[0]!;
    assert.match(p.agent[0]!.who!.display!, /-next$/);
    const targets = new Set(p.target.map((t) => t.reference));
    for (const type of DERIVED_RESOURCE_TYPES) {
      for (const r of await c.search(type, { _tag: tag, _count: '1000' })) {
        if (isRetracted(r)) {
          assert.ok(!targets.has(`${type}/${r.id}`), `doc ${i}: retracted ${type} still a target`);
          continue;
        }
        assert.ok(targets.has(`${type}/${r.id}`), `doc ${i}: ${type}/${r.id} in force but not a target of the current Provenance (orphan)`);
        assert.notEqual(type, 'MedicationStatement', `doc ${i}: a medication the new mapping no longer yields is still in force`);
        const models = (r.meta?.tag ?? []).filter((g) => g.system === URI.modelTag).map((g) => g.code);
        assert.deepEqual(models, [`${next.name}@${next.version}`], `doc ${i}: ${type}/${r.id} model tags (the old one must be gone)`);
      }
    }
  }
  // and replaying the upgrade changes nothing more
  const again = await processAll([...subset].reverse(), 20, next, noChemicals, subset);
  assert.deepEqual({ ...again, unchanged: 0 }, { ...zero(), docs: subset.size });
});
