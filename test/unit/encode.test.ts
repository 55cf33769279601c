import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/record/decode';
import { createEncoder, type EncoderOptions } from '../../src/record/encode';

const encoder = createEncoder();
const encode = (v: unknown) => encoder.encode(v);
const parsed = (v: unknown, options?: Partial<EncoderOptions>) => JSON.parse((options ? createEncoder(options) : encoder).encode(v));
const roundTrip = (v: unknown) => decode(JSON.parse(encode(v)));

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  get length() {
    return Math.hypot(this.x, this.y);
  }
}

describe('encode: JSON-native values', () => {
  it('writes them exactly as JSON.stringify does', () => {
    const value = {
      a: null,
      b: [true, false, 0, 1.5, -7, 1e21, 5e-7, ''],
      c: { nested: { deeper: ['x', { y: 'z' }] } },
      quote: 'say "hi"\\ and \n\t\u0001 done',
      unicode: 'héllo wörld ✓ 😀',
      lone: 'a\ud800b',
      'key "with" quotes\n': 1,
      '': 'empty key',
      '10': 'integer-like key',
    };
    expect(encode(value)).toBe(JSON.stringify(value));
    const bare = Object.assign(Object.create(null), { a: 1, b: 'two' });
    expect(encode(bare)).toBe('{"a":1,"b":"two"}');
    expect(encode([])).toBe('[]');
    expect(encode({})).toBe('{}');
  });

  it('writes long number arrays natively and still tags what JSON cannot hold', () => {
    const vector = Array.from({ length: 40 }, (_, i) => i / 7 - 2);
    expect(encode(vector)).toBe(JSON.stringify(vector));
    const withNaN = [...vector, NaN];
    expect(parsed(withNaN)[40]).toEqual({ $type: 'number', value: 'NaN' });
    const withNegZero = [...vector, -0];
    expect(parsed(withNegZero)[40]).toEqual({ $type: 'number', value: '-0' });
  });
});

describe('encode: tagged shapes', () => {
  const cases: Array<[string, unknown, string]> = [
    ['undefined', undefined, '{"$type":"undefined"}'],
    ['bigint', 123n, '{"$type":"bigint","value":"123"}'],
    ['negative bigint', -9007199254740993n, '{"$type":"bigint","value":"-9007199254740993"}'],
    ['NaN', NaN, '{"$type":"number","value":"NaN"}'],
    ['Infinity', Infinity, '{"$type":"number","value":"Infinity"}'],
    ['-Infinity', -Infinity, '{"$type":"number","value":"-Infinity"}'],
    ['-0', -0, '{"$type":"number","value":"-0"}'],
    ['Date', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)), '{"$type":"Date","value":"2024-01-02T03:04:05.006Z"}'],
    ['invalid Date', new Date(NaN), '{"$type":"Date","value":null}'],
    ['Map', new Map<unknown, unknown>([['a', 1], [2, { b: 3 }]]), '{"$type":"Map","entries":[["a",1],[2,{"b":3}]]}'],
    ['Set', new Set([1, 'two', [3]]), '{"$type":"Set","values":[1,"two",[3]]}'],
    ['RegExp', /a\/b"c/gi, '{"$type":"RegExp","source":"a\\\\/b\\"c","flags":"gi"}'],
    ['URL', new URL('https://example.com/a?b=1#c'), '{"$type":"URL","value":"https://example.com/a?b=1#c"}'],
    ['Buffer', Buffer.from('hello'), '{"$type":"Buffer","base64":"aGVsbG8="}'],
    ['Uint8Array', new Uint8Array([1, 2, 255]), '{"$type":"Uint8Array","base64":"AQL/"}'],
    ['Float64Array', new Float64Array([1.5]), '{"$type":"Float64Array","base64":"AAAAAAAA+D8="}'],
    ['view on part of a buffer', new Uint16Array(new Uint8Array([9, 9, 1, 0, 2, 0]).buffer, 2, 2), '{"$type":"Uint16Array","base64":"AQACAA=="}'],
    ['ArrayBuffer', new Uint8Array([7, 8]).buffer, '{"$type":"ArrayBuffer","base64":"Bwg="}'],
    ['DataView', new DataView(new Uint8Array([1, 2, 3]).buffer, 1), '{"$type":"DataView","base64":"AgM="}'],
    ['Symbol', Symbol('tag'), '{"$type":"Symbol","description":"tag"}'],
    ['Symbol without description', Symbol(), '{"$type":"Symbol"}'],
    ['Promise', Promise.resolve(1), '{"$type":"Promise"}'],
    ['WeakMap', new WeakMap(), '{"$type":"WeakMap"}'],
    ['WeakSet', new WeakSet(), '{"$type":"WeakSet"}'],
    ['WeakRef', new WeakRef({}), '{"$type":"WeakRef"}'],
    ['object with $type', { $type: 'Map', entries: [] }, '{"$type":"Object","value":{"$type":"Map","entries":[]}}'],
    ['class instance', new Point(1, 2), '{"$type":"Object","class":"Point","value":{"x":1,"y":2}}'],
    ['boxed string', Object('abc'), '"abc"'],
    ['boxed number met twice', [Object(1), 'x'].map((_, i, all) => all[0]), '[1,1]'],
  ];
  it.each(cases)('%s', (_name, value, expected) => {
    expect(encode(value)).toBe(expected);
  });

  it('keeps properties whose value is undefined, and undefined array elements', () => {
    expect(encode({ a: undefined, b: 1 })).toBe('{"a":{"$type":"undefined"},"b":1}');
    // A hole reads as undefined, as it does for the app.
    expect(encode([undefined, , 3])).toBe('[{"$type":"undefined"},{"$type":"undefined"},3]');
  });

  it('writes errors with name, message, stack, class, cause and own props', () => {
    const cause = new Error('inner');
    const error = Object.assign(new TypeError('outer', { cause }), { code: 'E_BAD', status: 400 });
    const out = parsed(error);
    expect(out).toEqual({
      $type: 'Error',
      name: 'TypeError',
      message: 'outer',
      stack: error.stack,
      class: 'TypeError',
      cause: { $type: 'Error', name: 'Error', message: 'inner', stack: cause.stack, class: 'Error' },
      props: { code: 'E_BAD', status: 400 },
    });
    expect(Object.keys(out)).toEqual(['$type', 'name', 'message', 'stack', 'class', 'cause', 'props']);
  });

  it('names the class of an error subclass, and leaves out cause and props when there are none', () => {
    class ValidationError extends Error {}
    const out = parsed(new ValidationError('bad input'));
    expect(out.class).toBe('ValidationError');
    expect(out.name).toBe('Error');
    expect(Object.keys(out)).toEqual(['$type', 'name', 'message', 'stack', 'class']);
  });

  it('writes functions and classes as callable markers', () => {
    function onToken() {}
    const value = { onToken, arrow: () => 1, anon: [function () {}][0], cls: Point, bound: onToken.bind(null), method: { run() {} }.run };
    expect(parsed(value)).toEqual({
      onToken: '<callable:onToken>',
      arrow: '<callable:arrow>',
      anon: '<callable:anonymous>',
      cls: '<callable:Point>',
      bound: '<callable:bound onToken>',
      method: '<callable:run>',
    });
    expect(encode(async function* gen() {})).toBe('"<callable:gen>"');
  });
});

