import { SYMBOLS, symbolOf } from './openings';

/** What opens a match: characters that do whatever comes before them, and pairs of characters. */
export interface Openers {
  alone: string;
  /** Each first character, with the characters that open a match after it. */
  pairs: ReadonlyArray<readonly [first: string, seconds: string]>;
}

/**
 * The openings of the built-in string rules' pretests (see redact.ts), as `openingTable` makes
 * them, written out: making them costs each recording process milliseconds of start-up, the
 * parser running cold, for a table that changes only with the rules. `checkRules`, which the tests
 * run, fails when this is no longer the pretests' own, and shows what to write here instead.
 */
export const BUILTIN_OPENERS: Openers = {
  alone: '=',
  pairs: [
    ['-', '-'],
    [':', '\t "\'/'],
    ['A', 'IKS'],
    ['B', 'AEae'],
    ['_', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'],
    ['b', 'ae'],
    ['e', 'y'],
    ['g', 'hi'],
    ['h', 'o'],
    ['s', 'k'],
    ['x', 'o'],
  ],
};

/** The table of `openingTable`'s layout that `openers` stand for. */
export function tableOf(openers: Openers): Uint8Array {
  const table = new Uint8Array(SYMBOLS * SYMBOLS);
  for (const c of openers.alone) {
    for (let previous = 0; previous < SYMBOLS; previous++) table[(previous << 7) | symbolOf(c.charCodeAt(0))] = 1;
  }
  for (const [first, seconds] of openers.pairs) {
    for (const c of seconds) table[(symbolOf(first.charCodeAt(0)) << 7) | symbolOf(c.charCodeAt(0))] = 1;
  }
  return table;
}

/** The openers a table stands for: the inverse of `tableOf`. */
export function openersOf(table: Uint8Array): Openers {
  const char = (symbol: number) => String.fromCharCode(symbol);
  let alone = '';
  for (let c = 0; c < SYMBOLS; c++) {
    let always = true;
    for (let previous = 0; previous < SYMBOLS && always; previous++) always = table[(previous << 7) | c] !== 0;
    if (always) alone += char(c);
  }
  const pairs: Array<[string, string]> = [];
  for (let first = 0; first < SYMBOLS; first++) {
    let seconds = '';
    for (let c = 0; c < SYMBOLS; c++) if (table[(first << 7) | c] !== 0 && !alone.includes(char(c))) seconds += char(c);
    if (seconds !== '') pairs.push([char(first), seconds]);
  }
  return { alone, pairs };
}
