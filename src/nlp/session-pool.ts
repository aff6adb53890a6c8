import { Worker } from 'node:worker_threads';
import { MednerError } from '../ops/errors.ts';
import type { SessionSignature, WorkerReply, WorkerRequest } from './ort-protocol.ts';

export interface SessionPoolOptions {
  modelPath: string;
  provider: 'cpu' | 'cuda';
  gpuId: number;
  intraOpThreads: number;
  sessions: number;
  probeIds: number[];
}

export interface SessionReady {
  provider: 'cpu' | 'cuda';
  warning?: string;
  signature: SessionSignature;
  probeDims: number[];
  probeError?: string;
}

interface Pending {
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
}

/** One worker thread holding one long-lived ORT session. */
class SessionWorker {
  readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  inFlight = 0;
  private dead: Error | undefined;

  constructor() {
    // Plain .mjs: Node 20 worker threads do not inherit the tsx loader.
    this.worker = new Worker(new URL('./ort-worker.mjs', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (r: WorkerReply) => {
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      if (r.kind === 'error') p.reject(new MednerError('INFERENCE_FAILED', `onnxruntime: ${r.message}`, { retriable: false }));
      else p.resolve(r);
    });
    const fail = (err: Error): void => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(new MednerError('INFERENCE_FAILED', `inference worker stopped: ${err.message}`, { retriable: true, cause: err }));
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`exited with code ${code}`));
    });
  }

  request(msg: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.dead) return Promise.reject(new MednerError('INFERENCE_FAILED', `inference worker stopped: ${this.dead.message}`, { retriable: true }));
    this.worker.ref();
    this.inFlight++;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    }).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) this.worker.unref();
    });
  }

  id(): number {
    return this.nextId++;
  }
}

/** A few long-lived sessions in worker threads; batches go to the least busy one. */
export class SessionPool {
  private constructor(
    private readonly workers: SessionWorker[],
    readonly ready: SessionReady,
  ) {}

  static async start(opts: SessionPoolOptions): Promise<SessionPool> {
    const workers = Array.from({ length: Math.max(1, opts.sessions) }, () => new SessionWorker());
    try {
      const replies = await Promise.all(
        workers.map((w) =>
          w.request({
            kind: 'init',
            id: w.id(),
            modelPath: opts.modelPath,
            provider: opts.provider,
            gpuId: opts.gpuId,
            intraOpThreads: opts.intraOpThreads,
            probeIds: opts.probeIds,
          }),
        ),
      );
      const r = replies[0]!;
      if (r.kind !== 'ready') throw new Error(`unexpected reply ${r.kind}`);
      const { kind: _k, id: _i, ...ready } = r;
      return new SessionPool(workers, ready);
    } catch (err) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      if (err instanceof MednerError) {
        throw new MednerError('MODEL_INVALID', `cannot load ${opts.modelPath}: ${err.message.replace(/^onnxruntime: /, '')}`, { cause: err });
      }
      throw err;
    }
  }

  /** Runs one padded batch; returns logits [batch, seq, labels] row-major. */
  async run(ids: Int32Array, lengths: Int32Array, batch: number, seq: number): Promise<{ logits: Float32Array; dims: number[] }> {
    let w = this.workers[0]!;
    for (const x of this.workers) if (x.inFlight < w.inFlight) w = x;
    const r = await w.request({ kind: 'run', id: w.id(), ids, lengths, batch, seq }, [ids.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer]);
    if (r.kind !== 'result') throw new MednerError('INFERENCE_FAILED', `unexpected worker reply ${r.kind}`);
    return { logits: r.logits, dims: r.dims };
  }

  /** How many batches are queued or running across the workers. */
  get inFlight(): number {
    return this.workers.reduce((n, w) => n + w.inFlight, 0);
  }

  get size(): number {
    return this.workers.length;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          await w.request({ kind: 'close', id: w.id() });
        } finally {
          await w.worker.terminate();
        }
      }),
    );
  }
}