describe('encode: references', () => {
  it('writes a cycle as a ref to the root', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(encode(a)).toBe('{"name":"a","self":{"$type":"ref","path":[]}}');
  });

  it('writes the path of the first occurrence: keys as strings, indexes as numbers', () => {
    const shared = { id: 1 };
    const value = { list: [{ x: shared }], again: shared, deep: { more: [0, shared] } };
    expect(parsed(value)).toEqual({
      list: [{ x: { id: 1 } }],
      again: { $type: 'ref', path: ['list', 0, 'x'] },
      deep: { more: [0, { $type: 'ref', path: ['list', 0, 'x'] }] },
    });
  });

  it('steps through tagged nodes by their own fields', () => {
    const k = { k: 1 };
    const v = { v: 2 };
    const s = { s: 3 };
    const inner = { i: 4 };
    const p = new Point(1, 2);
    const escaped = { $type: 'x', inner };
    const error = Object.assign(new Error('e'), { detail: { d: 5 } });
    const value = [new Map([[k, v]]), new Set([s]), escaped, { p }, error, [k, v, s, inner, error.detail]];
    const refs = parsed(value)[5];
    expect(refs).toEqual([
      { $type: 'ref', path: [0, 'entries', 0, 0] },
      { $type: 'ref', path: [0, 'entries', 0, 1] },
      { $type: 'ref', path: [1, 'values', 0] },
      { $type: 'ref', path: [2, 'value', 'inner'] },
      { $type: 'ref', path: [4, 'props', 'detail'] },
    ]);
    expect(parsed([new Error('x', { cause: k }), k])[1]).toEqual({ $type: 'ref', path: [0, 'cause'] });
    expect(parsed([p, p])[1]).toEqual({ $type: 'ref', path: [0] });
  });
});

