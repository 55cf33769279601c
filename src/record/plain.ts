import { jsonEscaper } from './json-escape';
import { NEEDS_ESCAPE, type KeyCache } from './keys';
import { digitsOf, numberText, writeInteger } from './number-text';
import { isPairName, MASK, type Redactor } from './redact';
import type { TextMemo } from './text-memo';

/** What decides whether a value is plain JSON; see {@link PlainWriter}. */
export interface PlainLimits {
  maxDepth: number;
  maxArrayLength: number;
  maxStringLength: number;
  redactor: Redactor;
  keys: KeyCache;
}

/** Where {@link PlainWriter.write} lays out its bytes, and how it gets more room. */
export interface Room {
  buffer: Buffer;
  /** Where the value must end by. */
  limit: number;
  /**
   * Makes room for `need` more bytes from `at`, moving what was written since the value began
   * into a larger buffer if it must (`buffer` and `limit` then change), and returns where `at`
   * is now; -1 when no more room may be given.
   */
  grow(at: number, need: number): number;
}

/** `write`'s answer when the value is not plain JSON: the encoder's walk must write it. */
export const NOT_PLAIN = -1;
/** `write`'s answer when the value did not fit in the room it may have. */
export const NO_ROOM = -2;

const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;

// Up to this many objects, finding one by a linear scan beats hashing it.
const LINEAR_LIMIT = 32;
// Shorter byte runs (a key's text) are copied a byte at a time: a native call costs more.
const SHORT_COPY = 32;
// Longer strings are scanned and copied by native calls (see PlainWriter.long).
const SHORT_STRING = 64;
// Shorter strings are scanned again rather than kept in a memo (see PlainWriter.copy).
const MEMO_STRING = 16;
// The most short strings known to hold no secret that a writer keeps (see PlainWriter.copy).
const CLEAN_LIMIT = 1024;
// The largest text `text` makes; past it, the walk writes the value (and the recorder shrinks it).
const MAX_TEXT_BYTES = 4 << 20;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NULL = Buffer.from('null');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const MASKED = Buffer.from(`"${MASK}"`);
const EMPTY = Buffer.alloc(0);
const HEX = Buffer.from('0123456789abcdef');
// JSON's short escapes, by character code; 0 where the character takes `\u00XX`.
const SHORT_ESCAPE = new Uint8Array(0x60);
for (const [c, e] of [[0x08, 'b'], [0x09, 't'], [0x0a, 'n'], [0x0c, 'f'], [0x0d, 'r'], [QUOTE, '"'], [BACKSLASH, '\\']] as const) SHORT_ESCAPE[c] = e.charCodeAt(0);
// With a redactor whose patterns can open anywhere, every pair "opens" one, and every string is asked.
const EVERY_PAIR = new Uint8Array(1 << 14).fill(1);

/** A room that is a buffer of its own, grown by copying, for `text`. */
class ScratchRoom implements Room {
  buffer: Buffer = Buffer.allocUnsafe(16 * 1024);
  limit = this.buffer.length;

  grow(at: number, need: number): number {
    const size = Math.max(this.buffer.length * 4, at + need);
    if (size > MAX_TEXT_BYTES) return -1;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, at);
    this.buffer = next;
    this.limit = size;
    return at;
  }
}

/**
 * Writes a value as UTF-8 JSON text straight into a buffer, when the value is plain JSON data:
 * strings within the cap, finite numbers other than -0, booleans, null, and arrays and plain
 * objects within the limits, each met once, with no secret-named key over an object, no
 * secret key, no `$type` and no `toJSON`. For those, the bytes are exactly what the encoder's walk
 * writes: `JSON.stringify(value)`, with each secret a string holds redacted and each primitive
 * under a secret-named key masked. Anything else is left to the walk. Most recorded arguments
 * are such trees, and this writes them in one pass without making a string: faster than
 * `JSON.stringify` followed by a copy into the writer's buffer, and far faster than the walk,
 * which has to build its text from pieces.
 *
 * One pass also within each string: the loop that copies it (and escapes it, and encodes it as
 * UTF-8) looks each pair of characters up in the redactor's table of openings, and only a string
 * where a secret could start is handed to the redactor's patterns.
 *
 * An app that put enumerable keys on Object.prototype gets the walk, which leaves them out as
 * JSON.stringify does; for-in here would list them.
 *
 * `write` may throw (a getter, a proxy); the caller then takes the walk, which guards every read.
 * One write at a time: a getter that records a call needs a writer of its own.
 */
