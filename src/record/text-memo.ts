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
  /** The last record's strings: what the record being written is matched against. */
  private last = new Kept();
  /** The record being written: what the next one will be matched against. */
  private next = new Kept();
  /**
   * How many of the last record's first strings the record being written began with, in order,
   * and nothing else yet: those are not copied into `next`, since `last` already holds them. An
   * agent called with the same history, or one that grew at its end, then copies each text once,
   * into the record, not twice.
   */
  private shared = 0;
  /** The position in the last record's strings the next string is looked for at. */
  private cursor = 0;

  /** `budget`: the most bytes of text kept of one record; strings past it are not kept. */
  constructor(private readonly budget: number) {}

  /** Starts a record. */
  begin(): void {
    this.cursor = 0;
    this.shared = 0;
    this.next.keepFirst(0);
  }

  /** Ends a record: what it kept is what the next one is matched against. */
  end(): void {
    if (this.shared > 0) {
      // The record kept the last one's first strings and nothing else: they stay where they are.
      this.last.keepFirst(this.shared);
      return;
    }
    // Most records of small arguments keep nothing, and had nothing to match.
    if (this.next.strings.length === 0 && this.last.strings.length === 0) return;
    const last = this.last;
    this.last = this.next;
    this.next = last;
  }

  /** Where `s` is among the last record's strings, looked for from the cursor on; -1 when it is not there. */
  find(s: string): number {
    const strings = this.last.strings;
    const end = Math.min(strings.length, this.cursor + LOOK_AHEAD);
    for (let i = this.cursor; i < end; i++) if (strings[i] === s) return i;
    return -1;
  }

  /** The bytes of the text of the last record's `i`th string. */
  size(i: number): number {
    return this.last.texts[i]!.length;
  }

  /**
   * Copies the text of the last record's `i`th string into `buffer` at `at`, which has room for
   * it, keeps it for the next record, and returns where it ends. The next string is looked for after it.
   */
  use(i: number, buffer: Buffer, at: number): number {
    const text = this.last.texts[i]!;
    this.cursor = i + 1;
    copyBytes(text, 0, text.length, buffer, at);
    if (i === this.shared && this.next.strings.length === 0) this.shared++;
    else this.keep(this.last.strings[i]!, text, 0, text.length);
    return at + text.length;
  }

  /** Keeps `s`, whose text is `source` from `from` to `to`, for the next record. */
  keep(s: string, source: Uint8Array, from: number, to: number): void {
    if (this.shared > 0) this.unshare();
    const next = this.next;
    const end = next.at + to - from;
    if (end > this.budget) return;
    if (end > next.bytes.length) next.grow(end, this.budget);
    copyBytes(source, from, to, next.bytes, next.at);
    next.push(s, end);
  }

  /** Copies the strings the record shares with the last one into its own, in one copy. */
  private unshare(): void {
    const { last, next, shared } = this;
    this.shared = 0;
    const size = last.ends[shared - 1]!;
    if (size > next.bytes.length) next.grow(size, this.budget);
    last.bytes.copy(next.bytes, 0, 0, size);
    for (let i = 0; i < shared; i++) next.push(last.strings[i]!, last.ends[i]!);
  }
}

/**
 * The strings one record kept, in order, with their text in `bytes`: where each one's ends, and
 * a view of it there. Copying from a view made once spares `Buffer.copy` the one it makes at each
 * copy, most of what a copy of a few hundred bytes costs.
 */
class Kept {
  strings: string[] = [];
  ends: number[] = [];
  texts: Uint8Array[] = [];
  bytes: Buffer = EMPTY;
  /** Where the next text goes in `bytes`. */
  at = 0;

  /** Keeps the first `n` strings only. */
  keepFirst(n: number): void {
    this.at = n === 0 ? 0 : this.ends[n - 1]!;
    // Setting an array's length is a call into the engine, which the records that keep nothing need not make.
    if (this.strings.length <= n) return;
    this.strings.length = n;
    this.ends.length = n;
    this.texts.length = n;
  }

  /** Adds `s`, whose text is in `bytes` from `at` to `end`. */
  push(s: string, end: number): void {
    this.strings.push(s);
    this.ends.push(end);
    this.texts.push(this.view(this.at, end));
    this.at = end;
  }

  /** Makes `bytes` hold at least `size` bytes (at most `budget`), keeping what it holds, and its views pointing into it. */
  grow(size: number, budget: number): void {
    const grown = Buffer.allocUnsafe(Math.min(budget, Math.max(2 * this.bytes.length, size, 64 * 1024)));
    this.bytes.copy(grown, 0, 0, this.at);
    this.bytes = grown;
    // Not into the smaller buffer, which they would keep alive.
    for (let i = 0; i < this.texts.length; i++) this.texts[i] = this.view(i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }

  private view(from: number, to: number): Uint8Array {
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + from, to - from);
  }
}

function copyBytes(source: Uint8Array, from: number, to: number, target: Uint8Array, at: number): void {
  if (to - from > SHORT_COPY) {
    target.set(from === 0 && to === source.length ? source : source.subarray(from, to), at);
    return;
  }
  for (let i = from; i < to; i++) target[at++] = source[i]!;
}
