/**
 * NER benchmark (CPU): `npm run bench:ner` (run it with nice on a shared machine).
 *
 * For the tiny test model and a MedBERT-shaped model (BERT-base, random weights, generated
 * into models/_generated/ on demand): documents/s and tokens/s at batch 1, 8, 32, 64 for
 *   ours     createNerEngine().extract(texts) with the engine's default sessions and threads:
 *            tokenize, window, batch, infer in worker threads, decode
 *            (fp32; `ours-int8` too when the folder has model.int8.onnx)
 *   ceiling  plain onnxruntime-node, one session on all cores, on pre-tokenized, pre-batched tensors
 *            (sorted and split by the same padding rule as ours)
 *   tjs      @huggingface/transformers v4 token-classification pipeline, one call per batch
 *            (fp32; `tjs-int8` = dtype q8 on our int8 file, when there is one)
 * plus tokenizer MB/s and peak RSS. Prints a table, writes bench-results/ner.json.
 * Then batch invariance (issue 21) for every shipped model folder and the MedBERT-shaped one: documents
 * identical alone and in shuffled batches of 8/32/64, with the engine's default (each window its own run
 * on CPU) and with shared batches, and the docs/s of both.
 * Options: --quick (fewer docs), --skip-tiny, --skip-medbert, --skip-tjs, --skip-invariance, --invariance-only,
 *   --shipped: also the shipped model folders (models/medner-NAME folders, int8 only: they ship no fp32) through
 *   the engine on the same documents, interleaved, best of 3, batch 1 and 32: their docs/s side by side
 *   and each one's ratio to the first (the BC5CDR model). `--shipped --skip-tiny --skip-medbert --skip-tjs --skip-invariance`
 *   runs only that comparison.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { createNerEngine } from '../src/nlp/engine.ts';
import { BertTokenizer } from '../src/nlp/bert-tokenizer.ts';
import { planBatches } from '../src/nlp/batch-plan.ts';
import { loadModelFolder, type ModelFolder } from '../src/nlp/model-folder.ts';
import { loadBenchDocs } from './ner-docs.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const BATCHES = [1, 8, 32, 64];
const THREADS = Math.max(1, os.availableParallelism());

interface Row {
  model: string;
  path: 'ours' | 'ours-int8' | 'ceiling' | 'tjs' | 'tjs-int8';
  batch: number;
  docs: number;
  tokens: number;
  seconds: number;
  docsPerSec: number;
  tokensPerSec: number;
}

function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** The ceiling: ORT alone, tensors built before timing, same sort order and batches (batch-plan.ts) as ours. */
async function prepareCeiling(folder: ModelFolder, tok: BertTokenizer, docs: string[], batch: number, maxPadding: number) {
  const session = await ort.InferenceSession.create(folder.onnxPath('fp32', 'cpu'), sessionOptions());
  const seqs = docs.map((d, i) => ({ i, ids: [tok.clsId, ...tok.tokenize(d).ids, tok.sepId] })).sort((a, b) => a.ids.length - b.ids.length);
  const hasTypes = session.inputNames.includes('token_type_ids');
  const batches: { rows: typeof seqs; seq: number; feeds: Record<string, ort.Tensor> }[] = [];
  let b = 0;
  for (const n of planBatches(seqs.map((s) => s.ids.length), batch, maxPadding)) {
    const rows = seqs.slice(b, b + n);
    b += n;
    const seq = Math.max(...rows.map((r) => r.ids.length));
    const ids = new BigInt64Array(rows.length * seq);
    const mask = new BigInt64Array(rows.length * seq);
    rows.forEach((r, k) => r.ids.forEach((id, j) => ((ids[k * seq + j] = BigInt(id)), (mask[k * seq + j] = 1n))));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [rows.length, seq]),
      attention_mask: new ort.Tensor('int64', mask, [rows.length, seq]),
    };
    if (hasTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(rows.length * seq), [rows.length, seq]);
    batches.push({ rows, seq, feeds });
  }
  await session.run(batches[0]!.feeds); // warm-up
  const nl = folder.config.labels.length;
  let outs: ort.Tensor[] = [];
  return {
    tokens: seqs.reduce((n, s) => n + s.ids.length, 0),
    async run(): Promise<number> {
      const t0 = performance.now();
      outs = [];
      for (const b of batches) outs.push((await session.run(b.feeds)).logits!);
      return (performance.now() - t0) / 1000;
    },
    /** Per doc: non-O token labels as "position:label" from the last run's logits. */
    argmax(): Map<number, string[]> {
      const m = new Map<number, string[]>();
      batches.forEach((b, bi) => {
        const data = outs[bi]!.data as Float32Array;
        b.rows.forEach((r, k) => {
          const labels: string[] = [];
          for (let j = 1; j < r.ids.length - 1; j++) {
            let best = 0;
            for (let l = 1; l < nl; l++) if (data[(k * b.seq + j) * nl + l]! > data[(k * b.seq + j) * nl + best]!) best = l;
            if (folder.config.labels[best] !== 'O') labels.push(`${j}:${folder.config.labels[best]}`);
          }
          m.set(r.i, labels);
        });
      });
      return m;
    },
    release: () => session.release(),
  };
}

