// `medner eval --data DIR` on brat .txt/.ann folders: strict entity scores over the labels the
// model predicts, gold entities of other types ignored, nested and discontinuous gold counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readBratDir } from '../../src/nlp/brat.ts';
import type { Entity } from '../../src/core/entity.ts';
import { evaluateBrat, evaluateFile, type EvalEngine, type EvalReport } from '../../src/nlp/eval.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const bratDir = path.join(repo, 'test', 'fixtures', 'brat');

/** Answers with fixed (text, label) predictions per document, located by the first occurrence at or after `from`. */
function replayEngine(labels: string[], answers: Record<string, Array<[string, string]>>): EvalEngine {
  return {
    model: { name: 'replay', version: '0' },
    config: { labels: ['O', ...labels.flatMap((l) => [`B-${l}`, `I-${l}`])] },
    async extract(texts: string[]): Promise<Entity[][]> {
      return texts.map((t) => {
        const key = Object.keys(answers).find((k) => t.startsWith(k));
        return (key === undefined ? [] : answers[key]!).map(([s, label]) => {
          const start = t.indexOf(s);
          assert.ok(start >= 0, s);
          return { start, end: start + s.length, text: s, label, score: 0.9 };
        });
      });
    },
  };
}

test('evaluateBrat scores only the model labels, counting nested and discontinuous gold', async () => {
  const docs = await readBratDir(bratDir);
  const engine = replayEngine(['Sign_symptom', 'Diagnostic_procedure', 'Lab_value'], {
    'A 64-year-old': [
      ['chest pain', 'Sign_symptom'], // tp (T16, nested over T4/T5)
      ['dyspnea', 'Sign_symptom'], // tp
      ['Hemoglobin', 'Diagnostic_procedure'], // tp (T7)
      ['9.2 g/dL', 'Lab_value'], // tp
      ['creatinine 1.4', 'Lab_value'], // fp
      ['aspirin', 'Medication'], // not a model label: ignored
    ],
    'No fever': [
      ['fever', 'Sign_symptom'], // tp
      ['chest CT', 'Diagnostic_procedure'], // fp (gold: CT)
    ],
  });
  const r = await evaluateBrat(engine, docs, 'fixture');
  assert.equal(r.format, 'brat');
  assert.equal(r.documents, 3);
  // Sign_symptom: pain, dyspnea, chest pain, fever, mass (note3's "seizures" too) = 6;
  // Diagnostic_procedure: Hemoglobin, creatinine, T17 (full extent), CT = 4; Lab_value: 2.
  assert.equal(r.goldEntities, 12);
  assert.deepEqual(Object.keys(r.scores.labels), ['Diagnostic_procedure', 'Lab_value', 'Sign_symptom']);
  const c = (l: string) => {
    const s = r.scores.labels[l]!;
    return [s.tp, s.fp, s.fn];
  };
  assert.deepEqual(c('Sign_symptom'), [3, 0, 3]);
  assert.deepEqual(c('Diagnostic_procedure'), [1, 1, 3]);
  assert.deepEqual(c('Lab_value'), [1, 1, 1]);
  assert.deepEqual([r.scores.micro.tp, r.scores.micro.fp, r.scores.micro.fn], [5, 2, 7]);
  assert.equal(r.scores.micro.precision, 5 / 7);
  assert.equal(r.scores.micro.recall, 5 / 12);

  const limited = await evaluateBrat(engine, docs, 'fixture', { limit: 1 });
  assert.equal(limited.documents, 1);
  assert.equal(limited.goldEntities, 8);

  // evaluateFile takes a folder as brat.
  const viaPath = await evaluateFile(engine, bratDir);
  assert.deepEqual(viaPath.scores, r.scores);

  // postprocess (medner eval --attribute-words) changes what is scored: here it drops the fp Lab_value.
  const post = await evaluateBrat(engine, docs, 'fixture', { postprocess: (_text, ents) => ents.filter((e) => e.text !== 'creatinine 1.4') });
  assert.deepEqual([post.scores.labels['Lab_value']!.tp, post.scores.labels['Lab_value']!.fp], [1, 0]);
});

test('medner eval --data <brat dir> --json with the tiny test model', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'eval', '--data', bratDir, '--model', path.join(repo, 'test/fixtures/models/tiny-bert'), '--json'],
    { cwd: repo, env: { ...process.env, LOG_LEVEL: 'silent' } },
  );
  const r = JSON.parse(stdout) as EvalReport;
  assert.equal(r.format, 'brat');
  assert.equal(r.documents, 3);
  // The tiny model predicts Chemical and Disease: only note3's 2 + 2 gold count; the MACCROBAT
  // types of the other notes (and note3's Sign_symptom) are ignored.
  assert.equal(r.goldEntities, 4);
  assert.deepEqual(Object.keys(r.scores.labels), ['Chemical', 'Disease']);
  for (const l of ['Chemical', 'Disease']) {
    const s = r.scores.labels[l]!;
    assert.equal(s.tp + s.fn, 2, l);
    for (const k of ['tp', 'fp', 'fn', 'precision', 'recall', 'f1'] as const) assert.equal(typeof s[k], 'number');
  }
  assert.equal(r.scores.micro.tp + r.scores.micro.fn, 4);
});

test('medner eval names the file and line of a malformed .ann', async () => {
  const fs = await import('node:fs/promises');
  const os = await import('node:os');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'brat-eval-'));
  try {
    await fs.writeFile(path.join(dir, 'a.txt'), 'Fever and cough.');
    await fs.writeFile(path.join(dir, 'a.ann'), 'T1\tSign_symptom 0 5\tFever\nT2\tSign_symptom 10 99\tcough\n');
    await assert.rejects(
      promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), 'eval', '--data', dir, '--model', path.join(repo, 'test/fixtures/models/tiny-bert')], {
        cwd: repo,
        env: { ...process.env, LOG_LEVEL: 'silent' },
      }),
      /a\.ann:2: entity T2: offsets 10 99 outside the text/,
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
