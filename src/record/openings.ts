/**
 * The openings of regular expressions: which pairs of characters their matches can start with.
 * The recorder copies each string a character at a time and looks every pair up in a table made
 * from the redaction rules (see `openingTable`): a string none of whose pairs opens a match of any
 * rule cannot hold a secret, and no pattern has to run over it. That is what lets the one pass
 * that copies a string also stand for the rules' pre-scan.
 *
 * Written by hand: no library derives what a regular expression's matches can begin with. It
 * reads the syntax the rules use (and most of the rest) and, where it cannot tell, assumes the
 * worst (any character, or a pattern that can open anywhere), so that the table only ever says
 * too much, never too little.
 */

/** Characters are folded into 128 symbols: ASCII by its code, and 127 for DEL and for every non-ASCII character. */
const SYMBOLS = 128;
const OTHER = 127;

type CharSet = Uint8Array;

/** What a pattern's matches begin with, cut to two characters. */
interface Openings {
  /** A match can be empty. */
  empty: boolean;
  /** The characters a match of one character can be. */
  singles: CharSet;
  /** Pairs of sets: a match of two characters or more can begin with any first of a pair followed by any second. */
  pairs: Array<[CharSet, CharSet]>;
}

/**
 * A table of SYMBOLS × SYMBOLS entries, indexed `(previous << 7) | current` (each folded by
 * `symbolOf`; `previous` is 0 at a string's start): 1 where a match of one of `patterns` can
 * start with `previous, current`, or with `current` alone. Undefined when one of them can match
 * the empty string, which no table can rule out.
 */
export function openingTable(patterns: ReadonlyArray<{ source: string; flags?: string }>): Uint8Array | undefined {
  const table = new Uint8Array(SYMBOLS * SYMBOLS);
  for (const { source, flags = '' } of patterns) {
    const openings = new Parser(source, flags.includes('i')).parse();
    if (openings.empty) return undefined;
    for (const c of members(openings.singles)) {
      for (let previous = 0; previous < SYMBOLS; previous++) table[(previous << 7) | c] = 1;
    }
    for (const [first, second] of openings.pairs) {
      const seconds = members(second);
      for (const a of members(first)) for (const b of seconds) table[(a << 7) | b] = 1;
    }
  }
  return table;
}

function any(chars: CharSet): boolean {
  for (let c = 0; c < SYMBOLS; c++) if (chars[c] !== 0) return true;
  return false;
}

function members(chars: CharSet): number[] {
  const out: number[] = [];
  for (let c = 0; c < SYMBOLS; c++) if (chars[c] !== 0) out.push(c);
  return out;
}

/** A character's symbol in the table. */
function symbolOf(code: number): number {
  return code < OTHER ? code : OTHER;
}

function set(...codes: number[]): CharSet {
  const s = new Uint8Array(SYMBOLS);
  for (const c of codes) s[symbolOf(c)] = 1;
  return s;
}

function range(from: number, to: number, into = new Uint8Array(SYMBOLS)): CharSet {
  for (let c = from; c <= Math.min(to, OTHER); c++) into[c] = 1;
  if (to >= OTHER) into[OTHER] = 1;
  return into;
}

function union(a: CharSet, b: CharSet): CharSet {
  const s = new Uint8Array(SYMBOLS);
  for (let c = 0; c < SYMBOLS; c++) s[c] = a[c]! | b[c]!;
  return s;
}

function complement(a: CharSet): CharSet {
  const s = new Uint8Array(SYMBOLS);
  for (let c = 0; c < SYMBOLS; c++) s[c] = a[c] ? 0 : 1;
  // Non-ASCII characters share a symbol: some of them may be outside any class.
  s[OTHER] = 1;
  return s;
}

const ANY = range(0, 0x10ffff);
const NONE = new Uint8Array(SYMBOLS);
const DIGIT = range(48, 57);
const WORD = union(union(range(65, 90), range(97, 122)), union(DIGIT, set(95)));
const SPACE = union(range(9, 13), set(32, OTHER));

const EMPTY: Openings = { empty: true, singles: NONE, pairs: [] };
/** Any text at all: what a part that cannot be read (a back-reference) may match. */
const ANYTHING: Openings = { empty: true, singles: ANY, pairs: [[ANY, ANY]] };

