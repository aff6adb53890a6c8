/**
 * Which windows go into one inference batch (pure). Windows arrive sorted by length, shortest
 * first; a batch takes the next ones up to `maxRows`, but stops early where padding every row
 * to the batch's longest would add more than `maxPadding` (a fraction of the batch's real
 * tokens). On a CPU a padded token costs as much as a real one and a batch of similar lengths
 * runs as fast per token as a larger mixed one, so a mixed batch is split rather than padded
 * (a batch of one document of 40 tokens and one of 250 would otherwise do 500 tokens of work
 * for 290). `maxPadding` Infinity turns this off: every batch is `maxRows` long.
 */

/** Rows for the next batch, from the lengths (tokens, ascending) of the windows waiting from `from` on. */
export function nextBatchRows(lengths: ArrayLike<number>, maxRows: number, maxPadding: number, from = 0): number {
  const n = Math.min(lengths.length - from, Math.max(1, maxRows));
  if (n <= 0) return 0;
  let real = lengths[from]!;
  let rows = 1;
  while (rows < n) {
    const longest = lengths[from + rows]!;
    if (longest * (rows + 1) > (1 + maxPadding) * (real + longest)) break;
    real += longest;
    rows++;
  }
  return rows;
}

/** Row counts of every batch, for lengths sorted ascending: what the engine does, for benchmarks. */
export function planBatches(lengths: readonly number[], maxRows: number, maxPadding: number): number[] {
  const plan: number[] = [];
  for (let at = 0; at < lengths.length; ) {
    const rows = nextBatchRows(lengths, maxRows, maxPadding, at);
    plan.push(rows);
    at += rows;
  }
  return plan;
}
