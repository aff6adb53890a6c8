// Keeps the training pipeline alive: one tiny training run (train.py --smoke: random 2-layer
// encoder, built-in sentences, 2 steps), export to our model folder format (fp32 + int8), and
// the exported folder loading and running in the NER engine. Needs PyTorch + onnx in
// /usr/bin/python3 (Debian python3-torch python3-onnx); skips visibly otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createNerEngine } from '../../src/nlp/engine.ts';

const PY = process.env.MEDNER_PYTHON ?? '/usr/bin/python3';
const root = path.resolve(import.meta.dirname, '..', '..');
const hasTorch = existsSync(PY) && spawnSync(PY, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
const skip = hasTorch ? false : `${PY} has no torch/onnx (apt-get install python3-torch python3-onnx)`;

function py(args: string[]): string {
  const r = spawnSync(PY, args, { cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
  assert.equal(r.status, 0, `${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('train.py --smoke trains, export_onnx.py writes a loadable fp32 + int8 model folder', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medner-train-smoke-'));
  try {
    const ckpt = path.join(dir, 'smoke.pt');
    const log = py(['models/train/train.py', '--smoke', '--threads', '1', '--out', ckpt]);
    assert.match(log, /step 2\/2 loss \d+\.\d+/);
    assert.match(log, /FINAL dev smoke: micro-F1 \d+\.\d+/);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'smoke.metrics.json'), 'utf8')) as { steps: number; init: string };
    assert.equal(metrics.steps, 2);
    assert.equal(metrics.init, 'random');

    // The smoke vocab: the special tokens + the built-in sentences' words.
    const vocabFile = path.join(dir, 'vocab.txt');
    py(['-c', `import sys; sys.path.insert(0, 'models/train'); from train import smoke_data; open(${JSON.stringify(vocabFile)}, 'w').write(''.join(t + '\\n' for t in smoke_data()[1]))`]);
    const out = path.join(dir, 'model');
    py(['models/train/export_onnx.py', '--checkpoint', ckpt, '--vocab', vocabFile, '--out', out, '--keep-fp32', '--quantize-min-elements', '0']);
    for (const f of ['model.onnx', 'model.int8.onnx', 'vocab.txt', 'medner-model.json']) assert.ok(existsSync(path.join(out, f)), f);

    // Raw sessions: dynamic batch and sequence, logits [batch, seq, 5]; int8 uses integer ops.
    const ids = [2, 5, 6, 7, 3, 0, 2, 8, 9, 10, 11, 3];
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [2, 6]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from(ids.map((i) => BigInt(i === 0 ? 0 : 1))), [2, 6]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(12), [2, 6]),
    };
    for (const f of ['model.onnx', 'model.int8.onnx']) {
      const s = await ort.InferenceSession.create(path.join(out, f), { intraOpNumThreads: 1 });
      const logits = (await s.run(feeds))['logits']!;
      assert.deepEqual(logits.dims, [2, 6, 5], f);
      assert.ok([...(logits.data as Float32Array)].every(Number.isFinite), f);
      await s.release();
    }
    const int8 = readFileSync(path.join(out, 'model.int8.onnx'));
    assert.ok(int8.includes('MatMulInteger') && int8.includes('DynamicQuantizeLinear'), 'int8 graph has integer MatMuls');

    // The folder runs in the engine, both variants.
    for (const variant of ['fp32', 'int8'] as const) {
      const engine = await createNerEngine({ modelDir: out, variant, intraOpThreads: 1 });
      try {
        const text = 'Aspirin caused acute renal failure.';
        const [ents] = await engine.extract([text]);
        assert.ok(Array.isArray(ents));
        for (const e of ents!) assert.equal(e.text, text.slice(e.start, e.end));
        assert.equal(engine.runtime.variant, variant);
      } finally {
        await engine.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
