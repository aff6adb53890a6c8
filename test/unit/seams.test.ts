/**
 * One seam per external system, checked over src/'s imports and calls: kafkajs only in src/kafka,
 * bullmq and ioredis only in src/queue, onnxruntime only in the NLP worker thread, HTTP to FHIR
 * servers only through src/fhir/fhir-client.ts. Each check also runs on a synthetic second user,
 * so it can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callViolations, importGraph, seamViolations, srcFiles, type CallSeam, type ImportEdge, type Seam, type SourceFile } from '../support/import-graph.ts';

const files = srcFiles();
const graph = importGraph(files);

/** One seam per external system. */
export const SEAMS: Seam[] = [
  { module: 'kafkajs', allowed: (f) => f.startsWith('src/kafka/'), why: 'kafkajs is used only in src/kafka/ (one client factory)' },
  { module: 'bullmq', allowed: (f) => f.startsWith('src/queue/'), why: 'bullmq is used only in src/queue/' },
  { module: 'ioredis', allowed: (f) => f.startsWith('src/queue/'), why: 'ioredis is used only in src/queue/' },
  { module: 'onnxruntime-node', allowed: (f) => f === 'src/nlp/ort-worker.mjs', why: 'onnxruntime-node runs only in the NLP worker thread' },
  { module: 'onnxruntime-common', allowed: (f) => f === 'src/nlp/ort-worker.mjs', why: 'onnxruntime runs only in the NLP worker thread' },
  { module: 'undici', allowed: (f) => f === 'src/fhir/fhir-client.ts', why: 'HTTP to FHIR servers goes through src/fhir/fhir-client.ts' },
  // Servers, not clients: the health/metrics endpoint and the viewer answer HTTP, they call no FHIR server with it.
  { module: 'node:http', allowed: (f) => f === 'src/ops/http-server.ts' || f === 'src/view/server.ts', why: 'HTTP clients go through src/fhir/fhir-client.ts' },
  { module: 'node:https', allowed: () => false, why: 'HTTP clients go through src/fhir/fhir-client.ts' },
];

/** Every HTTP request medner makes is to a FHIR server (REST API, Binary/attachment reads, OAuth2 token endpoint). */
export const CALL_SEAMS: CallSeam[] = [{ name: 'fetch', allowed: (f) => f === 'src/fhir/fhir-client.ts', why: 'HTTP to FHIR servers goes through src/fhir/fhir-client.ts' }];

test('one seam per external system: kafkajs, bullmq/ioredis, onnxruntime and HTTP each in one place', () => {
  assert.deepEqual(seamViolations(graph, SEAMS), []);
  assert.deepEqual(callViolations(files, CALL_SEAMS), []);
});

test('the seam checks fail on a second kafkajs, bullmq or fetch user', () => {
  const pkg = (from: string, spec: string): ImportEdge => ({ from, spec });
  assert.match(seamViolations([...graph, pkg('src/pipeline/connections.ts', 'kafkajs')], SEAMS).join(), /connections\.ts imports kafkajs/);
  assert.match(seamViolations([pkg('src/cli/commands/replay.ts', 'bullmq')], SEAMS).join(), /bullmq is used only in src\/queue/);
  assert.match(seamViolations([pkg('src/stack/redis.ts', 'ioredis')], SEAMS).join(), /ioredis/);
  assert.match(seamViolations([pkg('src/nlp/engine.ts', 'onnxruntime-node')], SEAMS).join(), /worker thread/);
  assert.deepEqual(seamViolations([pkg('src/kafka/client.ts', 'kafkajs'), pkg('src/queue/x.ts', 'bullmq')], SEAMS), []);
  const fake: SourceFile = {
    path: 'src/pipeline/stages.ts',
    text: '// fetch(a comment)\nconst s = "fetch(x)";\nexport async function up(u: string) {\n  return (await fetch(`${u}/metadata`)).ok || (await globalThis.fetch(u)).ok;\n}\n',
  };
  assert.deepEqual(callViolations([fake], CALL_SEAMS), [
    'src/pipeline/stages.ts:4 calls fetch(): HTTP to FHIR servers goes through src/fhir/fhir-client.ts',
    'src/pipeline/stages.ts:4 calls fetch(): HTTP to FHIR servers goes through src/fhir/fhir-client.ts',
  ]);
  assert.deepEqual(callViolations([{ ...fake, path: 'src/fhir/fhir-client.ts' }], CALL_SEAMS), []);
});
