import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as fhir4 from 'fhir/r4.js';
import type { ClinicalDocument } from '../../src/core/clinical-document.ts';
import type { Entity, ModelInfo } from '../../src/core/entity.ts';
import { buildDocumentTransaction } from '../../src/fhir/document-output.ts';
import { BC5CDR_MAPPING_FILE, loadLabelMapping } from '../../src/fhir/label-mapping.ts';
import { bundleLines, MANIFEST_FILE, NdjsonSink, type BulkManifest } from '../../src/fhir/ndjson-sink.ts';
import { loadConfig, ConfigError } from '../../src/config/config.ts';
import { outputSpec } from '../../src/cli/commands/replay.ts';
import { assertEntities } from '../../src/nlp/assertions.ts';

const MODEL: ModelInfo = { name: 'medner-test', version: '1.2.3' };
const bc5cdr = loadLabelMapping(fileURLToPath(BC5CDR_MAPPING_FILE));

function loadDoc(name: string): ClinicalDocument {
  return JSON.parse(readFileSync(new URL(`../fixtures/fhir/${name}`, import.meta.url), 'utf8')) as ClinicalDocument;
}
function entitiesOf(text: string, words: [string, string][]): Entity[] {
  return words.map(([word, label]) => {
    const start = text.indexOf(word);
    assert.ok(start >= 0, `fixture text lacks ${word}`);
    return { start, end: start + word.length, text: word, label, score: 0.9 };
  });
}
const V2: [string, string][] = [
  ['pneumonia', 'Disease'],
  ['fever', 'Disease'],
  ['aspirin', 'Chemical'],
];
function v2Bundle(id?: string): fhir4.Bundle {
  const base = loadDoc('hl7v2-document.json');
  const doc = id ? { ...base, id } : base;
  return buildDocumentTransaction({ doc, entities: assertEntities(doc.text, entitiesOf(doc.text, V2)), model: MODEL, mapping: bc5cdr, now: () => new Date('2026-03-01T12:00:00Z') }).bundle;
}
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'medner-ndjson-'));
const readLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as fhir4.Resource);

test('bundleLines: exactly the resources the Bundle PUTs, with the PUT ids; the Patient conditional create is left out', () => {
  const bundle = v2Bundle();
  const puts = (bundle.entry ?? []).filter((e) => e.request?.method === 'PUT').map((e) => e.request!.url).sort();
  assert.ok(puts.some((u) => u.startsWith('Condition/')) && puts.some((u) => u.startsWith('Provenance/')), 'fixture yields Conditions and a Provenance');
  assert.ok((bundle.entry ?? []).some((e) => e.request?.method === 'POST' && e.resource?.resourceType === 'Patient'), 'fixture has the Patient conditional create');
  const lines = bundleLines(bundle);
  const written = [...lines.entries()].flatMap(([type, items]) => items.map((i) => `${type}/${(JSON.parse(i.line) as fhir4.Resource).id}`)).sort();
  assert.deepEqual(written, puts);
  assert.ok(!lines.has('Patient'));
  // No reference to the Bundle-local urn:uuid survives: it becomes the patient identifier.
  const patient = (bundle.entry ?? []).find((e) => e.request?.method === 'POST')!;
  const all = [...lines.values()].flat().map((i) => i.line).join('');
  assert.ok(!all.includes(patient.fullUrl!), 'no urn:uuid reference left');
  const cond = JSON.parse(lines.get('Condition')![0]!.line) as fhir4.Condition;
  assert.deepEqual(cond.subject, { identifier: (patient.resource as fhir4.Patient).identifier![0] });
  // Everything else is byte-identical to the Bundle's resource.
  const dev = (bundle.entry ?? []).find((e) => e.resource?.resourceType === 'Device')!;
  assert.equal(lines.get('Device')![0]!.line, JSON.stringify(dev.resource) + '\n');
});

