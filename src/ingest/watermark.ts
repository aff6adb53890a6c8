/**
 * Which offset of a partition may be committed when jobs finish out of order.
 * Offsets are started in ascending order (Kafka delivers a partition in order)
 * and finished in any order; the commit point is the first started offset that
 * is not finished yet, or one past the last started offset when all are done.
 * Gaps between offsets (compaction, transaction markers) are therefore fine.
 */
import type { TopicPartitionOffset } from '../kafka/client.ts';
export class PartitionWatermark {
  private readonly started: bigint[] = [];
  private head = 0;
  private readonly finished = new Set<bigint>();
  private last: bigint | undefined;

  /** Track an offset; false when it is not after the last one started (a redelivery in this session). */
  start(offset: bigint): boolean {
    if (this.last !== undefined && offset <= this.last) return false;
    this.started.push(offset);
    this.last = offset;
    return true;
  }

  /** Mark a started offset as durably done (outputs written or dead-lettered). */
  finish(offset: bigint): void {
    if (offset < (this.started[this.head] ?? offset + 1n) || (this.last !== undefined && offset > this.last)) return;
    this.finished.add(offset);
    while (this.head < this.started.length) {
      const o = this.started[this.head] as bigint;
      if (!this.finished.has(o)) break;
      this.finished.delete(o);
      this.head += 1;
    }
    // Drop the consumed prefix now and then so the array does not grow forever.
    if (this.head > 1024 && this.head * 2 > this.started.length) {
      this.started.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The offset to commit (Kafka's "next offset to read"), or undefined before anything started. */
  commitPoint(): bigint | undefined {
    if (this.last === undefined) return undefined;
    return this.head < this.started.length ? (this.started[this.head] as bigint) : this.last + 1n;
  }

  /** Started and not yet finished. */
  get inFlight(): number {
    return this.started.length - this.head - this.finished.size;
  }
}


/** The watermarks of all partitions this consumer owns, and what was committed last. */
export class WatermarkTracker {
  private readonly marks = new Map<string, { topic: string; partition: number; mark: PartitionWatermark; committed?: bigint }>();

  private entry(topic: string, partition: number) {
    const key = `${topic}\u0000${partition}`;
    let e = this.marks.get(key);
    if (!e) {
      e = { topic, partition, mark: new PartitionWatermark() };
      this.marks.set(key, e);
    }
    return e;
  }

  start(topic: string, partition: number, offset: string | bigint): boolean {
    return this.entry(topic, partition).mark.start(BigInt(offset));
  }

  finish(topic: string, partition: number, offset: string | bigint): void {
    this.marks.get(`${topic}\u0000${partition}`)?.mark.finish(BigInt(offset));
  }

  commitPoint(topic: string, partition: number): bigint | undefined {
    return this.marks.get(`${topic}\u0000${partition}`)?.mark.commitPoint();
  }

  /** Commit points that moved since the last markCommitted. */
  pending(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const e of this.marks.values()) {
      const p = e.mark.commitPoint();
      if (p !== undefined && (e.committed === undefined || p > e.committed)) {
        out.push({ topic: e.topic, partition: e.partition, offset: p.toString() });
      }
    }
    return out;
  }

  markCommitted(list: TopicPartitionOffset[]): void {
    for (const c of list) {
      const e = this.marks.get(`${c.topic}\u0000${c.partition}`);
      if (e) e.committed = BigInt(c.offset);
    }
  }

  /** Forget partitions this consumer no longer owns (after a rebalance). */
  retain(owned: { topic: string; partitions: number[] }[]): void {
    const keep = new Set(owned.flatMap((t) => t.partitions.map((p) => `${t.topic}\u0000${p}`)));
    for (const key of [...this.marks.keys()]) if (!keep.has(key)) this.marks.delete(key);
  }

  clear(): void {
    this.marks.clear();
  }

  get inFlight(): number {
    let n = 0;
    for (const e of this.marks.values()) n += e.mark.inFlight;
    return n;
  }
}