describe('encode + decode: round trip', () => {
  const values: Array<[string, unknown]> = [
    ['primitives', [null, true, false, 0, -1.25, 'text', '', 1e300]],
    ['undefined', undefined],
    ['undefined in arrays and objects', { a: undefined, list: [1, undefined, 3], nested: { u: undefined } }],
    ['bigint', [0n, 12345678901234567890n, -5n]],
    ['special numbers', [NaN, Infinity, -Infinity]],
    ['dates', [new Date(0), new Date('2024-05-06T07:08:09.010Z')]],
    ['maps', new Map<unknown, unknown>([['a', { b: [1, 2] }], [{ key: 'object' }, new Map([[1, 2]])], [undefined, null]])],
    ['sets', new Set<unknown>([1, 'a', { b: 2 }, new Set([3])])],
    ['regexps', [/a.b/g, /[/\]]+/imsu, /x/y]],
    ['urls', [new URL('https://example.com:8080/p?q=1#h'), new URL('file:///tmp/x')]],
    ['escaped objects', { $type: 'Date', value: 'not a date', inner: { $type: 'ref', path: [] } }],
    ['escaped object in array', [{ $type: undefined }, { $type: 1 }]],
    ['nested tags', { when: [new Date(5)], map: new Map([['set', new Set([10n])]]) }],
  ];
  it.each(values)('%s', (_name, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('-0', () => {
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Object.is((roundTrip([-0, 0]) as number[])[0], -0)).toBe(true);
    expect(Object.is((roundTrip([-0, 0]) as number[])[1], 0)).toBe(true);
  });

  it('undefined where an array had holes', () => {
    const out = roundTrip([1, , 3]) as unknown[];
    expect(out).toHaveLength(3);
    expect(1 in out).toBe(true);
    expect(out[1]).toBeUndefined();
  });

  it('buffers, typed arrays of the right class, ArrayBuffer and DataView', () => {
    const out = roundTrip({
      buffer: Buffer.from([1, 2, 3]),
      u8: new Uint8Array([4, 5]),
      clamped: new Uint8ClampedArray([6]),
      i16: new Int16Array([-2, 300]),
      f32: new Float32Array([1.5, -2.25]),
      f64: new Float64Array([Math.PI]),
      big: new BigInt64Array([-3n]),
      ubig: new BigUint64Array([2n ** 64n - 1n]),
      ab: new Uint8Array([9, 8]).buffer,
      dv: new DataView(new Uint8Array([7, 6, 5]).buffer),
    }) as Record<string, unknown>;
    expect(Buffer.isBuffer(out.buffer)).toBe(true);
    expect(out.buffer).toEqual(Buffer.from([1, 2, 3]));
    expect(out.u8).toEqual(new Uint8Array([4, 5]));
    expect(out.clamped).toEqual(new Uint8ClampedArray([6]));
    expect(out.i16).toEqual(new Int16Array([-2, 300]));
    expect(out.f32).toEqual(new Float32Array([1.5, -2.25]));
    expect(out.f64).toEqual(new Float64Array([Math.PI]));
    expect(out.big).toEqual(new BigInt64Array([-3n]));
    expect(out.ubig).toEqual(new BigUint64Array([2n ** 64n - 1n]));
    expect(out.ab).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(out.ab as ArrayBuffer)]).toEqual([9, 8]);
    expect(out.dv).toBeInstanceOf(DataView);
    expect((out.dv as DataView).getUint8(2)).toBe(5);
  });

  it('errors: built-in class, name, message, stack, cause and props', () => {
    const error = Object.assign(new RangeError('too far', { cause: new Error('root') }), { code: 'E_RANGE' });
    const out = roundTrip(error) as RangeError & { code: string };
    expect(out).toBeInstanceOf(RangeError);
    expect(out).toEqual(error);
    expect(out.message).toBe('too far');
    expect(out.name).toBe('RangeError');
    expect(out.stack).toBe(error.stack);
    expect(out.code).toBe('E_RANGE');
    expect((out.cause as Error).message).toBe('root');
    expect(Object.keys(out)).toEqual(['code']);
  });

  it('errors of custom classes come back as Error with their name', () => {
    class HttpError extends Error {
      override name = 'HttpError';
      constructor(public status: number) {
        super(`status ${status}`);
      }
    }
    const out = roundTrip(new HttpError(404)) as Error & { status: number };
    expect(out).toBeInstanceOf(Error);
    expect(out.name).toBe('HttpError');
    expect(out.message).toBe('status 404');
    expect(out.status).toBe(404);
    const aggregate = roundTrip(new AggregateError([new TypeError('a')], 'many')) as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors).toEqual([new TypeError('a')]);
    expect(Object.keys(aggregate)).toEqual([]);
  });

  it('class instances come back as plain objects of their data', () => {
    const out = roundTrip({ p: new Point(3, 4) }) as { p: unknown };
    expect(out.p).toEqual({ x: 3, y: 4 });
    expect(Object.getPrototypeOf(out.p)).toBe(Object.prototype);
  });

  it('callables stay markers; Symbol, Promise and Weak* markers stay as they are', () => {
    expect(roundTrip({ f: () => 1 })).toEqual({ f: '<callable:f>' });
    expect(roundTrip([Symbol('s'), Promise.resolve(), new WeakMap()])).toEqual([
      { $type: 'Symbol', description: 's' },
      { $type: 'Promise' },
      { $type: 'WeakMap' },
    ]);
  });

  it('cycles and shared references, with identity', () => {
    const shared = { tag: 'shared' };
    const root: Record<string, unknown> = { a: shared, list: [shared, { b: shared }] };
    root.self = root;
    (root.list as unknown[]).push(root.list);
    const map = new Map<unknown, unknown>([[shared, root]]);
    const set = new Set<unknown>([shared, map]);
    root.map = map;
    root.set = set;
    const out = roundTrip(root) as typeof root & { list: unknown[]; map: Map<unknown, unknown>; set: Set<unknown> };
    expect(out).toEqual(root);
    expect(out.self).toBe(out);
    expect(out.list[0]).toBe(out.a);
    expect((out.list[1] as { b: unknown }).b).toBe(out.a);
    expect(out.list[2]).toBe(out.list);
    expect([...out.map.keys()][0]).toBe(out.a);
    expect(out.map.get(out.a)).toBe(out);
    expect(out.set.has(out.a)).toBe(true);
    expect(out.set.has(out.map)).toBe(true);
  });

  it('cycles through maps, errors, class instances and escaped objects', () => {
    const map = new Map<string, unknown>();
    map.set('me', map);
    const error = new Error('loop') as Error & { self?: unknown };
    error.self = error;
    const point = new Point(1, 2) as Point & { again?: unknown };
    point.again = point;
    const escaped: Record<string, unknown> = { $type: 'mine' };
    escaped.self = escaped;
    const out = roundTrip([map, error, point, escaped]) as [Map<string, unknown>, Error & { self: unknown }, { again: unknown }, { self: unknown }];
    expect(out[0].get('me')).toBe(out[0]);
    expect(out[1].self).toBe(out[1]);
    expect(out[2].again).toBe(out[2]);
    expect(out[3].self).toBe(out[3]);
    expect(out[3]).toHaveProperty('$type', 'mine');
  });

  it('an error that is its own cause', () => {
    const error = new Error('self-caused');
    (error as { cause?: unknown }).cause = error;
    const out = roundTrip(error) as Error;
    expect(out.cause).toBe(out);
  });
});

