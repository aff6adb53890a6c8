import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadModelFolder } from '../../src/nlp/model-folder.ts';
import { createNerEngine } from '../../src/nlp/engine.ts';
import { signatureProblems } from '../../src/nlp/model-check.ts';
import { MednerError } from '../../src/core/errors.ts';
import { pino } from 'pino';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tiny = path.join(repo, 'test/fixtures/models/tiny-bert');
const tinyConfig = JSON.parse(fs.readFileSync(path.join(tiny, 'medner-model.json'), 'utf8')) as Record<string, unknown>;

function tmpModel(files: Record<string, string | Buffer | null>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medner-model-'));
  for (const [name, content] of Object.entries(files)) {
    if (content === null) continue;
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
const vocab = fs.readFileSync(path.join(tiny, 'vocab.txt'));
const onnx = fs.readFileSync(path.join(tiny, 'model.onnx'));
/** A copy of the tiny model with fp32 only (plus `extra` files). */
const ours = (cfg: Record<string, unknown> = tinyConfig, extra: Record<string, string | Buffer | null> = {}): string =>
  tmpModel({ 'medner-model.json': JSON.stringify(cfg), 'vocab.txt': vocab, 'model.onnx': onnx, ...extra });

async function rejectsInvalid(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MednerError, String(err));
    assert.equal(err.code, 'MODEL_INVALID');
    assert.match(err.message, re);
    return true;
  });
}

test('loads our format and picks variants', async () => {
  const f = await loadModelFolder(tiny);
  assert.equal(f.source, 'medner');
  assert.equal(f.vocab.length, 3000);
  assert.equal(f.onnxPath('auto', 'cpu'), path.join(tiny, 'model.int8.onnx'));
  assert.equal(f.onnxPath('fp32', 'cpu'), path.join(tiny, 'model.onnx'));
  assert.equal(f.onnxPath('auto', 'cuda'), path.join(tiny, 'model.onnx'));
  const withInt8 = ours(tinyConfig, { 'model.int8.onnx': onnx });
  const g = await loadModelFolder(withInt8);
  assert.equal(g.resolveVariant('auto', 'cpu'), 'int8');
  assert.equal(g.resolveVariant('auto', 'cuda'), 'fp32');
  assert.throws(() => g.onnxPath('fp16', 'cuda'), /variant fp16 requested/);
  assert.equal(g.resolveVariant('auto', 'webgpu'), 'fp32');
  // An int8-only folder (how the default model ships) loads; auto takes int8 on every provider.
  const int8Only = await loadModelFolder(ours(tinyConfig, { 'model.onnx': null, 'model.int8.onnx': onnx }));
  assert.equal(int8Only.resolveVariant('auto', 'cpu'), 'int8');
  assert.equal(int8Only.resolveVariant('auto', 'cuda'), 'int8');
  assert.throws(() => int8Only.onnxPath('fp32', 'cpu'), /variant fp32 requested/);
});

