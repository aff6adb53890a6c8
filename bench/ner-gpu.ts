/**
 * NER on a GPU execution provider: `npm run bench:ner:gpu [-- --model DIR ...] [--providers webgpu,cuda]
 * [--docs N] [--reps N]`.
 *
 * For each model folder (default: the tiny test model, and models/_generated/medbert-shaped when it
 * exists; make it with `models/train/make_test_model.py --shape medbert --fp16`), our engine
 * (createNerEngine().extract: tokenize, window, batch, infer in a worker, decode) at batch 1, 8, 32, 64:
 *   cpu      fp32 (and int8 when present) on all cores: the baseline measured on the same machine
 *   <gpu>    fp32 and fp16 (when present) on each provider asked for
 * Each row names the provider that actually ran (a GPU provider that cannot start falls back to
 * cpu, and the row says so), documents/s, tokens/s, the ratio to CPU fp32 at the same batch size, and
 * agreement with CPU fp32: documents whose entities (start, end, label) are identical, and the
 * largest score difference. Prints a table, writes bench-results/ner-gpu.json (after every row).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createNerEngine } from '../src/nlp/engine.ts';
import { BertTokenizer } from '../src/nlp/bert-tokenizer.ts';
import type { Entity } from '../src/core/entity.ts';
import { loadModelFolder, type ExecutionProvider, type ModelVariant } from '../src/nlp/model-folder.ts';
import { loadBenchDocs } from './ner-docs.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    providers: { type: 'string', default: 'webgpu' },
    docs: { type: 'string', default: '256' },
    reps: { type: 'string', default: '2' },
    'skip-int8': { type: 'boolean', default: false },
  },
});
const BATCHES = [1, 8, 32, 64];
const THREADS = Math.max(1, os.availableParallelism());
const gpuProviders = opt.providers.split(',').map((p) => p.trim()) as ExecutionProvider[];
for (const p of gpuProviders) if (p !== 'webgpu' && p !== 'cuda') throw new Error(`--providers: ${p} is not a GPU provider (webgpu, cuda)`);
const docCount = Number(opt.docs);
const reps = Math.max(1, Number(opt.reps));

interface Row {
  model: string;
  requested: ExecutionProvider;
  provider: ExecutionProvider;
  variant: Exclude<ModelVariant, 'auto'>;
  batch: number;
  docs: number;
  tokens: number;
  seconds: number;
  warmupSeconds: number;
  docsPerSec: number;
  tokensPerSec: number;
  vsCpuFp32?: number;
  sameEntitiesAsCpuFp32: number;
  maxScoreDiff: number;
  warning?: string;
}

function gpuName(): string | undefined {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Documents whose entity spans and labels match the reference, and the largest score difference among them. */
function agreement(ref: Entity[][], got: Entity[][]): { same: number; maxScoreDiff: number } {
  let same = 0;
  let maxScoreDiff = 0;
  ref.forEach((r, i) => {
    const g = got[i]!;
    if (r.length !== g.length || r.some((e, k) => e.start !== g[k]!.start || e.end !== g[k]!.end || e.label !== g[k]!.label)) return;
    same++;
    r.forEach((e, k) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(e.score - g[k]!.score))));
  });
  return { same: same / ref.length, maxScoreDiff };
}

