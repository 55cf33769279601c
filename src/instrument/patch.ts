import { describeValue, listExports } from '../config/targets';
import type { TargetSpec } from '../config/types';
import { wrap, type CallObserver } from './wrap';

/** What patching one target in one module's exports came to. */
export type PatchOutcome =
  | { ok: true; fn: Function; exports?: unknown }
  | { ok: false; reason: string };

/** Gives the observer for a target's function, once its own name and source are known. */
export type ObserverFor = (fn: Function) => CallObserver;

type Bag = Record<PropertyKey, unknown>;

/**
 * Wraps the function a target names inside a module's exports: an import-in-the-middle namespace
 * (`esm`) or a CommonJS `module.exports` (`cjs`). For CommonJS the outcome may carry replacement
 * exports, which the require hook hands to callers instead.
 */
export function patchExports(exports: unknown, format: 'esm' | 'cjs', target: TargetSpec, observerFor: ObserverFor): PatchOutcome {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) {
    return { ok: false, reason: `the module exports ${describeValue(exports)}, not an object` };
  }
  const bag = exports as Bag;
  // For CommonJS, `default` is module.exports itself, unless it is compiled ESM with a real default.
  const wholeModule = format === 'cjs' && target.exportName === 'default' && !(bag.__esModule && 'default' in bag);
  if (!wholeModule && !(target.exportName in bag)) {
    return { ok: false, reason: `export "${target.exportName}" not found (exports: ${listExports(bag)})` };
  }
  const exported = wholeModule ? exports : bag[target.exportName];

  if (target.member !== undefined) return patchMember(exported, target, observerFor);

  if (typeof exported !== 'function') {
    return { ok: false, reason: `export "${target.exportName}" is ${describeValue(exported)}, not a function` };
  }
  const wrapped = wrap(exported, observerFor(exported));
  if (wholeModule) return { ok: true, fn: exported, exports: wrapped };
  // An import-in-the-middle namespace takes plain assignment: its setters rebind the live export.
  if (format === 'esm') bag[target.exportName] = wrapped;
  if (format === 'esm' || setProperty(bag, target.exportName, wrapped)) return { ok: true, fn: exported };
  if ('value' in (Object.getOwnPropertyDescriptor(bag, target.exportName) ?? {})) {
    return { ok: false, reason: `export "${target.exportName}" is read-only (frozen exports)` };
  }
  // Compiled TypeScript and esbuild define exports as getters that can be neither set nor
  // redefined; callers then get a view of the exports that answers with the wrapper.
  return { ok: true, fn: exported, exports: withProperty(bag, target.exportName, wrapped) };
}

/** `Class.method` patches the prototype, so every instance records; `object.method` the object. */
function patchMember(owner: unknown, target: TargetSpec, observerFor: ObserverFor): PatchOutcome {
  const member = target.member!;
  const proto = typeof owner === 'function' ? (owner as { prototype?: unknown }).prototype : undefined;
  const holder = proto && typeof (proto as Bag)[member] === 'function' ? proto : owner;
  const fn = holder !== null && (typeof holder === 'object' || typeof holder === 'function') ? (holder as Bag)[member] : undefined;
  if (typeof fn !== 'function') {
    const where = `"${target.exportName}"`;
    return fn === undefined
      ? { ok: false, reason: `${where} has no method "${member}"` }
      : { ok: false, reason: `"${target.exportName}.${member}" is ${describeValue(fn)}, not a function` };
  }
  if (!setProperty(holder as Bag, member, wrap(fn, observerFor(fn)))) {
    return { ok: false, reason: `"${target.exportName}.${member}" is read-only` };
  }
  return { ok: true, fn };
}

/** Replaces a property the way it was defined (a class method stays non-enumerable). */
function setProperty(bag: Bag, key: string, value: unknown): boolean {
  const own = Object.getOwnPropertyDescriptor(bag, key);
  if (!own) {
    bag[key] = value;
    return bag[key] === value;
  }
  if ('value' in own && own.writable) {
    Object.defineProperty(bag, key, { ...own, value });
    return true;
  }
  if (own.configurable) {
    Object.defineProperty(bag, key, { value, writable: true, enumerable: own.enumerable, configurable: true });
    return true;
  }
  return false;
}

function withProperty(bag: Bag, key: string, value: unknown): unknown {
  return new Proxy(bag, {
    get: (target, property, receiver) => (property === key ? value : Reflect.get(target, property, receiver)),
  });
}