/** A transformers.js-loadable copy: config.json, tokenizer.json (saved by HF tokenizers), onnx/model.onnx (symlink). */
async function prepareTjsFolder(folder: ModelFolder, name: string): Promise<string> {
  // Loaded here, not at the top: only the transformers.js comparison needs Hugging Face's tokenizer.
  const { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer, bertProcessing } = await import('tokenizers');
  const root = path.join(repo, 'models/_generated/tjs');
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const labels = folder.config.labels;
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      architectures: ['BertForTokenClassification'],
      id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: folder.config.doLowerCase, model_max_length: folder.config.maxLength, unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', mask_token: '[MASK]' }),
  );
  const v: Record<string, number> = {};
  folder.vocab.forEach((t, i) => {
    if (!(t in v)) v[t] = i;
  });
  const t = new Tokenizer(WordPiece.init(v, { unkToken: '[UNK]', maxInputCharsPerWord: 100 }));
  t.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: folder.config.doLowerCase, lowercase: folder.config.doLowerCase }));
  t.setPreTokenizer(bertPreTokenizer());
  t.setPostProcessor(bertProcessing(['[SEP]', v['[SEP]']!], ['[CLS]', v['[CLS]']!]));
  t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((s) => s in v));
  t.save(path.join(dir, 'tokenizer.json'));
  // transformers.js expects a padding token in tokenizer.json; HF tokenizers writes padding null without setPadding
  const tj = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tj));
  const link = path.join(dir, 'onnx/model.onnx');
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.resolve(folder.onnxPath('fp32', 'cpu')), link);
  // our int8 file as transformers.js's q8 variant, for an int8-vs-int8 comparison
  const q8 = path.join(dir, 'onnx/model_quantized.onnx');
  fs.rmSync(q8, { force: true });
  if (folder.variants.int8) fs.symlinkSync(path.resolve(folder.variants.int8), q8);
  return root;
}

async function tjsRun(root: string, name: string, docs: string[], batch: number, reps: number, dtype: 'fp32' | 'q8' = 'fp32'): Promise<{ seconds: number; perToken: Map<number, string[]> }> {
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = `${root}/`;
  const pipe = (await tf.pipeline('token-classification', name, { dtype, device: 'cpu' })) as unknown as (
    t: string[],
    o?: object,
  ) => Promise<{ entity: string; index: number }[][]>;
  await pipe(docs.slice(0, Math.min(batch, docs.length)));
  const perToken = new Map<number, string[]>();
  let seconds = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let b = 0; b < docs.length; b += batch) {
      const out = await pipe(docs.slice(b, b + batch));
      out.forEach((toks, k) => perToken.set(b + k, toks.map((x) => `${x.index}:${x.entity}`)));
    }
    seconds = Math.min(seconds, (performance.now() - t0) / 1000);
  }
  await (pipe as unknown as { dispose?: () => Promise<void> }).dispose?.();
  return { seconds, perToken };
}