async function benchModel(dir: string, rows: Row[]): Promise<void> {
  const folder = await loadModelFolder(dir);
  const name = path.basename(path.resolve(dir));
  const tok = new BertTokenizer(folder.vocab, { lowercase: folder.config.doLowerCase });
  const docs = loadBenchDocs(repo, docCount, folder.config.maxLength, tok);
  const tokens = docs.reduce((n, d) => n + tok.tokenize(d).ids.length + 2, 0);
  console.log(`\n${name}: ${docs.length} docs, ${tokens} tokens (avg ${(tokens / docs.length).toFixed(0)}), CPU threads ${THREADS}`);
  const runs: { requested: ExecutionProvider; variant: Exclude<ModelVariant, 'auto'> }[] = [{ requested: 'cpu', variant: 'fp32' }];
  if (folder.variants.int8 && !opt['skip-int8']) runs.push({ requested: 'cpu', variant: 'int8' });
  for (const p of gpuProviders) {
    runs.push({ requested: p, variant: 'fp32' });
    if (folder.variants.fp16) runs.push({ requested: p, variant: 'fp16' });
  }
  let reference: Entity[][] | undefined;
  for (const { requested, variant } of runs) {
    for (const batch of BATCHES) {
      const warnings: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(String(JSON.parse(line).msg)) });
      const e = await createNerEngine({ modelDir: dir, variant, executionProvider: requested, batchSize: batch, intraOpThreads: THREADS, aggregation: 'first', logger });
      try {
        // The first pass also compiles GPU kernels for each padded shape; timed separately.
        let t0 = performance.now();
        let ents = await e.extract(docs);
        const warmupSeconds = (performance.now() - t0) / 1000;
        let best = Infinity;
        for (let r = 0; r < reps; r++) {
          t0 = performance.now();
          ents = await e.extract(docs);
          best = Math.min(best, (performance.now() - t0) / 1000);
        }
        for (let i = 0; i < docs.length; i++) for (const x of ents[i]!) if (x.text !== docs[i]!.slice(x.start, x.end)) throw new Error('offset invariant broken');
        reference ??= ents; // CPU fp32 at batch 1 comes first
        const a = agreement(reference, ents);
        const cpu = rows.find((r) => r.model === name && r.requested === 'cpu' && r.variant === 'fp32' && r.batch === batch);
        const row: Row = {
          model: name,
          requested,
          provider: e.runtime.executionProvider,
          variant,
          batch,
          docs: docs.length,
          tokens,
          seconds: best,
          warmupSeconds,
          docsPerSec: docs.length / best,
          tokensPerSec: tokens / best,
          ...(cpu ? { vsCpuFp32: docs.length / best / cpu.docsPerSec } : {}),
          sameEntitiesAsCpuFp32: a.same,
          maxScoreDiff: a.maxScoreDiff,
          ...(warnings.length ? { warning: warnings[0] } : {}),
        };
        rows.push(row);
        writeJson(rows); // after every row, so a run stopped at a time limit still leaves its numbers
        const ran = row.provider === requested ? row.provider : `${row.provider} (fell back from ${requested})`;
        console.log(
          `  ${ran.padEnd(8)} ${variant.padEnd(5)} batch ${String(batch).padStart(2)}: ${row.docsPerSec.toFixed(1).padStart(8)} docs/s ${row.tokensPerSec.toFixed(0).padStart(9)} tokens/s  x${(row.vsCpuFp32 ?? 1).toFixed(2)} vs cpu fp32  same entities ${(a.same * 100).toFixed(1)}%  max score diff ${a.maxScoreDiff.toFixed(4)}  (first pass ${warmupSeconds.toFixed(1)} s)`,
        );
        if (row.provider !== requested) {
          console.log(`  ${warnings[0] ?? 'no warning logged'}`);
          break; // the other batch sizes would measure the CPU again
        }
      } finally {
        await e.close();
      }
    }
  }
}

const outFile = path.join(repo, 'bench-results', 'ner-gpu.json');
const gpu = gpuName();
function writeJson(rows: Row[]): void {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  fs.writeFileSync(outFile, JSON.stringify({ date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cpus: os.cpus().length, gpu, node: process.version, providers: gpuProviders, peakRssMB, rows }, null, 2));
}

const models = opt.model ?? [path.join(repo, 'test/fixtures/models/tiny-bert'), path.join(repo, 'models/_generated/medbert-shaped')].filter((d) => fs.existsSync(d));
const rows: Row[] = [];
for (const dir of models) await benchModel(dir, rows);
const peakRssMB = process.resourceUsage().maxRSS / 1024;

console.log('\nmodel           provider  variant  batch     docs/s   tokens/s  vs cpu fp32  same entities');
for (const r of rows) {
  console.log(
    `${r.model.padEnd(15)} ${r.provider.padEnd(9)} ${r.variant.padEnd(8)} ${String(r.batch).padStart(5)} ${r.docsPerSec.toFixed(1).padStart(10)} ${r.tokensPerSec.toFixed(0).padStart(10)} ${(r.vsCpuFp32 ?? 1).toFixed(2).padStart(12)} ${(r.sameEntitiesAsCpuFp32 * 100).toFixed(1).padStart(13)}%`,
  );
}
console.log(`peak RSS ${peakRssMB.toFixed(0)} MB (whole process, incl. worker threads)`);
writeJson(rows);
console.log(`wrote ${outFile}`);
