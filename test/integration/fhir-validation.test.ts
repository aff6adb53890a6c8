import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import { integrationServices, uniqueName } from '../support/services.ts';
import { NOTE_CONDITIONS, NOTE_DRUGS, syntheaLikeNotes } from '../support/clinical-notes.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import { parseDocuments } from '../../src/formats/intake.ts';
import type { Entity, ModelInfo } from '../../src/core/entity.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { FhirClient, FhirError } from '../../src/fhir/fhir-client.ts';
import { FhirServerWriter } from '../../src/fhir/fhir-writer.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { MEDNER_FHIR_BASE, URI } from '../../src/fhir/uris.ts';

/**
 * Issue 17 item 5: what medner writes validates with zero errors against FHIR R4 + hl7.terminology.r4
 * 7.0.1 + hl7.fhir.uv.extensions.r4 (5.3.0-ballot-tc1) + our own StructureDefinitions, with HAPI's
 * validator in our FHIR server (deploy/fhir-server), and a write that does not validate is refused.
 *
 * The stack `npm test` starts runs the server with FHIR_SERVER_VALIDATE=true and sets that variable
 * for the tests: then a server that does not validate fails these tests. Against another server
 * (FHIR_BASE_URL) they run when its CapabilityStatement says it loads the packages (and, for the
 * refusal, validates writes), else they are skipped with the reason.
 */

const svc = await integrationServices(['fhir']);
const base = svc.ok ? svc.services.fhirBaseUrl : '';
const required = process.env.FHIR_SERVER_VALIDATE === 'true';
const MODEL: ModelInfo = { name: 'medner-it', version: '0.0.1' };
const mapping = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));
const run = uniqueName('val');

/** What the server says about its validation (deploy/fhir-server puts it in implementation.description). */
async function serverValidation(): Promise<{ packages: boolean; writes: boolean; description: string }> {
  const cs = (await (await fetch(`${base}/metadata`)).json()) as fhir4.CapabilityStatement;
  const description = cs.implementation?.description ?? '';
  return {
    packages: description.includes('hl7.terminology.r4#7.0.1') && description.includes('hl7.fhir.uv.extensions.r4#'),
    writes: description.includes('writes validated: true'),
    description,
  };
}
const info = svc.ok ? await serverValidation() : undefined;
const skipPackages = !svc.ok
  ? svc.skip
  : !info!.packages && !required
    ? `the FHIR server at ${base} does not load hl7.terminology.r4 and hl7.fhir.uv.extensions.r4 (deploy/fhir-server does when \`medner stack up\` starts it)`
    : false;
const skipWrites = skipPackages || (!info!.writes && !required ? `the FHIR server at ${base} does not validate writes (FHIR_SERVER_VALIDATE=true)` : false);

function client(): FhirClient {
  return new FhirClient({ baseUrl: base, timeoutMs: 120_000, auth: { kind: 'none' }, maxRetries: 3 });
}

/** Every occurrence of the notes' condition, drug and allergen words; some with linker codes (link-score extension). */
function entitiesOf(text: string): Entity[] {
  const words: [string, string, Entity['codes']?][] = [
    ...NOTE_CONDITIONS.map((c): [string, string] => [c, 'Disease']),
    ...NOTE_DRUGS.map((d): [string, string] => [d.split(' ')[0]!, 'Chemical']),
    ...['penicillin', 'latex', 'aspirin', 'heparin', 'fever', 'hypertension'].map((w): [string, string] => [w, w === 'fever' || w === 'hypertension' ? 'Disease' : 'Chemical']),
  ];
  const codes: Record<string, Entity['codes']> = {
    pneumonia: [
      { system: 'http://hl7.org/fhir/sid/icd-10-cm', version: '2022', code: 'J18.9', display: 'Pneumonia, unspecified organism', score: 0.91 },
      { system: 'https://www.nlm.nih.gov/mesh', code: 'D011014', score: 0.88 },
    ],
    aspirin: [{ system: 'https://www.nlm.nih.gov/mesh', code: 'D001241', score: 0.97 }],
  };
  const out: Entity[] = [];
  const lower = text.toLowerCase();
  for (const [w, label] of words) {
    for (let at = lower.indexOf(w.toLowerCase()); at >= 0; at = lower.indexOf(w.toLowerCase(), at + w.length)) {
      if (out.some((e) => at < e.end && e.start < at + w.length)) continue;
      out.push({ start: at, end: at + w.length, text: text.slice(at, at + w.length), label, score: 0.9, ...(codes[w] ? { codes: codes[w] } : {}) });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** This run's copy of a document: its own id and patient, so the server sees new resources (and validates them). */
function fresh(doc: ClinicalDocument, k: number): ClinicalDocument {
  const patient = doc.patient.identifier ? { ...doc.patient, identifier: { ...doc.patient.identifier, value: `${doc.patient.identifier.value}-${run}` } } : doc.patient;
  return { ...doc, id: `${doc.id}-${run}-${k}`, patient };
}

const fixture = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url));

async function documents(): Promise<ClinicalDocument[]> {
  const docs: ClinicalDocument[] = [];
  const source = (path: string) => ({ kind: 'file' as const, path, index: 0 });
  for (const f of ['samples/mdm-discharge-summary.hl7', 'samples/oru-pathology-report.hl7', 'test/fixtures/formats/mdm-t02-ed-bad-base64.hl7', 'samples/documentreference-admission-note.json']) {
    docs.push(...(await parseDocuments(fixture(f), { source: source(f) })));
  }
  // a FHIR DocumentReference with a bad base64 part and a url the server refuses (404): warnings on the Provenance
  const refused = Object.assign(new Error('HTTP 404'), { retriable: false });
  docs.push(...(await parseDocuments(fixture('test/fixtures/formats/docref-partial.json'), { source: source('docref-partial.json'), fetchBinary: async () => { throw refused; } })));
  // the last note states an allergy (AllergyIntolerance), whatever the generator drew
  const notes = syntheaLikeNotes(4, 20).map((n, i) => (i === 3 ? `${n}\nAllergic to penicillin (hives).\n` : n));
  for (const [i, note] of notes.entries()) {
    const ref: fhir4.DocumentReference = {
      resourceType: 'DocumentReference',
      id: `synthea-like-${i}`,
      status: 'current',
      subject: { reference: `Patient/synthea-like-${i}` },
      date: '2024-05-01T10:00:00Z',
      content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(note, 'utf8').toString('base64') } }],
    };
    docs.push(...(await parseDocuments(Buffer.from(JSON.stringify(ref)), { source: source(`synthea-like-${i}`) })));
  }
  return docs.map(fresh);
}

