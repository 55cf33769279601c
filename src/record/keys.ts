import type { Redactor } from './redact';

/** What the encoder's writers need to know of a property name; made once per distinct key. */
export interface KeyInfo {
  /** `"key":` */
  readonly first: string;
  /** `,"key":` */
  readonly next: string;
  /** `,"key":` as UTF-8: the plain writer copies it, and from its second byte for an object's first key. */
  readonly bytes: Buffer;
  /** The key is secret-named: its value may be masked (see `Redactor.masks`). */
  readonly sensitive: boolean;
  /** A number under the key is masked: it is secret-named, and no count (`tokens: 20`). */
  readonly numbers: boolean;
  /** The key itself, redacted, when it holds a secret (`{ [apiKey]: client }`). */
  readonly masked: string | undefined;
}

// Keys repeat across calls far more than values do, so their JSON text and their redaction
// decision are worth keeping; ids used as keys would make that grow forever, hence the bound.
const KEY_CACHE_LIMIT = 10_000;

/** Each key's text and redaction decision, made once: one lookup a key a call. */
export class KeyCache {
  private readonly map = new Map<string, KeyInfo>();
  constructor(private readonly redactor: Redactor) {}

  get(key: string): KeyInfo {
    let info = this.map.get(key);
    if (info === undefined) {
      const json = `${quote(key)}:`;
      const redacted = this.redactor.redactString(key);
      info = {
        first: json,
        next: `,${json}`,
        bytes: Buffer.from(`,${json}`),
        sensitive: this.redactor.isSensitiveKey(key),
        numbers: this.redactor.masks(key, 0),
        masked: redacted === key ? undefined : redacted,
      };
      if (this.map.size >= KEY_CACHE_LIMIT) this.map.clear();
      this.map.set(key, info);
    }
    return info;
  }
}

/** What JSON.stringify escapes: `"`, `\\`, control characters and lone surrogates (pairs too, which it then leaves as they are). */
export const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string's JSON text. */
export function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}
