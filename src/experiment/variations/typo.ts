import { chance, int, pick, type Random } from './random';
import type { Transform } from './index';

// The keys around each letter on a QWERTY keyboard: the slips a real typist makes.
const NEIGHBOURS: Record<string, string> = {
  q: 'wa', w: 'qeas', e: 'wrsd', r: 'etdf', t: 'ryfg', y: 'tugh', u: 'yihj', i: 'uojk', o: 'ipkl', p: 'ol',
  a: 'qwsz', s: 'awedxz', d: 'serfcx', f: 'drtgvc', g: 'ftyhbv', h: 'gyujnb', j: 'huikmn', k: 'jiolm', l: 'kop',
  z: 'asx', x: 'zsdc', c: 'xdfv', v: 'cfgb', b: 'vghn', n: 'bhjm', m: 'njk',
};

const isLetter = (c: string | undefined) => c !== undefined && /\p{L}/u.test(c);

/** A neighbouring key in the letter's case, or undefined for letters off the QWERTY layout. */
function neighbour(rng: Random, c: string): string | undefined {
  const keys = NEIGHBOURS[c.toLowerCase()];
  if (!keys) return undefined;
  const k = pick(rng, [...keys]);
  return c === c.toUpperCase() ? k.toUpperCase() : k;
}

type Op = 'substitute' | 'drop' | 'swap' | 'double';

/** The characters that replace chars[i] (and chars[i+1] for a swap), and how many were consumed. */
function slip(rng: Random, chars: string[], i: number): [string, number] {
  const c = chars[i]!;
  const next = chars[i + 1];
  const ops: Op[] = ['substitute', 'substitute', 'drop', 'swap', 'double'];
  let op = pick(rng, ops);
  // A swap with a non-letter or the same letter would be invisible or touch punctuation.
  if (op === 'swap' && !(isLetter(next) && next!.toLowerCase() !== c.toLowerCase())) op = 'substitute';
  if (op === 'substitute') {
    const sub = neighbour(rng, c);
    if (sub !== undefined) return [sub, 1];
    op = 'double';
  }
  if (op === 'drop') return ['', 1];
  if (op === 'swap') return [next! + c, 2];
  return [c + c, 1];
}

/** Each letter slips with probability typoRate; at least one always does. */
export const typo: Transform = (base, { rng, typoRate }) => {
  const chars = Array.from(base);
  const letters = chars.flatMap((c, i) => (isLetter(c) ? [i] : []));
  if (letters.length === 0) return undefined;
  const rate = typoRate > 0 && typoRate <= 1 ? typoRate : 0.05;
  let out = '';
  let slips = 0;
  for (let i = 0; i < chars.length; ) {
    if (isLetter(chars[i]) && chance(rng, rate)) {
      const [text, used] = slip(rng, chars, i);
      out += text;
      i += used;
      slips++;
    } else {
      out += chars[i++];
    }
  }
  if (slips > 0 && out !== base) return { input: out };
  // None happened (or they cancelled out, as a drop next to a doubling can): force one.
  const at = letters[int(rng, letters.length)]!;
  const [text, used] = slip(rng, chars, at);
  return { input: chars.slice(0, at).join('') + text + chars.slice(at + used).join('') };
};
