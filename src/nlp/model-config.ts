import type { Aggregation } from '../core/entity.ts';
import type { Segmentation } from './segments.ts';
import type { Decoder } from './decode.ts';

/**
 * Our model folder format: models/<name>/
 *   model.onnx            fp32 (required)
 *   model.int8.onnx       dynamic int8 (optional, preferred on CPU when MODEL_VARIANT=auto)
 *   model.fp16.onnx       fp16 (optional, preferred on CUDA when MODEL_VARIANT=auto)
 *   vocab.txt             WordPiece vocabulary
 *   medner-model.json     this config (below)
 *   label-mapping.json    label -> FHIR resource mapping (schemas/label-mapping.schema.json)
 *   README.md             model card
 * A plain Hugging Face export (config.json with id2label + tokenizer_config.json + vocab.txt
 * + model.onnx) also loads; the loader derives this config from those files.
 */
export interface ModelConfig {
  name: string;
  version: string;
  /** BIO labels in output id order, e.g. ["O", "B-Disease", "I-Disease", ...]. */
  labels: string[];
  doLowerCase: boolean;
  /** Strip accents; defaults to doLowerCase like the reference tokenizer. */
  stripAccents?: boolean;
  /** Tokens per window including [CLS] and [SEP]. */
  maxLength: number;
  /** Tokens of overlap between consecutive windows. */
  stride: number;
  aggregation: Aggregation;
  /**
   * What one window may hold (src/nlp/segments.ts): `none` (default), consecutive tokens of the
   * whole document; `sentence`, tokens of one sentence only (for a model trained on one sentence
   * per sequence; entities never cross a sentence boundary).
   */
  segment?: Segmentation;
  /**
   * How labels are chosen (src/nlp/decode.ts): `greedy` (default, as the Hugging Face pipeline),
   * the most probable label per word; `viterbi`, the most probable BIO-valid label sequence (I-X
   * only after B-X or I-X). Chosen on a dev split.
   */
  decoder?: Decoder;
  /** Entities scoring below this (0..1) are dropped; default 0 (keep all). Chosen on a dev split. */
  minScore?: number;
  /** File name (relative to the model folder) of the label -> FHIR mapping. */
  labelMapping: string;
  /** Free text: what the model was trained from. */
  description?: string;
}

export const MODEL_CONFIG_FILE = 'medner-model.json';

const AGGREGATIONS: readonly Aggregation[] = ['first', 'simple', 'average', 'max'];
export const SEGMENTATIONS: readonly Segmentation[] = ['none', 'sentence'];
export const DECODERS: readonly Decoder[] = ['greedy', 'viterbi'];

/**
 * Checks a parsed medner-model.json (or a derived config); returns the problems found,
 * one line each (empty when valid). Kept free of I/O so callers choose the error type.
 */
export function modelConfigProblems(raw: unknown): string[] {
  const p: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['expected a JSON object'];
  const c = raw as Record<string, unknown>;
  const str = (k: string): void => {
    if (typeof c[k] !== 'string' || (c[k] as string).length === 0) p.push(`${k}: expected a non-empty string`);
  };
  str('name');
  str('version');
  str('labelMapping');
  if (!Array.isArray(c.labels) || c.labels.length < 1 || !c.labels.every((l) => typeof l === 'string' && l.length > 0)) {
    p.push('labels: expected a non-empty array of label strings in output id order');
  } else {
    if (new Set(c.labels).size !== c.labels.length) p.push('labels: duplicate labels');
    for (const l of c.labels as string[]) {
      if (l !== 'O' && !/^[BI]-.+$/.test(l)) p.push(`labels: "${l}" is not O, B-<type> or I-<type>`);
    }
  }
  if (typeof c.doLowerCase !== 'boolean') p.push('doLowerCase: expected true or false');
  if (c.stripAccents !== undefined && typeof c.stripAccents !== 'boolean') p.push('stripAccents: expected true or false');
  const int = (k: string, min: number, max: number): void => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) p.push(`${k}: expected an integer in ${min}..${max}`);
  };
  int('maxLength', 3, 8192);
  int('stride', 0, 8192);
  if (typeof c.maxLength === 'number' && typeof c.stride === 'number' && c.stride >= c.maxLength - 2) {
    p.push(`stride: ${c.stride} must be below maxLength - 2 (${c.maxLength - 2}) so windows advance`);
  }
  if (c.minScore !== undefined && (typeof c.minScore !== 'number' || !(c.minScore >= 0 && c.minScore < 1))) p.push('minScore: expected a number in [0, 1)');
  if (c.decoder !== undefined && !DECODERS.includes(c.decoder as Decoder)) p.push(`decoder: expected one of ${DECODERS.join(', ')}`);
  if (c.segment !== undefined && !SEGMENTATIONS.includes(c.segment as Segmentation)) p.push(`segment: expected one of ${SEGMENTATIONS.join(', ')}`);
  if (!AGGREGATIONS.includes(c.aggregation as Aggregation)) p.push(`aggregation: expected one of ${AGGREGATIONS.join(', ')}`);
  return p;
}
