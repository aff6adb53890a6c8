import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MednerError } from '../core/errors.ts';
import { MODEL_CONFIG_FILE, modelConfigProblems, type ModelConfig } from './model-config.ts';

export type ModelVariant = 'auto' | 'fp32' | 'int8' | 'fp16';
import type { ExecutionProvider } from './ort-protocol.ts';
export type { ExecutionProvider };

export interface ModelFolder {
  dir: string;
  config: ModelConfig;
  vocab: string[];
  /** Where the config came from: our medner-model.json or a Hugging Face export. */
  source: 'medner' | 'huggingface';
  /** Paths of the ONNX files present, by variant. */
  variants: Partial<Record<Exclude<ModelVariant, 'auto'>, string>>;
  /** The ONNX file to run; 'auto' = int8 on CPU when present, fp16 on a GPU provider when present, else fp32. */
  onnxPath(variant: ModelVariant, provider: ExecutionProvider): string;
  /** The concrete variant that onnxPath picks. */
  resolveVariant(variant: ModelVariant, provider: ExecutionProvider): Exclude<ModelVariant, 'auto'>;
}

const invalid = (dir: string, msg: string, cause?: unknown): MednerError =>
  new MednerError('MODEL_INVALID', `model folder ${dir}: ${msg}`, { cause });

/** Reads a WordPiece vocab.txt: one token per line, id = line number. */
export function readVocab(file: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

async function readJson(file: string, dir: string): Promise<unknown> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as unknown;
  } catch (err) {
    throw invalid(dir, `cannot read ${path.basename(file)}: ${(err as Error).message}`, err);
  }
}

const exists = (p: string): boolean => fs.existsSync(p);

/** Derives our config from a Hugging Face token-classification export. */
async function deriveFromHuggingFace(dir: string): Promise<ModelConfig> {
  const hf = (await readJson(path.join(dir, 'config.json'), dir)) as Record<string, unknown>;
  const id2label = hf.id2label as Record<string, string> | undefined;
  if (id2label === undefined || typeof id2label !== 'object') throw invalid(dir, 'config.json has no id2label');
  const n = Object.keys(id2label).length;
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = id2label[String(i)];
    if (typeof l !== 'string') throw invalid(dir, `config.json id2label has no entry for id ${i}`);
    labels.push(l);
  }
  const tokCfgFile = path.join(dir, 'tokenizer_config.json');
  const tok = (exists(tokCfgFile) ? await readJson(tokCfgFile, dir) : {}) as Record<string, unknown>;
  const doLowerCase = typeof tok.do_lower_case === 'boolean' ? tok.do_lower_case : true; // BertTokenizer default
  const maxPos = typeof hf.max_position_embeddings === 'number' ? hf.max_position_embeddings : 512;
  const mml = typeof tok.model_max_length === 'number' && tok.model_max_length <= maxPos ? tok.model_max_length : maxPos;
  const maxLength = Math.min(mml, 512);
  const cfg: ModelConfig = {
    name: typeof hf._name_or_path === 'string' && hf._name_or_path !== '' ? hf._name_or_path : path.basename(path.resolve(dir)),
    version: typeof hf.transformers_version === 'string' ? `hf-export-${hf.transformers_version}` : 'hf-export',
    labels,
    doLowerCase,
    maxLength,
    stride: Math.min(64, Math.floor(maxLength / 4)),
    aggregation: 'first',
    labelMapping: 'label-mapping.json',
    description: 'derived from a Hugging Face export (config.json, tokenizer_config.json)',
  };
  if (typeof tok.strip_accents === 'boolean') cfg.stripAccents = tok.strip_accents;
  return cfg;
}

function vocabFromTokenizerJson(file: string, dir: string): string[] {
  const tj = JSON.parse(fs.readFileSync(file, 'utf8')) as { model?: { type?: string; vocab?: Record<string, number> } };
  const v = tj.model?.vocab;
  if (tj.model?.type !== 'WordPiece' || v === undefined) throw invalid(dir, 'tokenizer.json is not a WordPiece tokenizer');
  const out: string[] = [];
  for (const [t, id] of Object.entries(v)) out[id] = t;
  return Array.from(out, (t, i) => t ?? `[unused-id-${i}]`);
}