function ensureMedbert(): string | undefined {
  const dir = path.join(repo, 'models/_generated/medbert-shaped');
  if (fs.existsSync(path.join(dir, 'model.onnx'))) {
    if (!fs.existsSync(path.join(dir, 'model.int8.onnx'))) {
      try {
        execFileSync('/usr/bin/python3', [path.join(repo, 'models/train/make_test_model.py'), '--shape', 'medbert', '--int8-only'], { stdio: 'inherit' });
      } catch (err) {
        console.log(`no int8 variant: ${(err as Error).message}`);
      }
    }
    return dir;
  }
  console.log('generating the MedBERT-shaped model (models/train/make_test_model.py --shape medbert) ...');
  try {
    execFileSync('/usr/bin/python3', [path.join(repo, 'models/train/make_test_model.py'), '--shape', 'medbert'], { stdio: 'inherit' });
    return dir;
  } catch (err) {
    console.log(`cannot generate the MedBERT-shaped model: ${(err as Error).message}`);
    return undefined;
  }
}

async function benchModel(name: string, dir: string, docCount: number, reps: number, rows: Row[], extra: Record<string, unknown>): Promise<void> {
  const folder = await loadModelFolder(dir);
  const tok = new BertTokenizer(folder.vocab, { lowercase: folder.config.doLowerCase });
  const docs = loadBenchDocs(repo, docCount, folder.config.maxLength, tok);
  const tokens = docs.reduce((n, d) => n + tok.tokenize(d).ids.length + 2, 0);
  console.log(`\n${name}: ${docs.length} docs, ${tokens} tokens (avg ${(tokens / docs.length).toFixed(0)}), ${THREADS} threads`);
  const add = (p: Row['path'], batch: number, seconds: number): void => {
    const r: Row = { model: name, path: p, batch, docs: docs.length, tokens, seconds, docsPerSec: docs.length / seconds, tokensPerSec: tokens / seconds };
    rows.push(r);
    console.log(`  ${p.padEnd(8)} batch ${String(batch).padStart(2)}: ${r.docsPerSec.toFixed(1).padStart(8)} docs/s ${r.tokensPerSec.toFixed(0).padStart(9)} tokens/s`);
  };
  const agreement: Record<string, number> = {};
  let tjsRoot: string | undefined;
  if (!args.has('--skip-tjs')) tjsRoot = await prepareTjsFolder(folder, path.basename(dir));
  let maxPaddingUsed: number | undefined;
  let engineThreads = '';
  // best of `reps` for every path (ours and the ceiling interleaved): the machine is shared and noisy
  for (const batch of BATCHES) {
    const variants = folder.variants.int8 ? (['fp32', 'int8'] as const) : (['fp32'] as const);
    const engines = await Promise.all(
      // the engine's defaults for sessions and threads (src/config/threads.ts), as the pipeline runs it
      variants.map((variant) => createNerEngine({ modelDir: dir, variant, batchSize: batch, aggregation: 'first' })),
    );
    for (const e of engines) await e.extract(docs.slice(0, batch)); // warm-up
    maxPaddingUsed = engines[0]!.runtime.maxPadding;
    engineThreads = `${engines[0]!.runtime.sessions} sessions x ${engines[0]!.runtime.intraOpThreads} threads`;
    const c = await prepareCeiling(folder, tok, docs, batch, maxPaddingUsed);
    const best = { fp32: Infinity, int8: Infinity, ceiling: Infinity };
    for (let r = 0; r < reps; r++) {
      for (let k = 0; k < engines.length; k++) {
        const t0 = performance.now();
        const ents = await engines[k]!.extract(docs);
        best[variants[k]!] = Math.min(best[variants[k]!], (performance.now() - t0) / 1000);
        for (let i = 0; i < docs.length; i++) for (const e of ents[i]!) if (e.text !== docs[i]!.slice(e.start, e.end)) throw new Error('offset invariant broken');
      }
      best.ceiling = Math.min(best.ceiling, await c.run());
    }
    await Promise.all(engines.map((e) => e.close()));
    add('ours', batch, best.fp32);
    if (best.int8 < Infinity) add('ours-int8', batch, best.int8);
    add('ceiling', batch, best.ceiling);
    const argmax = c.argmax();
    await c.release();
    if (tjsRoot !== undefined) {
      try {
        const t = await tjsRun(tjsRoot, path.basename(dir), docs, batch, reps);
        add('tjs', batch, t.seconds);
        let same = 0;
        for (let i = 0; i < docs.length; i++) if (JSON.stringify(t.perToken.get(i)) === JSON.stringify(argmax.get(i))) same++;
        agreement[`batch${batch}`] = same / docs.length;
        if (folder.variants.int8) add('tjs-int8', batch, (await tjsRun(tjsRoot, path.basename(dir), docs, batch, reps, 'q8')).seconds);
      } catch (err) {
        console.log(`  tjs failed: ${(err as Error).message.split('\n')[0]}`);
        tjsRoot = undefined;
      }
    }
  }
  extra[name] = { docs: docs.length, tokens, maxPadding: maxPaddingUsed, ours: engineThreads, ceiling: `1 session x ${THREADS} threads`, tjsTokenLabelAgreement: agreement };
  console.log(`  ours: ${engineThreads}; ceiling: 1 session x ${THREADS} threads`);
}

