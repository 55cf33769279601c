import { describe, expect, it } from 'vitest';
import { Durations, durationStats, PERCENTILE_ERROR } from '../../src/experiment/stats';
import { TransientMap } from '../../src/replay/transient-map';

/** The exact nearest-rank stats, from every duration sorted. */
function exact(durations: number[]): { p50: number; p95: number; max: number; mean: number } {
  const sorted = Float64Array.from(durations).sort();
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]!, mean: Math.round(mean * 1000) / 1000 };
}

/** A generator of numbers in [0, 1), the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const rounded = (ms: number) => Math.round(ms * 1000) / 1000;

function expectWithin(durations: number[]): void {
  const got = durationStats(durations);
  const want = exact(durations);
  for (const q of ['p50', 'p95'] as const) {
    expect(Math.abs(got[q] - want[q])).toBeLessThanOrEqual(want[q] * PERCENTILE_ERROR);
    // Each is a duration some run took.
    expect(durations).toContain(got[q]);
  }
  expect(got.max).toBe(want.max);
  expect(got.mean).toBeCloseTo(want.mean, 3);
}

describe('durationStats', () => {
  it('is within the stated error of the exact percentiles, on varied distributions', () => {
    const r = random(7);
    const n = 20_000;
    const cases: Record<string, number[]> = {
      uniform: Array.from({ length: n }, () => rounded(10 + 990 * r())),
      // Latencies with a long tail: most runs quick, a few a thousand times slower.
      'long-tailed': Array.from({ length: n }, () => rounded(50 * Math.exp(3 * (r() + r() + r() - 1.5)) * (r() < 0.01 ? 1000 : 1))),
      'sub-millisecond': Array.from({ length: n }, () => rounded(0.001 + 0.5 * r())),
      'not rounded': Array.from({ length: n }, () => 1e-4 + r() * r() * 250),
      hours: Array.from({ length: n }, () => rounded(3_600_000 * (1 + 5 * r()))),
      'a few equal values': Array.from({ length: n }, () => [12.5, 80, 2_000][Math.floor(3 * r())]!),
      'zeros among others': Array.from({ length: n }, () => (r() < 0.6 ? 0 : rounded(5 * r()))),
    };
    for (const [name, durations] of Object.entries(cases)) {
      try {
        expectWithin(durations);
      } catch (error) {
        throw new Error(`${name}: ${(error as Error).message}`);
      }
    }
  });

  it('is exact for a few runs, for equal durations, for one, for zeros, and for none', () => {
    expect(durationStats([10, 20, 30])).toEqual({ p50: 20, p95: 30, max: 30, mean: 20 });
    // Nearest-rank: p95 of ten runs is the tenth.
    expect(durationStats([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ p50: 5, p95: 10, max: 10, mean: 5.5 });
    expect(durationStats(Array(1000).fill(100))).toEqual({ p50: 100, p95: 100, max: 100, mean: 100 });
    expect(durationStats([42.125])).toEqual({ p50: 42.125, p95: 42.125, max: 42.125, mean: 42.125 });
    expect(durationStats([0, 0, 0])).toEqual({ p50: 0, p95: 0, max: 0, mean: 0 });
    expect(durationStats([])).toEqual({ p50: 0, p95: 0, max: 0, mean: 0 });
  });

  it('counts a duration that is not a number as a run, and leaves it out of the stats', () => {
    const durations = new Durations();
    for (const ms of [5, Number.NaN, 7]) durations.push(ms);
    expect(durations.length).toBe(3);
    expect(durations.stats()).toEqual({ p50: 5, p95: 7, max: 7, mean: 6 });
  });

  it('gives the same stats however the durations are split and in whatever order they come, as shards merged are', () => {
    const r = random(11);
    const all = Array.from({ length: 5_000 }, () => rounded(100 * Math.exp(2 * r())));
    const whole = new Durations();
    for (const ms of all) whole.push(ms);
    // A merge counts the shards' lines one shard after another.
    const merged = new Durations();
    for (const shard of [0, 1, 2]) for (let i = shard; i < all.length; i += 3) merged.push(all[i]!);
    expect(merged.length).toBe(whole.length);
    expect(merged.stats()).toEqual(whole.stats());
  });

  it('keeps memory by the spread of the durations, not by how many runs there are', () => {
    const r = random(3);
    const durations = new Durations();
    for (let i = 0; i < 1_000_000; i++) durations.push(rounded(1 + 999 * r()));
    const buckets = (durations as unknown as { buckets: Map<number, unknown> }).buckets.size;
    // Three tenfolds, about 2,300 buckets each.
    expect(buckets).toBeLessThan(3 * 2_400);
    expect(durations.length).toBe(1_000_000);
  });
});

describe('TransientMap', () => {
  it('sets, gets, deletes and counts, and gives its values in the order their keys came', () => {
    const map = new TransientMap<number>();
    map.set('b', 1);
    map.set('a', 2);
    map.set('__proto__', 3);
    map.set('a', 4);
    expect(map.size).toBe(3);
    expect(map.get('a')).toBe(4);
    expect(map.has('__proto__')).toBe(true);
    expect(map.has('toString')).toBe(false);
    expect(map.delete('b')).toBe(true);
    expect(map.delete('b')).toBe(false);
    expect(map.size).toBe(2);
    expect(map.get('b')).toBeUndefined();
    expect(map.values()).toEqual([4, 3]);
  });
});
