import { EventEmitter } from 'node:events';

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

/** The collectors of one run: callables put in place of recorded callbacks, and stand-ins for emitters. */
export class Collectors {
  readonly messages: Message[] = [];
  private readonly outputs: unknown[] = [];

  /**
   * A function in place of a recorded callback: it keeps each call's arguments and returns a
   * resolved promise, so that callers that await it and callers that do not both go on. With
   * `impl` (a user's provider) the call goes through to it and its result is returned.
   */
  callable(to: string, kind: 'send' | 'error', impl?: Function, name = to.slice(to.lastIndexOf('.') + 1)): Function {
    const collectors = this;
    const collector = function (this: unknown, ...args: unknown[]) {
      collectors.messages.push({ to, kind, args });
      if (kind === 'send') collectors.outputs.push(args.length === 1 ? args[0] : args);
      return impl ? Reflect.apply(impl, this, args) : Promise.resolve(undefined);
    };
    // Named as the recorded callable was, so that the arguments as invoked read as recorded.
    Object.defineProperty(collector, 'name', { value: name });
    return collector;
  }

  /**
   * An emitter (socket, request, response) in place of a recorded one: its recorded data, a real
   * EventEmitter, and each other recorded method as a collector returning the stand-in, so that
   * `res.status(200).json(body)` chains.
   */
  standIn(marker: { class: string; methods: string[]; value: unknown }): object {
    const collectors = this;
    // A class of the recorded name with the collector methods on its prototype, so that the
    // arguments as invoked are written as the recorded class, with its methods.
    const StandIn = { [marker.class]: class extends EventEmitter {} }[marker.class]!;
    for (const method of marker.methods) {
      if (EMITTER_METHODS.has(method)) continue;
      const to = `${marker.class}.${method}`;
      Object.defineProperty(StandIn.prototype, method, {
        value: { [method](this: object, ...args: unknown[]) {
          collectors.messages.push({ to, kind: 'call', args });
          if (OUTPUT_METHODS.has(method) && args.length > 0 && typeof args[0] !== 'function') collectors.outputs.push(args[0]);
          return this;
        } }[method],
        writable: true,
        configurable: true,
      });
    }
    return Object.assign(new StandIn(), marker.value as object);
  }

  /** What was sent, as one value: undefined when nothing, strings and bytes joined, else one value or a list. */
  output(): unknown {
    const sent = this.outputs;
    if (sent.length === 0) return undefined;
    if (sent.every((x) => typeof x === 'string' || Buffer.isBuffer(x) || x instanceof Uint8Array)) {
      const parts = sent.map((x) => (typeof x === 'string' ? x : Buffer.from(x as Uint8Array).toString('utf8')));
      return parts.join('');
    }
    return sent.length === 1 ? sent[0] : [...sent];
  }
}
