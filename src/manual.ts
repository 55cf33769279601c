import { activeSession } from './register';
import type { Session } from './instrument/session';
import { isTransformed } from './instrument/transform/channels';
import { wrap, type CallObserver } from './instrument/wrap';
import { currentReplay } from './trace/context';
import { observeCall } from './trace/observations';

/** Options of {@link trace}. */
export interface TraceOptions {
  /** The `target` written in each record; the function's own name by default. */
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
  if (typeof fnOrOptions === 'function') {
    // `@trace` without parentheses arrives here with the decorator context as second argument.
    const name = isDecoratorContext(options) ? String(options.name) : options?.name;
    const type = isDecoratorContext(options) ? undefined : options?.type;
    return traced(fnOrOptions, name ?? (fnOrOptions.name || 'anonymous'), type);
  }
  const given = fnOrOptions;
  const decorator = (method: Function, context: ClassMethodDecoratorContext) => traced(method, given?.name ?? String(context.name), given?.type);
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

function traced<F extends Function>(fn: F, name: string, type = 'span'): F {
  // A configured target that the source transform records already is recorded once, as the target.
  if (isTransformed(fn)) return fn;
  let session: Session | undefined;
  let observe: CallObserver | undefined;
  return wrap(fn, (args, self) => {
    if (currentReplay() !== undefined) return observeCall(name, type, args);
    const current = activeSession();
    if (current === undefined) return;
    if (current !== session) {
      session = current;
      observe = current.observer(name, fn);
      current.markHooked(name);
    }
    return observe!(args, self);
  });
}

function isDecoratorContext(value: unknown): value is DecoratorContext {
  return typeof value === 'object' && value !== null && 'kind' in value && 'name' in value;
}
