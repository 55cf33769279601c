import { describe, expect, it } from 'vitest';
import { stringifyDeep } from '../../src/experiment/supervisor/deep-json';

/** `leaf` inside `depth` levels of `{ next }`, each level with a few fields beside. */
function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { next: value, n: i, skipped: undefined, list: [i, undefined, 'x'] };
  return value;
}

describe('stringifyDeep', () => {
  it('writes what JSON.stringify writes for a value it can write', () => {
    const value = { a: [1, 'two', null, true, undefined, () => 1, Number.NaN, -0, 1e300], b: undefined, c: { d: 'quote " and \u2028' }, e: [] };
    expect(stringifyDeep(value)).toBe(JSON.stringify(value));
  });

  it('writes a value nested too deep for JSON.stringify, as JSON.stringify would have', () => {
    const deep = nested(20_000, { leaf: [1, 'x', null] });
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const text = stringifyDeep(deep);
    // Past the recursion limit, the text matches JSON.stringify's for the same shape, level by level.
    expect(text.startsWith(JSON.stringify(nested(3, 'END')).slice(0, 9))).toBe(true);
    let back = JSON.parse(text) as { next?: unknown; n?: number; list?: unknown[] };
    let depth = 0;
    while (back.next !== undefined) {
      expect(back.list).toEqual([back.n, null, 'x']);
      expect('skipped' in back).toBe(false);
      back = back.next as typeof back;
      depth++;
    }
    expect(depth).toBe(20_000);
    expect(back).toEqual({ leaf: [1, 'x', null] });
  });
});