export class PlainWriter {
  private room: Room;
  private buffer: Buffer = EMPTY;
  private at = 0;
  private limit = 0;
  /** How far the room's moves have shifted what this write wrote (see `more`). */
  private moved = 0;
  private full = false;
  private readonly seen: Array<object | undefined> = [];
  private count = 0;
  private index: Set<object> | undefined;
  private readonly scratch = new ScratchRoom();
  /** The redactor's table of openings, asked for at the first string that needs it. */
  private openings: Uint8Array | undefined;
  /** The long strings of the call site's last record, with their text (see TextMemo). */
  private memo: TextMemo | undefined;
  /** Strings shorter than MEMO_STRING that may have held a secret and did not (see `copy`). */
  private readonly clean = new Set<string>();

  constructor(private readonly limits: PlainLimits) {
    this.room = this.scratch;
  }

  /**
   * Writes `value` into `room` from `at`, and returns where it ends: NOT_PLAIN when the walk must
   * write it, NO_ROOM when the room could not be made large enough. With `memo`, the strings it
   * holds of the last value written with it are copied from it rather than scanned again.
   */
  write(value: unknown, room: Room, at: number, memo?: TextMemo): number {
    if (isPolluted()) return NOT_PLAIN;
    this.memo = memo;
    memo?.begin();
    this.room = room;
    this.buffer = room.buffer;
    this.limit = room.limit;
    this.at = at;
    this.moved = 0;
    this.full = false;
    try {
      if (this.value(value, 0)) return this.at;
      return this.full ? NO_ROOM : NOT_PLAIN;
    } finally {
      // Neither the app's objects nor the buffer are kept alive by the writer.
      for (let i = 0; i < this.count; i++) this.seen[i] = undefined;
      this.count = 0;
      this.index = undefined;
      this.buffer = EMPTY;
      this.room = this.scratch;
      this.memo?.end();
      this.memo = undefined;
    }
  }

  /** The JSON text of `value` when it is plain JSON (and at most a few MB), else undefined. */
  text(value: unknown): string | undefined {
    const end = this.write(value, this.scratch, 0);
    return end >= 0 ? this.scratch.buffer.toString('utf8', 0, end) : undefined;
  }

  private value(v: unknown, depth: number): boolean {
    switch (typeof v) {
      case 'string':
        return v.length <= this.limits.maxStringLength && this.string(v);
      case 'number':
        return this.number(v);
      case 'boolean':
        return this.bytes(v ? TRUE : FALSE);
      case 'object':
        return v === null ? this.bytes(NULL) : this.object(v, depth);
      default:
        // undefined, functions, symbols and bigints are tagged by the walk, or dropped by JSON.
        return false;
    }
  }