describe('encode: caps', () => {
  it('cuts objects deeper than maxDepth, naming their class', () => {
    const value = { l1: { l2: { l3: [new Map(), new Point(0, 0), {}] } } };
    // The value given to encode is at depth 0, and always written.
    expect(parsed(value, { maxDepth: 0 })).toEqual({ l1: { $type: 'Truncated', reason: 'depth', class: 'Object' } });
    expect(parsed(value, { maxDepth: 1 })).toEqual({ l1: { l2: { $type: 'Truncated', reason: 'depth', class: 'Object' } } });
    expect(parsed(value, { maxDepth: 2 })).toEqual({ l1: { l2: { l3: { $type: 'Truncated', reason: 'depth', class: 'Array' } } } });
    expect(parsed(value, { maxDepth: 3 }).l1.l2.l3).toEqual([
      { $type: 'Truncated', reason: 'depth', class: 'Map' },
      { $type: 'Truncated', reason: 'depth', class: 'Point' },
      { $type: 'Truncated', reason: 'depth', class: 'Object' },
    ]);
    // Primitives at the cut are still written.
    expect(parsed({ a: { b: 1 } }, { maxDepth: 1 })).toEqual({ a: { b: 1 } });
    // A Map's keys and values are one level below it.
    expect(parsed(new Map([['k', { v: 1 }]]), { maxDepth: 0 })).toEqual({ $type: 'Map', entries: [['k', { $type: 'Truncated', reason: 'depth', class: 'Object' }]] });
    expect(parsed(new Map([['k', { v: 1 }]]), { maxDepth: 1 })).toEqual({ $type: 'Map', entries: [['k', { v: 1 }]] });
  });

  it('cuts long arrays, Maps and Sets, counting what it left out', () => {
    const options = { maxArrayLength: 2 };
    expect(parsed([1, 2, 3, 4, 5], options)).toEqual([1, 2, { $type: 'Truncated', reason: 'array_length', omitted: 3 }]);
    expect(parsed(new Map([[1, 'a'], [2, 'b'], [3, 'c']]), options)).toEqual({
      $type: 'Map',
      entries: [[1, 'a'], [2, 'b'], { $type: 'Truncated', reason: 'array_length', omitted: 1 }],
    });
    expect(parsed(new Set([1, 2, 3, 4]), options)).toEqual({
      $type: 'Set',
      values: [1, 2, { $type: 'Truncated', reason: 'array_length', omitted: 2 }],
    });
    expect(parsed([1, 2], options)).toEqual([1, 2]);
    expect(parsed([1], { maxArrayLength: 0 })).toEqual([{ $type: 'Truncated', reason: 'array_length', omitted: 1 }]);
    const longVector = Array.from({ length: 30 }, (_, i) => i + 0.5);
    expect(parsed(longVector, { maxArrayLength: 20 })).toHaveLength(21);
  });

  it('cuts long strings, counting what it left out', () => {
    expect(parsed('abcdefghij', { maxStringLength: 4 })).toBe('abcd…[truncated 6 chars]');
    expect(parsed('abcd', { maxStringLength: 4 })).toBe('abcd');
    // Never half a surrogate pair.
    expect(parsed('ab😀cd', { maxStringLength: 3 })).toBe('ab…[truncated 4 chars]');
  });

  it('masks a secret that spans the cut', () => {
    const key = `sk-${'a'.repeat(40)}`;
    const out = parsed(`${'x'.repeat(9)} ${key}`, { maxStringLength: 20 }) as string;
    expect(out).toBe(`${'x'.repeat(9)} ***…[truncated 33 chars]`);
    expect(out).not.toContain('sk-aaa');
  });

  it('keeps the markers through decode', () => {
    const text = createEncoder({ maxArrayLength: 1, maxDepth: 1 }).encode({ list: [1, 2], deep: { deeper: {} } });
    expect(decode(JSON.parse(text))).toEqual({
      list: [1, { $type: 'Truncated', reason: 'array_length', omitted: 1 }],
      deep: { deeper: { $type: 'Truncated', reason: 'depth', class: 'Object' } },
    });
  });
});

describe('encode: redaction', () => {
  it('masks the values of sensitive keys at any depth', () => {
    const value = {
      password: 'hunter2',
      user: { name: 'ann', apiKey: 'k', profile: { accessToken: { nested: 'object' }, max_tokens: 10 } },
      list: [{ client_secret: 's', id: 1 }],
      point: Object.assign(new Point(1, 2), { authToken: 'instance prop' }),
      error: Object.assign(new Error('e'), { credentials: 'c', code: 'X' }),
      map: new Map<unknown, unknown>([['Authorization', 'Basic abc'], ['plain', 'kept'], [1, 'number key']]),
    };
    const out = parsed(value);
    expect(out.password).toBe('***');
    expect(out.user).toEqual({ name: 'ann', apiKey: '***', profile: { accessToken: '***', max_tokens: 10 } });
    expect(out.list).toEqual([{ client_secret: '***', id: 1 }]);
    expect(out.point.value).toEqual({ x: 1, y: 2, authToken: '***' });
    expect(out.error.props).toEqual({ credentials: '***', code: 'X' });
    expect(out.map.entries).toEqual([['Authorization', '***'], ['plain', 'kept'], [1, 'number key']]);
  });

  it('keeps callables under sensitive keys as markers', () => {
    function token() {}
    expect(parsed({ token, onAuth: () => 1 })).toEqual({ token: '<callable:token>', onAuth: '<callable:onAuth>' });
  });

  it('masks an object met again elsewhere after it was masked', () => {
    const secret = { user: 'u', pass: 'p' };
    expect(parsed({ auth: secret, copy: secret })).toEqual({ auth: '***', copy: '***' });
  });

  it('masks secrets inside string values and keys', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const value = { note: `header was Bearer ${jwt}`, [jwt]: 'value kept', list: [`sk-proj-${'A1'.repeat(12)}`], url: new URL('https://bob:pw@example.com/x') };
    expect(parsed(value)).toEqual({
      note: 'header was Bearer ***',
      '***': 'value kept',
      list: ['***'],
      url: { $type: 'URL', value: 'https://***@example.com/x' },
    });
  });

  it('applies configured keys and patterns', () => {
    const out = parsed({ userSsn: '123', session_id: 'abc', note: 'order ORD-12345 shipped' }, { redactKeys: ['ssn', 'sessionId'], redactPatterns: ['ORD-\\d+'] });
    expect(out).toEqual({ userSsn: '***', session_id: '***', note: 'order *** shipped' });
  });
});

