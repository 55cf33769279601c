import { EventEmitter } from 'node:events';
import type { OutputRead, RebuildContext } from '../adapters';

/** One call that reached a collector during a run. */
export interface Message {
  /** Where it went: the argument path of a callable (`args.2`), or `Class.method` of a stand-in. */
  to: string;
  kind: 'send' | 'error' | 'call';
  args: unknown[];
}

/** What a run's output falls back to when the function returned nothing: what it sent. */
const OUTPUT_METHODS = new Set(['send', 'json', 'write', 'end']);
const EMITTER_METHODS = new Set(Object.getOwnPropertyNames(EventEmitter.prototype));

/**
 * The collectors of one run: callables put in place of recorded callbacks, stand-ins for emitters,
 * and what the adapters' rebuilt objects (a Fastify reply, a Koa context) report.
 */
export class Collectors implements RebuildContext {
  readonly messages: Message[] = [];
  /** What was sent, each with the time it was sent. */
  private readonly outputs: Array<{ value: unknown; at: number }> = [];
  private readonly standIns = new WeakSet<object>();
  private readonly answers: Array<() => unknown> = [];

  call(to: string, args: unknown[]): void {
    this.messages.push({ to, kind: 'call', args });
  }

  send(value: unknown): void {
    this.outputs.push({ value, at: performance.now() });
  }

  standIn<T extends object>(value: T): T {
    this.standIns.add(value);
    return value;
  }

  answer(read: () => unknown): void {
    this.answers.push(read);
  }

  /** True for an object made by these collectors: a function returning it has its sent values as output. */
  isStandIn(value: unknown): boolean {
    return typeof value === 'object' && value !== null && this.standIns.has(value);
  }

  /**
   * A function in place of a recorded callback: it keeps each call's arguments and returns a
   * resolved promise, so that callers that await it and callers that do not both go on. With
   * `impl` (a user's provider) the call goes through to it and its result is returned.
   */
  callable(to: string, kind: 'send' | 'error', impl?: Function, name = to.slice(to.lastIndexOf('.') + 1)): Function {
    const collectors = this;
    const collector = function (this: unknown, ...args: unknown[]) {
      collectors.messages.push({ to, kind, args });
      if (kind === 'send') collectors.send(args.length === 1 ? args[0] : args);
      return impl ? Reflect.apply(impl, this, args) : Promise.resolve(undefined);
    };
    // Named as the recorded callable was, so that the arguments as invoked read as recorded.
    Object.defineProperty(collector, 'name', { value: name });
    return collector;
  }

  /**
   * An emitter (socket, request, response) in place of a recorded one: its recorded data, a real
   * EventEmitter, and each other recorded method as a collector returning the stand-in, so that
   * `res.status(200).json(body)` chains. A recorded `then` is left out: the stand-in is never a
   * thenable. As a collector, `then` would never call back, so `await standIn` (and a promise
   * resolved with it) would never settle and the run would hang to its timeout; and no `then` can
   * know what the app's object would have settled with. Without it, `await standIn` gives the
   * stand-in itself, as awaiting any other object does, and the run goes on.
   */
  emitter(marker: { class: string; methods: string[]; value: unknown }): object {
    const collectors = this;
    // A class of the recorded name with the collector methods on its prototype, so that the
    // arguments as invoked are written as the recorded class, with its methods.
    const StandIn = { [marker.class]: class extends EventEmitter {} }[marker.class]!;
    for (const method of marker.methods) {
      if (EMITTER_METHODS.has(method) || method === 'then') continue;
      const to = `${marker.class}.${method}`;
      Object.defineProperty(StandIn.prototype, method, {
        value: { [method](this: object, ...args: unknown[]) {
          collectors.call(to, args);
          if (OUTPUT_METHODS.has(method) && args.length > 0 && typeof args[0] !== 'function') collectors.send(args[0]);
          return this;
        } }[method],
        writable: true,
        configurable: true,
      });
    }
    return this.standIn(Object.assign(new StandIn(), marker.value as object));
  }

  /**
   * What was sent: undefined when nothing; else strings and bytes joined, or one value, or a list;
   * sent more than once, each piece is a frame.
   */
  output(): OutputRead | undefined {
    const sent = this.outputs;
    if (sent.length === 0) {
      for (const read of this.answers) {
        const value = read();
        if (value !== undefined) return { value };
      }
      return undefined;
    }
    const values = sent.map((x) => x.value);
    const frames = sent.length > 1 ? { frames: values.map(textOf), firstFrameAt: sent[0]!.at } : {};
    if (values.every(isText)) return { value: values.map(textOf).join(''), ...frames };
    return { value: values.length === 1 ? values[0] : values, ...frames };
  }
}

function isText(x: unknown): boolean {
  return typeof x === 'string' || x instanceof Uint8Array;
}

function textOf(x: unknown): unknown {
  return x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : x;
}
