import type { PartitionRange } from '../ingest/ingest-runner.ts';
import type { PartitionOffsets } from '../kafka/client.ts';
import { MednerError } from '../core/errors.ts';

/**
 * The offset range a replay reads per partition: from the first record at or
 * after --from (else the oldest kept) up to, not including, the first record
 * at or after --to (else the end as it is now). Pure.
 */
export function replayRanges(topic: string, offsets: PartitionOffsets[], partitions?: number[]): PartitionRange[] {
  if (partitions) {
    const unknown = partitions.filter((p) => !offsets.some((o) => o.partition === p));
    if (unknown.length > 0) throw new MednerError('KAFKA_UNKNOWN_PARTITION', `topic ${topic} has no partition ${unknown.join(', ')}`);
  }
  return offsets
    .filter((o) => !partitions || partitions.includes(o.partition))
    .map((o) => {
      const clamp = (x: bigint) => (x < o.low ? o.low : x > o.high ? o.high : x);
      const start = clamp(o.from ?? o.low);
      const end = clamp(o.to ?? o.high);
      return { topic, partition: o.partition, start, end: end < start ? start : end };
    });
}

export function rangeSize(ranges: PartitionRange[]): number {
  return ranges.reduce((n, r) => n + Number(r.end - r.start), 0);
}
