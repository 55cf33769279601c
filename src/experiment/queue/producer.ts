import { Job, Queue, QueueEvents } from 'bullmq';
import { ConfigError } from '../../config/errors';
import type { RunRedaction } from '../../replay/execute';
import { failedPlanned, finishPlanned, type Planned } from '../conversation';
import type { FinishedRun } from '../finished';
import { plannedKey } from '../identity';
import type { Runs } from '../runs';
import type { StrayError } from '../supervisor/supervisor';
import type { WorkOrder } from '../work-order';
import { checkRedis, connectionTo, CONNECT_TIMEOUT_MS, watchRedis, type RedisWatch } from './connection';
import { maskUrl, QueueUnavailable } from './errors';
import { jobId, KEEP_FINISHED_S, MAX_STALLED, REFUSED, STALLED_REASON, type RunJob, type RunReply } from './jobs';

/** Options of {@link queueRuns}. */
export interface QueueRunsOptions {
  /** The Redis URL (`--queue`, `runner.queue`). */
  url: string;
  /** What the workers need to make the runs, the plan's identity among it. */
  order: WorkOrder;
  /** See {@link queueName}. */
  queueName: string;
  /** The project's masking rules, for runs that end without a worker's result. */
  redaction: RunRedaction;
  /** How long Redis may be unreachable mid-experiment before the runs waiting on it fail; 5 s. */
  graceMs?: number;
  /** Runs in flight at once; 256. */
  capacity?: number;
  /** Told once when runs wait and no worker takes them: the user may have started none. */
  onWarning?: (message: string) => void;
}

/**
 * Enough runs in flight for a pool of workers: a few machines at concurrency 10 to 50 each, with
 * a queue behind every worker's lanes. The plan streams, so only these are held in memory.
 */
const CAPACITY = 256;
const GRACE_MS = 5000;
/** How often the jobs handed back are removed from Redis, in one batch. */
const SWEEP_MS = 1000;
/** How long a job may go without news before its state is read from Redis rather than waited for. */
const RECONCILE_MS = 5000;
/** How long runs may wait with none coming back before the producer looks for workers. */
const IDLE_MS = 10_000;
/** How long closing may wait on Redis before the connections are dropped. */
const CLOSE_MS = 3000;
/** The most stray errors kept for errors.json, as a local experiment keeps; all are counted. */
const MAX_STRAYS = 100;

const JOB_OPTIONS = {
  // fluxloop retries a run itself (runner.retries), each attempt a job of its own.
  attempts: 1,
  removeOnComplete: { age: KEEP_FINISHED_S },
  removeOnFail: { age: KEEP_FINISHED_S },
};

interface Waiting {
  plan: Planned;
  attempt: number;
  resolve(run: FinishedRun): void;
  reject(error: Error): void;
  /** When its state was last known: added, or read. */
  heard: number;
  /** Added a second time already (its first job was stale, or gone). */
  readded: boolean;
}

/**
 * Runs through a BullMQ queue on Redis, made by `fluxloop worker`s wherever they are: each run a
 * job, with the plan's identity, which workers check against their own project. Throws a
 * QueueUnavailable within a few seconds when Redis cannot be reached.
 */