describe('encode: the secrets of issue 16', () => {
  const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----';
  const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  // The part of each secret below that must not reach the text.
  const LEAKS = [
    'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
    '51HxYzAbCdEfGhIjKlMn',
    'dXNlcjpwYXNzd29yZA',
    AWS_SECRET,
    'qS3cr3tQ',
    'Pa55word',
    'AbCdEfGhIjKlMnOpQrStUvWxYz',
    'T0000/B0000/XXXXXXXX',
    'p@ss@db',
    'Proj4Key9Abc_Def-Ghi',
    'pk-secret-value',
  ];
  const expectNoLeak = (text: string) => {
    for (const leak of LEAKS) expect(text, leak).not.toContain(leak);
  };

  it('masks every key the issue lists, and keeps the keys an agent needs', () => {
    const keys = ['privateKey', 'private_key', 'session', 'pwd', 'pass', 'dsn', 'signing_key', 'secrets', 'passwords', 'api_keys', 'apiKeys', 'credentials'];
    const kept = { max_tokens: 64, sessionId: 's-1', tokenizer: 'cl100k', keyboard: 'qwerty', author: 'ann', token_count: 12, prompt_tokens: 3, passage: 'p', compass: 'n' };
    const value = { ...Object.fromEntries(keys.map((k) => [k, `pk-secret-value-${k}`])), ...kept };
    const text = encode(value);
    expectNoLeak(text);
    expect(JSON.parse(text)).toEqual({ ...Object.fromEntries(keys.map((k) => [k, '***'])), ...kept });
    // A whole object under a secret-named key goes.
    expect(parsed({ session: { user: 'ann', cookie: { id: 1 } } })).toEqual({ session: '***' });
  });

  it('keeps undefined, null and empty strings under secret-named keys as they were', () => {
    const value = { password: undefined, token: null, apiKey: '', secret: 'x', auth: { pass: '' } };
    const text = encode(value);
    expect(text).toBe('{"password":{"$type":"undefined"},"token":null,"apiKey":"","secret":"***","auth":"***"}');
    const back = decode(JSON.parse(text)) as Record<string, unknown>;
    expect('password' in back).toBe(true);
    expect(back).toEqual({ password: undefined, token: null, apiKey: '', secret: '***', auth: '***' });
    // In an instance, a Map and a pair too.
    class Config {
      apiKey = undefined;
      token = null;
    }
    expect(parsed(new Config()).value).toEqual({ apiKey: { $type: 'undefined' }, token: null });
    expect(parsed(new Map([['password', ''], ['token', null]])).entries).toEqual([['password', ''], ['token', null]]);
    expect(parsed([['Authorization', ''], ['Cookie', 'a=b']])).toEqual([['Authorization', ''], ['Cookie', '***']]);
  });

  it('keeps a number under a token key, which is a count, in plain text', () => {
    const value = { meta: { tokens: 20, model: 'm' }, usage: { total_tokens: 30 } };
    expect(encode(value)).toBe(JSON.stringify(value));
    expect(parsed({ tokens: 'ghx-opaque-value' })).toEqual({ tokens: '***' });
  });

  it('masks the secret shapes in strings at any depth', () => {
    const value = {
      pem: PEM,
      stripe: ['sk_live_51HxYzAbCdEfGhIjKlMn', 'rk_test_51HxYzAbCdEfGhIjKlMn'],
      header: 'Authorization: Basic dXNlcjpwYXNzd29yZA==',
      aws: { text: `aws_secret_access_key=${AWS_SECRET}` },
      query: 'https://api.example.com/v1/x?api_key=qS3cr3tQ&access_token=qS3cr3tQ&q=1',
      ado: 'Server=db;User Id=app;Password=Pa55word here;',
      libpq: 'host=db password=Pa55word dbname=app',
      json: '{"api_key": "qS3cr3tQ", "model": "gpt-4o"}',
      registries: 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567 npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789FAKE',
      slack: 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXX',
      database: 'postgres://app:p@ss@db.internal:5432/app',
      error: new Error('401 from upstream: key sk-proj-Proj4Key9Abc_Def-Ghi rejected'),
    };
    const text = encode(value);
    expectNoLeak(text);
    const out = JSON.parse(text);
    expect(out.pem).toBe('-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----');
    expect(out.stripe).toEqual(['***', '***']);
    expect(out.header).toBe('Authorization: Basic ***');
    expect(out.aws.text).toBe('aws_secret_access_key=***');
    expect(out.query).toBe('https://api.example.com/v1/x?api_key=***&access_token=***&q=1');
    expect(out.ado).toBe('Server=db;User Id=app;Password=***;');
    expect(out.libpq).toBe('host=db password=*** dbname=app');
    expect(out.json).toBe('{"api_key": "***", "model": "gpt-4o"}');
    expect(out.registries).toBe('*** ***');
    expect(out.slack).toBe('https://hooks.slack.com/services/***');
    expect(out.database).toBe('postgres://***@db.internal:5432/app');
    expect(out.error.message).toBe('401 from upstream: key *** rejected');
  });

  it('masks object keys that are secrets, unique within their object, with references to them by the masked name', () => {
    const client = { name: 'openai' };
    const a = 'sk-proj-Proj4Key9Abc_Def-Ghi';
    const b = 'sk-proj-Proj4Key9Abc_Def-Ghi-two';
    const value = { [a]: client, [b]: 2, again: client };
    const text = encode(value);
    expectNoLeak(text);
    expect(JSON.parse(text)).toEqual({ '***': { name: 'openai' }, '***#2': 2, again: { $type: 'ref', path: ['***'] } });
    const back = decode(JSON.parse(text)) as Record<string, unknown>;
    expect(back.again).toBe(back['***']);
    // In a class instance (the careful walk's members), an error's props and an emitter's data too.
    class Clients {
      [a] = 1;
    }
    expect(parsed(new Clients()).value).toEqual({ '***': 1 });
    expect(parsed(Object.assign(new Error('e'), { [a]: 1 })).props).toEqual({ '***': 1 });
    const emitter = Object.assign(new EventEmitter(), { [a]: 'x' });
    expect(parsed(emitter).value).toEqual({ '***': 'x' });
    // A key whose secret is only a part keeps the rest.
    expect(Object.keys(parsed({ 'Bearer abcdefgh12345': 1 }))).toEqual(['Bearer ***']);
  });

  it('masks the value of a secret-named [name, value] pair and of flat header lists', () => {
    const headers = [
      ['Authorization', 'Basic dXNlcjpwYXNzd29yZA=='],
      ['X-Api-Key', 'qS3cr3tQ'],
      ['Content-Type', 'application/json'],
    ];
    const raw = ['Host', 'example.com', 'authorization', 'Bearer qS3cr3tQ-long', 'Cookie', 'sid=qS3cr3tQ', 'Accept', '*/*'];
    const text = encode({ headers, raw });
    expectNoLeak(text);
    expect(JSON.parse(text)).toEqual({
      headers: [
        ['Authorization', '***'],
        ['X-Api-Key', '***'],
        ['Content-Type', 'application/json'],
      ],
      raw: ['Host', 'example.com', 'authorization', '***', 'Cookie', '***', 'Accept', '*/*'],
    });
    // Odd lengths, names with spaces and names at odd indexes are no pairs.
    const kept = [['token', 'a', 'b'], ['my password', 'x'], ['a', 'password', 'x', 'y'], ['max_tokens', '100']];
    expect(parsed(kept)).toEqual(kept);
    // A Map's entries are pairs of their own kind, masked by key as before.
    expect(parsed(new Map([['apiKey', 'qS3cr3tQ']])).entries).toEqual([['apiKey', '***']]);
  });

  it('overwrites secrets in Buffers and typed arrays byte for byte, and decodes them back', () => {
    const secret = 'Authorization: Bearer qS3cr3tQ-long\r\napi_key=qS3cr3tQ;';
    const masked = `Authorization: Bearer ${'*'.repeat('qS3cr3tQ-long'.length)}\r\napi_key=********;`;
    const buffer = Buffer.from(secret);
    const bytes = new Uint8Array(Buffer.from(secret));
    // An even number of bytes, as a Uint16Array needs; masking keeps it so.
    const wide = new Uint16Array(new Uint8Array(Buffer.from(`${secret}xy`.slice(0, secret.length + (secret.length % 2)))).buffer);
    const text = encode({ buffer, bytes, wide, array: bytes.buffer, view: new DataView(bytes.buffer) });
    expectNoLeak(text);
    expect(text).not.toContain(Buffer.from('qS3cr3tQ').toString('base64').slice(0, 8));
    const back = decode(JSON.parse(text)) as { buffer: Buffer; bytes: Uint8Array; wide: Uint16Array; array: ArrayBuffer; view: DataView };
    expect(back.buffer.toString()).toBe(masked);
    expect(Buffer.from(back.bytes).toString()).toBe(masked);
    expect(back.wide).toBeInstanceOf(Uint16Array);
    expect(back.wide.length).toBe(wide.length);
    expect(Buffer.from(back.wide.buffer).toString()).toBe(`${masked}xy`.slice(0, masked.length + (masked.length % 2)));
    expect(Buffer.from(back.array).toString()).toBe(masked);
    expect(back.view.byteLength).toBe(bytes.length);
    // Clean and binary bytes are written as they are.
    const clean = Buffer.from('hello world, nothing here');
    const binary = Buffer.from([0xff, 0x00, 0x81, ...Buffer.from(' sk-proj-Proj4Key9Abc_Def-Ghi')]);
    expect(parsed({ clean, binary })).toEqual({ clean: { $type: 'Buffer', base64: clean.toString('base64') }, binary: { $type: 'Buffer', base64: binary.toString('base64') } });
    // Configured patterns apply too.
    const custom = JSON.parse(createEncoder({ redactPatterns: ['ORD-\\d+'] }).encode(Buffer.from('order ORD-12345 shipped')));
    expect(Buffer.from(custom.base64, 'base64').toString()).toBe('order ********* shipped');
  });

  it('masks the query values and the password of a URL object', () => {
    const url = new URL('https://user:p@ss@api.example.com/v1?api_key=qS3cr3tQ&q=1#top');
    expect(url.password).toBe('p%40ss');
    const text = encode({ url });
    expect(text).not.toContain('qS3cr3tQ');
    expect(text).not.toContain('p%40ss');
    expect(JSON.parse(text)).toEqual({ url: { $type: 'URL', value: 'https://***@api.example.com/v1?api_key=***&q=1#top' } });
  });

  it('applies the same rules in careful mode', () => {
    const value = {
      get broken(): never {
        throw new Error('getter failed, token=qS3cr3tQ');
      },
      ['sk-proj-Proj4Key9Abc_Def-Ghi']: 1,
      pair: ['Authorization', 'Basic dXNlcjpwYXNzd29yZA=='],
      password: '',
      tokens: 5,
      pwd: 'Pa55word',
    };
    const text = encode(value);
    expectNoLeak(text);
    expect(JSON.parse(text)).toEqual({
      broken: { $type: 'Unreadable', reason: 'getter failed, token=***' },
      '***': 1,
      pair: ['Authorization', '***'],
      password: '',
      tokens: 5,
      pwd: '***',
    });
  });

  it('leaves to the walk what the plain writer cannot mask, and masks the rest as the walk does', () => {
    const plain = createEncoder().plainWriter();
    expect(plain.text({ ['sk-proj-Proj4Key9Abc_Def-Ghi']: 1 })).toBeUndefined();
    expect(plain.text([['Authorization', 'x']])).toBeUndefined();
    expect(plain.text({ password: { hash: 'abc' } })).toBeUndefined();
    expect(plain.text({ tokens: 'abc' })).toBe('{"tokens":"***"}');
    expect(plain.text({ password: 'abc', note: 'key sk-proj-Proj4Key9Abc_Def-Ghi' })).toBe('{"password":"***","note":"key ***"}');
    expect(plain.text({ tokens: 20, pair: ['name', 'value'] })).toBe('{"tokens":20,"pair":["name","value"]}');
  });
});

