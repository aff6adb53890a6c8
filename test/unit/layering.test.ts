/**
 * The shape of src/ as a test: the layer order, written down here and in README.md's
 * "Data flow". The check also runs on a synthetic graph that breaks it, so it can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importGraph, layerViolations, srcFiles, type ImportEdge, type Layers } from '../support/import-graph.ts';

/**
 * Bottom first. A folder imports its own files and lower layers only; folders of one layer do not
 * import each other. core: contracts (documents, entities, ports, errors, stage names); ops and
 * config: logging, metrics, the one configuration; the stage libraries formats (bytes ->
 * ClinicalDocument), nlp (text -> asserted entities) and fhir (entities -> FHIR resources) know
 * only the contracts; queue, ingest and pipeline run the flow (ingest -> formats -> queue -> nlp
 * -> fhir); stack (the local dev services), mllp and view are applications beside it; cli on top.
 */
export const LAYERS: Layers = [
  ['core'],
  ['ops'],
  ['config'],
  ['kafka'],
  ['formats', 'nlp', 'fhir'],
  ['queue'],
  ['ingest'],
  ['pipeline'],
  ['stack', 'mllp', 'view'],
  ['cli'],
];

const files = srcFiles();
const graph = importGraph(files);

test('src/ has no upward import and no import between sibling folders of one layer', () => {
  assert.ok(graph.length > 200, `import graph looks empty (${graph.length} edges)`);
  assert.deepEqual(layerViolations(graph, LAYERS), []);
});

test('src/core imports nothing of ours', () => {
  const out = graph.filter((e) => e.from.startsWith('src/core/') && e.to !== undefined && !e.to.startsWith('src/core/') && !e.to.startsWith('schemas/'));
  assert.deepEqual(out, []);
});

test('only CLI commands start the local stack', () => {
  const out = graph.filter((e) => e.to?.startsWith('src/stack/') && !e.from.startsWith('src/stack/') && !e.from.startsWith('src/cli/'));
  assert.deepEqual(out, []);
});

test('the layering check fails on an upward import, a sibling import and an unknown folder', () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, spec: to, to });
  const ok = [edge('src/queue/a.ts', 'src/core/errors.ts'), edge('src/queue/a.ts', 'src/queue/b.ts'), edge('src/cli/x.ts', 'src/stack/s.ts')];
  assert.deepEqual(layerViolations(ok, LAYERS), []);
  assert.match(layerViolations([edge('src/queue/inference-worker.ts', 'src/pipeline/ports.ts')], LAYERS).join(), /pipeline is a higher layer than queue/);
  assert.match(layerViolations([edge('src/core/errors.ts', 'src/ops/logger.ts')], LAYERS).join(), /ops is a higher layer than core/);
  assert.match(layerViolations([edge('src/fhir/document-output.ts', 'src/nlp/assertions.ts')], LAYERS).join(), /siblings/);
  assert.match(layerViolations([edge('src/web/x.ts', 'src/core/errors.ts')], LAYERS).join(), /src\/web is in no layer/);
  // The real graph plus one upward import fails.
  assert.notDeepEqual(layerViolations([...graph, edge('src/config/config.ts', 'src/nlp/threads.ts')], LAYERS), []);
});
