import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as fhir4 from 'fhir/r4.js';
import { runMedner } from '../support/medner-cli.ts';
import { integrationServices } from '../support/services.ts';
import { fhirRead, hl7Note, pipelineEnv, produce, readTopic, setupConfig, testId } from '../fixtures/pipeline/harness.ts';
import { MANIFEST_FILE, type BulkManifest } from '../../src/fhir/ndjson-sink.ts';
import { inputTopic } from '../../src/formats/registry.ts';

/**
 * `medner replay --output ndjson:DIR` as a user runs it (issue 19 item 5): the replayed documents'
 * resources land in Bulk Data NDJSON files with a manifest, with the ids of the transaction Bundle
 * (as published on the output topic), and no transaction reaches the FHIR server.
 */
const svc = await integrationServices(['kafka', 'redis', 'fhir']);

const medner = (args: string[], env: Record<string, string>, timeoutMs = 150_000) => runMedner(args, env, { timeoutMs });

test('medner replay --output ndjson:DIR writes NDJSON files and a manifest with the Bundle ids, and no FHIR transaction', { skip: svc.skip, timeout: 180_000 }, async () => {
  if (!svc.ok) return;
  const env = pipelineEnv(svc.services, 'ndjson-replay');
  const config = await setupConfig(env);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medner-ndjson-replay-'));
  try {
    const ids = Array.from({ length: 4 }, (_, i) => testId(`NDJ${i}`));
    await produce(config, inputTopic(config, 'hl7v2'), ids.map((id, i) => ({ key: id, value: hl7Note(id, i) })));
    const r = await medner(['replay', '--topic', inputTopic(config, 'hl7v2'), '--output', `ndjson:${dir}`], env);
    assert.equal(r.code, 0, r.stderr.slice(-800));
    assert.match(r.stdout, /replayed 4 record\(s\)/);
    assert.match(r.stdout, /NDJSON files and manifest\.json in /);

    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as BulkManifest;
    assert.equal(manifest.requiresAccessToken, false);
    assert.match(manifest.request, /^medner replay .*--output ndjson:/);
    const written = new Set<string>();
    for (const o of manifest.output) {
      assert.match(o.url, new RegExp(`^${o.type}\\.\\d{6}\\.ndjson$`));
      const lines = readFileSync(path.join(dir, o.url), 'utf8').split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, o.count, `${o.url}: manifest count`);
      for (const l of lines) {
        const res = JSON.parse(l) as fhir4.Resource;
        assert.equal(res.resourceType, o.type);
        written.add(`${res.resourceType}/${res.id}`);
      }
    }

    // The Bundles published on the output topic PUT exactly these ids.
    const out = await readTopic(config, config.topics.output, 4);
    const puts = new Set(
      out.flatMap((m) => ((JSON.parse(m.value) as fhir4.Bundle).entry ?? []).filter((e) => e.request?.method === 'PUT').map((e) => e.request!.url)),
    );
    assert.ok([...puts].some((u) => u.startsWith('DocumentReference/')), 'HL7 v2 notes yield our DocumentReference');
    assert.deepEqual([...written].sort(), [...puts].sort());
    // Nothing was written to the FHIR server.
    const docRef = [...puts].find((u) => u.startsWith('DocumentReference/'))!;
    assert.equal(await fhirRead(svc.services.fhirBaseUrl, docRef), undefined, `${docRef} is not on the FHIR server`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