describe('encode: unreadable values', () => {
  it('writes a throwing getter as Unreadable and keeps the rest', () => {
    const value = {
      before: 1,
      get broken(): never {
        throw new Error('getter failed');
      },
      after: [2],
    };
    expect(encode(value)).toBe('{"before":1,"broken":{"$type":"Unreadable","reason":"getter failed"},"after":[2]}');
  });

  it('writes hostile proxies as Unreadable and never throws', () => {
    const trap = () => {
      throw new Error('trap');
    };
    const keys = new Proxy({}, { ownKeys: trap });
    const proto = new Proxy({}, { getPrototypeOf: trap });
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    const items = new Proxy([1, 2], { get: (target, key) => (key === '1' ? trap() : Reflect.get(target, key)) });
    expect(parsed({ keys, proto, revoked, items, ok: true })).toEqual({
      keys: { $type: 'Unreadable', reason: 'trap' },
      proto: { $type: 'Unreadable', reason: 'trap' },
      revoked: { $type: 'Unreadable', reason: expect.stringContaining('revoked') },
      items: [1, { $type: 'Unreadable', reason: 'trap' }],
      ok: true,
    });
  });

  it('reports what was thrown even when it is not an Error', () => {
    const value = {
      get x(): never {
        throw 'plain string';
      },
    };
    expect(parsed(value)).toEqual({ x: { $type: 'Unreadable', reason: 'plain string' } });
  });

  it('is safe to call again from a getter it runs', () => {
    const inner = { v: 1 };
    const value = {
      get x() {
        return encode(inner);
      },
      y: 2,
    };
    expect(parsed(value)).toEqual({ x: '{"v":1}', y: 2 });
    expect(encode(value)).toBe('{"x":"{\\"v\\":1}","y":2}');
  });
});