/**
 * Batch invariance (issue 21): every document alone, then shuffled in batches of 8, 32 and 64;
 * documents whose entities or scores (two decimals, as written to FHIR) differ from alone, per
 * variant, for the engine's default (each window its own run on CPU) and for shared batches
 * (batchInvariant: false, the engine before); plus docs/s of both at 32 documents per call,
 * best of `reps` interleaved.
 */
async function invariance(name: string, dir: string, docs: string[], reps: number, extra: Record<string, unknown>): Promise<void> {
  const folder = await loadModelFolder(dir);
  const written = (es: { start: number; end: number; label: string; score: number }[]) => es.map((e) => `${e.start}-${e.end} ${e.label} ${e.score.toFixed(2)}`).join('|');
  const { seededOrder: order } = await import('../test/support/clinical-notes.ts');
  const out: Record<string, unknown> = {};
  for (const variant of (['fp32', 'int8'] as const).filter((v) => folder.variants[v] !== undefined)) {
    const engines = { invariant: await createNerEngine({ modelDir: dir, variant, batchSize: 64 }), shared: await createNerEngine({ modelDir: dir, variant, batchSize: 64, batchInvariant: false }) };
    const res: Record<string, unknown> = {};
    for (const [mode, e] of Object.entries(engines)) {
      const alone: string[] = [];
      for (const d of docs) alone.push(written((await e.extract([d]))[0]!));
      const differing = new Set<number>();
      for (const size of [8, 32, 64]) {
        const o = order(docs.length, size);
        for (let k = 0; k < o.length; k += size) {
          const idx = o.slice(k, k + size);
          const got = await e.extract(idx.map((i) => docs[i]!));
          idx.forEach((i, j) => written(got[j]!) !== alone[i] && differing.add(i));
        }
      }
      res[mode] = { docsIdentical: docs.length - differing.size, docs: docs.length };
    }
    const best = { invariant: Infinity, shared: Infinity };
    for (let r = 0; r < reps; r++) {
      for (const mode of ['invariant', 'shared'] as const) {
        const e = engines[mode];
        const t0 = performance.now();
        for (let k = 0; k < docs.length; k += 32) await e.extract(docs.slice(k, k + 32));
        best[mode] = Math.min(best[mode], (performance.now() - t0) / 1000);
      }
    }
    const dps = { invariant: docs.length / best.invariant, shared: docs.length / best.shared };
    res.docsPerSec = dps;
    res.invariantVsShared = dps.invariant / dps.shared;
    out[variant] = res;
    const r = res as { invariant: { docsIdentical: number }; shared: { docsIdentical: number } };
    console.log(
      `  ${name} ${variant}: identical alone vs batches 8/32/64: invariant ${r.invariant.docsIdentical}/${docs.length}, shared batches ${r.shared.docsIdentical}/${docs.length}; ` +
        `docs/s invariant ${dps.invariant.toFixed(1)}, shared ${dps.shared.toFixed(1)} (${(dps.invariant / dps.shared).toFixed(2)}x)`,
    );
    await engines.invariant.close();
    await engines.shared.close();
  }
  (extra.batchInvariance ??= {} as Record<string, unknown>);
  (extra.batchInvariance as Record<string, unknown>)[name] = out;
}

