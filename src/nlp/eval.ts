import fsp from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { readBratDir, type BratDocument } from './brat.ts';
import type { Entity } from '../core/entity.ts';
import { entityTypes, parseBio, scoreSpans, toEvalDocument, type EvalDocument, type Scores, type Span } from './eval-metrics.ts';

/** The part of the NER engine that evaluation needs (createNerEngine's result satisfies it). */
export interface EvalEngine {
  readonly model: { name: string; version: string };
  readonly config: { labels: string[] };
  readonly runtime?: { variant: string; executionProvider: string };
  extract(texts: string[]): Promise<Entity[][]>;
}

export interface EvalReport {
  data: string;
  /** token<TAB>BIO sentences, or brat documents (one .txt each). */
  format?: 'bio' | 'brat';
  model: { name: string; version: string; variant?: string; executionProvider?: string };
  documents: number;
  goldEntities: number;
  scores: Scores;
  /** Wall time of the extract calls only (not model loading or file reading). */
  seconds: number;
  documentsPerSecond: number;
}

export interface EvalOptions {
  /** Documents per extract call (default 64). */
  chunkSize?: number;
  /** Evaluate only the first N sentences (brat: documents). */
  limit?: number;
  /** Called after each chunk with documents done so far. */
  onProgress?: (done: number, total: number) => void;
  /** Applied to each document's entities before scoring (e.g. the rule-tagged attribute words: --attribute-words). */
  postprocess?: (text: string, entities: Entity[]) => Entity[];
}

/** Scores an engine on the sentences of one token<TAB>BIO file, or on a folder of brat .txt/.ann pairs. */
export async function evaluateFile(engine: EvalEngine, dataFile: string, opts: EvalOptions = {}): Promise<EvalReport> {
  if ((await fsp.stat(dataFile)).isDirectory()) return evaluateBratDir(engine, dataFile, opts);
  const content = await fsp.readFile(dataFile, 'utf8');
  return evaluateBio(engine, content, dataFile, opts);
}

export async function evaluateBio(engine: EvalEngine, content: string, dataName: string, opts: EvalOptions = {}): Promise<EvalReport> {
  let sentences = parseBio(content);
  if (opts.limit !== undefined && opts.limit >= 0) sentences = sentences.slice(0, opts.limit);
  const docs = sentences.map(toEvalDocument);
  // Score the labels the model can predict, plus any gold label it cannot (those count as misses).
  const labels = [...new Set([...entityTypes(engine.config.labels), ...docs.flatMap((d) => d.gold.map((g) => g.label))])].sort();
  return { format: 'bio', ...(await runAndScore(engine, docs, labels, dataName, opts)) };
}

/**
 * Scores an engine on a folder of brat `.txt`/`.ann` pairs, each `.txt` one document. Strict
 * entity match (same start, end and label) over the labels the model predicts only: gold
 * entities of other types are ignored (a clinical corpus has 41 types, a model a subset).
 * Every gold entity of a predicted label counts, nested and overlapping ones included, so what a
 * flat BIO model cannot represent shows as recall; discontinuous entities count as their full
 * extent (see brat.ts).
 */
export async function evaluateBratDir(engine: EvalEngine, dir: string, opts: EvalOptions = {}): Promise<EvalReport> {
  return evaluateBrat(engine, await readBratDir(dir), dir, opts);
}

export async function evaluateBrat(engine: EvalEngine, bratDocs: BratDocument[], dataName: string, opts: EvalOptions = {}): Promise<EvalReport> {
  const selected = opts.limit !== undefined && opts.limit >= 0 ? bratDocs.slice(0, opts.limit) : bratDocs;
  const labels = entityTypes(engine.config.labels);
  const keep = new Set(labels);
  const docs: EvalDocument[] = selected.map((d) => ({
    text: d.text,
    gold: d.entities.filter((e) => keep.has(e.label)).map(({ start, end, label }) => ({ start, end, label })),
  }));
  return { format: 'brat', ...(await runAndScore(engine, docs, labels, dataName, opts)) };
}

async function runAndScore(engine: EvalEngine, docs: EvalDocument[], labels: string[], dataName: string, opts: EvalOptions): Promise<Omit<EvalReport, 'format'>> {
  const chunk = Math.max(1, opts.chunkSize ?? 64);
  const pred: Span[][] = [];
  let ms = 0;
  for (let i = 0; i < docs.length; i += chunk) {
    const texts = docs.slice(i, i + chunk).map((d) => d.text);
    const t0 = performance.now();
    const ents = await engine.extract(texts);
    ms += performance.now() - t0;
    ents.forEach((e, k) => pred.push((opts.postprocess ? opts.postprocess(texts[k]!, e) : e).map(({ start, end, label }) => ({ start, end, label }))));
    opts.onProgress?.(Math.min(i + chunk, docs.length), docs.length);
  }
  const scores = scoreSpans(
    docs.map((d) => d.gold),
    pred,
    labels,
  );
  const seconds = ms / 1000;
  return {
    data: dataName,
    model: {
      name: engine.model.name,
      version: engine.model.version,
      ...(engine.runtime ? { variant: engine.runtime.variant, executionProvider: engine.runtime.executionProvider } : {}),
    },
    documents: docs.length,
    goldEntities: docs.reduce((n, d) => n + d.gold.length, 0),
    scores,
    seconds,
    documentsPerSecond: seconds > 0 ? docs.length / seconds : 0,
  };
}