describe('encode: emitters', () => {
  class Connection extends EventEmitter {
    _buffer = Buffer.alloc(8);
    readyState = 'open';
    remotePort = 443;
    socket = new EventEmitter();
    server = { big: 'back-reference' };
    chunk = Buffer.from('raw');
    handler = () => 1;
    missing = undefined;
    token = 'tok_123';
    meta = { retries: 2 };
    connect() {}
    write() {}
    _internal() {}
  }

  it('keeps public data and method names, and drops machinery', () => {
    const out = parsed(new Connection());
    expect(out.$type).toBe('Emitter');
    expect(out.class).toBe('Connection');
    expect(out.value).toEqual({ readyState: 'open', remotePort: 443, token: '***', meta: { retries: 2 } });
    expect(out.methods).toContain('connect');
    expect(out.methods).toContain('write');
    expect(out.methods).toContain('emit');
    expect(out.methods).toContain('on');
    expect(out.methods).toContain('handler');
    expect(out.methods).not.toContain('_internal');
    expect(out.methods).not.toContain('constructor');
    expect(out.methods).toEqual([...out.methods].sort());
  });

  it('treats event targets as emitters, and caps the method list', () => {
    const target = new EventTarget();
    expect(parsed(target)).toEqual({ $type: 'Emitter', class: 'EventTarget', methods: ['addEventListener', 'dispatchEvent', 'removeEventListener'], value: {} });
    class Wide extends EventEmitter {}
    for (let i = 0; i < 250; i++) Object.defineProperty(Wide.prototype, `m${String(i).padStart(3, '0')}`, { value() {} });
    expect(parsed(new Wide()).methods).toHaveLength(200);
  });

  it('gives a real http.IncomingMessage as a small record', async () => {
    let seen: http.IncomingMessage | undefined;
    const text = await new Promise<string>((resolve, reject) => {
      const server = http.createServer((req, res) => {
        seen = req;
        resolve(encode(req));
        res.end();
        server.close();
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        const request = http.get({ host: '127.0.0.1', port, path: '/orders/7?expand=items', headers: { Authorization: 'Bearer abc.def.ghi.jkl', Cookie: 'sid=42', 'x-request-id': 'r1' } }, (res) => res.resume());
        request.on('error', reject);
      });
    });
    expect(text.length).toBeLessThan(1200);
    const out = JSON.parse(text);
    expect(out.$type).toBe('Emitter');
    expect(out.class).toBe('IncomingMessage');
    expect(out.value.method).toBe('GET');
    expect(out.value.url).toBe('/orders/7?expand=items');
    expect(out.value.httpVersion).toBe('1.1');
    expect(out.value.headers).toEqual({ authorization: '***', cookie: '***', 'x-request-id': 'r1', host: expect.any(String), connection: 'keep-alive' });
    expect(Object.keys(out.value).slice(0, 3)).toEqual(['method', 'url', 'headers']);
    for (const hidden of ['socket', 'client', 'rawHeaders', 'rawTrailers', '_readableState', '_events']) expect(out.value).not.toHaveProperty(hidden);
    expect(out.methods).toContain('on');
    expect(out.methods).toContain('setTimeout');

    // An Express request: the same object with more data and getters on its prototype.
    const req = seen!;
    const expressProto = Object.create(http.IncomingMessage.prototype, {
      query: { get: () => ({ expand: 'items' }) },
      ip: { get: () => '127.0.0.1' },
      hostname: { get: () => 'localhost' },
      protocol: { get: () => 'http' },
      path: { get: () => '/orders/7' },
      get: { value() {} },
    });
    Object.setPrototypeOf(req, expressProto);
    Object.assign(req, { params: { id: '7' }, body: { note: 'hi', password: 'pw' }, originalUrl: '/orders/7?expand=items', res: { big: true }, next() {} });
    const express = parsed(req);
    expect(express.value).toMatchObject({
      method: 'GET',
      url: '/orders/7?expand=items',
      originalUrl: '/orders/7?expand=items',
      path: '/orders/7',
      params: { id: '7' },
      query: { expand: 'items' },
      body: { note: 'hi', password: '***' },
      protocol: 'http',
      ip: '127.0.0.1',
      hostname: 'localhost',
    });
    expect(express.value).not.toHaveProperty('res');
    expect(express.methods).toContain('get');
    expect(express.methods).toContain('next');
    expect(JSON.stringify(express).length).toBeLessThan(1400);
  });

  it('decodes to the public data, or to what the emitter option makes', () => {
    const text = encode({ conn: new Connection() });
    expect(decode(JSON.parse(text))).toEqual({ conn: { readyState: 'open', remotePort: 443, token: '***', meta: { retries: 2 } } });
    const seen: unknown[] = [];
    const out = decode(JSON.parse(text), {
      emitter: (marker) => {
        seen.push(marker);
        return { stub: marker.class };
      },
    });
    expect(out).toEqual({ conn: { stub: 'Connection' } });
    expect(seen).toEqual([{ class: 'Connection', methods: expect.arrayContaining(['connect', 'write']), value: { readyState: 'open', remotePort: 443, token: '***', meta: { retries: 2 } } }]);
  });
});

