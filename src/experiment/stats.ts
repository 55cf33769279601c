/** p50, p95, max and mean of durations in milliseconds. */
export interface DurationStats {
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** The stats of durations in milliseconds; all 0 for none. Percentiles are nearest-rank. */
export function durationStats(durations: readonly number[]): DurationStats {
  const sorted = [...durations].sort((a, b) => a - b);
  const total = sorted.length;
  if (total === 0) return { p50: 0, p95: 0, max: 0, mean: 0 };
  const at = (q: number) => sorted[Math.min(total - 1, Math.ceil(q * total) - 1)]!;
  const mean = sorted.reduce((a, b) => a + b, 0) / total;
  return { p50: at(0.5), p95: at(0.95), max: sorted[total - 1]!, mean: Math.round(mean * 1000) / 1000 };
}
