import { MednerError } from '../core/errors.ts';
import { createLogger, type Logger } from '../ops/logger.ts';
import { BertTokenizer, type Tokenized } from './bert-tokenizer.ts';
import { decodeEntities, softmaxInto, type Decoder } from './decode.ts';
import type { Aggregation, Entity, ModelInfo } from '../core/entity.ts';
import type { ModelConfig } from './model-config.ts';
import { signatureProblems } from './model-check.ts';
import { loadModelFolder, type ExecutionProvider, type ModelVariant } from './model-folder.ts';
import { SessionPool } from './session-pool.ts';
import { nextBatchRows } from './batch-plan.ts';
import { defaultIntraOpThreads, defaultSessions } from '../config/threads.ts';
import type { TokenWindow } from './windows.ts';
import { segmentWindows, sentenceStarts, type Segmentation } from './segments.ts';

export interface NerEngineOptions {
  modelDir: string;
  variant?: ModelVariant;
  executionProvider?: ExecutionProvider;
  gpuId?: number;
  /** Threads per session; default cores / sessions. */
  intraOpThreads?: number;
  /** Windows per inference batch, at most (default 32). */
  batchSize?: number;
  /**
   * Padding a batch may add, as a fraction of its real tokens, before it is split (batch-plan.ts).
   * Default 0.1 on CPU, where a padded token costs as much as a real one; off (Infinity) on GPUs.
   */
  maxPadding?: number;
  /**
   * Run every window as its own inference (batch of one row, no padding), so that a document's
   * entities and scores are a function of its own text only: dynamic int8 quantization takes its
   * activation scale over the whole input tensor, and padding and other rows would otherwise move
   * it. Default true on CPU (where a batch of one runs as many documents/s as larger ones, see
   * README), false on GPUs (which need batches; there results depend on the batch's padding).
   * Several sessions still run windows in parallel.
   */
  batchInvariant?: boolean;
  /** Windows per sentence or over the whole document; default: the model config's segment (else none). */
  segment?: Segmentation;
  /** Greedy or constrained (viterbi) BIO decoding; default: the model config's decoder (else greedy). */
  decoder?: Decoder;
  /** Default: the model config's aggregation. */
  aggregation?: Aggregation;
  /** Drop entities scoring below this; default: the model config's minScore (else 0). */
  minScore?: number;
  /** Sessions (worker threads) for this engine; default min(4, cores) on CPU, 1 on a GPU (src/config/threads.ts). */
  sessions?: number;
  /** Batches queued per session (default 2): keeps a session busy while the main thread prepares the next. */
  queueDepth?: number;
  logger?: Logger;
}

export interface NerEngine {
  readonly model: ModelInfo;
  readonly config: ModelConfig;
  readonly modelDir: string;
  /** What actually runs: the ONNX variant and execution provider after fallback. */
  readonly runtime: {
    variant: Exclude<ModelVariant, 'auto'>;
    executionProvider: ExecutionProvider;
    onnxPath: string;
    sessions: number;
    intraOpThreads: number;
    batchSize: number;
    maxPadding: number;
    /** Each window runs alone (batch of one, unpadded): results do not depend on other documents. */
    batchInvariant: boolean;
    minScore: number;
    segment: Segmentation;
    decoder: Decoder;
  };
  readonly tokenizer: BertTokenizer;
  /** Entities per text, offsets in UTF-16 code units into that text. */
  extract(texts: string[]): Promise<Entity[][]>;
  close(): Promise<void>;
}

interface DocState {
  /** Position in the texts passed to extract. */
  index: number;
  text: string;
  tokens: Tokenized;
  /** Token indices where a sentence segment starts (empty with segment none). */
  segmentStarts: number[];
  probs: Float32Array;
  /** Windows not yet back from inference. */
  windowsLeft: number;
}

interface WindowJob {
  doc: DocState;
  w: TokenWindow;
}

const DEFAULT_CPU_MAX_PADDING = 0.1;


/** A window's row length in a batch: its tokens plus [CLS] and [SEP]. */
const windowTokens = (j: WindowJob): number => j.w.end - j.w.start + 2;

