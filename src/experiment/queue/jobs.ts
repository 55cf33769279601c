import type { FinishedRun } from '../finished';
import type { Planned } from '../conversation';
import { plannedKey } from '../identity';
import type { StrayError } from '../supervisor/supervisor';
import type { WorkOrder } from '../work-order';

/** A job's data: one run of a plan, with what a worker needs to make it and to check it may. */
export interface RunJob {
  order: WorkOrder;
  plan: Planned;
  attempt: number;
}

/** What a worker returns for a job: the run, and the errors from user code that ended no run since its last job. */
export interface RunReply {
  run: FinishedRun;
  strays: StrayError[];
  strayCount: number;
}

/**
 * The queue of a project's experiments: `fluxloop-<config name>`, so that the workers of one
 * project never take another's runs from a shared Redis. BullMQ forbids a colon in a queue's name
 * (its keys are joined by colons); the rest of a config's name is kept.
 */
export function queueName(configName: string): string {
  return `fluxloop-${configName.replace(/[:\s]/g, '_')}`;
}

/**
 * A run's job id: the same for the same run of the same plan, whichever process plans it, so
 * that a plan collected again (`--resume`, after the CLI died) finds the job already there,
 * finished or not, rather than adding a second one. Each attempt (a retry under
 * `runner.retries`) is a job of its own. BullMQ refuses colons in a custom id, which a run's key
 * has: dots stand for them.
 */
export function jobId(planHash: string, plan: Planned, attempt: number): string {
  return `${planHash}.${plannedKey(plan).replace(/:/g, '.')}.${attempt}`;
}

/**
 * How a worker's hold on a job is kept: it renews a lock of LOCK_MS every LOCK_MS / 2 (from its
 * main thread, which runs no user code: runs are on worker threads), and the other workers look
 * for jobs whose lock has lapsed every STALLED_INTERVAL_MS. A worker killed mid-run has its job
 * back in the queue within LOCK_MS + 2 × STALLED_INTERVAL_MS (the first check marks the job, the
 * next moves it), 8 s, and taken by another at once: within the 10 s the issue asks.
 */
export const LOCK_MS = 4000;
export const STALLED_INTERVAL_MS = 2000;
/**
 * How many times a job may lose its worker before it fails as an error run. More than once: a
 * worker on a machine that paused (a laptop's sleep, a long garbage collection) loses its lock
 * without the run being at fault.
 */
export const MAX_STALLED = 3;
/** BullMQ's reason for a job failed by MAX_STALLED. */
export const STALLED_REASON = 'job stalled more than allowable limit';
/** How a worker's refusal of a plan starts its failed reason, for the experiment to stop with it. */
export const REFUSED = 'refused by ';
/**
 * How long finished jobs stay in Redis at most: long enough for an experiment whose CLI died to be
 * collected again with --resume, short enough not to fill Redis with the outputs of experiments
 * nobody collects. The experiment removes the jobs it has written at once.
 */
export const KEEP_FINISHED_S = 24 * 3600;
