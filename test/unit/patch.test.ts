import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/config/targets';
import { patchExports, type ObserverFor, type PatchOutcome } from '../../src/instrument/patch';
import { isWrapped, unwrap } from '../../src/instrument/wrap';

/** Patches one target of `exports` (as CommonJS unless told), recording its calls under the target's name. */
function patcher() {
  const calls: [string, ...unknown[]][] = [];
  const patch = (exports: unknown, name: string, format: 'cjs' | 'esm' = 'cjs'): PatchOutcome => {
    const target = parseTarget(`node_modules/sdk/index.js:${name}`);
    const observerFor: ObserverFor = (fn) => {
      void fn.name; // as the session does: the record's function name
      return (args) => void calls.push([name, ...args]);
    };
    return patchExports(exports, format, target, observerFor);
  };
  return { calls, patch };
}

function descriptors(object: object, key: string) {
  const { value, get, set, ...flags } = Object.getOwnPropertyDescriptor(object, key)!;
  return { flags, value, get, set };
}

describe('patchExports', () => {
  it('keeps a getter that needs an instance an accessor, and records the function it hands out on each access', () => {
    const { calls, patch } = patcher();
    class Conn {
      fn = function handle(this: Conn, message: string) {
        return [this, message];
      };
      get handler() {
        return this.fn.bind(this);
      }
      set handler(fn) {
        this.fn = fn;
      }
    }
    const before = descriptors(Conn.prototype, 'handler');
    expect(() => (Conn.prototype as Conn).handler).toThrow(TypeError);

    expect(patch({ Conn }, 'Conn.handler')).toEqual({ ok: true });
    const after = descriptors(Conn.prototype, 'handler');
    expect(after.flags).toEqual(before.flags);
    expect(after.set).toBe(before.set);
    expect(unwrap(after.get!)).toBe(before.get);
    // The getter still runs on the real instance, and fails as before where it did.
    expect(() => (Conn.prototype as Conn).handler).toThrow(TypeError);

    const conn = new Conn();
    expect(conn.handler('hi')).toEqual([conn, 'hi']);
    expect(conn.handler('again')).toEqual([conn, 'again']);
    conn.handler = function other(this: Conn, message: string) {
      return [message];
    };
    expect(conn.handler('set')).toEqual(['set']);
    expect(calls).toEqual([
      ['Conn.handler', 'hi'],
      ['Conn.handler', 'again'],
      ['Conn.handler', 'set'],
    ]);
  });

  it('hands out what a getter returns when it is no function, and lets its errors reach the app by identity', () => {
    const { calls, patch } = patcher();
    const error = new Error('not connected');
    let state: unknown = 42;
    const sdk = {
      get current() {
        if (state === 'throw') throw error;
        return state;
      },
    };
    expect(patch(sdk, 'default.current')).toEqual({ ok: true });
    expect(sdk.current).toBe(42);
    state = 'throw';
    expect(() => sdk.current).toThrow(error);
    expect(Object.keys(sdk)).toEqual(['current']);
    expect(calls).toEqual([]);
  });

  it('patches a method inherited by a frozen singleton on the prototype that holds it', () => {
    const { calls, patch } = patcher();
    class Client {
      send(message: string) {
        return `sent ${message}`;
      }
    }
    const before = descriptors(Client.prototype, 'send');
    const client = Object.freeze(new Client());

    expect(patch(client, 'default.send')).toEqual({ ok: true });
    expect(Object.isFrozen(client)).toBe(true);
    expect(Reflect.ownKeys(client)).toEqual([]);
    const after = descriptors(Client.prototype, 'send');
    expect(after.flags).toEqual(before.flags);
    expect(unwrap(after.value)).toBe(before.value);
    expect(client.send('hi')).toBe('sent hi');
    expect(calls).toEqual([['default.send', 'hi']]);
  });

  it('adds no own key to an object whose method is inherited', () => {
    const { calls, patch } = patcher();
    const base = { greet: (name: string) => `hello ${name}` };
    const sdk = Object.create(base) as typeof base & { version: number };
    sdk.version = 2;
    expect(patch({ sdk }, 'sdk.greet')).toEqual({ ok: true });
    expect(Object.keys(sdk)).toEqual(['version']);
    expect(Object.keys(base)).toEqual(['greet']);
    expect(sdk.greet('you')).toBe('hello you');
    expect(calls).toEqual([['sdk.greet', 'you']]);
  });

  it('keeps each descriptor as it was: writable, enumerable, configurable', () => {
    const { patch } = patcher();
    const sdk = {};
    const flags = [
      { writable: true, enumerable: true, configurable: true },
      { writable: true, enumerable: false, configurable: false },
      { writable: false, enumerable: true, configurable: true },
    ];
    flags.forEach((f, i) => Object.defineProperty(sdk, `m${i}`, { ...f, value: () => i }));
    flags.forEach((_, i) => expect(patch({ sdk }, `sdk.m${i}`)).toEqual({ ok: true }));
    flags.forEach((f, i) => {
      const after = descriptors(sdk, `m${i}`);
      expect(after.flags).toEqual(f);
      expect(isWrapped(after.value)).toBe(true);
    });
  });

  it('leaves a frozen, sealed or non-extensible owner as it is, with a reason', () => {
    const { calls, patch } = patcher();
    const run = () => 'ran';
    const owners: [string, { run: () => string }, string][] = [
      ['frozen', Object.freeze({ run }), 'frozen'],
      ['sealed', Object.seal({ run }), 'sealed'],
      ['fixed', Object.preventExtensions({ run }), 'non-extensible'],
      // The frozen holder of an inherited method: the same.
      ['heir', Object.create(Object.freeze({ run })), 'frozen'],
    ];
    const exports = Object.fromEntries(owners.map(([name, owner]) => [name, owner]));
    for (const [name, owner, how] of owners) {
      expect(patch(exports, `${name}.run`)).toEqual({ ok: false, reason: `"${name}.run" is on a ${how} object` });
      expect(owner.run).toBe(run);
      expect(owner.run()).toBe('ran');
    }
    expect(calls).toEqual([]);
  });

  it('leaves what cannot be redefined as it is, with a reason', () => {
    const { patch } = patcher();
    const run = () => 'ran';
    const sdk = {};
    Object.defineProperty(sdk, 'locked', { value: run, enumerable: true });
    Object.defineProperty(sdk, 'fixedGetter', { get: () => run, enumerable: true });
    expect(patch({ sdk }, 'sdk.locked')).toEqual({ ok: false, reason: '"sdk.locked" is read-only' });
    expect(patch({ sdk }, 'sdk.fixedGetter')).toEqual({ ok: false, reason: '"sdk.fixedGetter" is a getter that cannot be redefined' });
    expect(patch({ sdk }, 'sdk.missing')).toEqual({ ok: false, reason: '"sdk" has no method "missing"' });
    expect(Object.getOwnPropertyDescriptor(sdk, 'locked')!.value).toBe(run);
  });

  it('gives a reason, and throws nothing, for a Proxy whose traps throw', () => {
    const { patch } = patcher();
    const trap = () => {
      throw new Error('no peeking');
    };
    const run = () => 'ran';
    const sdks = [
      new Proxy({ run }, { getOwnPropertyDescriptor: trap }),
      new Proxy({ run }, { getPrototypeOf: trap, getOwnPropertyDescriptor: () => undefined }),
      new Proxy({ run }, { defineProperty: trap }),
    ];
    for (const sdk of sdks) {
      expect(patch({ sdk }, 'sdk.run')).toEqual({ ok: false, reason: 'patching it threw Error: no peeking' });
      expect(sdk.run).toBe(run);
    }
    expect(patch(new Proxy({ run }, { has: trap }), 'run')).toEqual({ ok: false, reason: 'patching it threw Error: no peeking' });
    const throwsAnything = new Proxy({}, { has: () => { throw Symbol('odd'); } });
    expect(patch(throwsAnything, 'run')).toEqual({ ok: false, reason: 'patching it threw a symbol' });
  });

  it('ends a prototype chain that a Proxy makes endless', () => {
    const { patch } = patcher();
    const endless: object = new Proxy({}, { getPrototypeOf: () => endless });
    expect(patch({ endless }, 'endless.run')).toEqual({ ok: false, reason: '"endless" has no method "run"' });
  });

  it('gives a reason for a function whose name getter throws, and leaves it in place', () => {
    const { patch } = patcher();
    const odd = () => 'ran';
    Object.defineProperty(odd, 'name', {
      get() {
        throw new TypeError('no name');
      },
    });
    const exports = { odd };
    expect(patch(exports, 'odd')).toEqual({ ok: false, reason: 'patching it threw TypeError: no name' });
    expect(exports.odd).toBe(odd);
  });

  it('does not patch a method that every object shares', () => {
    const { patch } = patcher();
    const sdk = { version: 1 };
    expect(patch({ sdk }, 'sdk.toString')).toEqual({ ok: false, reason: '"sdk.toString" is inherited from Object.prototype, which every object shares' });
    expect(patch({ sdk: () => 1 }, 'sdk.call')).toMatchObject({ ok: false, reason: expect.stringContaining('Function.prototype') });
    expect(Object.prototype.hasOwnProperty.call(sdk, 'toString')).toBe(false);
    expect(isWrapped(Object.prototype.toString)).toBe(false);
  });

  it('records one function under two names once per call, under the name it came through, when reached twice', () => {
    const { calls, patch } = patcher();
    const res: Record<string, (field: string) => unknown> = {};
    res.set = res.header = function header(field: string) {
      return field;
    };
    for (const reach of ['cjs', 'esm'] as const) {
      // As required, then as imported: the namespace of a CommonJS module holds module.exports as `default`.
      const exports = reach === 'cjs' ? res : { default: res };
      expect(patch(exports, 'default.set', reach)).toEqual({ ok: true });
      expect(patch(exports, 'default.header', reach)).toEqual({ ok: true });
    }
    expect(res.set).not.toBe(res.header);
    expect(unwrap(res.set!)).toBe(unwrap(res.header!));
    res.set!('a');
    res.header!('b');
    expect(calls).toEqual([
      ['default.set', 'a'],
      ['default.header', 'b'],
    ]);
  });

  it('keeps `new` for an exported bound constructor', () => {
    const { calls, patch } = patcher();
    class Pool {
      constructor(
        public name: string,
        public size: number,
      ) {}
    }
    const exports = { Pool: Pool.bind(null, 'main') as unknown as new (size: number) => Pool };
    expect(patch(exports, 'Pool')).toEqual({ ok: true });
    const pool = new exports.Pool(4);
    expect(pool).toBeInstanceOf(Pool);
    expect([pool.name, pool.size]).toEqual(['main', 4]);
    expect(calls).toEqual([['Pool', 4]]);
  });

  it('answers a getter-only export (compiled TypeScript, esbuild) through a view that records each value it hands out', () => {
    const { calls, patch } = patcher();
    let current = (x: number) => x + 1;
    const exports = {};
    Object.defineProperty(exports, 'step', { enumerable: true, get: () => current });
    const outcome = patch(exports, 'step');
    expect(outcome).toMatchObject({ ok: true, exports: expect.anything() });
    const view = (outcome as { exports: { step: (x: number) => number } }).exports;
    expect(view.step(1)).toBe(2);
    expect(view.step).toBe(view.step);
    current = (x: number) => x * 10;
    expect(view.step(2)).toBe(20);
    expect(calls).toEqual([
      ['step', 1],
      ['step', 2],
    ]);

    const settings = {};
    Object.defineProperty(settings, 'config', { enumerable: true, get: () => ({ retries: 3 }) });
    expect(patch(settings, 'config')).toEqual({ ok: false, reason: 'export "config" is an object, not a function' });
  });
});