describe('decode: untrusted input', () => {
  it('leaves references that lead nowhere, or to references, as they are', () => {
    const input = {
      self: { $type: 'ref', path: ['self'] },
      loop: [{ $type: 'ref', path: ['loop', 1] }, { $type: 'ref', path: ['loop', 0] }],
      missing: { $type: 'ref', path: ['nope', 3] },
      inherited: { $type: 'ref', path: ['constructor'] },
      bad: { $type: 'ref', path: 'x' },
    };
    expect(decode(input)).toEqual({
      self: { $type: 'ref', path: ['self'] },
      loop: [{ $type: 'ref', path: ['loop', 1] }, { $type: 'ref', path: ['loop', 0] }],
      missing: { $type: 'ref', path: ['nope', 3] },
      inherited: { $type: 'ref', path: ['constructor'] },
      bad: { $type: 'ref', path: 'x' },
    });
  });

  it('decodes a node a reference reaches before document order does, once', () => {
    const input = { a: { $type: 'ref', path: ['b'] }, b: { $type: 'Date', value: '2024-01-01T00:00:00.000Z' } };
    const out = decode(input) as { a: Date; b: Date };
    expect(out.a).toBeInstanceOf(Date);
    expect(out.a).toBe(out.b);
  });

  it('keeps an own __proto__ key as a key', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"x":1}');
    const out = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(out)).toEqual(['__proto__', 'x']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps markers whose data does not make a value', () => {
    const input = [
      { $type: 'bigint', value: 'not a number' },
      { $type: 'RegExp', source: '(', flags: '' },
      { $type: 'URL', value: 'not a url' },
      { $type: 'Float64Array', base64: 'AAA=' },
      { $type: 'number', value: '42' },
      { $type: 'SomethingNew', data: [1] },
    ];
    expect(decode(input)).toEqual(input);
  });

  it('does not change its input', () => {
    const input = JSON.parse(encode({ when: new Date(0), list: [1, { $type: 'x' }], m: new Map([[1, 2]]) }));
    const copy = structuredClone(input);
    decode(input);
    expect(input).toEqual(copy);
  });
});

describe('encode: an app that polluted Object.prototype', () => {
  it('records own keys only, as JSON.stringify does', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.injected = 'not yours';
    try {
      expect(createEncoder().encode({ a: 1, nested: { b: 'two' } })).toBe('{"a":1,"nested":{"b":"two"}}');
    } finally {
      delete proto.injected;
    }
    expect(createEncoder().encode({ a: 1 })).toBe('{"a":1}');
  });
});
