import { Worker } from 'node:worker_threads';
import { MednerError } from '../core/errors.ts';
import type { ExecutionProvider, SessionSignature, WorkerReply, WorkerRequest } from './ort-protocol.ts';

export interface SessionPoolOptions {
  modelPath: string;
  provider: ExecutionProvider;
  gpuId: number;
  intraOpThreads: number;
  sessions: number;
  probeIds: number[];
}

export interface SessionReady {
  provider: ExecutionProvider;
  warning?: string;
  signature: SessionSignature;
  probeDims: number[];
  probeError?: string;
}

interface Pending {
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
}

/** Stack of an ORT worker thread (MB): address space reserved, only the pages touched are used. */
export const ORT_THREAD_STACK_MB = 32;

/** One worker thread holding one long-lived ORT session. */
class SessionWorker {
  readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  inFlight = 0;
  private dead: Error | undefined;

  constructor() {
    // Plain .mjs: Node 20 worker threads do not inherit the tsx loader.
    // A native stack larger than a worker thread's default (4 MB): onnxruntime's session creation
    // recurses deeply in native code on our quantized graphs, and with the default the thread
    // died with SIGSEGV (the whole process with it) once the process's command line was long
    // (`medner verify` with 1,000 file arguments). The main thread's 8 MB was always enough.
    this.worker = new Worker(new URL('./ort-worker.mjs', import.meta.url), { resourceLimits: { stackSizeMb: ORT_THREAD_STACK_MB } });
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
    this.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
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

  get isDead(): boolean {
    return this.dead !== undefined;
  }
}

function initRequest(w: SessionWorker, opts: SessionPoolOptions): WorkerRequest {
  return {
    kind: 'init',
    id: w.id(),
    modelPath: opts.modelPath,
    provider: opts.provider,
    gpuId: opts.gpuId,
    intraOpThreads: opts.intraOpThreads,
    probeIds: opts.probeIds,
  };
}

/**
 * A few long-lived sessions in worker threads; batches go to the least busy one. A worker
 * that dies (crash, out of memory) is replaced on the next batch; the batches it held fail
 * with a retriable INFERENCE_FAILED.
 */
export class SessionPool {
  private closed = false;
  private respawning: Promise<void> | undefined;

  private constructor(
    private readonly workers: SessionWorker[],
    readonly ready: SessionReady,
    private readonly opts: SessionPoolOptions,
  ) {}

  static async start(opts: SessionPoolOptions): Promise<SessionPool> {
    const workers = Array.from({ length: Math.max(1, opts.sessions) }, () => new SessionWorker());
    try {
      // Every worker's init settles before any is terminated: terminating a worker while
      // onnxruntime still creates its session in native code aborts the whole process
      // ("terminate called after throwing an instance of 'Napi::Error'").
      const settled = await Promise.allSettled(workers.map((w) => w.request(initRequest(w, opts))));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      const replies = settled.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<SessionWorker['request']>>>).value);
      const r = replies[0]!;
      if (r.kind !== 'ready') throw new MednerError('INFERENCE_FAILED', `unexpected reply ${r.kind}`);
      const { kind: _k, id: _i, ...ready } = r;
      return new SessionPool(workers, ready, opts);
    } catch (err) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      if (err instanceof MednerError) {
        throw new MednerError('MODEL_INVALID', `cannot load ${opts.modelPath}: ${err.message.replace(/^onnxruntime: /, '')}`, { cause: err });
      }
      throw err;
    }
  }

  /** Replaces dead workers (one respawn round at a time). */
  private respawnDead(): Promise<void> {
    this.respawning ??= (async () => {
      try {
        await Promise.all(
          this.workers.map(async (w, i) => {
            if (!w.isDead) return;
            const fresh = new SessionWorker();
            try {
              const r = await fresh.request(initRequest(fresh, this.opts));
              if (r.kind !== 'ready') throw new MednerError('INFERENCE_FAILED', `unexpected reply ${r.kind}`);
              this.workers[i] = fresh;
            } catch (err) {
              await fresh.worker.terminate();
              throw new MednerError('INFERENCE_FAILED', `cannot restart inference worker: ${(err as Error).message}`, { retriable: true, cause: err });
            }
          }),
        );
      } finally {
        this.respawning = undefined;
      }
    })();
    return this.respawning;
  }

  /** Runs one padded batch; returns logits [batch, seq, labels] row-major. */
  async run(ids: Int32Array, lengths: Int32Array, batch: number, seq: number): Promise<{ logits: Float32Array; dims: number[] }> {
    if (this.closed) throw new MednerError('ENGINE_CLOSED', 'NER engine is closed');
    let alive = this.workers.filter((w) => !w.isDead);
    if (alive.length < this.workers.length) {
      const respawn = this.respawnDead();
      if (alive.length === 0) {
        await respawn;
        alive = this.workers.filter((w) => !w.isDead);
      } else respawn.catch(() => undefined); // the next batch tries again
    }
    let w = alive[0]!;
    for (const x of alive) if (x.inFlight < w.inFlight) w = x;
    const r = await w.request({ kind: 'run', id: w.id(), ids, lengths, batch, seq }, [ids.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer]);
    if (r.kind !== 'result') throw new MednerError('INFERENCE_FAILED', `unexpected worker reply ${r.kind}`);
    return { logits: r.logits, dims: r.dims };
  }

  /** The worker threads, for health checks and tests. */
  get threads(): readonly Worker[] {
    return this.workers.map((w) => w.worker);
  }

  /** How many batches are queued or running across the workers. */
  get inFlight(): number {
    return this.workers.reduce((n, w) => n + w.inFlight, 0);
  }

  get size(): number {
    return this.workers.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.respawning?.catch(() => undefined);
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          if (!w.isDead) await w.request({ kind: 'close', id: w.id() });
        } finally {
          await w.worker.terminate();
        }
      }),
    );
  }
}
