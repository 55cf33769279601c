import type { SourceLocation } from '../../config/errors';
import type { SimulationConfig } from '../../config/types';
import type { Param } from '../../instrument/params';
import type { RunOutcome, RunPlan, RunResult } from '../../replay/execute';
import type { HarnessOptions } from '../../replay/harness';
import type { ReplaySource } from '../plan';

/** How often a thread's event loop shows that it still turns. */
export const HEARTBEAT_MS = 50;

/** What a run thread is started with. */
export interface ThreadData {
  harness: HarnessOptions;
  /** Each run's own timeout, which the thread keeps for runs that wait; the supervisor stops runs that block. */
  timeoutMs: number;
  /** One Int32 that the thread's event loop moves on while it turns, so that the supervisor sees a blocked thread. */
  heartbeat: SharedArrayBuffer;
}

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

export type ToThread = { type: 'check'; config: SimulationConfig } | { type: 'runs'; plans: RunPlan[] };

export type FromThread =
  /** The harness is built (or failed to be); runs are timed from here. */
  | { type: 'ready' }
  | { type: 'checked'; replay?: CheckedReplay; target: TargetInfo }
  | { type: 'check-failed'; error: ErrorData }
  /** Runs that ended since the last message, and the thread's heap, which decides its recycling. */
  | { type: 'outcomes'; outcomes: RunOutcome[]; heap: number }
  /** An error that no caller caught; `run` is set when it ended a run still in flight. */
  | { type: 'stray'; kind: StrayKind; traceId?: string; run: boolean; error: RunResult['error'] }
  /** Sent just before the thread ends by `process.exit`. */
  | { type: 'exit'; code: number; traceId?: string };

export type StrayKind = 'uncaughtException' | 'unhandledRejection';
