import { describe, expect, it } from 'vitest';
import { createEncoder } from '../../src/record/encode';
import { PlainCheck } from '../../src/record/plain';
import { createRedactor } from '../../src/record/redact';

const redactor = createRedactor(['session id'], ['\\d{3}-\\d{2}-\\d{4}']);
const check = new PlainCheck({
  maxDepth: 3,
  maxArrayLength: 4,
  maxStringLength: 10,
  redactor,
  isSensitiveKey: (key) => redactor.isSensitiveKey(key),
});

describe('PlainCheck', () => {
  it('lets through what JSON.stringify writes as the walk would', () => {
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
    ]) {
      expect(check.test(value), JSON.stringify(value)).toBe(true);
    }
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
    expect(check.test(value)).toBe(false);
  });

  it('throws where a getter throws, so that the caller can take the guarded walk', () => {
    const hostile = {
      get boom(): never {
        throw new Error('no');
      },
    };
    expect(() => check.test([hostile])).toThrow('no');
    expect(check.test([1])).toBe(true);
  });
});

describe('encode: the JSON.stringify fast path', () => {
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
