import { describe, expect, it, vi } from 'vitest';
import { isWrapped, unwrap, wrap, wrapOrThrow } from '../../src/instrument/wrap';

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

  it('shows exactly the own keys and descriptors of the original, and keeps its extensibility', () => {
    const { observe } = recorder();
    class Agent {
      static kind = 'agent';
      static create() {
        return new Agent();
      }
    }
    const tool = Object.assign((query: string) => query, { description: 'search' });
    const frozen = Object.freeze(function frozenTool(a: number) {
      return a;
    });
    function* steps() {
      yield 1;
    }
    // A sloppy-mode function, with its own `arguments` and `caller`.
    const sloppy = new Function('a', 'return a');
    const shapes = [Agent, tool, frozen, steps, async () => 1, { method() {} }.method, Agent.bind(null), sloppy];
    for (const original of shapes) {
      const wrapped = wrap(original as Function, observe);
      expect(wrapped).not.toBe(original);
      // As a set: a sloppy function's `arguments` and `caller` come before its `prototype`, the wrapper's after.
      expect(new Set(Reflect.ownKeys(wrapped))).toEqual(new Set(Reflect.ownKeys(original)));
      for (const key of Reflect.ownKeys(original)) {
        const [mine, theirs] = [wrapped, original].map((f) => Object.getOwnPropertyDescriptor(f, key)!);
        // Values by identity: a generator's prototype cannot be compared deeply.
        expect(mine!.value).toBe(theirs!.value);
        expect({ ...mine, value: 0 }).toEqual({ ...theirs, value: 0 });
      }
      expect([Object.isExtensible(wrapped), Object.isFrozen(wrapped)]).toEqual([Object.isExtensible(original), Object.isFrozen(original)]);
    }
    expect(wrap(sloppy, observe).caller).toBe(null);
    // The original is found through a WeakMap, not through a key on the wrapper.
    expect(Object.getOwnPropertySymbols(wrap(tool, observe))).toEqual([]);
    expect(unwrap(wrap(tool, observe))).toBe(tool);
  });

  it('copies a name getter that throws without running it: the wrapper throws the same', () => {
    const { calls, observe } = recorder();
    const error = new Error('no name');
    const odd = (x: number) => x * 2;
    Object.defineProperty(odd, 'name', {
      get() {
        throw error;
      },
    });
    const wrapped = wrap(odd, observe);
    expect(isWrapped(wrapped)).toBe(true);
    expect(() => wrapped.name).toThrow(error);
    expect(wrapped(2)).toBe(4);
    expect(calls).toEqual([[2]]);
  });

  it('hands back a function it cannot wrap as it is, and wrapOrThrow says why', () => {
    const { calls, observe } = recorder();
    const hostile = new Proxy(function run() {}, {
      ownKeys() {
        throw new Error('no peeking');
      },
    });
    expect(wrap(hostile, observe)).toBe(hostile);
    expect(() => wrapOrThrow(hostile, observe)).toThrow('no peeking');
    expect(isWrapped(hostile)).toBe(false);
    expect(calls).toEqual([]);
  });

  it('lets a bound constructor keep `new`, and records it', () => {
    const { calls, observe } = recorder();
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    const Bound = wrap(Point.bind(null, 1), observe) as unknown as new (y: number) => Point;
    const point = new Bound(2);
    expect(point).toBeInstanceOf(Point);
    expect([point.x, point.y]).toEqual([1, 2]);
    expect(Object.prototype.hasOwnProperty.call(Bound, 'prototype')).toBe(false);
    expect(calls).toEqual([[2]]);
  });

  it('lets `new` on a non-constructor throw the TypeError it would, and records nothing', () => {
    const { calls, observe } = recorder();
    function* gen() {}
    const originals = [gen, async function* agen() {}, async () => {}, () => {}, { method() {} }.method];
    const error = (make: Function) => {
      try {
        new (make as new () => unknown)();
      } catch (caught) {
        return caught;
      }
    };
    for (const original of originals) {
      const wrapped = wrap(original as Function, observe);
      expect(error(wrapped)).toBeInstanceOf(TypeError);
      expect(String(error(wrapped))).toBe(String(error(original)));
    }
    expect(calls).toEqual([]);
  });

  it('gives each key its own wrapper of the original, never a wrapper of a wrapper', () => {
    const a = recorder();
    const b = recorder();
    const set = (field: string) => field;
    const viaSet = wrap(set, a.observe, 'res.set');
    const viaHeader = wrap(set, b.observe, 'res.header');
    expect(viaHeader).not.toBe(viaSet);
    expect([unwrap(viaSet), unwrap(viaHeader)]).toEqual([set, set]);
    // Reached again (require, then import), or through the other name's wrapper: the same wrappers.
    expect(wrap(set, b.observe, 'res.set')).toBe(viaSet);
    expect(wrap(viaSet, a.observe, 'res.header')).toBe(viaHeader);
    expect(wrap(viaHeader, a.observe, 'res.header')).toBe(viaHeader);
    viaSet('a');
    viaHeader('b');
    viaHeader('c');
    expect([a.calls, b.calls]).toEqual([[['a']], [['b'], ['c']]]);
  });

  it('shares its registry with another copy of fluxloop in the process', async () => {
    const { observe } = recorder();
    const fn = (x: number) => x;
    const first = wrap(fn, observe, 'k');
    vi.resetModules();
    const other = await import('../../src/instrument/wrap');
    expect(other.wrap).not.toBe(wrap);
    expect(other.wrap(fn, observe, 'k')).toBe(first);
    expect(other.unwrap(first)).toBe(fn);
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
