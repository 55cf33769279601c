import type { Redactor } from './redact';

/** What decides whether a value may be written by JSON.stringify; see {@link PlainCheck}. */
export interface PlainLimits {
  maxDepth: number;
  maxArrayLength: number;
  maxStringLength: number;
  redactor: Redactor;
  isSensitiveKey(key: string): boolean;
}

const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;

// Up to this many objects, finding one by a linear scan beats hashing it.
const LINEAR_LIMIT = 32;

/**
 * Tells whether `JSON.stringify(value)` is exactly the text that the encoder's walk would write:
 * only strings that need neither a cut nor a mask, finite numbers other than -0, booleans, null,
 * and arrays and plain objects within the limits, each met once, with no sensitive key, no
 * `$type` and no `toJSON`. Most recorded arguments are such trees, and V8's native serializer
 * writes them faster than any walk in JavaScript can, as one flat string, which the writer then
 * copies without the cost of flattening a rope.
 *
 * Keys inherited from a polluted Object.prototype do not matter: JSON.stringify leaves them out,
 * as the walk does in that case; meeting them here only makes the check stricter.
 *
 * `test` may throw (a getter, a proxy); the caller then takes the walk, which guards every read.
 * One test at a time: a getter that records a call needs a check of its own.
 */
export class PlainCheck {
  private readonly seen: object[] = [];
  private index: Set<object> | undefined;

  constructor(private readonly limits: PlainLimits) {}

  test(value: unknown): boolean {
    try {
      return this.value(value, 0);
    } finally {
      // The app's objects are not kept alive by the check.
      this.seen.length = 0;
      this.index = undefined;
    }
  }

  private value(v: unknown, depth: number): boolean {
    switch (typeof v) {
      case 'string':
        return v.length <= this.limits.maxStringLength && this.limits.redactor.redactString(v) === v;
      case 'number':
        return v - v === 0 && (v !== 0 || 1 / v > 0);
      case 'boolean':
        return true;
      case 'object':
        return v === null || this.object(v, depth);
      default:
        // undefined, functions, symbols and bigints are tagged, or dropped by JSON.stringify.
        return false;
    }
  }

  private object(v: object, depth: number): boolean {
    // Deeper than the limit is cut; met twice is a reference; either way the walk must write it.
    if (depth > this.limits.maxDepth || !this.first(v)) return false;
    const d = depth + 1;
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== ARRAY_PROTO || v.length > this.limits.maxArrayLength) return false;
      for (let i = 0; i < v.length; i++) if (!this.value(v[i], d)) return false;
      return true;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if ((proto !== OBJECT_PROTO && proto !== null) || (v as { toJSON?: unknown }).toJSON !== undefined) return false;
    const record = v as Record<string, unknown>;
    for (const k in record) {
      if (k === '$type' || this.limits.isSensitiveKey(k) || !this.value(record[k], d)) return false;
    }
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
    for (let i = 0; i < seen.length; i++) if (seen[i] === v) return false;
    seen.push(v);
    if (seen.length > LINEAR_LIMIT) this.index = new Set(seen);
    return true;
  }
}
