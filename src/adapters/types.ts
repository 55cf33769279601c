/**
 * Support for the objects that frameworks hand to an app's functions: Fetch API objects, Fastify's
 * request and reply, Koa's and Hono's contexts. Each framework is one file exporting one Adapter;
 * `index.ts` lists them. The recorder's encoder asks them before its generic class walk, a replay's
 * decoder asks them to rebuild what they recorded, and a run asks them to read its output.
 *
 * An adapter never imports its framework: it recognises the objects by their class and shape, so
 * that fluxloop works with whichever version the app has, and loads nothing the app does not.
 */
export interface Adapter {
  /** The `$type`s this adapter writes. */
  readonly types: readonly string[];
  /**
   * The `$type` a value is recorded as, or undefined when the value is none of this adapter's.
   * Decided from the value's prototype chain alone (not its own data), since the answer is kept
   * per prototype.
   */
  recognise(value: object, proto: object): string | undefined;
  /**
   * What is kept of the value: plain data, written beside `$type` as its `value` and encoded like
   * any other data (redacted, capped). Reads must not consume anything the app will read: a body
   * is read from a clone, through `context.later`.
   */
  record(value: object, type: string, context: RecordContext): Record<string, unknown>;
  /** The object a replay hands the function in place of the recorded one, from its decoded `value`. */
  rebuild(type: string, value: Record<string, unknown>, context: RebuildContext): unknown;
  /**
   * The data a run's output stands for when it is one of this adapter's objects (a `Response`):
   * read to the end, chunks kept as frames. Undefined for values it does not read.
   */
  readOutput?(value: unknown): Promise<OutputRead> | undefined;
}

/** What an adapter may use while it records. */
export interface RecordContext {
  /**
   * A part known only later (a body being read): written in the record once `read` settles, or as
   * a marker saying why not. Absent when the encoding cannot wait; the adapter then keeps what it
   * can read at once.
   */
  later?: (read: Promise<unknown>) => unknown;
}

/** What a rebuilt object reports to the run: the collectors of replay/collectors.ts. */
export interface RebuildContext {
  /** Notes a call on a stand-in, under `Class.method`. */
  call(to: string, args: unknown[]): void;
  /** Notes a value the function sent (a reply's body): it becomes the run's output, one frame each. */
  send(value: unknown): void;
  /** Marks an object as a stand-in, so that a function returning it has its sent values as output. */
  standIn<T extends object>(value: T): T;
  /**
   * Names the output of a run that sent nothing: the object's state when the function has ended
   * (Koa's `ctx.body`, which the last assignment decides).
   */
  answer(read: () => unknown): void;
}

/** A run's output as read: from what the function returned, or from what it sent. */
export interface OutputRead {
  /** What the output is, as plain data (e.g. `{ status, headers, body }` of a Response). */
  value: unknown;
  /** The `$type` the value is written under in traces.jsonl (`Response`); absent for plain output. */
  type?: string;
  /** The pieces it arrived in, when more than one: frames sent, chunks of a streamed body, items of an iterable. */
  frames?: unknown[];
  /** `performance.now()` when the first frame arrived. */
  firstFrameAt?: number;
}

/** A rebuild context that keeps nothing: for objects rebuilt outside a run (the SDK's `decode`). */
export const NOWHERE: RebuildContext = { call: () => undefined, send: () => undefined, standIn: (value) => value, answer: () => undefined };
