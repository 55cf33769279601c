import { chance, int, pick, shuffle, type Random } from './random';
import type { Transform } from './index';

type Op = (text: string, rng: Random) => string;

/** Case changes that keep the letters one for one (toUpperCase can turn ß into SS). */
function mapLetters(text: string, f: (c: string) => string): string {
  return Array.from(text, (c) => {
    const d = f(c);
    return Array.from(d).length === 1 ? d : c;
  }).join('');
}

const flip = (c: string) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase());

const CASING: Op[] = [
  (t) => mapLetters(t, (c) => c.toLowerCase()),
  (t) => mapLetters(t, (c) => c.toUpperCase()),
  (t, rng) => {
    const letters = Array.from(t).flatMap((c, i) => (flip(c) !== c ? [i] : []));
    if (letters.length === 0) return t;
    const forced = letters[int(rng, letters.length)];
    const flips = new Set(letters.filter((i) => i === forced || chance(rng, 0.3)));
    return Array.from(t, (c, i) => (flips.has(i) ? mapLetters(c, flip) : c)).join('');
  },
];

const PUNCTUATION: Op[] = [
  (t) => t.replace(/[.,!?;:"'’]+/gu, ''),
  (t, rng) => t.replace(/[.!?]*\s*$/u, (end) => (end.includes('!') ? '!!!' : end.includes('.') && !end.includes('?') ? pick(rng, ['!!!', '...']) : pick(rng, ['???', '?!?!', '??']))),
  (t) => t.replace(/[.!?]*\s*$/u, '...'),
];

const WHITESPACE: Op[] = [
  (t, rng) => {
    const doubled = t.replace(/ /g, () => (chance(rng, 0.4) ? '  ' : ' '));
    return doubled === t ? t.replace(/ /, '  ') : doubled;
  },
  (t, rng) => pick(rng, [' ', '  ', '\t']) + t + pick(rng, [' ', '  ', '\n']),
  (t, rng) => {
    const spaces = [...t.matchAll(/ /g)].map((m) => m.index);
    if (spaces.length === 0) return `${t}\n`;
    const at = spaces[int(rng, spaces.length)]!;
    return t.slice(0, at) + pick(rng, ['\t', '\n']) + t.slice(at + 1);
  },
];

/** One to three kinds of surface noise (casing, punctuation, whitespace); the words stay. */
export const noise: Transform = (base, { rng }) => {
  if (base.trim() === '') return undefined;
  const kinds = shuffle(rng, [CASING, PUNCTUATION, WHITESPACE]);
  const count = 1 + int(rng, 3);
  let text = base;
  for (const kind of kinds.slice(0, count)) text = pick(rng, kind)(text, rng);
  // Lower case on a lower-case input, say, changes nothing; padding with blanks always does.
  if (text === base) text = WHITESPACE[1]!(text, rng);
  return { input: text };
};