test('clear errors: missing folder, bad config, missing vocab tokens, missing onnx', async () => {
  await rejectsInvalid(loadModelFolder('/nonexistent/medner-model'), /not a directory/);
  await rejectsInvalid(loadModelFolder(ours({ ...tinyConfig, stride: 500, labels: ['O', 'X-Bad'] })), /"X-Bad"[\s\S]*stride: 500/);
  await rejectsInvalid(loadModelFolder(ours({ ...tinyConfig, minScore: 1 })), /minScore: expected a number in \[0, 1\)/);
  await rejectsInvalid(loadModelFolder(ours(tinyConfig, { 'vocab.txt': 'a\nb\n[UNK]\n' })), /no \[CLS\]/);
  await rejectsInvalid(loadModelFolder(ours(tinyConfig, { 'model.onnx': null })), /no ONNX model \(looked for model\.onnx/);
  await rejectsInvalid(loadModelFolder(tmpModel({ 'vocab.txt': vocab })), /neither medner-model\.json nor/);
  await rejectsInvalid(loadModelFolder(ours(tinyConfig, { 'medner-model.json': '{not json' })), /cannot read medner-model\.json/);
});

test('engine refuses a model whose output does not match the labels', async () => {
  const three = ours({ ...tinyConfig, labels: ['O', 'B-Disease', 'I-Disease'] });
  await rejectsInvalid(createNerEngine({ modelDir: three, intraOpThreads: 1 }), /5 labels but the config lists 3/);
});

test('engine refuses a file that is not ONNX', async () => {
  const bad = ours(tinyConfig, { 'model.onnx': Buffer.from('not an onnx model') });
  await rejectsInvalid(createNerEngine({ modelDir: bad, intraOpThreads: 1 }), /cannot load/);
});

test('signature checks name missing inputs, extra inputs and wrong output rank', () => {
  const sig = (inputNames: string[], outShape: (number | string)[]) => ({
    inputNames,
    outputNames: ['logits'],
    inputs: inputNames.map((name) => ({ name, type: 'int64', shape: ['batch', 'sequence'] })),
    outputs: [{ name: 'logits', type: 'float32', shape: outShape }],
  });
  const ok = { len: 3, dims: [1, 3, 5] };
  assert.deepEqual(signatureProblems(sig(['input_ids', 'attention_mask', 'token_type_ids'], ['b', 's', 5]), 5, ok), []);
  assert.deepEqual(signatureProblems(sig(['input_ids', 'attention_mask'], ['b', 's', 5]), 5, ok), []);
  assert.match(signatureProblems(sig(['input_ids', 'pixel_values'], ['b', 's', 5]), 5, ok).join('\n'), /no input "attention_mask"[\s\S]*pixel_values/);
  assert.match(signatureProblems(sig(['input_ids', 'attention_mask'], ['b', 5]), 5, ok).join('\n'), /rank 2/);
  assert.match(signatureProblems(sig(['input_ids', 'attention_mask'], ['b', 's', 9]), 5, ok).join('\n'), /9 labels/);
  assert.match(signatureProblems(sig(['input_ids', 'attention_mask'], []), 5, { len: 3, dims: [1, 5] }).join('\n'), /probe run gave output shape \[1, 5\]/);
});

test('a plain Hugging Face export loads and gives the same entities as our format', async () => {
  const labels = tinyConfig.labels as string[];
  const hf = tmpModel({
    'config.json': JSON.stringify({ architectures: ['BertForTokenClassification'], id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), max_position_embeddings: 512 }),
    'tokenizer_config.json': JSON.stringify({ do_lower_case: false, model_max_length: tinyConfig.maxLength }),
    'vocab.txt': vocab,
    'onnx/model.onnx': onnx,
  });
  const f = await loadModelFolder(hf);
  assert.equal(f.source, 'huggingface');
  assert.deepEqual(f.config.labels, labels);
  assert.equal(f.config.doLowerCase, false);
  assert.equal(f.config.maxLength, tinyConfig.maxLength);
  const [a, b] = await Promise.all([createNerEngine({ modelDir: hf, intraOpThreads: 1 }), createNerEngine({ modelDir: tiny, variant: 'fp32', intraOpThreads: 1 })]);
  try {
    const texts = ['Selegiline induced postural hypotension.', 'aspirin and warfarin '.repeat(40)];
    assert.deepEqual(await a.extract(texts), await b.extract(texts));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

const ortDir = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
const hasCuda = fs.existsSync(path.join(ortDir, 'bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'));
test('cuda requested without CUDA provider libraries: falls back to CPU', { skip: hasCuda ? 'CUDA provider present' : false }, async () => {
  const e = await createNerEngine({ modelDir: tiny, executionProvider: 'cuda', intraOpThreads: 1 });
  try {
    assert.equal(e.runtime.executionProvider, 'cpu');
    assert.equal((await e.extract(['aspirin'])).length, 1);
  } finally {
    await e.close();
  }
});

test('webgpu requested: runs on a WebGPU adapter, or falls back to CPU with one warning; same entities either way', async () => {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(String(JSON.parse(line).msg)) });
  const texts = ['Selegiline induced postural hypotension.', 'aspirin and warfarin '.repeat(40)];
  const gpu = await createNerEngine({ modelDir: tiny, variant: 'fp32', executionProvider: 'webgpu', intraOpThreads: 1, logger });
  const cpu = await createNerEngine({ modelDir: tiny, variant: 'fp32', intraOpThreads: 1 });
  try {
    if (gpu.runtime.executionProvider === 'cpu') {
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /^WebGPU execution provider unavailable \(.+\); falling back to CPU$/);
    } else {
      assert.equal(gpu.runtime.executionProvider, 'webgpu');
      assert.deepEqual(warnings, []);
    }
    const [a, b] = [await gpu.extract(texts), await cpu.extract(texts)];
    const spans = (r: typeof a) => r.map((es) => es.map(({ start, end, label }) => ({ start, end, label })));
    assert.deepEqual(spans(a), spans(b));
    a.flat().forEach((e, i) => assert.ok(Math.abs(e.score - b.flat()[i]!.score) < 1e-3));
  } finally {
    await Promise.all([gpu.close(), cpu.close()]);
  }
});

test('a GPU provider that falls back to CPU takes the CPU variant under auto (int8, not fp16)', async () => {
  const dir = ours(tinyConfig, { 'model.int8.onnx': fs.readFileSync(path.join(tiny, 'model.int8.onnx')), 'model.fp16.onnx': onnx });
  for (const provider of ['cuda', 'webgpu'] as const) {
    const e = await createNerEngine({ modelDir: dir, executionProvider: provider, intraOpThreads: 1, logger: pino({ level: 'silent' }) });
    try {
      if (e.runtime.executionProvider === 'cpu') assert.equal(e.runtime.variant, 'int8');
      else assert.equal(e.runtime.variant, 'fp16');
      assert.equal((await e.extract(['aspirin'])).length, 1);
    } finally {
      await e.close();
    }
  }
});

test('an inference failure rejects extract with INFERENCE_FAILED (and the engine keeps working)', async () => {
  // a vocab entry beyond the model's embedding table: ORT's Gather fails at run time
  const dir = ours(tinyConfig, { 'vocab.txt': Buffer.concat([vocab, Buffer.from('zzzbeyondembedding\n')]) });
  const e = await createNerEngine({ modelDir: dir, batchSize: 2, intraOpThreads: 1 });
  try {
    const docs = Array.from({ length: 9 }, (_, i) => (i === 4 ? 'x zzzbeyondembedding y' : `aspirin ${i}`));
    await assert.rejects(e.extract(docs), (err: unknown) => {
      assert.ok(err instanceof MednerError);
      assert.equal(err.code, 'INFERENCE_FAILED');
      return true;
    });
    assert.equal((await e.extract(['aspirin daily'])).length, 1);
  } finally {
    await e.close();
  }
});
