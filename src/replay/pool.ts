import path from 'node:path';
import { Piscina } from 'piscina';
import { failedRun, RunTimeout, type RunOutcome, type RunPlan } from './execute';
import type { HarnessOptions } from './harness';

/**
 * Runs in worker threads (piscina). A run that overstays its timeout has its thread ended, which
 * stops even a synchronous `while (true)`; piscina starts a fresh thread in its place.
 */
export class WorkerPool {
  private readonly pool: Piscina;

  constructor(options: HarnessOptions, threads: number) {
    this.pool = new Piscina({
      filename: path.join(__dirname, 'worker.js'),
      workerData: options,
      minThreads: 1,
      maxThreads: threads,
      // Abortable tasks get a thread each; the runner's concurrency bounds how many are queued.
      idleTimeout: 30_000,
    });
  }

  async run(plan: RunPlan, timeoutMs: number): Promise<RunOutcome> {
    const started = performance.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      return (await this.pool.run(plan, { signal: abort.signal })) as RunOutcome;
    } catch (error) {
      const timedOut = abort.signal.aborted;
      return failedRun(plan, timedOut ? 'timeout' : 'error', timedOut ? new RunTimeout(timeoutMs) : error, performance.now() - started);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
