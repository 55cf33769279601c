/** p50, p95, max and mean of durations in milliseconds. */
export interface DurationStats {
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/**
 * How far p50 and p95 may be from the exact nearest-rank percentiles, as a fraction of them:
 * 0.1%. Each is a duration one of the runs took, from the bucket the exact one is in; max and
 * mean are exact.
 */
export const PERCENTILE_ERROR = 0.001;

/** Durations within a bucket are within this factor of each other. */
const GROWTH = 1 + PERCENTILE_ERROR;
const LOG_GROWTH = Math.log(GROWTH);

/** Durations of 0 (runs quicker than the microsecond they are rounded to) share this bucket. */
const ZERO = -Infinity;

interface Bucket {
  count: number;
  low: number;
  high: number;
}

/**
 * The durations of runs, counted as they end in log-spaced buckets (bucket k holds the durations
 * in (g^(k-1), g^k], g = 1.001): memory grows with how widely they spread, about 2,300 buckets a
 * tenfold, never with how many runs there are. Percentiles are nearest-rank, as if every duration
 * were kept and sorted, within PERCENTILE_ERROR.
 *
 * Written here rather than taken from a package: DDSketch (`@datadog/sketches-js`) ranks by
 * q × (n − 1), so that p95 of ten runs is the ninth, not the tenth; it answers a bucket's middle,
 * so that p50 of equal durations lies above their max; and its dense store overflows the call
 * stack on a range as wide as 1e-300 to 1e300. hdr-histogram-js counts integers within a range
 * fixed in advance, and brings WebAssembly and a compression library with it.
 */
export class Durations {
  private readonly buckets = new Map<number, Bucket>();
  /** Every duration pushed, those not a number included: the runs counted. */
  length = 0;
  private counted = 0;
  private sum = 0;
  private max = -Infinity;

  push(ms: number): void {
    this.length++;
    // None should be: one that is not a number is counted as a run, and left out of the stats.
    if (Number.isNaN(ms)) return;
    this.counted++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    // Math.log is monotonic, so the buckets keep the durations' order.
    const key = ms > 0 ? Math.ceil(Math.log(ms) / LOG_GROWTH) : ZERO;
    const bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, { count: 1, low: ms, high: ms });
    else {
      bucket.count++;
      if (ms < bucket.low) bucket.low = ms;
      else if (ms > bucket.high) bucket.high = ms;
    }
  }

  /** Their stats; all 0 for none. */
  stats(): DurationStats {
    const total = this.counted;
    if (total === 0) return { p50: 0, p95: 0, max: 0, mean: 0 };
    const sorted = [...this.buckets.keys()].sort((a, b) => a - b).map((key) => this.buckets.get(key)!);
    const at = (q: number) => nearestRank(sorted, Math.max(0, Math.ceil(q * total) - 1));
    return { p50: at(0.5), p95: at(0.95), max: this.max, mean: Math.round((this.sum / total) * 1000) / 1000 };
  }
}

/**
 * The duration of the `rank`-th (from 0) in order, from the bucket it is in: exact when it is
 * the bucket's first or last, else the bucket's nearer end, within PERCENTILE_ERROR of it.
 */
function nearestRank(sorted: readonly Bucket[], rank: number): number {
  let before = 0;
  for (const bucket of sorted) {
    if (rank < before + bucket.count) {
      const place = rank - before;
      if (place === 0) return bucket.low;
      return place === bucket.count - 1 || place >= bucket.count / 2 ? bucket.high : bucket.low;
    }
    before += bucket.count;
  }
  return sorted[sorted.length - 1]!.high;
}

/** The stats of durations in milliseconds, counted as a summary counts its runs' (see {@link Durations}). */
export function durationStats(durations: Iterable<number>): DurationStats {
  const counted = new Durations();
  for (const ms of durations) counted.push(ms);
  return counted.stats();
}
