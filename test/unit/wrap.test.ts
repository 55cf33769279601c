import { describe, expect, it } from 'vitest';
import { isWrapped, unwrap, wrap } from '../../src/instrument/wrap';

function recorder() {
  const calls: unknown[][] = [];
  return { calls, observe: (args: unknown[]) => void calls.push([...args]) };
}

describe('wrap', () => {
  it('returns the same value and throws the same error, by identity', () => {
    const { calls, observe } = recorder();
    const result = { ok: true };
    const error = new RangeError('no');
    const fn = wrap((x: number) => {
      if (x < 0) throw error;
      return result;
    }, observe);
    expect(fn(1)).toBe(result);
    expect(() => fn(-1)).toThrow(error);
    try {
      fn(-1);
    } catch (caught) {
      expect(caught).toBe(error);
    }
    expect(calls).toEqual([[1], [-1], [-1]]);
  });

  it('keeps this, sync stays sync, and a promise is handed back unchanged', async () => {
    const { observe } = recorder();
    const promise = Promise.resolve(7);
    const target = {
      factor: 3,
      times(this: { factor: number }, x: number) {
        return this.factor * x;
      },
      later: () => promise,
    };
    target.times = wrap(target.times, observe);
    target.later = wrap(target.later, observe);
    expect(target.times(2)).toBe(6);
    expect(target.later()).toBe(promise);
    await expect(target.later()).resolves.toBe(7);
  });

  it('keeps name, length, own properties and the kind of function', () => {
    const { observe } = recorder();
    async function fetchReply(a: string, b: number) {
      return a + b;
    }
    (fetchReply as unknown as { meta: string }).meta = 'kept';
    const wrapped = wrap(fetchReply, observe);
    expect(wrapped.name).toBe('fetchReply');
    expect(wrapped.length).toBe(2);
    expect((wrapped as unknown as { meta: string }).meta).toBe('kept');
    expect(Object.getPrototypeOf(wrapped)).toBe(Object.getPrototypeOf(fetchReply));
    expect(Object.prototype.hasOwnProperty.call(wrapped, 'prototype')).toBe(false);
    expect(unwrap(wrapped)).toBe(fetchReply);
    expect(isWrapped(wrapped)).toBe(true);
  });

  it('supports generators, async generators and new', async () => {
    const { calls, observe } = recorder();
    const gen = wrap(function* count(n: number) {
      for (let i = 0; i < n; i++) yield i;
    }, observe);
    expect([...gen(3)]).toEqual([0, 1, 2]);
    const agen = wrap(async function* letters() {
      yield 'a';
      yield 'b';
    }, observe);
    const got: string[] = [];
    for await (const l of agen()) got.push(l);
    expect(got).toEqual(['a', 'b']);

    class Base {
      constructor(public id: string) {}
      static kind = 'base';
      hello() {
        return `hi ${this.id}`;
      }
    }
    const Wrapped = wrap(Base, observe);
    const instance = new Wrapped('x');
    expect(instance).toBeInstanceOf(Base);
    expect(instance).toBeInstanceOf(Wrapped);
    expect(instance.hello()).toBe('hi x');
    expect(Wrapped.kind).toBe('base');
    class Child extends Wrapped {}
    expect(new Child('c')).toBeInstanceOf(Child);
    expect(() => (Wrapped as unknown as () => void)()).toThrow(TypeError);
    expect(calls).toEqual([[3], [], ['x'], ['c'], []]);
  });

  it('wraps once: again, or a wrapper, gives the first wrapper back', () => {
    const a = recorder();
    const b = recorder();
    const fn = (x: number) => x;
    const first = wrap(fn, a.observe);
    expect(wrap(fn, b.observe)).toBe(first);
    expect(wrap(first, b.observe)).toBe(first);
    first(1);
    expect([a.calls.length, b.calls.length]).toEqual([1, 0]);
  });

  it('never lets an observer error reach the caller', () => {
    const fn = wrap((x: number) => x + 1, () => {
      throw new Error('recorder broke');
    });
    expect(fn(1)).toBe(2);
  });
});

describe('wrap with an Around', () => {
  it('makes the call through the Around, which sees the result; `this`, `new` and errors are kept', () => {
    const seen: unknown[] = [];
    const around = (call: () => unknown) => {
      const result = call();
      seen.push(result);
      return result;
    };
    class Point {
      constructor(public x: number) {}
      double(this: Point) {
        return this.x * 2;
      }
    }
    const Wrapped = wrap(Point, () => around);
    const p = new Wrapped(3);
    expect(p).toBeInstanceOf(Point);
    const double = wrap(Point.prototype.double, () => around);
    expect(double.call(p)).toBe(6);
    const error = new Error('own');
    const throws = wrap(() => {
      throw error;
    }, () => around);
    expect(() => throws()).toThrow(error);
    expect(seen).toEqual([p, 6]);
  });

  it('calls directly when the observer returns nothing', () => {
    let arounds = 0;
    const fn = wrap((a: number) => a + 1, (args) => (args[0] === 1 ? undefined : (call) => (arounds++, call())));
    expect(fn(1)).toBe(2);
    expect(fn(2)).toBe(3);
    expect(arounds).toBe(1);
  });
});
