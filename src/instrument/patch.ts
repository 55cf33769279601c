import { describeValue, listExports } from '../config/targets';
import type { TargetSpec } from '../config/types';
import { wrap, wrapOrThrow, type Around, type CallObserver } from './wrap';

/** What patching one target in one module's exports came to. */
export type PatchOutcome = { ok: true; exports?: unknown } | { ok: false; reason: string };

/** Gives the observer for a target's function, once its own name and source are known. */
export type ObserverFor = (fn: Function) => CallObserver;

type Bag = Record<PropertyKey, unknown>;

/** A property as defined: the object on the prototype chain that holds it, and its descriptor. */
interface Found {
  holder: object;
  own: PropertyDescriptor;
}

// A Proxy's getPrototypeOf trap may answer with a chain that never ends.
const MAX_CHAIN = 100;

/**
 * Wraps the function a target names inside a module's exports: an import-in-the-middle namespace
 * (`esm`) or a CommonJS `module.exports` (`cjs`). For CommonJS the outcome may carry replacement
 * exports, which the require hook hands to callers instead. Never throws.
 */
export function patchExports(exports: unknown, format: 'esm' | 'cjs', target: TargetSpec, observerFor: ObserverFor): PatchOutcome {
  try {
    return patch(exports, format, target, observerFor);
  } catch (error) {
    // The one guarded place, as OpenTelemetry's `_wrap`: whatever a module's exports do when
    // looked at (Proxy traps, getters, names that throw), this target goes unrecorded with a
    // reason, and the module, the app and the other targets go on as without fluxloop. Every
    // step that can throw comes before the property is replaced, so nothing is left half-done.
    return { ok: false, reason: `patching it threw ${describeError(error)}` };
  }
}

function patch(exports: unknown, format: 'esm' | 'cjs', target: TargetSpec, observerFor: ObserverFor): PatchOutcome {
  if (!isObject(exports)) return fail(`the module exports ${describeValue(exports)}, not an object`);
  const bag = exports as Bag;
  const name = target.exportName;
  // For CommonJS, `default` is module.exports itself, unless it is compiled ESM with a real default.
  const wholeModule = format === 'cjs' && name === 'default' && !(bag.__esModule && 'default' in bag);
  if (!wholeModule && !(name in bag)) return fail(`export "${name}" not found (exports: ${listExports(bag)})`);
  if (target.member !== undefined) return patchMember(wholeModule ? exports : bag[name], target, observerFor);

  const fn = wholeModule ? exports : bag[name];
  if (typeof fn !== 'function') return fail(`export "${name}" is ${describeValue(fn)}, not a function`);
  const observe = observerFor(fn);
  if (wholeModule) return { ok: true, exports: wrapOrThrow(fn, observe, target.spec) };
  if (format === 'esm') {
    // An import-in-the-middle namespace takes plain assignment: its setters rebind the live export.
    bag[name] = wrapOrThrow(fn, observe, target.spec);
    return { ok: true };
  }
  const found = lookup(bag, name);
  if (found?.holder === bag && found.own.get && !found.own.configurable) {
    // Compiled TypeScript and esbuild define exports as getters that can be neither set nor
    // redefined; callers then get a view of the exports whose getter records what it hands out.
    const get = wrapGetter(found.own.get, target, () => observe);
    return { ok: true, exports: new Proxy(bag, { get: (t, p, r) => (p === name ? Reflect.apply(get, r, []) : Reflect.get(t, p, r)) }) };
  }
  return found ? patchFound(found, name, `export "${name}"`, target, () => observe) : fail(`export "${name}" not found`);
}

/** `Class.member` patches the prototype, so every instance records; `object.member` the object. */
function patchMember(owner: unknown, target: TargetSpec, observerFor: ObserverFor): PatchOutcome {
  const member = target.member!;
  const missing = fail(`"${target.exportName}" has no method "${member}"`);
  if (!isObject(owner)) return missing;
  const proto = typeof owner === 'function' ? (owner as { prototype?: unknown }).prototype : undefined;
  const candidates = [isObject(proto) ? lookup(proto, member) : undefined, lookup(owner, member)].filter((f) => f !== undefined);
  const found = candidates.find((f) => holdsFunction(f.own) && !isShared(f.holder)) ?? candidates[0];
  return found ? patchFound(found, member, `"${target.exportName}.${member}"`, target, observerFor) : missing;
}

/**
 * Replaces the property where it is defined, with its descriptor as it was: an inherited method
 * is patched on the prototype that holds it (so the object it was reached through, frozen or
 * not, gains no key), a getter stays a getter. An object made non-extensible is left as it is.
 */
function patchFound({ holder, own }: Found, key: string, label: string, target: TargetSpec, observerFor: ObserverFor): PatchOutcome {
  if (!holdsFunction(own)) {
    return fail('value' in own ? `${label} is ${describeValue(own.value)}, not a function` : `${label} has a setter but no getter`);
  }
  if (isShared(holder)) {
    return fail(`${label} is inherited from ${holder === Object.prototype ? 'Object' : 'Function'}.prototype, which every object shares`);
  }
  if (!Object.isExtensible(holder)) {
    const how = Object.isFrozen(holder) ? 'frozen' : Object.isSealed(holder) ? 'sealed' : 'non-extensible';
    return fail(`${label} is on a ${how} object`);
  }
  if (!own.configurable && own.get) return fail(`${label} is a getter that cannot be redefined`);
  if (!own.configurable && !own.writable) return fail(`${label} is read-only`);
  const fn = own.value as Function;
  const replaced = own.get ? { get: wrapGetter(own.get, target, observerFor) } : { value: wrapOrThrow(fn, observerFor(fn), target.spec) };
  Object.defineProperty(holder, key, { ...own, ...replaced });
  return { ok: true };
}

/**
 * A getter target stays an accessor: the getter runs on the real instance (so one that needs
 * `this` works), and each function it hands out is recorded under the target. Its own errors
 * reach the app as they would.
 */
function wrapGetter(get: () => unknown, target: TargetSpec, observerFor: ObserverFor): () => unknown {
  let observe: CallObserver | undefined;
  const recordResult: Around = (call) => {
    const value = call();
    if (typeof value !== 'function') return value;
    try {
      observe ??= observerFor(value);
    } catch {
      // Past loading there is no one to tell: a function whose name cannot be read goes unrecorded.
      return value;
    }
    return wrap(value, observe, target.spec);
  };
  return wrapOrThrow(get, () => recordResult, target.spec);
}

/** Where `key` is defined along the prototype chain of `start`, without running any getter. */
function lookup(start: object, key: string): Found | undefined {
  let at: object | null = start;
  for (let depth = 0; at !== null && depth < MAX_CHAIN; depth++) {
    const own = Object.getOwnPropertyDescriptor(at, key);
    if (own) return { holder: at, own };
    at = Object.getPrototypeOf(at) as object | null;
  }
  return undefined;
}

/** The ends of every prototype chain: a method found there is every object's, not the target's. */
function isShared(holder: object): boolean {
  return holder === Object.prototype || holder === Function.prototype;
}

function holdsFunction(own: PropertyDescriptor): boolean {
  return own.get !== undefined || typeof own.value === 'function';
}

function isObject(value: unknown): value is object {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

function fail(reason: string): PatchOutcome {
  return { ok: false, reason };
}

function describeError(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
  } catch {
    return 'an error that cannot be shown';
  }
}
