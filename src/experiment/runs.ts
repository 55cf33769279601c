import type { FinishedRun } from './finished';
import type { Planned } from './conversation';
import type { StrayError } from './supervisor/supervisor';

/** Makes planned runs, wherever they run. */
export interface Runs {
  /** One run (or conversation), the `attempt`-th of its plan; never rejects while runs can be made (a queue that is gone rejects). */
  run(plan: Planned, attempt: number): Promise<FinishedRun>;
  /** How many runs to hand over at once, when more than `runner.concurrency` (runs queued where they will run). */
  readonly capacity?: number;
  /** Errors from user code that ended no run, for errors.json. */
  readonly strays?: readonly StrayError[];
  readonly strayCount?: number;
  close(): Promise<void>;
}