/**
 * Loads a model folder: our medner-model.json format, or derived from a Hugging Face
 * export (config.json id2label, tokenizer_config.json, vocab.txt, model.onnx or onnx/model.onnx).
 * Throws MednerError MODEL_INVALID with a message naming what is wrong.
 */
export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  if (!exists(dir) || !fs.statSync(dir).isDirectory()) throw invalid(dir, 'not a directory');
  let config: ModelConfig;
  let source: ModelFolder['source'];
  const ours = path.join(dir, MODEL_CONFIG_FILE);
  if (exists(ours)) {
    const raw = await readJson(ours, dir);
    const problems = modelConfigProblems(raw);
    if (problems.length > 0) throw invalid(dir, `${MODEL_CONFIG_FILE} is invalid:\n  ${problems.join('\n  ')}`);
    config = raw as ModelConfig;
    source = 'medner';
  } else if (exists(path.join(dir, 'config.json'))) {
    config = await deriveFromHuggingFace(dir);
    const problems = modelConfigProblems(config);
    if (problems.length > 0) throw invalid(dir, `derived config is invalid:\n  ${problems.join('\n  ')}`);
    source = 'huggingface';
  } else {
    throw invalid(dir, `neither ${MODEL_CONFIG_FILE} nor a Hugging Face config.json found`);
  }

  let vocab: string[];
  if (exists(path.join(dir, 'vocab.txt'))) vocab = readVocab(path.join(dir, 'vocab.txt'));
  else if (exists(path.join(dir, 'tokenizer.json'))) vocab = vocabFromTokenizerJson(path.join(dir, 'tokenizer.json'), dir);
  else throw invalid(dir, 'no vocab.txt (or WordPiece tokenizer.json)');
  for (const t of ['[UNK]', '[CLS]', '[SEP]']) {
    if (!vocab.includes(t)) throw invalid(dir, `vocab has no ${t} token`);
  }

  const candidates: Record<Exclude<ModelVariant, 'auto'>, string[]> = {
    fp32: ['model.onnx', 'onnx/model.onnx'],
    int8: ['model.int8.onnx', 'onnx/model_quantized.onnx', 'onnx/model_int8.onnx'],
    fp16: ['model.fp16.onnx', 'onnx/model_fp16.onnx'],
  };
  const variants: ModelFolder['variants'] = {};
  for (const [v, files] of Object.entries(candidates) as [Exclude<ModelVariant, 'auto'>, string[]][]) {
    const hit = files.map((f) => path.join(dir, f)).find(exists);
    if (hit !== undefined) variants[v] = hit;
  }
  if (Object.keys(variants).length === 0) {
    throw invalid(dir, `no ONNX model (looked for ${Object.values(candidates).flat().join(', ')})`);
  }

  // A shipped folder may hold only the int8 file (the default fp32 model is ~130 MB), so 'auto'
  // takes the first variant present in the provider's order of preference.
  const autoOrder: Record<ExecutionProvider, Exclude<ModelVariant, 'auto'>[]> = {
    cpu: ['int8', 'fp32', 'fp16'],
    cuda: ['fp16', 'fp32', 'int8'],
    webgpu: ['fp16', 'fp32', 'int8'],
  };
  const resolveVariant = (variant: ModelVariant, provider: ExecutionProvider): Exclude<ModelVariant, 'auto'> => {
    if (variant === 'auto') return autoOrder[provider].find((v) => variants[v] !== undefined)!;
    if (variants[variant] === undefined) throw invalid(dir, `variant ${variant} requested but its ONNX file is not there (looked for ${candidates[variant].join(', ')})`);
    return variant;
  };
  return {
    dir,
    config,
    vocab,
    source,
    variants,
    resolveVariant,
    onnxPath: (variant, provider) => variants[resolveVariant(variant, provider)]!,
  };
}
