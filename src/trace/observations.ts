import { currentReplay, runInReplay, type ReplayContext } from './context';

/**
 * Makes the call itself, handed back by an observer that must see the call through (the replay
 * tracer, which times it and runs it in a context of its own). Returns what the call returned.
 */
export type Around = (call: () => unknown) => unknown;

/** One traced call during a replay run, as FluxLoop's observations. */
export interface Observation {
  id: string;
  trace_id: string;
  parent_id: string | null;
  name: string;
  /** `agent` for the replayed function, `span` for what it calls. */
  type: string;
  start_time: string;
  end_time: string;
  duration_ms: number;
  /** The arguments, as the live values; the run encodes them when it writes them. */
  input: unknown[];
  /** What the call returned; absent when it threw. */
  output?: unknown;
  /** What the call threw; absent when it returned. */
  error?: unknown;
  /** The pieces the output was read in (a stream's chunks), when more than one. */
  frames?: unknown[];
  /** Milliseconds from the call's start to its first piece, with `frames`. */
  first_frame_ms?: number;
}

/** An observation begun and not yet ended: the context its call runs in, and how it ends. */
export interface OpenObservation {
  /** The context of the call, so that what it calls nests under it. */
  context: ReplayContext;
  /** The call returned: a promise's outcome is awaited on a side chain, so the caller keeps its very promise. */
  returned(result: unknown): void;
  threw(error: unknown): void;
  /**
   * The call's output, read to its end (a stream consumed), with the pieces it came in and
   * `performance.now()` when the first came: the observation ends now, not when the call returned.
   */
  read(output: unknown, frames?: unknown[], firstFrameAt?: number): void;
}

// Loaded at the first observation: every recording process loads this module, and few observe.
let randomUUID: (() => string) | undefined;

/**
 * During a traced replay run, begins the observation of `name`'s call, nested in the observation
 * the caller is in; undefined otherwise.
 */
export function beginObservation(name: string, type: string, args: unknown[]): OpenObservation | undefined {
  const context = currentReplay();
  const sink = context?.observe;
  if (context === undefined || sink === undefined) return undefined;
  const id = (randomUUID ??= (require('node:crypto') as typeof import('node:crypto')).randomUUID)();
  const startTime = new Date().toISOString();
  // The global, which loads node:perf_hooks when first read: this module is loaded by a process
  // that records, which must not pay for it at start.
  const start = performance.now();
  let ended = false;
  // Ends once: a run that timed out ends its root with the timeout, and its stream may still end later.
  const finish = (outcome: Pick<Observation, 'output' | 'error' | 'frames' | 'first_frame_ms'>): void => {
    if (ended) return;
    ended = true;
    sink({
      id,
      trace_id: context.traceId,
      parent_id: context.parentId ?? null,
      name,
      type,
      start_time: startTime,
      end_time: new Date().toISOString(),
      duration_ms: performance.now() - start,
      input: args,
      ...outcome,
    });
  };
  return {
    context: { ...context, parentId: id },
    returned: (result) => {
      if (!isThenable(result)) return finish({ output: result });
      result.then(
        (value) => finish({ output: value }),
        (error: unknown) => finish({ error }),
      );
    },
    threw: (error) => finish({ error }),
    read: (output, frames, firstFrameAt) =>
      finish(frames === undefined ? { output } : { output, frames, ...(firstFrameAt === undefined ? {} : { first_frame_ms: firstFrameAt - start }) }),
  };
}

/**
 * During a traced replay run, an Around that makes `name`'s call an observation of the run; the
 * call runs in a context of its own, so that what it calls, across `await`, nests under it, and
 * two concurrent runs never mix. Undefined outside a traced run.
 */
export function observeCall(name: string, type: string, args: unknown[]): Around | undefined {
  const observation = beginObservation(name, type, args);
  if (observation === undefined) return undefined;
  return (call) => {
    let result: unknown;
    try {
      result = runInReplay(observation.context, call);
    } catch (error) {
      observation.threw(error);
      throw error;
    }
    observation.returned(result);
    return result;
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