function one(chars: CharSet): Openings {
  return { empty: false, singles: chars, pairs: [] };
}

function either(a: Openings, b: Openings): Openings {
  return { empty: a.empty || b.empty, singles: union(a.singles, b.singles), pairs: [...a.pairs, ...b.pairs] };
}

/** The characters a non-empty match can begin with. */
function firsts(o: Openings): CharSet {
  return o.pairs.reduce((s, [first]) => union(s, first), o.singles);
}

function then(a: Openings, b: Openings): Openings {
  const pairs = [...a.pairs];
  const next = firsts(b);
  if (any(next) && any(a.singles)) pairs.push([a.singles, next]);
  let singles = b.empty ? a.singles : NONE;
  if (a.empty) {
    singles = union(singles, b.singles);
    pairs.push(...b.pairs);
  }
  return { empty: a.empty && b.empty, singles, pairs };
}

/** `a` repeated from `min` to `max` times; two repetitions say all that two characters can. */
function repeat(a: Openings, min: number, max: number): Openings {
  let out = EMPTY;
  for (let i = 0; i < Math.min(min, 2); i++) out = then(out, a);
  if (max > min) {
    const optional = either(a, EMPTY);
    for (let i = 0; i < Math.min(max - min, 2); i++) out = then(out, optional);
  }
  return out;
}

class Parser {
  private at = 0;

  constructor(
    private readonly source: string,
    private readonly ignoreCase: boolean,
  ) {}

  parse(): Openings {
    const out = this.alternation();
    // An unbalanced `)` leaves text unread: assume the worst of it.
    return this.at < this.source.length ? ANYTHING : out;
  }

  private alternation(): Openings {
    let out = this.sequence();
    while (this.source[this.at] === '|') {
      this.at++;
      out = either(out, this.sequence());
    }
    return out;
  }

  private sequence(): Openings {
    let out = EMPTY;
    while (this.at < this.source.length && this.source[this.at] !== '|' && this.source[this.at] !== ')') {
      out = then(out, this.quantified(this.atom()));
    }
    return out;
  }

