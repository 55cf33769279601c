import { describe, expect, it } from 'vitest';
import { createEncoder } from '../../src/record/encode';
import { KeyCache } from '../../src/record/keys';
import { NO_ROOM, NOT_PLAIN, PlainWriter, type Room } from '../../src/record/plain';
import { createRedactor } from '../../src/record/redact';
import { TextMemo } from '../../src/record/text-memo';

const redactor = createRedactor(['session id'], ['\\d{3}-\\d{2}-\\d{4}']);
const limits = { maxDepth: 3, maxArrayLength: 4, maxStringLength: 10, redactor, keys: new KeyCache(redactor) };
const writer = new PlainWriter(limits);
const walk = createEncoder({ maxDepth: 3, maxArrayLength: 4, maxStringLength: 10, redactKeys: ['session id'], redactPatterns: ['\\d{3}-\\d{2}-\\d{4}'] });

/** A room of a fixed size, which never grows. */
function fixedRoom(buffer: Buffer, limit: number): Room {
  return { buffer, limit, grow: () => -1 };
}

/**
 * A room that starts at `size` bytes and, each time it grows, moves to a new buffer at another
 * offset (as the recorder's does when its chunk is full), or grows in place every other time.
 */
function movingRoom(size: number): Room & { start: number } {
  const room = {
    buffer: Buffer.alloc(size + 3, '#'),
    start: 3,
    limit: 3 + size,
    moves: 0,
    grow(at: number, need: number): number {
      const bytes = Math.max(2 * (room.limit - room.start), at + need - room.start);
      if (room.moves++ % 2 === 1) {
        const grown = Buffer.alloc(room.start + bytes, '#');
        room.buffer.copy(grown, 0, 0, at);
        room.buffer = grown;
        room.limit = room.start + bytes;
        return at;
      }
      const start = room.start + 5;
      const moved = Buffer.alloc(start + bytes, '%');
      room.buffer.copy(moved, start, room.start, at);
      const shift = start - room.start;
      Object.assign(room, { buffer: moved, start, limit: start + bytes });
      return at + shift;
    },
  };
  return room;
}

