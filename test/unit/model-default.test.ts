// The shipped model folders: the clinical default (MODEL_DIR's default) and the BC5CDR
// alternative. Their files are well-formed, and each finds the entities of a few sentences of our
// own through the full extract path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { loadLabelMapping, targetFor } from '../../src/fhir/label-mapping.ts';
import { MODEL_CONFIG_FILE, modelConfigProblems, type ModelConfig } from '../../src/nlp/model-config.ts';
import { loadModelFolder, readVocab } from '../../src/nlp/model-folder.ts';
import { createNerEngine } from '../../src/nlp/engine.ts';
import { evaluateFile } from '../../src/nlp/eval.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const dir = path.join(root, 'models', 'medner-bc5cdr-bge-small');
const cfg = JSON.parse(readFileSync(path.join(dir, MODEL_CONFIG_FILE), 'utf8')) as ModelConfig;

test('BC5CDR model folder (the shipped alternative): valid config, uncased 30,522-token vocab, int8 ONNX, FHIR label mapping', () => {
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

test('BC5CDR model finds the entities of our own sentences (int8, full extract path)', { skip: loadable === true ? false : loadable }, async () => {
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

const clinicalDir = path.join(root, 'models', 'medner-clinical-bge-small');
const CLINICAL_TYPES = ['Sign_symptom', 'Disease_disorder', 'Diagnostic_procedure', 'Lab_value', 'Medication', 'Dosage',
  'Frequency', 'Administration', 'Therapeutic_procedure', 'Biological_structure', 'Severity'];

test('the default MODEL_DIR is the clinical model: valid config, MACCROBAT types, int8 under 60 MB, clinical FHIR mapping', () => {
  const defaults = loadConfig({});
  assert.equal(path.resolve(root, defaults.model.dir), clinicalDir);
  const c = JSON.parse(readFileSync(path.join(clinicalDir, MODEL_CONFIG_FILE), 'utf8')) as ModelConfig;
  assert.deepEqual(modelConfigProblems(c), []);
  assert.equal(c.name, 'medner-clinical-bge-small');
  for (const t of CLINICAL_TYPES) {
    assert.ok(c.labels.includes(`B-${t}`) && c.labels.includes(`I-${t}`), `label ${t}`);
  }
  const int8 = path.join(clinicalDir, 'model.int8.onnx');
  assert.ok(statSync(int8).size < 60e6, 'int8 model under 60 MB');
  const mapping = loadLabelMapping(path.join(clinicalDir, c.labelMapping));
  assert.equal(targetFor(mapping, 'Sign_symptom')?.resourceType, 'Condition');
  assert.equal(targetFor(mapping, 'Diagnostic_procedure')?.resourceType, 'Observation');
  assert.equal(targetFor(mapping, 'Medication')?.resourceType, 'MedicationStatement');
  assert.equal(targetFor(mapping, 'Therapeutic_procedure')?.resourceType, 'Procedure');
  assert.match(readFileSync(path.join(clinicalDir, 'README.md'), 'utf8'), /MACCROBAT/);
});

test('clinical model finds a test and its value in a sentence of our own (int8, full extract path)', async () => {
  const engine = await createNerEngine({ modelDir: clinicalDir, variant: 'int8', intraOpThreads: 1 });
  try {
    const [ents] = await engine.extract(['Hemoglobin was 9.2 g/dL on admission.']);
    const got = ents!.map((e) => [e.text, e.label]);
    assert.ok(ents!.some((e) => e.label === 'Diagnostic_procedure' && /hemoglobin/i.test(e.text)), JSON.stringify(got));
    assert.ok(ents!.some((e) => e.label === 'Lab_value' && /9\.2/.test(e.text)), JSON.stringify(got));
  } finally {
    await engine.close();
  }
});

test('clinical model: a paragraph is inferred a sentence at a time (segment sentence), so doses keep their first word', async () => {
  const c = JSON.parse(readFileSync(path.join(clinicalDir, MODEL_CONFIG_FILE), 'utf8')) as ModelConfig;
  assert.equal(c.segment, 'sentence', 'trained on one sentence per sequence (MACCROBAT has a sentence a line)');
  assert.deepEqual(modelConfigProblems({ ...c, segment: 'paragraph' }), ['segment: expected one of none, sentence']);
  assert.equal(c.decoder, 'viterbi', 'constrained BIO decoding, chosen on MACCROBAT dev');
  assert.deepEqual(modelConfigProblems({ ...c, decoder: 'beam' }), ['decoder: expected one of greedy, viterbi']);
  const engine = await createNerEngine({ modelDir: clinicalDir, variant: 'int8', intraOpThreads: 1 });
  try {
    // Our own text. Fed as one 256-token window the model tagged "2" and "1" as B-Date and cut the
    // doses to "x 500 mg/day" and "g three times daily".
    const [ents] = await engine.extract([
      'A 64-year-old man presented with fever and a productive cough for three days. Chest radiography showed a left lower lobe consolidation. ' +
        'He was treated with levetiracetam 2 x 500 mg/day and amoxicillin 1 g three times daily. Histology confirmed a parathyroid carcinoma.',
    ]);
    const doses = ents!.filter((e) => e.label === 'Dosage').map((e) => e.text);
    assert.deepEqual(doses, ['2 x 500 mg/day', '1 g three times daily'], JSON.stringify(ents!.map((e) => [e.text, e.label])));
  } finally {
    await engine.close();
  }
});
