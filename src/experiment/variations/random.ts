/** Uniform in [0, 1). */
export type Random = () => number;

/**
 * A PRNG seeded from the parts. Hand-written rather than taken from a package, and not
 * Math.random: a generated inputs file must stay the same for a seed across Node versions,
 * platforms and dependency updates, so the sequence has to be ours and frozen.
 * Don't change these functions: every published seed would give different inputs.
 */
export function seededRandom(...parts: Array<string | number>): Random {
  // The type tag and separator keep (1, 'a') apart from ('1', 'a') and ('ab', 'c') from ('a', 'bc').
  const text = parts.map((p) => `${typeof p === 'number' ? 'n' : 's'}${String(p)}`).join('\u0001');
  const next = xmur3(text);
  return sfc32(next(), next(), next(), next());
}

/** xmur3: a string hash that yields as many 32-bit seeds as asked for. */
function xmur3(text: string): () => number {
  let h = 1779033703 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    return (h ^= h >>> 16) >>> 0;
  };
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 32-bit integer arithmetic only. */
function sfc32(a: number, b: number, c: number, d: number): Random {
  const rng = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // The first outputs still carry the seed's structure; skipping them is the usual advice.
  for (let i = 0; i < 12; i++) rng();
  return rng;
}

/** 0..n-1. */
export function int(rng: Random, n: number): number {
  return Math.floor(rng() * n);
}

export function pick<T>(rng: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick: no items');
  return items[int(rng, items.length)]!;
}

export function chance(rng: Random, p: number): boolean {
  return rng() < p;
}

/** A shuffled copy (Fisher–Yates). */
export function shuffle<T>(rng: Random, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(rng, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
