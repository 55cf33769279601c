import type { SourceLocation } from '../../config/errors';
import type { locationsOf } from '../../config/locations';
import type { SimulationConfig } from '../../config/types';
import type { Param } from '../../instrument/params';
import type { RunResult } from '../../replay/execute';
import type { FinishedRun } from '../finished';
import type { HarnessOptions } from '../../replay/harness';
import type { ReplaySource } from '../replay-source';
import type { SimulatedUserDecision, SimulatedUserRequest } from '../conversation-result';
import type { Prices } from '../usage';

/** How often a thread's event loop shows that it still turns. */
export const HEARTBEAT_MS = 50;

/** What a run thread is started with. */
export interface ThreadData {
  harness: HarnessOptions;
  /** Each run's own timeout, which the thread keeps for runs that wait; the supervisor stops runs that block. */
  timeoutMs: number;
  /** One Int32 that the thread's event loop moves on while it turns, so that the supervisor sees a blocked thread. */
  heartbeat: SharedArrayBuffer;
  /** How many runs the thread makes at once; the others it is sent wait in its queue. */
  lanes: number;
  /**
   * Two Float64 a lane: the sequence number of the run it is making (0 when idle) and when that
   * run started (ms since the epoch); then one more, the run whose target was called last, whose
   * code the thread's stack is likely in. Read by the supervisor when it ends a blocked thread, to
   * tell the run that blocked it from those it held up and those still queued.
   */
  started: SharedArrayBuffer;
  /** In `fresh` isolation: how much the thread's memory may grow before it retires. */
  memoryLimit?: number;
  /** The prices a conversation's turns are priced by. */
  prices: Prices;
}

/** Milliseconds since the epoch, to the fraction, alike on every thread. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** The target as seen from outside its thread. */
export interface TargetInfo {
  params: Param[];
}

/** The checked recordings, without the match function, which the supervisor's side makes again. */
export type CheckedReplay = Omit<ReplaySource, 'match'>;

/** An error as it crosses between threads; a config error keeps its location, for exit 2. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  location?: SourceLocation;
  config: boolean;
}

/**
 * The config's key locations go beside it, for messages that point into it. `plans` is the JSON
 * of the plans, cheaper to send as one string than as objects to clone;
 * `seqs[i]` is the supervisor's number for the i-th, and `attempts[i]` which attempt it is.
 */
export type ToThread =
  | { type: 'check'; config: SimulationConfig; locations: ReturnType<typeof locationsOf> }
  | { type: 'runs'; plans: string; seqs: number[]; attempts: number[] }
  /** The simulated user's answer to the thread's question `id`, or why it could not answer. */
  | { type: 'answer'; id: number; decision?: SimulatedUserDecision; error?: ErrorData };

export type FromThread =
  /** The harness is built (or failed to be); runs are timed from here. */
  | { type: 'ready' }
  | { type: 'checked'; replay?: CheckedReplay; target: TargetInfo }
  | { type: 'check-failed'; error: ErrorData }
  /**
   * Runs that ended since the last message, and the sequence numbers of those it hands back
   * unstarted; `retiring` once it takes no more (after a stray error, or past its memory bound).
   */
  | { type: 'outcomes'; runs: FinishedRun[]; declined: number[]; retiring: boolean }
  /** An error that no caller caught; `run` is set when it ended a run still in flight. */
  | { type: 'stray'; kind: StrayKind; traceId?: string; run: boolean; error: RunResult['error'] }
  /** Sent just before the thread ends by `process.exit`. */
  | { type: 'exit'; code: number; traceId?: string }
  /** A conversation's turn is answered: the simulated user, on the supervisor's side, decides what comes next. */
  | { type: 'ask'; id: number; request: SimulatedUserRequest };

export type StrayKind = 'uncaughtException' | 'unhandledRejection';
