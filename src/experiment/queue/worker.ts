import os from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { ConfigError } from '../../config/errors';
import { plannedKey } from '../identity';
import type { Runs } from '../runs';
import { runsFor } from '../work-order';
import { checkRedis, connectionTo, watchRedis } from './connection';
import { maskUrl } from './errors';
import { Slots } from './slots';
import { LOCK_MS, MAX_STALLED, REFUSED, STALLED_INTERVAL_MS, type RunJob, type RunReply } from './jobs';

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** The Redis URL. */
  url: string;
  /** The project, which must be the one each plan was made from. */
  root: string;
  queueName: string;
  /** Runs at once. */
  concurrency: number;
  /** Where the worker says what happens: each finished run (`run`), a refused plan or Redis lost and back (`warn`). */
  log: (kind: 'run' | 'warn', line: string) => void;
}

export interface RunWorker {
  /**
   * Takes no new job, finishes those it has, then stops its runs and its connections. False when
   * Redis was not there to take the last results: BullMQ may then hold timers that keep the
   * process alive, which the caller should end.
   */
  close(): Promise<boolean>;
}

/** A plan's runs on this worker, made from this project once it was found to be the plan's. */
interface PlanRuns {
  runs: Runs;
  /** Its jobs being made. */
  active: number;
  /** The strays of its runs already sent back: see RunReply. */
  sentStrays: number;
  sentStrayCount: number;
}

/**
 * How many jobs a worker holds beyond those it makes: a lane that ends a run starts the next at
 * once, instead of waiting for Redis to hand over a job (a round trip). A few, so that at the end
 * of an experiment no other worker waits idle while this one holds the last jobs.
 */
export function prefetch(concurrency: number): number {
  return Math.ceil(concurrency / 4);
}

/**
 * Runs shorter than this, on average, have the prefetched jobs queued on the worker's threads,
 * not here: a lane then starts its next run without a hop to this thread and back, which on a
 * busy machine costs a run of 50 ms about a twentieth of its lane's time. A worker that drains
 * finishes those too, a delay of at most one such run; longer runs wait here, where a drain gives
 * them back to the queue unstarted.
 */
const SHORT_RUN_MS = 1000;

/** How often the worker looks at its connection, to say when Redis is lost and when it is back. */
const WATCH_MS = 1000;
/** How long a closing worker may take to hand in its last results once its runs are done. */
const CLOSE_MS = 3000;

/**
 * A `fluxloop worker`: takes runs from the project's queue, checks that their plan was made from
 * this project, and makes them with the project's own isolation, timeout and supervision. Throws
 * a QueueUnavailable when Redis cannot be reached at start; once started, it waits out a Redis that
 * goes away (a pool's worker should outlive a Redis restart), saying so.
 */
