import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMedner } from '../support/medner-cli.ts';
import { integrationServices } from '../support/services.ts';
import { pipelineEnv, readTopic, setupConfig, testKafka } from '../fixtures/pipeline/harness.ts';
import { inputTopic } from '../../src/formats/registry.ts';

/** The pipeline commands as a user runs them: send, demo (on our own topics), start + SIGTERM. */
const svc = await integrationServices(['kafka', 'redis', 'fhir']);

const run = runMedner;

test('medner send routes each sample to its input topic, keyed by document id', { skip: svc.skip, timeout: 60_000 }, async () => {
  if (!svc.ok) return;
  const env = pipelineEnv(svc.services, 'pl-send');
  const config = await setupConfig(env);
  const r = await run(['send', 'samples/mdm-discharge-summary.hl7', 'samples/oru-pathology-report.hl7', 'samples/documentreference-progress-note.json'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`sent 2 record\\(s\\) to ${inputTopic(config, 'hl7v2').replace(/\./g, '\\.')}`));
  const hl7 = await readTopic(config, inputTopic(config, 'hl7v2'), 2);
  const fhir = await readTopic(config, inputTopic(config, 'fhir'), 1);
  assert.deepEqual(hl7.map((m) => m.key).sort(), ['DOC-DEMO-HL7-0001', 'MSG-DEMO-0002']);
  assert.deepEqual(fhir.map((m) => m.key), ['DOC-DEMO-FHIR-0001']);
  const bad = await run(['send', 'samples/README.md'], env);
  assert.notEqual(bad.code, 0, 'a file that is neither HL7 v2 nor FHIR is refused');
});

test('medner demo processes the samples and prints what landed with URLs', { skip: svc.skip, timeout: 120_000 }, async () => {
  if (!svc.ok) return;
  const env = pipelineEnv(svc.services, 'pl-demo');
  const config = await setupConfig(env);
  const r = await run(['demo', '--no-stack', '--timeout', '60'], env, { timeoutMs: 110_000 });
  assert.equal(r.code, 0, r.stderr.slice(-500));
  // Its own topics and group: the configured (live) topics are untouched, and its topics are gone after.
  assert.equal((await readTopic(config, inputTopic(config, 'hl7v2'), 0, 0)).length, 0, 'demo wrote nothing to the live HL7 topic');
  assert.equal((await readTopic(config, inputTopic(config, 'fhir'), 0, 0)).length, 0, 'demo wrote nothing to the live FHIR topic');
  const demoTopic = /demo topics (medner\.demo\.[a-z0-9]+)\.hl7v2/.exec(r.stderr)?.[1];
  assert.ok(demoTopic, 'the demo names its topics');
  const admin = testKafka(config).admin();
  await admin.connect();
  try {
    assert.deepEqual((await admin.listTopics()).filter((t) => t.startsWith(`${demoTopic}.`)), [], 'demo topics deleted');
  } finally {
    await admin.disconnect();
  }
  for (const f of ['mdm-discharge-summary.hl7', 'oru-pathology-report.hl7', 'documentreference-progress-note.json']) {
    assert.match(r.stdout, new RegExp(`${f.replace(/\./g, '\\.')} \\(document [^)]+\\): \\d+ `), `${f} has results`);
  }
  assert.match(r.stdout, new RegExp(`${svc.services.fhirBaseUrl.replace(/[./]/g, '\\$&')}/DocumentReference/[A-Za-z0-9-]+`));
});

test('medner start (without the stack) runs the worker and exits 0 on SIGTERM', { skip: svc.skip, timeout: 90_000 }, async () => {
  if (!svc.ok) return;
  const env = pipelineEnv(svc.services, 'pl-start', { LOG_LEVEL: 'info' });
  await setupConfig(env);
  const r = await run(['start', '--no-stack'], env, { untilStderr: 'worker running' });
  assert.match(r.stderr, /worker running/);
  assert.match(r.stderr, /shutdown complete/);
  assert.equal(r.code, 0);
});