export async function createNerEngine(opts: NerEngineOptions): Promise<NerEngine> {
  const folder = await loadModelFolder(opts.modelDir);
  const config = folder.config;
  const log = opts.logger ?? createLogger(undefined, 'medner-nlp');
  const requested = opts.executionProvider ?? 'cpu';
  let variant = folder.resolveVariant(opts.variant ?? 'auto', requested);
  let onnxPath = folder.onnxPath(variant, requested);
  const tokenizer = new BertTokenizer(folder.vocab, {
    lowercase: config.doLowerCase,
    ...(config.stripAccents === undefined ? {} : { stripAccents: config.stripAccents }),
  });
  const sessions = Math.max(1, opts.sessions ?? defaultSessions(requested));
  const intraOpThreads = opts.intraOpThreads && opts.intraOpThreads > 0 ? opts.intraOpThreads : defaultIntraOpThreads(sessions);
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  const aggregation = opts.aggregation ?? config.aggregation;
  const minScore = opts.minScore ?? config.minScore ?? 0;
  const segment: Segmentation = opts.segment ?? config.segment ?? 'none';
  const decoder: Decoder = opts.decoder ?? config.decoder ?? 'greedy';
  if (!(minScore >= 0 && minScore < 1)) throw new MednerError('CONFIG_INVALID', `minScore ${minScore}: expected a number in [0, 1)`);
  if (opts.maxPadding !== undefined && !(opts.maxPadding >= 0)) throw new MednerError('CONFIG_INVALID', `maxPadding ${opts.maxPadding}: expected a number >= 0`);
  const probeIds = [tokenizer.clsId, tokenizer.unkId, tokenizer.sepId];

  let pool = await SessionPool.start({ modelPath: onnxPath, provider: requested, gpuId: opts.gpuId ?? 0, intraOpThreads, sessions, probeIds });
  if (pool.ready.warning !== undefined) log.warn({ model: config.name, gpuId: opts.gpuId ?? 0 }, pool.ready.warning);
  // A GPU provider fell back to CPU: with variant auto, take what auto takes on CPU (int8, not fp16).
  if (pool.ready.provider === 'cpu' && requested !== 'cpu' && (opts.variant ?? 'auto') === 'auto' && folder.resolveVariant('auto', 'cpu') !== variant) {
    await pool.close();
    variant = folder.resolveVariant('auto', 'cpu');
    onnxPath = folder.onnxPath(variant, 'cpu');
    pool = await SessionPool.start({ modelPath: onnxPath, provider: 'cpu', gpuId: 0, intraOpThreads, sessions, probeIds });
  }
  const problems = signatureProblems(pool.ready.signature, config.labels.length, { len: probeIds.length, dims: pool.ready.probeDims, error: pool.ready.probeError });
  if (problems.length > 0) {
    await pool.close();
    throw new MednerError('MODEL_INVALID', `model folder ${opts.modelDir}: ${onnxPath} does not match ${config.name}'s config:\n  ${problems.join('\n  ')}`);
  }
  const provider = pool.ready.provider;
  const maxPadding = opts.maxPadding ?? (provider === 'cpu' ? DEFAULT_CPU_MAX_PADDING : Infinity);
  const batchInvariant = opts.batchInvariant ?? provider === 'cpu';
  log.info({ model: config.name, version: config.version, variant, provider, sessions, intraOpThreads, batchSize, maxPadding, batchInvariant, segment, decoder }, 'NER engine ready');

  const numLabels = config.labels.length;
  const { maxLength, stride } = config;
  const maxInFlight = pool.size * Math.max(1, opts.queueDepth ?? 2); // keeps workers busy while bounding queued tensors
  let closed = false;

  async function extract(texts: string[]): Promise<Entity[][]> {
    if (closed) throw new MednerError('ENGINE_CLOSED', 'NER engine is closed');
    const results: Entity[][] = new Array<Entity[]>(texts.length);
    const finish = (doc: DocState): void => {
      const es = decodeEntities(doc.text, doc.tokens, doc.probs, config.labels, aggregation, doc.segmentStarts, decoder);
      results[doc.index] = minScore > 0 ? es.filter((e) => e.score >= minScore) : es;
    };
    // Documents are tokenized shortest first (by characters, known before tokenizing) and only a
    // look-ahead of windows ahead of the batches sent: tokenizing overlaps inference in the
    // worker threads, and sorting the look-ahead by token count keeps padding near that of one
    // global sort. Each document is decoded as soon as its last window is back.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
    const lookahead = batchSize * 2;
    const pending: WindowJob[] = [];
    let next = 0;
    const fill = (): void => {
      let added = false;
      while (pending.length < lookahead && next < order.length) {
        const index = order[next++]!;
        const text = texts[index]!;
        const tokens = tokenizer.tokenize(text);
        const segmentStarts = segment === 'sentence' ? sentenceStarts(text, tokens) : [];
        const doc: DocState = { index, text, tokens, segmentStarts, probs: new Float32Array(tokens.ids.length * numLabels), windowsLeft: 0 };
        if (tokens.ids.length === 0) {
          finish(doc);
          continue;
        }
        for (const w of segmentWindows(tokens.ids.length, segmentStarts, maxLength, stride)) {
          pending.push({ doc, w });
          doc.windowsLeft++;
          added = true;
        }
      }
      // Rows are independent, so their order within and across batches does not matter.
      if (added) pending.sort((a, b) => a.w.end - a.w.start - (b.w.end - b.w.start));
    };
    const running = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    for (fill(); pending.length > 0 && failure === undefined; fill()) {
      // With several sessions, no batch takes more than its share of what is left, so all get work.
      const share = Math.ceil((pending.length + order.length - next) / pool.size);
      const rows = batchInvariant ? 1 : nextBatchRows(pending.map(windowTokens), Math.min(batchSize, share), maxPadding);
      const batch = pending.splice(0, rows);
      // Errors are collected rather than left to reject unobserved promises.
      const p: Promise<void> = runBatch(batch)
        .then(() => {
          for (const j of batch) if (--j.doc.windowsLeft === 0) finish(j.doc);
        })
        .catch((err: unknown) => {
          failure ??= { err };
        })
        .finally(() => running.delete(p));
      running.add(p);
      if (running.size >= maxInFlight) await Promise.race(running);
    }
    await Promise.all(running);
    if (failure !== undefined) throw failure.err;
    return results;
  }

  async function runBatch(batch: WindowJob[]): Promise<void> {
    let seq = 0;
    for (const j of batch) seq = Math.max(seq, j.w.end - j.w.start + 2);
    const rows = batch.length;
    const ids = new Int32Array(rows * seq).fill(tokenizer.padId);
    const lengths = new Int32Array(rows);
    batch.forEach((j, r) => {
      const n = j.w.end - j.w.start;
      const base = r * seq;
      ids[base] = tokenizer.clsId;
      ids.set(j.doc.tokens.ids.subarray(j.w.start, j.w.end), base + 1);
      ids[base + 1 + n] = tokenizer.sepId;
      lengths[r] = n + 2;
    });
    const { logits, dims } = await pool.run(ids, lengths, rows, seq);
    if (dims[0] !== rows || dims[1] !== seq || dims[2] !== numLabels) {
      throw new MednerError('INFERENCE_FAILED', `model returned logits [${dims.join(', ')}], expected [${rows}, ${seq}, ${numLabels}]`);
    }
    batch.forEach((j, r) => {
      for (let t = j.w.ownStart; t < j.w.ownEnd; t++) {
        const pos = t - j.w.start + 1; // +1 for [CLS]
        softmaxInto(logits, (r * seq + pos) * numLabels, numLabels, j.doc.probs, t * numLabels);
      }
    });
  }

  return {
    model: { name: config.name, version: config.version },
    config,
    modelDir: opts.modelDir,
    runtime: { variant, executionProvider: provider, onnxPath, sessions, intraOpThreads, batchSize, maxPadding, batchInvariant, minScore, segment, decoder },
    tokenizer,
    extract,
    async close() {
      if (closed) return;
      closed = true;
      await pool.close();
    },
  };
}
