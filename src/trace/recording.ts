import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

/** A recorded call in progress, as the downstream taps see it: its calls are its children. */
export interface RecordedCall {
  /** The record's `id`, which its children name as `parent`. */
  readonly id: string;
  /** The `seq` the next child takes: children are numbered in the order they start, those made inside a tool too. */
  readonly next: { seq: number };
  /** `performance.now()` when the call started; a child's `started_ms` counts from it. */
  readonly startedAt: number;
  /** Inside a tool call (a child of kind tool): its `seq`, which the children made inside it name as `within`. */
  readonly within?: number;
}

// Pinned on globalThis, as the replay context is: two copies of fluxloop in one process (a
// CommonJS app and an ESM one) must agree on which recorded call a request belongs to.
const slot = Symbol.for('fluxloop.recordedCall');
const holder = globalThis as unknown as Record<symbol, AsyncLocalStorage<RecordedCall> | undefined>;
const storage: AsyncLocalStorage<RecordedCall> = (holder[slot] ??= new AsyncLocalStorage<RecordedCall>());

/** The recorded call the current code runs under, the innermost when they nest; undefined outside any. */
export function currentRecordedCall(): RecordedCall | undefined {
  return storage.getStore();
}

/** A recorded call beginning now. */
export function recordedCall(id: string): RecordedCall {
  return { id, next: { seq: 0 }, startedAt: performance.now() };
}

/**
 * The recorded call as seen inside its tool call `seq`: the same parent and numbering, so that a
 * replay that answers the tool from the recording knows which recorded calls the tool made itself.
 */
export function insideTool(call: RecordedCall, seq: number): RecordedCall {
  return { ...call, within: seq };
}

/** Runs `fn` as the recorded call `call`: what it calls, across `await`, is `call`'s downstream. Returns what `fn` returns, as it is. */
export function runInRecordedCall<T>(call: RecordedCall, fn: () => T): T {
  return storage.run(call, fn);
}
