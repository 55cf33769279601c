import { JSON_ESCAPE_WASM } from './json-escape-wasm';

// The project's libraries stop at ES2023 (Node 20 lacks some of ES2024), and @types/node 20
// declares no WebAssembly: what this file uses of both, which every supported Node has.
declare global {
  interface String {
    isWellFormed(): boolean;
  }
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};
interface Memory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The longest string the escaper takes: its memory grows to about 21 bytes a character. */
const MAX_ESCAPE_CHARS = 1 << 16;

// The module's tables take the memory below this; a string's bytes start here.
const IN = 128;
const PAGE = 1 << 16;
const QUOTE = 0x22;

/**
 * Writes a string's JSON text (its quotes included, escaped as JSON.stringify escapes it) as
 * UTF-8, in WebAssembly (see json-escape.wat): Node writes the string's UTF-8 into the module's
 * memory natively, and the module copies it out with its escapes, sixteen bytes at a time. The
 * text is then at `[start, end)` of `view`, until the next write.
 */
export class JsonEscaper {
  view: Buffer;
  start = 0;
  end = 0;

  private constructor(
    private readonly memory: Memory,
    private readonly escape: (from: number, bytes: number, to: number) => number,
  ) {
    this.view = Buffer.from(memory.buffer);
  }

  /** The escaper, or null where WebAssembly cannot run (`node --jitless`). */
  static create(): JsonEscaper | null {
    try {
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(JSON_ESCAPE_WASM, 'base64')));
      return new JsonEscaper(exports.memory as Memory, exports.escape as JsonEscaper['escape']);
    } catch {
      return null;
    }
  }

  /**
   * Writes `s`'s JSON text, from `start` to `end` of `view`; false, writing nothing, for a string
   * longer than MAX_ESCAPE_CHARS, or with a lone surrogate, which JSON.stringify escapes and a
   * UTF-8 write would make U+FFFD.
   */
  write(s: string): boolean {
    if (s.length > MAX_ESCAPE_CHARS || !s.isWellFormed()) return false;
    // Three bytes at most a character, six at most a byte once escaped, and the 16 the module may write past its end.
    const most = s.length * 3;
    this.reserve(IN + most + 2 + most * 6 + 16);
    const bytes = this.view.write(s, IN);
    const start = IN + bytes;
    this.view[start] = QUOTE;
    const end = this.escape(IN, bytes, start + 1);
    this.view[end] = QUOTE;
    this.start = start;
    this.end = end + 1;
    return true;
  }

  private reserve(bytes: number): void {
    const size = this.memory.buffer.byteLength;
    if (bytes <= size) return;
    this.memory.grow(Math.ceil((bytes - size) / PAGE));
    this.view = Buffer.from(this.memory.buffer);
  }
}

let shared: JsonEscaper | null | undefined;

/**
 * The process's escaper, made at its first long string; null where WebAssembly cannot run. One
 * serves every writer: what it writes is copied out before anything else can write.
 */
export function jsonEscaper(): JsonEscaper | null {
  return shared === undefined ? (shared = JsonEscaper.create()) : shared;
}
