import type { Around } from '../trace/observations';

export type { Around };

/**
 * Sees the arguments of each call before the call runs, and may return an Around to make the
 * call through. Must not throw; a throw is swallowed.
 */
export type CallObserver = (args: unknown[], thisArg: unknown) => Around | void;

interface Registry {
  /** Each wrapper's original: kept here, not on the wrapper, so that it shows no key of ours. */
  originals: WeakMap<Function, Function>;
  /** Each original's wrappers, by key: one per target, so that each name counts its own calls. */
  wrappers: WeakMap<Function, Map<string, Function>>;
}

// Pinned on globalThis so that two copies of fluxloop in one process still wrap a function once per key.
const slot = Symbol.for('fluxloop.wrap.registry');
const pinned = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (pinned[slot] ??= { originals: new WeakMap(), wrappers: new WeakMap() });

/** The function a wrapper stands for, or the function itself when it is not a wrapper. */
export function unwrap<F extends Function>(fn: F): F {
  return (registry.originals.get(fn) ?? fn) as F;
}

export function isWrapped(fn: Function): boolean {
  return registry.originals.has(fn);
}

/**
 * Wraps `original` so that `observe` sees every call, and changes nothing else: the same result
 * and thrown error by identity, `this`, `new` exactly where the original takes it (a bound
 * constructor included), sync stays sync, a promise or generator is handed back as it is. Own
 * properties (`name`, `length`, `prototype` and the rest, with their descriptors), the prototype
 * chain and extensibility are kept, which shimmer does not do.
 *
 * What no wrapper can keep is the kind of function: `util.types.isAsyncFunction`,
 * `isGeneratorFunction` and the like answer false for it (as they do for a Proxy), and
 * `Function.prototype.toString` shows the wrapper's source (`unwrap` leads to the original's).
 * An async or generator wrapper would make the call inside its own body, and so hand back its
 * own promise or generator instead of the original's: another identity, an async one settling
 * ticks later, and a generator recording nothing until its first `next()`.
 *
 * A function gets one wrapper per `key`: wrapping it again under that key, or wrapping any of
 * its wrappers, gives that wrapper back, so a file reached through both `require` and `import`
 * records each call once, and a wrapper is never wrapped. Never throws: a function that cannot
 * be wrapped (a Proxy whose traps throw) is handed back as it is.
 */
export function wrap<F extends Function>(original: F, observe: CallObserver, key = ''): F {
  try {
    return wrapOrThrow(original, observe, key);
  } catch {
    return original;
  }
}

/** As {@link wrap}, but throws when `original` cannot be wrapped, so that the patcher can say why. */
export function wrapOrThrow<F extends Function>(original: F, observe: CallObserver, key = ''): F {
  const fn = unwrap(original);
  const existing = registry.wrappers.get(fn)?.get(key);
  if (existing) return existing as F;

  const wrapper = makeWrapper(fn, observe);
  Object.setPrototypeOf(wrapper, Object.getPrototypeOf(fn));
  for (const own of ['name', 'length']) {
    if (!Object.prototype.hasOwnProperty.call(fn, own)) Reflect.deleteProperty(wrapper, own);
  }
  // All of them, a sloppy function's `arguments` and `caller` too: the strict wrapper's own would throw when read.
  for (const own of Reflect.ownKeys(fn)) Object.defineProperty(wrapper, own, Object.getOwnPropertyDescriptor(fn, own)!);
  if (!Object.isExtensible(fn)) Object.preventExtensions(wrapper);

  registry.originals.set(wrapper, fn);
  const byKey = registry.wrappers.get(fn) ?? new Map<string, Function>();
  registry.wrappers.set(fn, byKey.set(key, wrapper));
  return wrapper as unknown as F;
}

function makeWrapper(original: Function, observe: CallObserver): Function {
  if (!isConstructor(original)) {
    // A method takes no `new`, like the arrow functions, methods, async functions and generators
    // it stands for: `new` on it throws the engine's own TypeError, and nothing is recorded.
    return {
      wrapper(this: unknown, ...args: unknown[]) {
        return invoke(original, observe, this, args, undefined);
      },
    }.wrapper;
  }
  const wrapper = function (this: unknown, ...args: unknown[]) {
    // `new wrapper()` builds what `new original()` builds; a subclass of the wrapper stays the new.target.
    return invoke(original, observe, this, args, new.target === wrapper ? original : new.target);
  };
  // A constructor without `prototype` is a bound function (or a Proxy of one), which takes `new`
  // yet has no `prototype` of its own, and whose `this` is fixed: a bound wrapper is the same.
  return Object.prototype.hasOwnProperty.call(original, 'prototype') ? wrapper : wrapper.bind(undefined);
}

function invoke(original: Function, observe: CallObserver, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  let around: Around | void = undefined;
  try {
    around = observe(args, self);
  } catch {
    // The recorder reports its own failures; the app's call goes on regardless.
  }
  if (around === undefined) return callThrough(original, self, args, newTarget);
  return around(() => callThrough(original, self, args, newTarget));
}

function callThrough(original: Function, self: unknown, args: unknown[], newTarget: Function | undefined): unknown {
  return newTarget === undefined ? Reflect.apply(original, self, args) : Reflect.construct(original, args, newTarget);
}

const probe: ProxyHandler<Function> = { construct: () => probe };

/**
 * Whether `fn` takes `new`, asked without running it: a Proxy has a construct trap only if its
 * target is a constructor. A generator has a `prototype` yet takes no `new`; a bound class takes
 * `new` yet has no `prototype`.
 */
function isConstructor(fn: Function): boolean {
  try {
    new (new Proxy(fn, probe) as new () => unknown)();
    return true;
  } catch {
    return false;
  }
}
