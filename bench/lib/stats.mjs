/** The median of a list of numbers; the middle two averaged for an even count. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs every variant once per trial, in a different order each trial, and gives each variant's
 * median. Interleaving spreads a noisy neighbour or a frequency change over all variants alike,
 * which is what lets their ratios be compared although the absolute figures drift.
 */
export async function interleave(variants, trials, measure) {
  const samples = new Map(variants.map((v) => [v, []]));
  for (let t = 0; t < trials; t++) {
    const order = t % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) samples.get(v).push(await measure(v, t));
  }
  return new Map([...samples].map(([v, s]) => [v, median(s)]));
}

/** A ratio as the tables print it. */
export function ratio(value, base) {
  return `${(value / base).toFixed(2)}×`;
}

/** `n` with thousands separated by commas and `digits` decimals. */
export function number(n, digits = 0) {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** ✓ or ✗ with the target it was held to. */
export function verdict(ok, target) {
  return `${ok ? '✓' : '✗'} ${target}`;
}
