import type { Aggregation } from './entity.ts';

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
  /** File name (relative to the model folder) of the label -> FHIR mapping. */
  labelMapping: string;
  /** Free text: what the model was trained from. */
  description?: string;
}

export const MODEL_CONFIG_FILE = 'medner-model.json';
