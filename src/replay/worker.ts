import { workerData } from 'node:worker_threads';
import type { RunOutcome, RunPlan } from './execute';
import { Harness, type HarnessOptions } from './harness';

// One harness per worker thread, built on its first run: a worker that the pool ended on a
// timeout is replaced by a new thread, which loads the target anew (and registers tsx in its own
// module hooks, as the harness does in every thread).
let harness: Promise<Harness> | undefined;

/** Piscina's task function: one run, bounded from outside by ending the thread. */
export default async function run(plan: RunPlan): Promise<RunOutcome> {
  harness ??= Harness.create(workerData as HarnessOptions);
  return (await harness).run(plan);
}
