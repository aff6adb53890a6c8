/** Messages between the engine (main thread) and an ORT worker thread. */

import type { ExecutionProvider } from '../config/threads.ts';

export type { ExecutionProvider };

export interface ValueMeta {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface SessionSignature {
  inputNames: string[];
  outputNames: string[];
  /** From session.inputMetadata / outputMetadata (empty when ORT does not expose them). */
  inputs: ValueMeta[];
  outputs: ValueMeta[];
}

export type WorkerRequest =
  | {
      kind: 'init';
      id: number;
      modelPath: string;
      provider: ExecutionProvider;
      gpuId: number;
      intraOpThreads: number;
      /** Token ids for a 1-row probe run ([CLS] x [SEP]) that checks the output shape. */
      probeIds: number[];
    }
  /** Row-major token ids [batch, seq], padded; lengths = real tokens per row. */
  | { kind: 'run'; id: number; ids: Int32Array; lengths: Int32Array; batch: number; seq: number }
  | { kind: 'close'; id: number };

export type WorkerReply =
  | {
      kind: 'ready';
      id: number;
      provider: ExecutionProvider;
      warning?: string;
      signature: SessionSignature;
      probeDims: number[];
      probeError?: string;
    }
  | { kind: 'result'; id: number; logits: Float32Array; dims: number[] }
  | { kind: 'closed'; id: number }
  | { kind: 'error'; id: number; message: string };