function tokenizerThroughput(): Record<string, number> {
  const out: Record<string, number> = {};
  const folder = path.join(repo, 'test/fixtures/models/tiny-bert/vocab.txt');
  const vocab = fs.readFileSync(folder, 'utf8').split('\n').slice(0, -1);
  const file = path.resolve(repo, '../shared/data/ner/bc5cdr/train.tsv');
  const text = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8').split('\n').map((l) => l.split('\t')[0]).join(' ')
    : 'Patient was given aspirin 81 mg for postural hypotension. '.repeat(20_000);
  for (const lowercase of [false, true]) {
    const tok = new BertTokenizer(vocab, { lowercase });
    let best = Infinity; // best of 3: the machine is shared
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      tok.tokenize(text);
      best = Math.min(best, performance.now() - t0);
    }
    out[lowercase ? 'uncasedMBps' : 'casedMBps'] = Buffer.byteLength(text) / 1e6 / (best / 1000);
  }
  console.log(`tokenizer: cased ${out.casedMBps!.toFixed(1)} MB/s, uncased ${out.uncasedMBps!.toFixed(1)} MB/s (${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB)`);
  return out;
}

const rows: Row[] = [];
const extra: Record<string, unknown> = {};
const tokenizer = tokenizerThroughput();
// The tiny model's runs take a fraction of a second: more documents and repetitions against timer noise.
if (!args.has('--skip-tiny') && !args.has('--invariance-only')) await benchModel('tiny-bert', path.join(repo, 'test/fixtures/models/tiny-bert'), quick ? 128 : 1024, quick ? 3 : 5, rows, extra);
if (!args.has('--skip-medbert') && !args.has('--invariance-only')) {
  const dir = ensureMedbert();
  if (dir !== undefined) await benchModel('medbert-shaped', dir, quick ? 16 : 64, 3, rows, extra);
}
const shipped: Record<string, unknown>[] = [];
if (args.has('--shipped')) {
  // Same documents for every shipped model (the first one's tokenizer and max length; the shipped
  // models share bge-small's vocabulary), engines interleaved so machine noise hits all alike.
  const dirs = fs
    .readdirSync(path.join(repo, 'models'))
    .filter((n) => n.startsWith('medner-') && fs.existsSync(path.join(repo, 'models', n, 'model.int8.onnx')))
    .sort((a, b) => (a.includes('bc5cdr') ? -1 : b.includes('bc5cdr') ? 1 : a.localeCompare(b)));
  const first = await loadModelFolder(path.join(repo, 'models', dirs[0]!));
  const tok = new BertTokenizer(first.vocab, { lowercase: first.config.doLowerCase });
  const docs = loadBenchDocs(repo, quick ? 32 : 128, first.config.maxLength, tok);
  console.log(`\nshipped models (int8, engine defaults): ${docs.length} docs; ${dirs.join(', ')}`);
  for (const batch of [1, 32]) {
    const engines = await Promise.all(dirs.map((d) => createNerEngine({ modelDir: path.join(repo, 'models', d), variant: 'int8', batchSize: batch })));
    for (const e of engines) await e.extract(docs.slice(0, Math.max(1, batch))); // warm-up
    const best = dirs.map(() => Infinity);
    for (let r = 0; r < 3; r++) {
      for (let k = 0; k < engines.length; k++) {
        const t0 = performance.now();
        await engines[k]!.extract(docs);
        best[k] = Math.min(best[k]!, (performance.now() - t0) / 1000);
      }
    }
    await Promise.all(engines.map((e) => e.close()));
    dirs.forEach((d, k) => {
      const docsPerSec = docs.length / best[k]!;
      const ratio = best[0]! / best[k]!;
      shipped.push({ model: d, batch, docs: docs.length, docsPerSec, vsFirst: ratio });
      console.log(`  ${d.padEnd(28)} batch ${String(batch).padStart(2)}: ${docsPerSec.toFixed(1).padStart(8)} docs/s (${ratio.toFixed(2)}x ${dirs[0]})`);
    });
  }
}
// Batch invariance on the shipped default model (Synthea-like notes, several windows for some) and the BERT-base shape.
if (!args.has('--skip-invariance')) {
  console.log(`\nbatch invariance (issue 21): ${quick ? 16 : 64} documents alone vs shuffled batches of 8, 32, 64`);
  const { syntheaLikeNotes } = await import('../test/support/clinical-notes.ts');
  // every shipped model folder (models/medner-*), on 64 Synthea-like notes (some span several windows)
  const folders = fs.readdirSync(path.join(repo, 'models')).filter((n) => n.startsWith('medner-') && fs.existsSync(path.join(repo, 'models', n, 'medner-model.json'))).sort();
  for (const n of folders) await invariance(`shipped ${n}`, path.join(repo, 'models', n), syntheaLikeNotes(quick ? 16 : 64), 3, extra);
  if (!args.has('--skip-medbert')) {
    const dir = ensureMedbert();
    if (dir !== undefined) {
      const folder = await loadModelFolder(dir);
      await invariance('medbert-shaped', dir, loadBenchDocs(repo, quick ? 16 : 64, folder.config.maxLength, new BertTokenizer(folder.vocab, { lowercase: folder.config.doLowerCase })), 3, extra);
    }
  }
}
const peakRssMB = process.resourceUsage().maxRSS / 1024;

