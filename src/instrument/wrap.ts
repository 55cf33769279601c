/**
 * Makes the call itself, handed back by an observer that must see the call through (the replay
 * tracer, which times it and runs it in a context of its own). Returns what the call returned.
 */
export type Around = (call: () => unknown) => unknown;

/**
 * Sees the arguments of each call before the call runs, and may return an Around to make the
 * call through. Must not throw; a throw is swallowed.
 */
export type CallObserver = (args: unknown[], thisArg: unknown) => Around | void;

const ORIGINAL = Symbol.for('fluxloop.original');
const SKIPPED = new Set<PropertyKey>(['length', 'name', 'prototype', 'arguments', 'caller']);

// Pinned on globalThis so that two copies of fluxloop in one process still wrap a function once.
const slot = Symbol.for('fluxloop.wrappers');
const holder = globalThis as unknown as Record<symbol, WeakMap<Function, Function> | undefined>;
const wrappers: WeakMap<Function, Function> = (holder[slot] ??= new WeakMap());

/** The function a wrapper stands for, or the function itself when it is not a wrapper. */
export function unwrap<F extends Function>(fn: F): F {
  return ((fn as unknown as Record<symbol, F>)[ORIGINAL] ?? fn) as F;
}

export function isWrapped(fn: Function): boolean {
  return unwrap(fn) !== fn;
}

/**
 * Wraps `original` so that `observe` sees every call, and changes nothing else: the same result
 * and thrown error by identity, `this`, `new`, sync stays sync, a promise or generator is handed
 * back as it is. `name`, `length`, own properties and the prototype chain are kept, which
 * shimmer does not do. A function is wrapped at most once: wrapping it again, or wrapping a
 * wrapper, gives the first wrapper back, so a file reached through both `require` and `import`
 * records each call once.
 */
export function wrap<F extends Function>(original: F, observe: CallObserver): F {
  if (isWrapped(original)) return original;
  const existing = wrappers.get(original);
  if (existing) return existing as F;

  const constructible = Object.prototype.hasOwnProperty.call(original, 'prototype');
  let wrapper: Function;
  if (constructible) {
    wrapper = function (this: unknown, ...args: unknown[]) {
      let around: Around | void = undefined;
      try {
        around = observe(args, this);
      } catch {
        // The recorder reports its own failures; the app's call goes on regardless.
      }
      const target = new.target === wrapper ? original : new.target;
      if (around === undefined) {
        return target ? Reflect.construct(original, args, target) : Reflect.apply(original, this, args);
      }
      return around(() => (target ? Reflect.construct(original, args, target) : Reflect.apply(original, this, args)));
    };
    wrapper.prototype = (original as unknown as { prototype: unknown }).prototype;
  } else {
    // A method has no `prototype` and cannot be called with `new`, like the arrow functions,
    // methods and async functions it stands for.
    wrapper = {
      wrapper(this: unknown, ...args: unknown[]) {
        let around: Around | void = undefined;
        try {
          around = observe(args, this);
        } catch {
          // As above.
        }
        if (around === undefined) return Reflect.apply(original, this, args);
        return around(() => Reflect.apply(original, this, args));
      },
    }.wrapper;
  }

  Object.setPrototypeOf(wrapper, Object.getPrototypeOf(original));
  for (const key of ['name', 'length'] as const) {
    const own = Object.getOwnPropertyDescriptor(original, key);
    if (own) Object.defineProperty(wrapper, key, own);
    else delete (wrapper as unknown as Record<string, unknown>)[key];
  }
  for (const key of Reflect.ownKeys(original)) {
    if (SKIPPED.has(key)) continue;
    Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(original, key)!);
  }
  Object.defineProperty(wrapper, ORIGINAL, { value: original });
  wrappers.set(original, wrapper);
  return wrapper as F;
}