/** What the writer puts in a buffer, as text, or its answer when it writes nothing. */
function written(value: unknown, room = 1 << 16): string | number {
  const buffer = Buffer.alloc(room + 8, '#');
  const end = writer.write(value, fixedRoom(buffer, 4 + room), 4);
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
      [2 ** 31 - 1, 2 ** 31, 1e8, 99_999_999],
      [1_700_000_000_123, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53 + 2],
      [1.5e-7, -0.25],
    ]) {
      expect(written(value), JSON.stringify(value)).toBe(JSON.stringify(value));
    }
  });

  it('copies long strings whole, printable ASCII or not, escaped or not', () => {
    const long = new PlainWriter({ ...limits, maxStringLength: 1000 });
    for (const s of [
      'a'.repeat(500),
      `${'b'.repeat(300)}"${'c'.repeat(300)}`,
      `${'d'.repeat(200)}ü`,
      `line one\nline "two"\t\\ ${'e'.repeat(70)}\u0001\u001f😀 日本`,
      // A lone surrogate, which JSON escapes, takes the loop rather than the escaper.
      `${'f'.repeat(70)}\ud800 and "quoted"`,
    ]) {
      const buffer = Buffer.alloc(2000);
      const end = long.write([s], fixedRoom(buffer, buffer.length), 0);
      expect(buffer.toString('utf8', 0, end)).toBe(JSON.stringify([s]));
    }
  });

  it('masks and redacts in place exactly as the walk does', () => {
    const wide = new PlainWriter({ ...limits, maxStringLength: 1000 });
    const wideWalk = createEncoder({ maxDepth: 3, maxStringLength: 1000, redactKeys: ['session id'], redactPatterns: ['\\d{3}-\\d{2}-\\d{4}'] });
    for (const value of [
      { apiKey: 'abc', model: 'x' },
      { sessionId: 'abc', n: 1 },
      { password: 42, tokens: 20, auth: true },
      { tokens: 'abc', token: null, secret: '' },
      ['sk-abcdefghijklmnopqrstuv'],
      ['ssn 123-45-6789 and "quotes"\n'],
      ['Authorization: Bearer abcdefghijklmnop', 'café 😀 url https://user:pw@example.com/x?token=abc&q=1'],
    ]) {
      const buffer = Buffer.alloc(4096);
      const end = wide.write(value, fixedRoom(buffer, buffer.length), 0);
      expect(end, JSON.stringify(value)).toBeGreaterThan(0);
      expect(buffer.toString('utf8', 0, end)).toBe(wideWalk.walk(value));
    }
  });

  it('grows its room as it writes, in place or moved, and writes the same bytes', () => {
    const wide = new PlainWriter({ ...limits, maxDepth: 12, maxArrayLength: 1000, maxStringLength: 20_000 });
    const values = [
      { text: 'x'.repeat(5000), list: Array.from({ length: 300 }, (_, i) => ({ i, s: `item ${i} ✓ "q"\t😀`, f: i / 7 })) },
      ['\u0000\u001f\u007f\ud800 lone', 'é'.repeat(3000), '日本'.repeat(2000), '😀'.repeat(1500)],
      Array.from({ length: 999 }, (_, i) => (i % 3 === 0 ? i * 1e10 : i % 3 === 1 ? -i : `s${i}`)),
    ];
    for (const size of [1, 7, 64, 1000]) {
      for (const value of values) {
        const room = movingRoom(size);
        const end = wide.write(value, room, room.start);
        expect(end).toBeGreaterThan(0);
        expect(room.buffer.toString('utf8', room.start, end)).toBe(JSON.stringify(value));
      }
    }
  });

  describe('with a memo of the last record', () => {
    let scans = 0;
    const counting = { ...redactor, openings: redactor.openings, redactString: (s: string) => (scans++, redactor.redactString(s)) };
    const writer = new PlainWriter({ ...limits, redactor: counting, maxStringLength: 20_000, maxArrayLength: 100 });
    const message = (i: number) => `message ${i}: "quoted"\n${'history '.repeat(20 + i)} é😀`;
    const write = (value: unknown, memo: TextMemo, room: Room & { start?: number } = fixedRoom(Buffer.alloc(100_000), 100_000)) => {
      const end = writer.write(value, room, room.start ?? 0, memo);
      return room.buffer.toString('utf8', room.start ?? 0, end);
    };

    it('copies the strings met again, scanning only the new ones, and writes the same text', () => {
      const memo = new TextMemo(1 << 20);
      const history = [message(0), `key sk-abcdefghijklmnopqrstuv ${message(1)}`];
      // A short string that may hold a secret, and does.
      const key = 'sk-proj-abcdefghijklmnopqrstuv';
      const expected = (question: string) => JSON.stringify({ history, key, question }).replaceAll(/sk-[a-z-]+/g, '***');
      // First into a room that moves as it grows: what is kept is the string's bytes, wherever they ended up.
      scans = 0;
      expect(write({ history, key, question: message(9) }, memo, movingRoom(7))).toBe(expected(message(9)));
      expect(scans).toBe(4);
      scans = 0;
      expect(write({ history, key, question: message(9) }, memo)).toBe(expected(message(9)));
      expect(scans).toBe(0);
      // The history grew by two messages, and what follows it is the same.
      history.push(message(2), message(3));
      scans = 0;
      expect(write({ history, key, question: message(9) }, memo)).toBe(expected(message(9)));
      expect(scans).toBe(2);
      // Its oldest messages dropped, and at the question's place another of the same length.
      history.splice(0, 2);
      const other = message(9).replace('message 9', 'message X');
      scans = 0;
      expect(write({ history, key, question: other }, memo)).toBe(expected(other));
      expect(scans).toBe(1);
    });

    it('keeps the right text when a record shares only the start of the last one, or reorders it', () => {
      const memo = new TextMemo(1 << 20);
      const [m0, m1, m2] = [message(0), message(1), message(2)];
      const check = (value: string[], expectedScans: number) => {
        scans = 0;
        expect(write(value, memo)).toBe(JSON.stringify(value));
        expect(scans).toBe(expectedScans);
      };
      check([m0, m1, m2], 3);
      // The last message dropped: the first two are kept where they are.
      check([m0, m1], 0);
      check([m0, m1, m2], 1);
      // The first in its place, the others swapped: what was shared is copied before the rest is kept.
      check([m0, m2, m1], 1);
      check([m0, m2, m1], 0);
      // Strings are looked for after the last one found: m0, before m2 in the last record, is scanned again.
      check([m2, m0], 1);
      check([m1, m2, m0], 1);
      check([m1, m2, m0], 0);
    });

    it('keeps the right text of strings kept before its arena grew', () => {
      const memo = new TextMemo(1 << 20);
      // Past the arena's first 64 KB at the fourth string (each is about 19 KB of text).
      const big = [0, 1, 2, 3].map((i) => `${i} ${message(i).repeat(90)}`);
      const room = () => fixedRoom(Buffer.alloc(200_000), 200_000);
      expect(write(big, memo, room())).toBe(JSON.stringify(big));
      scans = 0;
      const reordered = [big[1]!, big[0]!, big[2]!, big[3]!];
      expect(write(reordered, memo, room())).toBe(JSON.stringify(reordered));
      expect(write(reordered, memo, room())).toBe(JSON.stringify(reordered));
      // The second record finds big[1] at its place and then looks for big[0] after it, so scans
      // big[0] again; the third finds each in its place.
      expect(scans).toBe(1);
    });

    it('asks the patterns once of a short string they found clean, and every time of one with a secret', () => {
      const memo = new TextMemo(1 << 20);
      // Both open a possible secret (`_` then a letter or digit, a name then `=`); the second holds one.
      const value = { id: 'call_000000', note: 'pwd=hunter22' };
      const expected = JSON.stringify({ id: 'call_000000', note: 'pwd=***' });
      scans = 0;
      expect(write(value, memo)).toBe(expected);
      expect(scans).toBe(2);
      scans = 0;
      expect(write(value, memo)).toBe(expected);
      expect(scans).toBe(1);
    });

    it('keeps no more text than its budget', () => {
      const memo = new TextMemo(300);
      const value = [message(0), message(1), message(2)];
      write(value, memo);
      scans = 0;
      expect(write(value, memo)).toBe(JSON.stringify(value));
      // Each text is about 200 bytes: the first was kept, the others were not.
      expect(scans).toBe(2);
    });
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
    ['an object under a sensitive key', { apiKey: { id: 'abc' } }],
    ['a key that is a secret', { 'sk-abcdefghijklmnopqrstuv': 1 }],
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
