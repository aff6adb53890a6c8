import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { integrationServices, uniqueName } from '../support/services.ts';
import { parseDocuments } from '../../src/formats/intake.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { FhirClient } from '../../src/fhir/fhir-client.ts';
import { FhirServerWriter } from '../../src/fhir/fhir-writer.ts';
import { createNerEngine } from '../../src/nlp/engine.ts';
import { attachAttributes } from '../../src/nlp/attributes.ts';
import { labelMappingFor } from '../../src/pipeline/stages.ts';
import { withNlpStack } from '../../src/pipeline/nlp-engine.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

/**
 * `medner verify --document ID` against the real FHIR server: a DocumentReference nobody processed
 * yet differs (everything to create); after a run it matches (exit 0); after a run of another
 * model version it lists the updates and the superseded Provenance; it never writes.
 */

const svc = await integrationServices(['fhir']);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelDir = path.join(repo, 'models/medner-bc5cdr-bge-small');

function verify(id: string): { status: number | null; out: string } {
  if (!svc.ok) throw new Error('no FHIR server');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'verify', '--document', id], {
    cwd: repo,
    env: { ...process.env, FHIR_BASE_URL: svc.services.fhirBaseUrl, MODEL_DIR: modelDir, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('medner verify --document: differs before a run, matches after it, lists what another model version changed; writes nothing', { skip: svc.skip, timeout: 900_000 }, async () => {
  if (!svc.ok) return;
  const c = new FhirClient({ baseUrl: svc.services.fhirBaseUrl, timeoutMs: 60_000, auth: { kind: 'none' } });
  const id = uniqueName('verify');
  const ref = JSON.parse(readFileSync(path.join(repo, 'samples/documentreference-progress-note.json'), 'utf8')) as { id: string; masterIdentifier: { value: string } };
  ref.id = id;
  ref.masterIdentifier.value = `${ref.masterIdentifier.value}-${id}`;
  await c.transaction({ resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `${svc.services.fhirBaseUrl}/DocumentReference/${id}`, resource: ref as never, request: { method: 'PUT', url: `DocumentReference/${id}` } }] });

  const before = verify(id);
  assert.equal(before.status, 3, before.out);
  assert.match(before.out, /differs \(0 unchanged, [1-9]\d* to create, 0 to update, 0 to retract, 0 superseded/);
  assert.match(before.out, /\+ (Condition|MedicationStatement)\/medner-/);
  assert.equal(verify(id).status, 3, 'verify wrote nothing');

  // A run of the same model, as the worker would do it (the stored DocumentReference as input).
  const stored = await c.read('DocumentReference', id);
  const [doc] = await parseDocuments(Buffer.from(JSON.stringify(stored)), { source: { kind: 'file', path: `DocumentReference/${id}`, index: 0 }, format: 'fhir' });
  const { mapping } = labelMappingFor(modelDir);
  // Dictionary and linking (the shipped mapping asks for both) and attributes, as the worker's stages do.
  const ner = await createNerEngine({ modelDir });
  const engine = withNlpStack(ner, mapping);
  try {
    const [entities] = (await engine.extract([doc!.text])).map((found) => attachAttributes(doc!.text, found));
    const writer = new FhirServerWriter(c);
    await writer.writeDocument(doc!, buildDocumentTransaction({ doc: doc!, entities: assertEntities(doc!.text, entities!), model: engine.model, mapping }));
    const after = verify(id);
    assert.equal(after.status, 0, after.out);
    assert.match(after.out, /holds what the current model writes \([1-9]\d* unchanged, 0 to create, 0 to update, 0 to retract, 0 superseded/);

    // Another model version wrote last: verify (current model) wants its own run's Provenance back and the other one deleted.
    // (and its derived resources back with this model's tag)
    const other = { name: engine.model.name, version: `${engine.model.version}-other` };
    await writer.writeDocument(doc!, buildDocumentTransaction({ doc: doc!, entities: assertEntities(doc!.text, entities!), model: other, mapping }));
    const upgraded = verify(id);
    assert.equal(upgraded.status, 3, upgraded.out);
    assert.match(upgraded.out, /x Provenance\/medner-/);
    assert.match(upgraded.out, /\+ Provenance\/medner-/);
  } finally {
    await engine.close();
  }
});
