import { assert } from '../core/errors.ts';
/**
 * Collects items pushed by concurrent callers into batches: a batch starts when
 * `maxSize` items wait or `maxWaitMs` passed since the first one waited. One
 * batch runs at a time (one model session); what arrives meanwhile forms the
 * next batch, so batches grow with load instead of queueing many small ones.
 */
export interface MicroBatcherOptions<I, O> {
  maxSize: number;
  maxWaitMs: number;
  /** Must return one result per item, in order. */
  run: (items: I[]) => Promise<O[]>;
  /** Called after every batch (size, milliseconds), for metrics. */
  onBatch?: (size: number, ms: number) => void;
}

interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class MicroBatcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private due = false;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: MicroBatcherOptions<I, O>) {
    assert(opts.maxSize >= 1, 'MicroBatcher maxSize must be at least 1 (BATCH_SIZE is validated by config)');
  }

  push(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error('batcher closed'));
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.opts.maxSize) this.due = true;
      else if (!this.timer && !this.due) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.due = true;
          this.maybeRun();
        }, this.opts.maxWaitMs);
      }
      this.maybeRun();
    });
  }

  get size(): number {
    return this.waiting.length;
  }

  /** Run what waits now, then wait for the running batch. */
  async drain(): Promise<void> {
    while (this.waiting.length > 0 || this.running) {
      if (this.waiting.length > 0) this.due = true;
      this.maybeRun();
      await this.running;
    }
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private maybeRun(): void {
    if (this.running || !this.due || this.waiting.length === 0) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.due = false;
    const batch = this.waiting.splice(0, this.opts.maxSize);
    this.running = this.runBatch(batch).finally(() => {
      this.running = undefined;
      if (this.waiting.length >= this.opts.maxSize) this.due = true;
      if (this.waiting.length > 0 && !this.due && !this.timer) {
        // Items that arrived during the batch have waited at least that long already.
        this.due = true;
      }
      this.maybeRun();
    });
  }

  private async runBatch(batch: Waiting<I, O>[]): Promise<void> {
    const t0 = performance.now();
    try {
      const out = await this.opts.run(batch.map((w) => w.item));
      assert(out.length === batch.length, `batch returned ${out.length} results for ${batch.length} items`);
      batch.forEach((w, i) => w.resolve(out[i] as O));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.opts.onBatch?.(batch.length, performance.now() - t0);
    }
  }
}
