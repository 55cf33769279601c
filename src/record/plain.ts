import { numberText } from './number-text';
import { isPairName, type Redactor } from './redact';

/** What decides whether a value is plain JSON; see {@link PlainWriter}. */
export interface PlainLimits {
  maxDepth: number;
  maxArrayLength: number;
  maxStringLength: number;
  redactor: Redactor;
  /** True when the member `key: value` is not written as it is: its value is masked, or the key itself. */
  isSensitiveKey(key: string, value?: unknown): boolean;
}

/** `write`'s answer when the value is not plain JSON: the encoder's walk must write it. */
export const NOT_PLAIN = -1;
/** `write`'s answer when the value did not fit before the limit. */
export const NO_ROOM = -2;

const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;

// Up to this many objects, finding one by a linear scan beats hashing it.
const LINEAR_LIMIT = 32;
// Shorter strings are copied a character at a time; longer ones by one native call, which costs
// more to make than a short string takes to copy.
const SHORT_STRING = 64;
// Printable ASCII other than `"` and `\`: the characters that JSON writes as they are, one byte each.
const NOT_VERBATIM = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/;

// The largest text `text` makes; past it, the walk writes the value (and the recorder shrinks it).
const MAX_TEXT_BYTES = 4 << 20;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const NULL = Buffer.from('null');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const EMPTY = Buffer.alloc(0);
/**
 * Writes a value as UTF-8 JSON text straight into a buffer, when the value is plain JSON data:
 * strings that need neither a cut nor a mask, finite numbers other than -0, booleans, null, and
 * arrays and plain objects within the limits, each met once, with no sensitive key, no `$type`
 * and no `toJSON`. For those, the bytes are exactly `JSON.stringify(value)`, which is exactly
 * what the encoder's walk writes; anything else is left to the walk. Most recorded arguments
 * are such trees, and this writes them in one pass without making a string: faster than
 * `JSON.stringify` followed by a copy into the writer's buffer, and far faster than the walk,
 * which has to build its text from pieces.
 *
 * An app that put enumerable keys on Object.prototype gets the walk, which leaves them out as
 * JSON.stringify does; for-in here would list them.
 *
 * `write` may throw (a getter, a proxy); the caller then takes the walk, which guards every read.
 * One write at a time: a getter that records a call needs a writer of its own.
 */
export class PlainWriter {
  private buffer: Buffer = EMPTY;
  private scratch = Buffer.allocUnsafe(16 * 1024);
  private at = 0;
  private limit = 0;
  private full = false;
  private readonly seen: Array<object | undefined> = [];
  private count = 0;
  private index: Set<object> | undefined;

  constructor(private readonly limits: PlainLimits) {}

  /**
   * Writes `value` into `buffer` from `at`, never at or past `limit`, and returns where it ends:
   * NOT_PLAIN when the walk must write it, NO_ROOM when it does not fit.
   */
  write(value: unknown, buffer: Buffer, at: number, limit: number): number {
    if (isPolluted()) return NOT_PLAIN;
    this.buffer = buffer;
    this.at = at;
    this.limit = Math.min(limit, buffer.length);
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
    }
  }

  /** The JSON text of `value` when it is plain JSON (and at most a few MB), else undefined. */
  text(value: unknown): string | undefined {
    for (;;) {
      const end = this.write(value, this.scratch, 0, this.scratch.length);
      if (end >= 0) return this.scratch.toString('utf8', 0, end);
      if (end === NOT_PLAIN || this.scratch.length >= MAX_TEXT_BYTES) return undefined;
      this.scratch = Buffer.allocUnsafe(this.scratch.length * 4);
    }
  }

  private value(v: unknown, depth: number): boolean {
    switch (typeof v) {
      case 'string':
        return v.length <= this.limits.maxStringLength && this.limits.redactor.redactString(v) === v && this.string(v);
      case 'number':
        return v - v === 0 && (v !== 0 || 1 / v > 0) && this.ascii(numberText(v));
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
    for (const k in record) {
      const x = record[k];
      if (k === '$type' || this.limits.isSensitiveKey(k, x)) return false;
      if ((!first && !this.byte(COMMA)) || !this.string(k) || !this.byte(COLON) || !this.value(x, d)) return false;
      first = false;
    }
    return this.byte(0x7d);
  }

  /** A string's JSON text: copied as it is when it is printable ASCII, else JSON.stringify's. */
  private string(s: string): boolean {
    const n = s.length;
    const buffer = this.buffer;
    let at = this.at;
    if (at + n + 2 > this.limit) return this.noRoom();
    if (n <= SHORT_STRING) {
      buffer[at++] = QUOTE;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) break;
        buffer[at++] = c;
      }
      if (i === n) {
        buffer[at] = QUOTE;
        this.at = at + 1;
        return true;
      }
    } else if (!NOT_VERBATIM.test(s)) {
      buffer[at] = QUOTE;
      buffer.write(s, at + 1, 'latin1');
      buffer[at + n + 1] = QUOTE;
      this.at = at + n + 2;
      return true;
    }
    // Escapes, and characters beyond ASCII (lone surrogates among them), as JSON.stringify writes them.
    const json = JSON.stringify(s);
    if (this.at + json.length * 3 > this.limit) return this.noRoom();
    this.at += buffer.write(json, this.at);
    return true;
  }

  /** Text known to be ASCII, such as a number's. */
  private ascii(s: string): boolean {
    if (this.at + s.length > this.limit) return this.noRoom();
    for (let i = 0; i < s.length; i++) this.buffer[this.at++] = s.charCodeAt(i);
    return true;
  }

  private bytes(b: Buffer): boolean {
    if (this.at + b.length > this.limit) return this.noRoom();
    for (let i = 0; i < b.length; i++) this.buffer[this.at++] = b[i]!;
    return true;
  }

  private byte(b: number): boolean {
    if (this.at >= this.limit) return this.noRoom();
    this.buffer[this.at++] = b;
    return true;
  }

  private noRoom(): false {
    this.full = true;
    return false;
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

/** Whether an app put enumerable keys on Object.prototype, which for-in would then list. */
export function isPolluted(): boolean {
  for (const _ in OBJECT_PROTO) return true;
  return false;
}
