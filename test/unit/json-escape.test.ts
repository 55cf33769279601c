import { describe, expect, it, vi } from 'vitest';
import { JSON_ESCAPE_WASM } from '../../src/record/json-escape-wasm';
import { JsonEscaper, jsonEscaper } from '../../src/record/json-escape';
// @ts-expect-error: a build script, in JavaScript without types
import { compileJsonEscape } from '../../scripts/json-escape-wasm.mjs';

const escaper = jsonEscaper()!;

/** What the escaper writes for `s`, as text; undefined when it does not take `s`. */
function escaped(s: string): string | undefined {
  return escaper.write(s) ? escaper.view.toString('utf8', escaper.start, escaper.end) : undefined;
}

describe('JsonEscaper', () => {
  it('runs the module compiled from json-escape.wat', async () => {
    // When this fails, the .wat changed: run `node scripts/json-escape-wasm.mjs`.
    expect(JSON_ESCAPE_WASM).toBe(((await compileJsonEscape()) as Buffer).toString('base64'));
  });

  it('writes every character of the first 256, and some beyond, as JSON.stringify does', () => {
    const chars = [...Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)), '\u2028', '\u2029', '\ufeff', '€', '😀', '\u{10ffff}'];
    for (const c of chars) expect(escaped(c), JSON.stringify(c)).toBe(JSON.stringify(c));
  });

  it('writes strings with escapes at every place in and across its blocks of sixteen bytes', () => {
    // Pieces of one, two, three and four bytes in UTF-8, and of one byte that takes an escape, at random.
    const pieces = ['a', 'Z', ' ', '~', '\x7f', 'é', '€', '😀', '"', '\\', '\n', '\t', '\u0000', '\u001f', '\b', '\u000b'];
    let seed = 1;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let i = 0; i < 5_000; i++) {
      let s = '';
      const length = random(80);
      // Runs of plain text between the others, so that whole blocks pass without an escape too.
      while (s.length < length) s += random(3) === 0 ? pieces[random(pieces.length)] : 'x'.repeat(random(40));
      expect(escaped(s), JSON.stringify(s)).toBe(JSON.stringify(s));
    }
  });

  it('grows its memory for a string that needs it, and goes on writing the smaller ones', () => {
    const large = '\u0001'.repeat(60_000) + '😀'.repeat(2_000);
    expect(escaped('a "small" one')).toBe(JSON.stringify('a "small" one'));
    expect(escaped(large)).toBe(JSON.stringify(large));
    expect(escaped('a "small" one')).toBe(JSON.stringify('a "small" one'));
  });

  it('does not take a lone surrogate, which a UTF-8 write would change, nor a string past its limit', () => {
    expect(escaped('a \ud800 b')).toBeUndefined();
    expect(escaped('a \udc00 b')).toBeUndefined();
    expect(escaped('x'.repeat((1 << 16) + 1))).toBeUndefined();
    expect(escaped('x'.repeat(1 << 16))).toBe(JSON.stringify('x'.repeat(1 << 16)));
  });

  it('is not made where WebAssembly cannot run, as under `node --jitless`', () => {
    vi.stubGlobal('WebAssembly', undefined);
    try {
      expect(JsonEscaper.create()).toBeNull();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('is one per process', () => {
    expect(jsonEscaper()).toBe(escaper);
    expect(JsonEscaper.create()).not.toBe(escaper);
  });
});
