import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A recorded call in progress, as the downstream taps see it: its calls are its children. Made on
 * every recorded call, so it holds what it must and makes its `id` only when a child asks.
 */
export class RecordedCall {
  /** The `seq` the next child takes: children are numbered in the order they start, those made inside a tool too. */
  seq = 0;
  /**
   * `prefix` and `n` are the record's `id`, `<prefix>-<n>` (Recorder.idPrefix, and what
   * Recorder.record returned); `startedAt` is its time (`Date.now()`, Recorder.time), which a
   * child's `started_ms` counts from. Milliseconds are all a child's start needs: a clock read of
   * its own would cost every recorded call as much again.
   */
  constructor(
    private readonly prefix: string,
    private readonly n: number,
    readonly startedAt: number,
  ) {}

  /** The record's `id`, which its children name as `parent`. */
  get id(): string {
    return `${this.prefix}-${this.n}`;
  }
}

/** Inside a tool call (a child of kind tool) of a recorded call: the children made there name it as `within`. */
export interface InsideTool {
  readonly call: RecordedCall;
  /** The tool call's `seq`. */
  readonly within: number;
}

/** Where downstream calls made now belong. */
export type CallScope = RecordedCall | InsideTool;

// Pinned on globalThis, as the replay context is: two copies of fluxloop in one process (a
// CommonJS app and an ESM one) must agree on which recorded call a request belongs to.
const slot = Symbol.for('fluxloop.recordedCall');
const holder = globalThis as unknown as Record<symbol, AsyncLocalStorage<CallScope> | undefined>;
const storage: AsyncLocalStorage<CallScope> = (holder[slot] ??= new AsyncLocalStorage<CallScope>());

/** Where the current code's downstream calls belong: the innermost recorded call (or a tool call in it); undefined outside any. */
export function currentRecordedCall(): CallScope | undefined {
  return storage.getStore();
}

/** Runs `fn` in `scope`: what it calls, across `await`, is that recorded call's downstream. Returns what `fn` returns, as it is. */
export function runInRecordedCall<T>(scope: CallScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/**
 * The recorded call of `scope` as seen inside its tool call `seq`: the same parent and numbering,
 * so that a replay that answers the tool from the recording knows which recorded calls the tool
 * made itself.
 */
export function insideTool(scope: CallScope, seq: number): InsideTool {
  return { call: scope instanceof RecordedCall ? scope : scope.call, within: seq };
}