/** The server's $validate: error and fatal issues, as "Type: message". */
async function validationErrors(r: fhir4.Resource): Promise<string[]> {
  const resp = await fetch(`${base}/${r.resourceType}/$validate`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(r) });
  const outcome = (await resp.json()) as fhir4.OperationOutcome;
  return (outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => `${r.resourceType}: ${i.diagnostics ?? i.details?.text}`);
}

test('the FHIR server loads the validation packages and our conformance resources', { skip: skipPackages }, () => {
  assert.ok(info!.packages, `server: ${info!.description}`);
  assert.match(info!.description, /conformance:/);
  if (required) assert.ok(info!.writes, `FHIR_SERVER_VALIDATE=true but the server says: ${info!.description}`);
});

test("medner's output for the sample HL7 messages, FHIR notes (one with skipped parts) and Synthea-like notes: zero validator errors, and the server accepts it", { skip: skipPackages, timeout: 900_000 }, async () => {
  const docs = await documents();
  const outs = docs.map((doc) => ({ doc, out: buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text)), model: MODEL, mapping }) }));
  const resources = outs.flatMap(({ out }) => (out.bundle.entry ?? []).map((e) => e.resource!));
  const types = new Set<string>(resources.map((r) => r.resourceType));
  for (const t of ['Patient', 'DocumentReference', 'Condition', 'MedicationStatement', 'AllergyIntolerance', 'FamilyMemberHistory', 'Device', 'Provenance']) assert.ok(types.has(t), `output has a ${t}`);
  const skipped = resources.filter((r) => r.resourceType === 'Provenance' && (r as fhir4.Provenance).entity?.some((e) => e.extension?.some((x) => x.url === URI.skippedPart)));
  assert.equal(skipped.length, 2, 'the HL7 message with a bad ED and the partial DocumentReference name their skipped parts');
  assert.ok(resources.some((r) => JSON.stringify(r).includes(URI.linkScore)), 'a linker coding (link-score) is checked');
  // One $validate per distinct resource shape is enough: Devices repeat.
  const seen = new Set<string>();
  const errors: string[] = [];
  for (const r of resources) {
    const key = JSON.stringify(r);
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(...(await validationErrors(r)));
  }
  assert.deepEqual(errors, [], `${errors.length} validator errors in ${seen.size} resources`);
  const writer = new FhirServerWriter(client());
  for (const { doc, out } of outs) await writer.writeDocument(doc, out);
});

test('a derived resource that does not validate is refused: the transaction fails with 422 (FHIR_REJECTED) and nothing of the document is stored', { skip: skipWrites, timeout: 300_000 }, async () => {
  assert.ok(info!.writes, `the server does not validate writes: ${info!.description}`);
  const [doc] = (await documents()).filter((d) => d.format === 'hl7v2');
  const cases: [string, (r: fhir4.Condition) => void, RegExp][] = [
    ['an extension no StructureDefinition defines', (r) => r.extension!.push({ url: `${MEDNER_FHIR_BASE}/StructureDefinition/not-defined`, valueString: 'x' }), /not-defined/],
    ['a meta.security code HL7 Terminology does not have', (r) => (r.meta!.security = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'NOT-A-CODE' }]), /NOT-A-CODE/],
  ];
  for (const [k, [what, corrupt, message]] of cases.entries()) {
    const d = { ...doc!, id: `${doc!.id}-bad-${k}` };
    const out = buildDocumentTransaction({ doc: d, entities: assertEntities(d.text, entitiesOf(d.text)), model: MODEL, mapping });
    const condition = out.bundle.entry!.map((e) => e.resource!).find((r) => r.resourceType === 'Condition') as fhir4.Condition;
    assert.ok(condition, 'the sample gives a Condition');
    corrupt(condition);
    assert.ok((await validationErrors(condition)).some((e) => message.test(e)), `$validate names ${what}`);
    await assert.rejects(new FhirServerWriter(client()).writeDocument(d, out), (e: unknown) => {
      assert.ok(e instanceof FhirError, String(e));
      assert.equal(e.code, 'FHIR_REJECTED', what);
      assert.equal(e.status, 422, what);
      assert.ok((e.outcome?.issue ?? []).some((i) => message.test(i.diagnostics ?? '')), `the OperationOutcome names ${what}`);
      return true;
    });
    const stored = await client().search('Condition', { identifier: `${condition.identifier![0]!.system}|${condition.identifier![0]!.value}` });
    assert.equal(stored.length, 0, `${what}: nothing stored`);
  }
});