export async function startWorker(options: WorkerOptions): Promise<RunWorker> {
  const { url, root, concurrency, log } = options;
  await checkRedis(url);
  const plans = new Map<string, PlanRuns>();
  /** The plan of the last job taken: the others are closed once their jobs are done. */
  let current: string | undefined;
  /** The refusal last told of each plan, so that it is told once, not once a job. */
  const refused = new Map<string, string>();
  const me = `the worker on ${os.hostname()} (pid ${process.pid})`;

  const retire = async () => {
    for (const [hash, entry] of plans) {
      if (hash === current || entry.active > 0) continue;
      plans.delete(hash);
      await entry.runs.close();
    }
  };

  const runsOf = (order: RunJob['order']): PlanRuns => {
    const hash = order.plan.hash;
    let entry = plans.get(hash);
    if (entry === undefined) {
      let runs: Runs;
      try {
        // Checked for every job of a refused plan, not remembered: the project may be fixed meanwhile.
        runs = runsFor(root, order, concurrency);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (refused.get(hash) !== error.message) log('warn', `refused the runs of plan ${hash}: ${error.message}`);
        refused.set(hash, error.message);
        throw new UnrecoverableError(`${REFUSED}${me}: ${error.message}`);
      }
      refused.delete(hash);
      entry = { runs, active: 0, sentStrays: 0, sentStrayCount: 0 };
      plans.set(hash, entry);
    }
    if (current !== hash) {
      current = hash;
      void retire();
    }
    return entry;
  };

  /** Jobs in progress, on every plan, and who waits for there to be none. */
  let active = 0;
  const idle: Array<() => void> = [];

  const lanes = new Slots(concurrency);
  /** How long runs take, a moving average: see SHORT_RUN_MS. */
  let averageMs: number | undefined;

  const processor = async (job: Job<RunJob, RunReply>, token?: string): Promise<RunReply> => {
    const { order, plan, attempt } = job.data;
    const entry = runsOf(order);
    entry.active++;
    active++;
    let lane = false;
    try {
      lane = await lanes.take();
      if (!lane) {
        // Draining: a job that has not started goes back to the queue, for another worker. Not
        // waited for past CLOSE_MS: with Redis away, its lock lapses and it goes back anyway.
        await Promise.race([job.moveToWait(token).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, CLOSE_MS).unref())]);
        throw new WaitingError();
      }
      const run = await entry.runs.run(plan, attempt);
      // The errors of user code that ended no run go back with the next job to finish.
      const all = entry.runs.strays ?? [];
      const strays = all.slice(entry.sentStrays);
      const strayCount = (entry.runs.strayCount ?? 0) - entry.sentStrayCount;
      entry.sentStrays = all.length;
      entry.sentStrayCount += strayCount;
      const ms = run.result.duration_ms;
      averageMs = averageMs === undefined ? ms : 0.9 * averageMs + 0.1 * ms;
      lanes.resize(averageMs < SHORT_RUN_MS ? concurrency + prefetch(concurrency) : concurrency);
      log('run', `run ${plannedKey(plan)} of plan ${order.plan.hash}: ${run.result.status} in ${Math.round(ms)} ms`);
      return { run, strays: [...strays], strayCount };
    } finally {
      if (lane) lanes.release();
      entry.active--;
      if (--active === 0) for (const resolve of idle.splice(0)) resolve();
      if (order.plan.hash !== current) void retire();
    }
  };

  const worker = new Worker<RunJob, RunReply>(options.queueName, processor, {
    connection: connectionTo(url),
    concurrency: concurrency + prefetch(concurrency),
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED,
    name: `${os.hostname()}:${process.pid}`,
    autorun: false,
  });
  // Connection errors are the watch's to tell; unheard, BullMQ would print each one.
  worker.on('error', () => undefined);
  const watch = watchRedis(await worker.getBackend().client);
  let down = false;
  const watching = setInterval(() => {
    const downFor = watch.downFor();
    if (!down && downFor > WATCH_MS) {
      down = true;
      log('warn', `lost Redis at ${maskUrl(url)} (${watch.reason()}): reconnecting; runs in progress go on`);
    } else if (down && downFor === 0) {
      down = false;
      log('warn', `Redis at ${maskUrl(url)} is back`);
    }
  }, WATCH_MS);
  void worker.run().catch(() => undefined);
  await worker.waitUntilReady();

  let closing: Promise<boolean> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        lanes.close();
        // BullMQ's close takes no new job, waits for those in progress, hands in their results and
        // closes its connections. With Redis away it would wait for Redis forever, though the
        // results cannot be handed in: once the runs are done it gets a few seconds, and their
        // jobs go back to the queue when their locks lapse.
        const closed = worker.close().then(
          () => true,
          () => true,
        );
        if (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_MS)));
        const clean = await Promise.race([closed, late]);
        clearTimeout(timer);
        if (!clean) void worker.disconnect().catch(() => undefined);
        clearInterval(watching);
        watch.stop();
        current = undefined;
        await retire();
        return clean;
      })()),
  };
}
