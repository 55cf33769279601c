import path from 'node:path';
import { activeSession } from './register';
import { functionName } from './config/identity';
import { callerSite, type CallSite } from './instrument/callsite';
import type { Session } from './instrument/session';
import { isTransformed } from './instrument/transform/channels';
import { wrap, type CallObserver } from './instrument/wrap';
import { currentReplay } from './trace/context';
import { observeCall } from './trace/observations';

/** Options of {@link trace}. */
export interface TraceOptions {
  /**
   * The name in each record: the function's own name by default, `Class.method` for a method. The
   * record's `target` is the module the function is marked in, then this name
   * (`app/agent.js:summarize`), as a configured target is written; a name with `:` is the whole target.
   */
  name?: string;
  /** The observation type during replay: `span` by default; FluxLoop's `tool`, `generation`, `retrieval`... */
  type?: string;
}

type Method<This, Args extends unknown[], Return> = (this: This, ...args: Args) => Return;

/** A TC39 (TypeScript 5 standard) method decorator. */
export type TraceDecorator = <This, Args extends unknown[], Return>(
  method: Method<This, Args, Return>,
  context: ClassMethodDecoratorContext<This, Method<This, Args, Return>>,
) => Method<This, Args, Return>;

/**
 * Marks a function for recording: `trace(fn, { name })` returns the recorded function, and
 * `@trace()` on a class method records that method. Calls are recorded while recording is on
 * (`FLUXLOOP_RECORD_ARGS=true`), with or without the preload; otherwise the wrapper only calls
 * through.
 */
export function trace<F extends Function>(fn: F, options?: TraceOptions): F;
export function trace(options?: TraceOptions): TraceDecorator;
export function trace(fnOrOptions?: Function | TraceOptions, options?: TraceOptions | DecoratorContext): unknown {
  const site = callerSite();
  if (typeof fnOrOptions === 'function') {
    // `@trace` without parentheses arrives here with the decorator context as second argument.
    if (isDecoratorContext(options)) return traced(fnOrOptions, { site, member: options as ClassMethodDecoratorContext });
    return traced(fnOrOptions, { site, name: options?.name, type: options?.type });
  }
  const given = fnOrOptions;
  const decorator = (method: Function, context: ClassMethodDecoratorContext) => traced(method, { site, name: given?.name, type: given?.type, member: context });
  return decorator as unknown as TraceDecorator;
}

/**
 * Records one call explicitly, like FluxLoop's `record_call_args`: `target` names the function
 * (`app/agent.js:handle`), `kwargs` holds its arguments by name. Does nothing unless recording is on.
 */
export function recordCallArgs(target: string, kwargs: Record<string, unknown>): void {
  try {
    activeSession()?.recordCall(target, kwargs);
  } catch {
    // Never throw into the app.
  }
}

interface Marking {
  site: CallSite | undefined;
  /** The name the user gave. */
  name?: string;
  type?: string;
  /** The method's decorator context, when `@trace()` marks a class method. */
  member?: { name: string | symbol; static?: boolean };
}

function traced<F extends Function>(fn: F, marking: Marking): F {
  // A configured target that the source transform records already is recorded once, as the target.
  if (isTransformed(fn)) return fn;
  const type = marking.type ?? 'span';
  let name: string | undefined;
  let session: Session | undefined;
  let observe: CallObserver | undefined;
  const wrapped = wrap(fn, (args, self) => {
    // Named at the first call, when the class that holds a method can be told from `this`.
    name ??= nameOf(fn, marking, self, wrapped);
    if (currentReplay() !== undefined) return observeCall(name, type, args);
    const current = activeSession();
    if (current === undefined) return;
    if (current !== session) {
      session = current;
      const target = targetOf(current.root, name, marking);
      // `function` is the function's own name, as a configured target's records have it.
      observe = current.observer(target, fn, fn.name || functionName(target), marking.member !== undefined && marking.member.static !== true);
      current.markHooked(target);
    }
    return observe!(args, self);
  });
  return wrapped;
}

/** What the records call a marked function: the given name, `Class.method` for a method, else its own name. */
function nameOf(fn: Function, marking: Marking, self: unknown, wrapped: Function): string {
  if (marking.name !== undefined) return marking.name;
  const member = marking.member;
  if (member === undefined) return fn.name || (marking.site ? String(marking.site.line) : 'anonymous');
  const method = String(member.name);
  const owner = classOf(self, method, wrapped);
  return owner === undefined ? method : `${owner}.${method}`;
}

/** The name of the class whose prototype (or, for a static method, which itself) holds `method`. */
function classOf(self: unknown, method: string, wrapped: Function): string | undefined {
  try {
    for (let o = self; o !== null && o !== undefined; o = Object.getPrototypeOf(o)) {
      if (Object.getOwnPropertyDescriptor(o, method)?.value !== wrapped) continue;
      const cls = typeof o === 'function' ? o : (o as { constructor?: unknown }).constructor;
      return typeof cls === 'function' && cls.name !== '' ? cls.name : undefined;
    }
  } catch {
    // A proxy in the chain: the method keeps its own name.
  }
  return undefined;
}

/**
 * The record's target: the module the function was marked in, then its name, as a configured
 * target would be written (`app/bot.ts:Bot.reply`); a name with a `:` is a whole target already.
 */
function targetOf(root: string, name: string, marking: Marking): string {
  if (name.includes(':') || marking.site === undefined) return name;
  const file = path.relative(root, marking.site.file).split(path.sep).join('/');
  return `${file}:${name}`;
}

function isDecoratorContext(value: unknown): value is DecoratorContext {
  return typeof value === 'object' && value !== null && 'kind' in value && 'name' in value;
}