test('NdjsonSink: one file per type, rotation by size, manifest with counts, Device once, recovery after a torn line', async () => {
  const dir = tmp();
  try {
    const bundles = Array.from({ length: 12 }, (_, i) => v2Bundle(`DOC-NDJSON-${i}`));
    const condBytes = bundleLines(bundles[0]!).get('Condition')!.reduce((n, i) => n + Buffer.byteLength(i.line), 0);
    // Room for about 3 documents' Conditions per file.
    const sink = new NdjsonSink({ dir, maxFileBytes: Math.max(4096, condBytes * 3 + 10), request: 'test' });
    for (const b of bundles) await sink.writeDocument(b);
    const manifest = await sink.close();
    const onDisk = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as BulkManifest;
    assert.deepEqual(onDisk, manifest);
    assert.equal(manifest.requiresAccessToken, false);
    assert.deepEqual(manifest.error, []);
    assert.equal(manifest.request, 'test');
    assert.ok(!Number.isNaN(Date.parse(manifest.transactionTime)));
    const condFiles = manifest.output.filter((o) => o.type === 'Condition');
    assert.ok(condFiles.length >= 2, `rotated: ${condFiles.length} Condition files`);
    assert.equal(condFiles[0]!.url, 'Condition.000001.ndjson');
    const expected = new Map<string, Set<string>>();
    for (const b of bundles) for (const [type, items] of bundleLines(b)) for (const i of items) (expected.get(type) ?? expected.set(type, new Set()).get(type)!).add(i.id);
    for (const [type, ids] of expected) {
      const files = manifest.output.filter((o) => o.type === type);
      const got = files.flatMap((f) => {
        const rs = readLines(path.join(dir, f.url));
        assert.equal(rs.length, f.count, `${f.url} count`);
        for (const r of rs) assert.equal(r.resourceType, type);
        if (files.length > 1) assert.ok(Buffer.byteLength(readFileSync(path.join(dir, f.url))) <= Math.max(4096, condBytes * 3 + 10));
        return rs.map((r) => r.id!);
      });
      assert.deepEqual(new Set(got), ids, type);
      if (type === 'Device') assert.equal(got.length, 1, 'the model Device once');
      else assert.equal(got.length, ids.size, `${type}: one line per resource`);
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

    // A crash left a torn last line in a file: the next sink cuts it off, lists the file, and starts new files.
    const last = condFiles[condFiles.length - 1]!;
    appendFileSync(path.join(dir, last.url), '{"resourceType":"Condition","id":"torn');
    const again = new NdjsonSink({ dir, maxFileBytes: 1 << 20, request: 'retry' });
    await again.writeDocument(bundles[0]!);
    const m2 = await again.close();
    assert.equal(readLines(path.join(dir, last.url)).length, last.count, 'torn line cut off');
    const cond2 = m2.output.filter((o) => o.type === 'Condition');
    assert.equal(cond2.length, condFiles.length + 1);
    assert.equal(cond2.at(-1)!.url, `Condition.${String(condFiles.length + 1).padStart(6, '0')}.ndjson`);
    // The retried document's resources are written again with the same ids (duplicates are updates on $import).
    assert.deepEqual(readLines(path.join(dir, cond2.at(-1)!.url)).map((r) => r.id), bundleLines(bundles[0]!).get('Condition')!.map((i) => i.id));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NdjsonSink: concurrent writes do not interleave lines', async () => {
  const dir = tmp();
  try {
    const sink = new NdjsonSink({ dir, maxFileBytes: 1 << 20 });
    const bundles = Array.from({ length: 20 }, (_, i) => v2Bundle(`DOC-CONC-${i}`));
    await Promise.all(bundles.map((b) => sink.writeDocument(b)));
    const m = await sink.close();
    const conds = m.output.filter((o) => o.type === 'Condition').flatMap((f) => readLines(path.join(dir, f.url)));
    assert.equal(conds.length, bundles.reduce((n, b) => n + bundleLines(b).get('Condition')!.length, 0));
    await assert.rejects(sink.writeDocument(bundles[0]!), /closed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config: OUTPUT_SINK=ndjson needs NDJSON_DIR; bad values are named; replay --output parses', () => {
  assert.throws(() => loadConfig({ OUTPUT_SINK: 'ndjson' }), (e: unknown) => e instanceof ConfigError && /OUTPUT_SINK=ndjson: also needs NDJSON_DIR/.test(e.message));
  assert.throws(() => loadConfig({ OUTPUT_SINK: 'parquet' }), (e: unknown) => e instanceof ConfigError && /OUTPUT_SINK/.test(e.message));
  assert.throws(() => loadConfig({ NDJSON_MAX_FILE_BYTES: '12' }), (e: unknown) => e instanceof ConfigError && /NDJSON_MAX_FILE_BYTES/.test(e.message));
  assert.deepEqual(loadConfig({ OUTPUT_SINK: 'ndjson', NDJSON_DIR: '/tmp/x', NDJSON_MAX_FILE_BYTES: '1048576' }).output, { sink: 'ndjson', dir: '/tmp/x', maxFileBytes: 1048576 });
  assert.equal(loadConfig({}).output.sink, 'fhir');
  assert.deepEqual(outputSpec('ndjson:out/bulk'), { sink: 'ndjson', dir: 'out/bulk' });
  assert.deepEqual(outputSpec('fhir'), { sink: 'fhir' });
  assert.throws(() => outputSpec('ndjson'), /fhir or ndjson:DIR/);
});