  private quantified(atom: Openings): Openings {
    const s = this.source;
    const c = s[this.at];
    let min = 1;
    let max = 1;
    if (c === '*' || c === '+' || c === '?') {
      this.at++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.at));
      if (m === null) return atom;
      this.at += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    } else {
      return atom;
    }
    // A lazy or possessive mark changes which match is found, not which can be.
    if (s[this.at] === '?') this.at++;
    return repeat(atom, min, max);
  }

  private atom(): Openings {
    const s = this.source;
    const c = s[this.at++]!;
    switch (c) {
      case '(': {
        // `(?=…)`, `(?!…)`, `(?<=…)` and `(?<!…)` take no characters of the match.
        const kind = /^\?(?:[=!]|<[=!])/.exec(s.slice(this.at));
        if (kind !== null) this.at += kind[0].length;
        else if (s.startsWith('?:', this.at)) this.at += 2;
        else if (s.startsWith('?<', this.at)) this.at = s.indexOf('>', this.at) + 1 || s.length;
        const inner = this.alternation();
        if (s[this.at] === ')') this.at++;
        return kind !== null ? EMPTY : inner;
      }
      case '[':
        return one(this.charClass());
      case '.':
        return one(ANY);
      case '^':
      case '$':
        return EMPTY;
      case '\\':
        return this.escape();
      default:
        return one(this.fold(set(c.codePointAt(0)!)));
    }
  }

  private escape(): Openings {
    const c = this.source[this.at]!;
    if (c === 'b' || c === 'B') {
      this.at++;
      return EMPTY;
    }
    // A back-reference matches what its group did, which is not read here.
    if (/[1-9]/.test(c) || (c === 'k' && this.source[this.at + 1] === '<')) {
      this.at++;
      return ANYTHING;
    }
    return one(this.classEscape().chars);
  }

  /**
   * The characters of an escape, in a class or outside one, and, when it stands for one
   * character, that character's code (which a range in a class needs).
   */
  private classEscape(): { chars: CharSet; code?: number } {
    const s = this.source;
    const c = s[this.at++]!;
    const char = (code: number) => ({ chars: this.fold(set(code)), code });
    switch (c) {
      case 'd':
        return { chars: DIGIT };
      case 'D':
        return { chars: complement(DIGIT) };
      case 'w':
        return { chars: WORD };
      case 'W':
        return { chars: complement(WORD) };
      case 's':
        return { chars: SPACE };
      case 'S':
        return { chars: complement(SPACE) };
      case 'n':
        return char(10);
      case 'r':
        return char(13);
      case 't':
        return char(9);
      case 'f':
        return char(12);
      case 'v':
        return char(11);
      case '0':
        return char(0);
      case 'x':
      case 'u': {
        const m = c === 'x' ? /^[0-9a-fA-F]{2}/.exec(s.slice(this.at)) : /^(?:\{([0-9a-fA-F]+)\}|[0-9a-fA-F]{4})/.exec(s.slice(this.at));
        if (m === null) return char(c.charCodeAt(0));
        this.at += m[0].length;
        return char(parseInt(m[1] ?? m[0], 16));
      }
      case 'c':
        this.at++;
        return { chars: range(0, 31) };
      case 'p':
      case 'P':
        // A Unicode property: any character, rather than tables of them.
        if (s[this.at] === '{') this.at = s.indexOf('}', this.at) + 1 || s.length;
        return { chars: ANY };
      default:
        return char(c.codePointAt(0)!);
    }
  }

  private charClass(): CharSet {
    const s = this.source;
    const negated = s[this.at] === '^';
    if (negated) this.at++;
    let chars: CharSet = new Uint8Array(SYMBOLS);
    while (this.at < s.length && s[this.at] !== ']') {
      const from = this.classMember();
      if (s[this.at] === '-' && s[this.at + 1] !== ']' && this.at + 1 < s.length && from.code !== undefined) {
        this.at++;
        const to = this.classMember();
        if (to.code === undefined) chars = union(union(chars, from.chars), union(to.chars, set(45)));
        else chars = union(chars, this.fold(range(from.code, to.code)));
      } else {
        chars = union(chars, from.chars);
      }
    }
    this.at++;
    return negated ? complement(chars) : chars;
  }

  /** One member of a class: a character (with its code, which a range needs) or a class escape. */
  private classMember(): { chars: CharSet; code?: number } {
    const s = this.source;
    if (s[this.at] !== '\\') {
      const code = s.codePointAt(this.at)!;
      this.at += code > 0xffff ? 2 : 1;
      return { chars: this.fold(set(code)), code };
    }
    this.at++;
    // In a class, \b is a backspace.
    if (s[this.at] === 'b') {
      this.at++;
      return { chars: set(8), code: 8 };
    }
    return this.classEscape();
  }

  private fold(chars: CharSet): CharSet {
    if (!this.ignoreCase) return chars;
    const s = chars.slice();
    for (let c = 65; c <= 90; c++) {
      if (chars[c] || chars[c + 32]) s[c] = s[c + 32] = 1;
    }
    // Under `i`, some non-ASCII letters match ASCII ones (the Kelvin sign, the long s) and back.
    if (s.some((x, c) => x !== 0 && ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)))) s[OTHER] = 1;
    return s;
  }
}

/** A table as the entries that are set, to keep in source (see builtin-openings.ts): a table has few. */
export function packTable(table: Uint8Array): number[] {
  const set: number[] = [];
  for (let i = 0; i < table.length; i++) if (table[i] !== 0) set.push(i);
  return set;
}

/** The table of which `packTable` gave the entries that are set. */
export function unpackTable(set: readonly number[]): Uint8Array {
  const table = new Uint8Array(SYMBOLS * SYMBOLS);
  for (const i of set) table[i] = 1;
  return table;
}

/** Whether `s` holds a pair (or a character) that `table` says can open a match: the test the plain writer makes as it copies a string. */
export function mayOpen(table: Uint8Array, s: string): boolean {
  let previous = 0;
  for (let i = 0; i < s.length; i++) {
    const symbol = symbolOf(s.charCodeAt(i));
    if (table[(previous << 7) | symbol] !== 0) return true;
    previous = symbol;
  }
  return false;
}
