const EMPTY = Buffer.alloc(0);
// How many positions on a string is looked for: a turn adds or drops a few messages at a time.
const LOOK_AHEAD = 8;
// Shorter runs (an id, a URL) are copied a byte at a time: a native copy costs more for them.
const SHORT_COPY = 64;

/**
 * The text of the strings one call site wrote in its last record, for its next: an agent is
 * called again and again with the history so far, whose messages, tool outputs and documents are
 * the same strings each time, and the scan for secrets and the escaping are most of what a long
 * string costs. Its bytes are then copied from here. The writer keeps long strings, and short
 * ones that may hold a secret (an id with `_`, a URL), which would be scanned too.
 *
 * Strings are matched by position, in the order they are written, not looked up by content:
 * hashing a string the engine has not hashed yet costs as much as scanning it, and most of the
 * app's strings are new. `===` on the same string is one comparison, and on another of the same
 * length ends at the first character that differs. A history that grew keeps its place; one
 * that dropped its oldest messages is found a few positions on (see LOOK_AHEAD).
 */
export class TextMemo {
  /**
   * The last record's strings, in order, where each one's text ends in `bytes`, and a view of
   * each text there: copying from a view made once spares `Buffer.copy` the one it makes at each
   * copy, most of what a copy of a few hundred bytes costs.
   */
  private strings: string[] = [];
  private ends: number[] = [];
  private texts: Uint8Array[] = [];
  private bytes: Buffer = EMPTY;
  /** The record being written: what the next one will be matched against. */
  private nextStrings: string[] = [];
  private nextEnds: number[] = [];
  private nextTexts: Uint8Array[] = [];
  private nextBytes: Buffer = EMPTY;
  private nextAt = 0;
  /**
   * How many of the last record's first strings the record being written began with, in order,
   * and nothing else yet: those are not copied into `next*`, since the last record's arrays and
   * bytes already hold them. An agent called with the same history, or one that grew at its end,
   * then copies each text once, into the record, not twice.
   */
  private shared = 0;
  /** The position in `strings` the next string is looked for at. */
  private cursor = 0;

  /** `budget`: the most bytes of text kept of one record; strings past it are not kept. */
  constructor(private readonly budget: number) {}

  /** Starts a record. */
  begin(): void {
    this.cursor = 0;
    this.shared = 0;
    this.nextAt = 0;
    // Setting an array's length is a call into the engine, which the records that keep nothing need not make.
    if (this.nextStrings.length === 0) return;
    this.nextStrings.length = 0;
    this.nextEnds.length = 0;
    this.nextTexts.length = 0;
  }

  /** Ends a record: what it kept is what the next one is matched against. */
  end(): void {
    if (this.shared > 0) {
      // The record kept the last one's first strings and nothing else: they stay where they are.
      if (this.shared < this.strings.length) {
        this.strings.length = this.shared;
        this.ends.length = this.shared;
        this.texts.length = this.shared;
      }
      return;
    }
    // Most records of small arguments keep nothing, and had nothing to match.
    if (this.nextStrings.length === 0 && this.strings.length === 0) return;
    const strings = this.strings;
    this.strings = this.nextStrings;
    this.nextStrings = strings;
    const ends = this.ends;
    this.ends = this.nextEnds;
    this.nextEnds = ends;
    const texts = this.texts;
    this.texts = this.nextTexts;
    this.nextTexts = texts;
    const bytes = this.bytes;
    this.bytes = this.nextBytes;
    this.nextBytes = bytes;
  }

  /** Where `s` is among the last record's strings, looked for from the cursor on; -1 when it is not there. */
  find(s: string): number {
    const strings = this.strings;
    const last = Math.min(strings.length, this.cursor + LOOK_AHEAD);
    for (let i = this.cursor; i < last; i++) if (strings[i] === s) return i;
    return -1;
  }

  /** The bytes of the text of the last record's `i`th string. */
  size(i: number): number {
    return this.texts[i]!.length;
  }

  /**
   * Copies the text of the last record's `i`th string into `buffer` at `at`, which has room for
   * it, keeps it for the next record, and returns where it ends. The next string is looked for after it.
   */
  use(i: number, buffer: Buffer, at: number): number {
    const text = this.texts[i]!;
    this.cursor = i + 1;
    copyBytes(text, 0, text.length, buffer, at);
    if (i === this.shared && this.nextStrings.length === 0) this.shared++;
    else this.keep(this.strings[i]!, text, 0, text.length);
    return at + text.length;
  }

  /** Keeps `s`, whose text is `source` from `from` to `to`, for the next record. */
  keep(s: string, source: Uint8Array, from: number, to: number): void {
    if (this.shared > 0) this.unshare();
    const n = to - from;
    if (this.nextAt + n > this.budget) return;
    if (this.nextAt + n > this.nextBytes.length) this.grow(this.nextAt + n);
    copyBytes(source, from, to, this.nextBytes, this.nextAt);
    this.push(s, this.nextAt, this.nextAt + n);
  }

  /** Adds `s`, whose text is in `nextBytes` from `from` to `to`, to the next record's strings. */
  private push(s: string, from: number, to: number): void {
    const bytes = this.nextBytes;
    this.nextAt = to;
    this.nextStrings.push(s);
    this.nextEnds.push(to);
    // A view of this arena, not of the one `bytes` swaps it with: that one is written over.
    this.nextTexts.push(new Uint8Array(bytes.buffer, bytes.byteOffset + from, to - from));
  }

  /** Copies the strings the record shares with the last one into its own arrays and bytes, in one copy. */
  private unshare(): void {
    const n = this.shared;
    this.shared = 0;
    const size = this.ends[n - 1]!;
    if (size > this.nextBytes.length) this.grow(size);
    this.bytes.copy(this.nextBytes, 0, 0, size);
    for (let i = 0; i < n; i++) this.push(this.strings[i]!, i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }

  /** Makes `nextBytes` hold at least `size` bytes, keeping what it holds, and its views pointing into it. */
  private grow(size: number): void {
    const grown = Buffer.allocUnsafe(Math.min(this.budget, Math.max(2 * this.nextBytes.length, size, 64 * 1024)));
    this.nextBytes.copy(grown, 0, 0, this.nextAt);
    this.nextBytes = grown;
    // Not into the smaller arena, which they would keep alive.
    const { nextEnds, nextTexts } = this;
    for (let i = 0; i < nextTexts.length; i++) {
      const from = i === 0 ? 0 : nextEnds[i - 1]!;
      nextTexts[i] = new Uint8Array(grown.buffer, grown.byteOffset + from, nextEnds[i]! - from);
    }
  }
}

function copyBytes(source: Uint8Array, from: number, to: number, target: Uint8Array, at: number): void {
  if (to - from > SHORT_COPY) {
    target.set(from === 0 && to === source.length ? source : source.subarray(from, to), at);
    return;
  }
  for (let i = from; i < to; i++) target[at++] = source[i]!;
}
