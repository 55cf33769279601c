import { describe, expect, it } from 'vitest';
import { createEncoder } from '../../src/record/encode';
import { NO_ROOM, NOT_PLAIN, PlainWriter } from '../../src/record/plain';
import { createRedactor } from '../../src/record/redact';

const redactor = createRedactor(['session id'], ['\\d{3}-\\d{2}-\\d{4}']);
const writer = new PlainWriter({
  maxDepth: 3,
  maxArrayLength: 4,
  maxStringLength: 10,
  redactor,
  isSensitiveKey: (key) => redactor.isSensitiveKey(key),
});

/** What the writer puts in a buffer, as text, or its answer when it writes nothing. */
function written(value: unknown, room = 1 << 16): string | number {
  const buffer = Buffer.alloc(room + 8, '#');
  const end = writer.write(value, buffer, 4, 4 + room);
  // Nothing is written before the start or at or past the limit.
  expect(buffer.subarray(0, 4).toString()).toBe('####');
  expect(buffer.subarray(4 + room).toString()).toBe('####');
  return end < 0 ? end : buffer.toString('utf8', 4, end);
}

describe('PlainWriter', () => {
  it('writes exactly what JSON.stringify does, as UTF-8', () => {
    for (const value of [
      'short',
      0,
      -1.5,
      true,
      null,
      [],
      {},
      [1, 'a', [null, false], { b: { c: 2 } }],
      Object.assign(Object.create(null), { x: 1 }),
      ['tab\tquote"', 'é', '日本', '😀'],
      ['a\ud800b', '\u007f', 'back\\slash', 'x'.repeat(10)],
      { 'key "quoted"': 1, 'ключ': 2, '': 3 },
      [0.1, 1e21, -5, 2 ** 40],
      [1.5e-7, -0.25],
    ]) {
      expect(written(value), JSON.stringify(value)).toBe(JSON.stringify(value));
    }
  });

  it('copies long strings whole, printable ASCII or not', () => {
    const long = new PlainWriter({ maxDepth: 3, maxArrayLength: 4, maxStringLength: 1000, redactor, isSensitiveKey: () => false });
    for (const s of ['a'.repeat(500), `${'b'.repeat(300)}"${'c'.repeat(300)}`, `${'d'.repeat(200)}ü`]) {
      const buffer = Buffer.alloc(2000);
      const end = long.write([s], buffer, 0, buffer.length);
      expect(buffer.toString('utf8', 0, end)).toBe(JSON.stringify([s]));
    }
  });

  it('says when the value does not fit before the limit, and never writes past it', () => {
    expect(written(['abcdef', 12345], 12)).toBe(NO_ROOM);
    expect(written(['abcdef', 12345], 15)).toBe(NO_ROOM);
    expect(written(['abcdef', 12345], 16)).toBe('["abcdef",12345]');
    expect(written(['日本'], 4)).toBe(NO_ROOM);
  });

  it('gives the text of a plain value, growing its own buffer', () => {
    const big = { rows: Array.from({ length: 4 }, () => 'r'.repeat(10)) };
    expect(writer.text(big)).toBe(JSON.stringify(big));
    expect(writer.text([undefined])).toBeUndefined();
  });

  const shared = { s: 1 };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  class Point {
    x = 1;
  }
  it.each([
    ['undefined', undefined],
    ['an undefined member', { a: undefined }],
    ['a hole', [1, , 3]],
    ['-0', [-0]],
    ['NaN', { n: NaN }],
    ['Infinity', [Infinity]],
    ['a bigint', [1n]],
    ['a function', { f: () => 1 }],
    ['a symbol', [Symbol('s')]],
    ['an object met twice', [shared, shared]],
    ['a cycle', cyclic],
    ['a sensitive key', { apiKey: 'abc' }],
    ['a configured key phrase', { sessionId: 'abc' }],
    ['a built-in secret shape', ['sk-abcdefghijklmnopqrstuv']],
    ['a configured pattern', ['123-45-6789']],
    ['a string over the cap', ['x'.repeat(11)]],
    ['an array over the cap', [[1, 2, 3, 4, 5]]],
    ['nesting over the cap', [[[[[1]]]]]],
    ['a $type key', { $type: 'Date' }],
    ['toJSON', { toJSON: () => 1 }],
    ['a Date', [new Date(0)]],
    ['a Map', [new Map()]],
    ['a class instance', [new Point()]],
    ['a boxed string', [new String('s')]],
    ['an array subclass', [new (class extends Array {})()]],
  ])('sends %s to the walk', (_, value) => {
    expect(written(value)).toBe(NOT_PLAIN);
  });

  it('throws where a getter throws, so that the caller can take the guarded walk', () => {
    const hostile = {
      get boom(): never {
        throw new Error('no');
      },
    };
    expect(() => written([hostile])).toThrow('no');
    expect(written([1])).toBe('[1]');
  });
});

describe('encode: plain values', () => {
  const encoder = createEncoder();

  it('writes plain values exactly as JSON.stringify does', () => {
    const value = ['How do I reset my password?', { userId: 'u_1', n: [1, 2.5, -3], nested: { ok: true, none: null, text: 'a "quoted"\n line ✓' } }];
    expect(encoder.encode(value)).toBe(JSON.stringify(value));
  });

  it('still tags, masks and refers where JSON.stringify would not', () => {
    const shared = { s: 1 };
    const out = JSON.parse(encoder.encode([undefined, -0, { password: 'p', auth: { token: 't' } }, shared, shared, 'Bearer abcdefghijkl']));
    expect(out).toEqual([
      { $type: 'undefined' },
      { $type: 'number', value: '-0' },
      { password: '***', auth: '***' },
      { s: 1 },
      { $type: 'ref', path: [3] },
      'Bearer ***',
    ]);
  });

  it('leaves keys inherited from a polluted Object.prototype out, on either path', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'yes';
    try {
      expect(encoder.encode([{ a: 1 }])).toBe('[{"a":1}]');
      expect(JSON.parse(encoder.encode([{ a: undefined }]))).toEqual([{ a: { $type: 'undefined' } }]);
    } finally {
      delete proto.polluted;
    }
  });
});