  private object(v: object, depth: number): boolean {
    // Deeper than the limit is cut; met twice is a reference; either way the walk must write it.
    if (depth > this.limits.maxDepth || !this.first(v)) return false;
    const d = depth + 1;
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== ARRAY_PROTO || v.length > this.limits.maxArrayLength) return false;
      if (!this.byte(0x5b)) return false;
      // [name, value] pairs and flat header lists, whose secret-named names the walk masks the values of.
      const pairs = (v.length & 1) === 0;
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if ((i > 0 && !this.byte(COMMA)) || !this.value(x, d)) return false;
        if (pairs && (i & 1) === 0 && typeof x === 'string' && isPairName(x) && this.limits.redactor.isSensitiveKey(x)) return false;
      }
      return this.byte(0x5d);
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if ((proto !== OBJECT_PROTO && proto !== null) || (v as { toJSON?: unknown }).toJSON !== undefined) return false;
    const record = v as Record<string, unknown>;
    if (!this.byte(0x7b)) return false;
    let first = true;
    const { keys, redactor } = this.limits;
    for (const k in record) {
      const x = record[k];
      const key = keys.get(k);
      // A key that is itself a secret is renamed by the walk, which also keeps two such keys apart.
      if (key.masked !== undefined || k === '$type' || !this.key(key.bytes, first)) return false;
      first = false;
      if (key.sensitive && (typeof x === 'number' ? key.numbers : redactor.masks(k, x))) {
        // A masked object is left to the walk, which masks it again wherever it is met.
        if (typeof x === 'object' || !this.bytes(MASKED)) return false;
      } else if (!this.value(x, d)) {
        return false;
      }
    }
    return this.byte(0x7d);
  }

  /** A key's `,"key":`, without its comma for an object's first key. */
  private key(bytes: Buffer, first: boolean): boolean {
    const from = first ? 1 : 0;
    const n = bytes.length - from;
    if (this.at + n > this.limit && !this.more(n)) return false;
    if (n > SHORT_COPY) {
      this.at += bytes.copy(this.buffer, this.at, from);
      return true;
    }
    const buffer = this.buffer;
    let at = this.at;
    for (let i = from; i < bytes.length; i++) buffer[at++] = bytes[i]!;
    this.at = at;
    return true;
  }

  /** A string's JSON text, as JSON.stringify writes it, in UTF-8, with each secret it holds redacted. */
  private string(s: string): boolean {
    return s.length > SHORT_STRING ? this.long(s) : this.copy(s, true);
  }

  /** A long string: copied from the memo when the call site's last record held it, else scanned. */
  private long(s: string): boolean {
    const memo = this.memo;
    if (memo === undefined) return this.scanned(s);
    const i = memo.find(s);
    if (i >= 0) return this.remembered(memo, i);
    const origin = this.at - this.moved;
    if (!this.scanned(s)) return false;
    memo.keep(s, this.buffer, origin + this.moved, this.at);
    return true;
  }

  /** The memo's `i`th text, copied. */
  private remembered(memo: TextMemo, i: number): boolean {
    const n = memo.size(i);
    if (this.at + n > this.limit && !this.more(n)) return false;
    this.at = memo.use(i, this.buffer, this.at);
    return true;
  }

  /**
   * A long string: the redactor's own scan, then its text written and escaped by the escaper
   * (see JsonEscaper). Where it cannot (no WebAssembly, a lone surrogate, a string too long for
   * it): one native UTF-8 write of the text when it needs no escape, else the loop, which measured
   * faster than JSON.stringify's string written out again. Measured, these beat the loop alone
   * once a string is longer than SHORT_STRING: the loop costs several times the native write, and
   * prose opens a possible secret within its first few words, so the scan would run anyway.
   */
  private scanned(s: string): boolean {
    const text = this.limits.redactor.redactString(s);
    const escaper = jsonEscaper();
    if (escaper?.write(text)) {
      const bytes = escaper.end - escaper.start;
      if (this.at + bytes > this.limit && !this.more(bytes)) return false;
      this.buffer.set(escaper.view.subarray(escaper.start, escaper.end), this.at);
      this.at += bytes;
      return true;
    }
    if (NEEDS_ESCAPE.test(text)) return this.copy(text, false);
    const bytes = Buffer.byteLength(text) + 2;
    if (this.at + bytes > this.limit && !this.more(bytes)) return false;
    const buffer = this.buffer;
    buffer[this.at] = QUOTE;
    buffer.write(text, this.at + 1);
    buffer[this.at + bytes - 1] = QUOTE;
    this.at += bytes;
    return true;
  }

  /**
   * A string copied a character at a time: escaped and encoded as UTF-8 on the way, and, when
   * `redact` is set, each pair of characters looked up in the redactor's table of openings (see
   * `Redactor.openings`) until one can open a secret. Only then do the redactor's patterns run.
   */
  private copy(s: string, redact: boolean): boolean {
    const n = s.length;
    if (this.at + n + 2 > this.limit && !this.more(n + 2)) return false;
    const openings = (this.openings ??= this.limits.redactor.openings ?? EVERY_PAIR);
    let buffer = this.buffer;
    let start = this.at;
    let at = start;
    // Once a string may hold a secret, the patterns will run over it: the table has no more to say.
    let opens = redact ? 0 : 1;
    let previous = 0;
    buffer[at++] = QUOTE;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0x7f && c !== QUOTE && c !== BACKSLASH) {
        buffer[at++] = c;
        if (opens === 0) {
          opens = openings[(previous << 7) | c]!;
          previous = c;
        }
        continue;
      }
      // Six bytes at most for this character (an escape), one at least for each after it, and the closing quote.
      if (at + 7 + (n - i) > this.limit) {
        this.at = at;
        if (!this.more(7 + n - i)) return false;
        start += this.at - at;
        at = this.at;
        buffer = this.buffer;
      }
      if (c < 0x80) {
        const short = c < 0x60 ? SHORT_ESCAPE[c]! : 0;
        if (short !== 0) {
          buffer[at++] = BACKSLASH;
          buffer[at++] = short;
        } else if (c < 0x20) {
          at = unicodeEscape(buffer, at, c);
        } else {
          buffer[at++] = c; // DEL, which JSON leaves as it is
        }
      } else if (c < 0x800) {
        buffer[at++] = 0xc0 | (c >> 6);
        buffer[at++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buffer[at++] = 0xe0 | (c >> 12);
        buffer[at++] = 0x80 | ((c >> 6) & 0x3f);
        buffer[at++] = 0x80 | (c & 0x3f);
      } else {
        const low = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && low >= 0xdc00 && low <= 0xdfff) {
          const point = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          buffer[at++] = 0xf0 | (point >> 18);
          buffer[at++] = 0x80 | ((point >> 12) & 0x3f);
          buffer[at++] = 0x80 | ((point >> 6) & 0x3f);
          buffer[at++] = 0x80 | (point & 0x3f);
          i++;
          c = low;
        } else {
          // A lone surrogate, which JSON.stringify writes as an escape.
          at = unicodeEscape(buffer, at, c);
        }
      }
      if (opens === 0) {
        const symbol = c < 0x7f ? c : 0x7f;
        opens = openings[(previous << 7) | symbol]!;
        previous = symbol;
      }
    }
    buffer[at++] = QUOTE;
    this.at = at;
    if (!redact || opens === 0) return true;
    // Short strings that may hold a secret (ids with `_`, URLs) recur too: the memo spares the
    // patterns, but costs more than they do for the shortest, which a set of those found clean
    // spares instead: a lookup of a few characters costs a fraction of the patterns' run.
    if (n < MEMO_STRING && this.clean.has(s)) return true;
    const memo = n >= MEMO_STRING ? this.memo : undefined;
    if (memo !== undefined) {
      const i = memo.find(s);
      if (i >= 0) {
        this.at = start;
        return this.remembered(memo, i);
      }
    }
    const origin = start - this.moved;
    const redacted = this.limits.redactor.redactString(s);
    // Written again over the first copy: a secret is rare, and the text is then another string.
    if (redacted !== s) {
      this.at = start;
      if (!this.copy(redacted, false)) return false;
    } else if (n < MEMO_STRING) {
      if (this.clean.size >= CLEAN_LIMIT) this.clean.clear();
      this.clean.add(s);
    }
    memo?.keep(s, this.buffer, origin + this.moved, this.at);
    return true;
  }

  private number(v: number): boolean {
    // Integers, the most common numbers, as digits: no string made. Safe ones are below 1e21, where JSON turns to exponents.
    if (Number.isSafeInteger(v) && (v !== 0 || 1 / v > 0)) {
      const n = v < 0 ? -v : v;
      const digits = digitsOf(n);
      const length = v < 0 ? digits + 1 : digits;
      if (this.at + length > this.limit && !this.more(length)) return false;
      if (v < 0) this.buffer[this.at++] = 0x2d;
      this.at = writeInteger(this.buffer, this.at, n, digits);
      return true;
    }
    // -0, NaN and the infinities are tagged by the walk.
    if (v - v !== 0 || v === 0) return false;
    const text = numberText(v);
    if (this.at + text.length > this.limit && !this.more(text.length)) return false;
    for (let i = 0; i < text.length; i++) this.buffer[this.at++] = text.charCodeAt(i);
    return true;
  }

  private bytes(b: Buffer): boolean {
    if (this.at + b.length > this.limit && !this.more(b.length)) return false;
    for (let i = 0; i < b.length; i++) this.buffer[this.at++] = b[i]!;
    return true;
  }

  private byte(b: number): boolean {
    if (this.at >= this.limit && !this.more(1)) return false;
    this.buffer[this.at++] = b;
    return true;
  }

  /** Makes room for `n` more bytes at `at`; false, and the write ends as NO_ROOM, when there is none. */
  private more(n: number): boolean {
    const at = this.room.grow(this.at, n);
    if (at < 0) {
      this.full = true;
      return false;
    }
    this.moved += at - this.at;
    this.at = at;
    this.buffer = this.room.buffer;
    this.limit = this.room.limit;
    return true;
  }

  /** Remembers `v`; false when it was met before. */
  private first(v: object): boolean {
    if (this.index !== undefined) {
      if (this.index.has(v)) return false;
      this.index.add(v);
      return true;
    }
    const seen = this.seen;
    for (let i = 0; i < this.count; i++) if (seen[i] === v) return false;
    seen[this.count++] = v;
    if (this.count > LINEAR_LIMIT) this.index = new Set(seen as object[]);
    return true;
  }
}

/** `\u00XX` or a surrogate's `\udXXX`, in lowercase hex as JSON.stringify writes it. */
function unicodeEscape(buffer: Buffer, at: number, c: number): number {
  buffer[at++] = BACKSLASH;
  buffer[at++] = 0x75;
  buffer[at++] = HEX[(c >> 12) & 0xf]!;
  buffer[at++] = HEX[(c >> 8) & 0xf]!;
  buffer[at++] = HEX[(c >> 4) & 0xf]!;
  buffer[at++] = HEX[c & 0xf]!;
  return at;
}

/** Whether an app put enumerable keys on Object.prototype, which for-in would then list. */
export function isPolluted(): boolean {
  for (const _ in OBJECT_PROTO) return true;
  return false;
}