export async function queueRuns(options: QueueRunsOptions): Promise<Runs> {
  await checkRedis(options.url);
  const connection = connectionTo(options.url);
  const queue = new Queue<RunJob, RunReply>(options.queueName, { connection });
  const events = new QueueEvents(options.queueName, { connection });
  // Connection errors are the watch's to judge; unheard, BullMQ would print each one.
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    // Redis answered a moment ago; one that has gone since would be waited for forever.
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS)));
    await Promise.race([Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), late]);
  } catch (error) {
    for (const side of [queue, events]) side.disconnect().catch(() => undefined);
    throw new QueueUnavailable(`cannot use the queue at ${maskUrl(options.url)}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return new QueueRuns(options, queue, events, watchRedis(await queue.getBackend().client));
}

class QueueRuns implements Runs {
  readonly capacity: number;
  readonly strays: StrayError[] = [];
  strayCount = 0;
  private readonly waiting = new Map<string, Waiting>();
  /** Jobs whose result was handed back, to remove at the next sweep. */
  private handed: string[] = [];
  private lost: Error | undefined;
  private closed = false;
  /** When a run last came back (or the experiment began), for the warning that no worker is there. */
  private lastBack = Date.now();
  private warnedIdle = false;
  private readonly timers: NodeJS.Timeout[];

  constructor(
    private readonly options: QueueRunsOptions,
    private readonly queue: Queue<RunJob, RunReply>,
    private readonly events: QueueEvents,
    private readonly watch: RedisWatch,
  ) {
    this.capacity = options.capacity ?? CAPACITY;
    events.on('completed', ({ jobId: id, returnvalue }) => this.complete(id, returnvalue as unknown as RunReply | string));
    events.on('failed', ({ jobId: id, failedReason }) => this.fail(id, failedReason));
    // A job of this id was there before this process added it: a plan collected again.
    events.on('duplicated', ({ jobId: id }) => void this.check(id, true));
    this.timers = [setInterval(() => this.tick(), SWEEP_MS)];
  }

  run(plan: Planned, attempt: number): Promise<FinishedRun> {
    if (this.lost !== undefined) return Promise.reject(this.lost);
    const id = jobId(this.options.order.plan.hash, plan, attempt);
    return new Promise<FinishedRun>((resolve, reject) => {
      this.waiting.set(id, { plan, attempt, resolve, reject, heard: Date.now(), readded: false });
      this.add(id, plan, attempt);
    });
  }

  private add(id: string, plan: Planned, attempt: number): void {
    this.queue.add('run', { order: this.options.order, plan, attempt }, { ...JOB_OPTIONS, jobId: id }).catch((error: Error) => {
      this.settle(id)?.reject(new Error(`cannot queue run ${plannedKey(plan)} at ${maskUrl(this.options.url)}: ${error.message}`));
    });
  }

  /** Takes a job off the waiting list, once: the event, the check and the sweep may all see it end. */
  private settle(id: string): Waiting | undefined {
    const waiting = this.waiting.get(id);
    if (waiting !== undefined) this.waiting.delete(id);
    return waiting;
  }

  private complete(id: string, value: RunReply | string | null): void {
    const waiting = this.settle(id);
    if (waiting === undefined) return;
    const reply = (typeof value === 'string' ? JSON.parse(value) : value) as RunReply;
    this.strayCount += reply.strayCount;
    for (const stray of reply.strays) if (this.strays.length < MAX_STRAYS) this.strays.push(stray);
    this.handed.push(id);
    this.lastBack = Date.now();
    waiting.resolve(reply.run);
  }

  private fail(id: string, reason: string): void {
    const waiting = this.settle(id);
    if (waiting === undefined) return;
    // A failed job is never collected again: a plan collected later makes the run anew.
    this.handed.push(id);
    if (reason === STALLED_REASON) {
      // Workers died on it, or lost Redis, again and again: the run ends as an error, and
      // runner.retries may try it again (as a job of its own).
      const error = new Error(`its worker stopped (killed, or out of touch with Redis) ${MAX_STALLED + 1} times while making it`);
      waiting.resolve(finishPlanned(failedPlanned(waiting.plan, 'error', error, 0, this.options.redaction), waiting.attempt));
    } else if (reason.startsWith(REFUSED)) {
      // A worker of another project: the experiment must not mix its runs with the others'.
      waiting.reject(new ConfigError(`the run was ${reason}`));
    } else {
      waiting.reject(new Error(`a worker failed on run ${plannedKey(waiting.plan)}: ${reason}`));
    }
  }

  /**
   * Reads a job's state, for one whose events were missed (the events stream is capped, and a
   * busy or paused process may fall behind it) or that was there before this process added it.
   * One there before that had failed is removed and added again: its plan is being collected
   * anew, and a refusal or a stall then need not hold now.
   */
  private async check(id: string, duplicate: boolean): Promise<void> {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    waiting.heard = Date.now();
    try {
      const state = await this.queue.getJobState(id);
      if (state === 'completed' || state === 'failed') {
        const job = await Job.fromId<RunJob, RunReply>(this.queue, id);
        if (job === undefined) return this.readd(id, waiting);
        if (state === 'completed') return this.complete(id, job.returnvalue);
        if (duplicate && !waiting.readded) {
          await this.queue.remove(id);
          return this.readd(id, waiting);
        }
        return this.fail(id, job.failedReason);
      }
      // Gone: Redis restarted without its data, or someone cleaned the queue.
      if (state === 'unknown') this.readd(id, waiting);
    } catch {
      // Redis is away: the watch decides when to give up.
    }
  }

  private readd(id: string, waiting: Waiting): void {
    if (waiting.readded || !this.waiting.has(id)) return;
    waiting.readded = true;
    this.add(id, waiting.plan, waiting.attempt);
  }

  private tick(): void {
    if (this.watch.downFor() > (this.options.graceMs ?? GRACE_MS)) return this.lose();
    this.sweep();
    const now = Date.now();
    if (!this.warnedIdle && this.waiting.size > 0 && now - this.lastBack > IDLE_MS) {
      this.warnedIdle = true;
      const { url, queueName, onWarning } = this.options;
      this.queue.getWorkersCount().then((workers) => {
        if (workers === 0) onWarning?.(`no fluxloop worker takes jobs from queue ${queueName} at ${maskUrl(url)}: the runs wait until one starts (fluxloop worker --queue …, in the project)`);
      }, () => undefined);
    }
    for (const [id, waiting] of this.waiting) if (now - waiting.heard > RECONCILE_MS) void this.check(id, false);
  }

  /**
   * Removes the jobs whose results were handed back. Not before: a run's line is in
   * traces.jsonl once run() has resolved and the runner has written it, which it does in the same
   * turn, so a job is removed only after its line is written (this sweep runs on a later turn).
   * Until then the job is what --resume collects the run from if this process dies. Were a job
   * removed too early, a resume would make its run again, not lose it; and no run is written
   * twice, since a resume runs only the runs missing from traces.jsonl.
   */
  private sweep(): void {
    if (this.handed.length === 0) return;
    const ids = this.handed;
    this.handed = [];
    for (const id of ids) this.queue.remove(id).catch(() => undefined);
  }

  private lose(): void {
    if (this.lost !== undefined) return;
    const seconds = Math.round(this.watch.downFor() / 1000);
    this.lost = new QueueUnavailable(`lost the queue's Redis at ${maskUrl(this.options.url)} (${this.watch.reason()}) for ${seconds} s: ${this.waiting.size} runs in flight did not come back`);
    for (const id of [...this.waiting.keys()]) this.settle(id)!.reject(this.lost);
  }

  /**
   * Stops collecting. The jobs not yet taken by a worker are removed (an experiment that stopped
   * early leaves no work behind); those being made finish, and age out of Redis, or are collected
   * by a --resume.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.watch.stop();
    const graceful = async () => {
      if (this.lost === undefined) {
        const ids = [...this.handed, ...this.waiting.keys()];
        this.handed = [];
        await Promise.all(ids.map((id) => this.queue.remove(id).catch(() => 0)));
      }
      await Promise.all([this.queue.close(), this.events.close()]);
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.lost === undefined ? CLOSE_MS : 0)));
    const outcome = await Promise.race([graceful().catch(() => undefined), late]);
    clearTimeout(timer);
    // BullMQ's disconnect drops the connections at once, but waits for an end that a connection
    // retrying a Redis that is gone never reaches: not waited for.
    if (outcome === 'late') for (const side of [this.queue, this.events]) side.disconnect().catch(() => undefined);
  }
}
