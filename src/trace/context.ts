import { AsyncLocalStorage } from 'node:async_hooks';
import type { Channel } from 'node:diagnostics_channel';
import type { Observation } from './observations';

/** What the replay harness knows about the run in progress. */
export interface ReplayContext {
  traceId: string;
  /** Takes the observations of the run; absent when the run is not traced. */
  observe?: (observation: Observation) => void;
  /** The observation that calls made now are nested in. */
  parentId?: string;
  /** The run's downstream state (the replay's `DownstreamScope`: its stubs), which the intercepts of fetch, http and tools consult. */
  downstream?: unknown;
  [key: string]: unknown;
}

// Pinned on globalThis: when two copies of fluxloop load in one process (a CommonJS app and an
// ESM one, or two versions), a replay started by one must still silence the recorder of the other.
const slot = Symbol.for('fluxloop.replayContext');
const holder = globalThis as unknown as Record<symbol, AsyncLocalStorage<ReplayContext> | undefined>;
const storage: AsyncLocalStorage<ReplayContext> = (holder[slot] ??= new AsyncLocalStorage<ReplayContext>());

/** The replay run the current call belongs to, if any. */
export function currentReplay(): ReplayContext | undefined {
  return storage.getStore();
}

/** Runs `fn` inside a replay run: nothing it calls is recorded again. */
export function runInReplay<T>(context: ReplayContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Makes each call published on a tracing channel run in the replay context that `contextOf` gives
 * for its message, as `runInReplay` would: the channel's own way of carrying a context into a call.
 */
export function bindReplayContext(channel: Channel, contextOf: (message: unknown) => ReplayContext | undefined): void {
  channel.bindStore(storage, contextOf as (message: unknown) => ReplayContext);
}