console.log('\nmodel           batch   ours docs/s  ceiling docs/s  ours/ceiling   tjs docs/s  ours/tjs  int8 docs/s  tjs-int8 docs/s  int8/tjs-int8');
const summary: Record<string, unknown>[] = [];
for (const model of [...new Set(rows.map((r) => r.model))]) {
  for (const batch of BATCHES) {
    const get = (p: Row['path']) => rows.find((r) => r.model === model && r.batch === batch && r.path === p);
    const o = get('ours');
    const c = get('ceiling');
    const t = get('tjs');
    const q = get('ours-int8');
    if (!o || !c) continue;
    const vsCeil = o.docsPerSec / c.docsPerSec;
    const vsTjs = t ? o.docsPerSec / t.docsPerSec : undefined;
    const tq = get('tjs-int8');
    const int8VsTjs = q && tq ? q.docsPerSec / tq.docsPerSec : undefined;
    summary.push({ model, batch, ours: o.docsPerSec, ceiling: c.docsPerSec, tjs: t?.docsPerSec, oursInt8: q?.docsPerSec, tjsInt8: tq?.docsPerSec, oursVsCeiling: vsCeil, oursVsTjs: vsTjs, oursInt8VsTjsInt8: int8VsTjs });
    console.log(
      `${model.padEnd(15)} ${String(batch).padStart(5)} ${o.docsPerSec.toFixed(1).padStart(13)} ${c.docsPerSec.toFixed(1).padStart(15)} ${vsCeil.toFixed(2).padStart(13)} ${(t ? t.docsPerSec.toFixed(1) : '-').padStart(12)} ${(vsTjs ? vsTjs.toFixed(2) : '-').padStart(9)} ${(q ? q.docsPerSec.toFixed(1) : '-').padStart(12)} ${(tq ? tq.docsPerSec.toFixed(1) : '-').padStart(16)} ${(int8VsTjs ? int8VsTjs.toFixed(2) : '-').padStart(14)}`,
    );
  }
}
console.log(`peak RSS ${peakRssMB.toFixed(0)} MB (whole process, incl. worker threads)`);
const outDir = path.join(repo, 'bench-results');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(
  path.join(outDir, 'ner.json'),
  JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, threads: THREADS, node: process.version, tokenizer, peakRssMB, goals: { oursVsCeiling: 0.9, oursVsTjs: 2 }, summary, rows, extra, shipped }, null, 2),
);
console.log(`wrote ${path.join(outDir, 'ner.json')}`);
