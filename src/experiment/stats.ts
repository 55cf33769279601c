/** p50, p95, max and mean of durations in milliseconds. */
export interface DurationStats {
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** The stats of durations in milliseconds; all 0 for none. Percentiles are nearest-rank. */
export function durationStats(durations: ArrayLike<number>): DurationStats {
  // Sorted as doubles: numeric order without a comparator, and 8 bytes a run.
  return statsOfSorted(Float64Array.from(durations).sort());
}

function statsOfSorted(sorted: Float64Array): DurationStats {
  const total = sorted.length;
  if (total === 0) return { p50: 0, p95: 0, max: 0, mean: 0 };
  const at = (q: number) => sorted[Math.min(total - 1, Math.ceil(q * total) - 1)]!;
  let sum = 0;
  for (let i = 0; i < total; i++) sum += sorted[i]!;
  const mean = sum / total;
  return { p50: at(0.5), p95: at(0.95), max: sorted[total - 1]!, mean: Math.round(mean * 1000) / 1000 };
}

const BLOCK = 1 << 16;

/**
 * Durations kept as runs end, in fixed blocks of doubles: a million runs hold 8 MB, which never
 * has to be copied into a larger array as it grows (an array's growth leaves its old copies to the
 * garbage collector, several times the size).
 */
export class Durations {
  private readonly blocks: Float64Array[] = [];
  private used = BLOCK;
  length = 0;

  push(ms: number): void {
    if (this.used === BLOCK) {
      this.blocks.push(new Float64Array(BLOCK));
      this.used = 0;
    }
    this.blocks[this.blocks.length - 1]![this.used++] = ms;
    this.length++;
  }

  /** Their stats, from one sorted copy. */
  stats(): DurationStats {
    const all = new Float64Array(this.length);
    this.blocks.forEach((block, i) => all.set(i === this.blocks.length - 1 ? block.subarray(0, this.used) : block, i * BLOCK));
    return statsOfSorted(all.sort());
  }
}
