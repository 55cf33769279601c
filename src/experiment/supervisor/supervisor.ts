import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../../config/errors';
import { locationsOf } from '../../config/locations';
import type { Isolation, SimulationConfig } from '../../config/types';
import { RunTimeout, runRedaction, type RunRedaction, type RunResult, type RunStatus } from '../../replay/execute';
import type { FinishedRun } from '../finished';
import { failedPlanned, finishPlanned, type Planned } from '../conversation';
import type { SimulatedUser } from '../conversation-result';
import type { Prices } from '../usage';
import { stringifyDeep } from './deep-json';
import type { HarnessOptions } from '../../replay/harness';
import { TargetError } from '../../replay/loader';
import { TransientMap } from '../../replay/transient-map';
import { epochNow, HEARTBEAT_MS, type CheckedReplay, type ErrorData, type FromThread, type StrayKind, type TargetInfo, type ThreadData, type ToThread } from './protocol';

export interface SupervisorOptions {
  harness: HarnessOptions;
  isolation: Isolation;
  concurrency: number;
  timeoutMs: number;
  /** Answers the threads' conversations, on this side: one client, with one deadline, for the whole experiment. */
  simulatedUser?: SimulatedUser;
  /** What a conversation's turns are priced by. */
  prices?: Prices;
}

/** An error from user code that ended no run in flight: it came after its run ended, or from outside any run. */
export interface StrayError {
  stray: StrayKind | 'exit';
  /** The run whose code it came from, when known. */
  trace_id: string | null;
  error: RunResult['error'];
}

/** A thread in `fresh` isolation is replaced once its memory has grown this much: Node never frees an ES module. */
const FRESH_MEMORY_GROWTH = 128 * 1024 * 1024;
/** Per thread, in MB; see spawn. */
const YOUNG_GENERATION_MB = 4;
/** How long a thread may take to load the target before the experiment gives up on it. */
const LOAD_TIMEOUT_MS = 60_000;
/** How many times a run is sent again after the thread it was on ended through no fault of its own. */
const MAX_RESENDS = 3;
/**
 * How many runs a thread holds queued beyond those it is making: a lane that ends a run starts
 * the next at once, instead of waiting for a message from here and back.
 */
const QUEUE_DEPTH = 16;
/** The most stray errors kept for errors.json; all are counted. */
const MAX_STRAYS = 100;

interface Pending {
  plan: Planned;
  /** The supervisor's number for it, by which its thread says it started. */
  seq: number;
  attempt: number;
  resends: number;
  resolve(run: FinishedRun): void;
}

interface Thread {
  worker: Worker;
  beats: Int32Array;
  /** See ThreadData.started. */
  started: Float64Array;
  /** Sent and not yet ended: making or queued. */
  inFlight: TransientMap<Pending>;
  outbox: Pending[];
  spawned: number;
  /** When the harness was built: runs are timed from then. */
  ready?: number;
  lastBeat: number;
  lastBeatAt: number;
  /** Takes no new runs, and ends when its last one does. */
  retiring: boolean;
  /** Ended by the supervisor, not by itself. */
  ended: boolean;
  exit?: { code: number; traceId?: string };
  error?: Error;
  check?: { resolve(value: Checked): void; reject(error: Error): void };
}

/** What the check of the recordings gives, made in a thread because it loads the target. */
export interface Checked {
  replay?: CheckedReplay;
  target: TargetInfo;
}

/**
 * Runs user code in worker threads, never on the caller's thread, and keeps control whatever the
 * code does. A run that blocks its thread past its timeout has the thread ended (the other runs on
 * it are sent again); `process.exit`, an uncaught exception or an unhandled rejection ends the run
 * it came from as an error and retires its thread; a `fresh` thread whose heap has grown is
 * replaced. `shared` runs every run on one thread, `fresh` on up to a thread per core, the runs
 * sharing them; `worker` runs each run alone on a thread.
 *
 * Written here rather than on piscina: a pool that ends a thread on abort cannot tell a blocked run
 * from the runs beside it, nor retire a thread after a stray error or past a heap bound, nor say
 * which run called process.exit.
 */
export class Supervisor {
  private readonly threads = new Set<Thread>();
  private readonly waiting: Pending[] = [];
  private readonly maxThreads: number;
  private readonly perThread: number;
  private readonly file = path.join(__dirname, 'thread.js');
  private watchdog: NodeJS.Timeout | undefined;
  private flushing = false;
  private seq = 0;
  /** The project's rules, for the errors of runs that their threads could not finish. */
  private readonly redaction: RunRedaction;
  private broken: Error | undefined;
  private closed = false;
  /** Stray errors that ended no run, the first MAX_STRAYS of them. */
  readonly strays: StrayError[] = [];
  strayCount = 0;

  constructor(private readonly options: SupervisorOptions) {
    const { isolation, concurrency } = options;
    // shared: one module for every run, as the app has it, on one event loop as the app's is.
    this.maxThreads = isolation === 'worker' ? concurrency : isolation === 'shared' ? 1 : Math.max(1, Math.min(concurrency, os.availableParallelism()));
    this.perThread = Math.ceil(concurrency / this.maxThreads);
    this.redaction = runRedaction(options.harness.redact);
  }

  /** How many runs to hand over at once to keep every thread busy: those running, and those queued behind them. */
  get capacity(): number {
    return this.maxThreads * (this.perThread + QUEUE_DEPTH);
  }

  /**
   * Loads the target in a thread, which then serves runs, and checks the recordings there.
   * Meanwhile as many other threads start loading as `runs` (the fewest the experiment can have)
   * will keep busy, so that they are ready for the first runs; a thread costs its start-up, which
   * a small experiment should not pay for threads it never uses. More start as runs need them.
   */
  check(config: SimulationConfig, runs = 0): Promise<Checked> {
    const thread = this.spawn();
    thread.worker.postMessage({ type: 'check', config, locations: locationsOf(config) });
    const checked = new Promise<Checked>((resolve, reject) => (thread.check = { resolve, reject }));
    const wanted = Math.min(this.maxThreads, Math.ceil(runs / this.perThread));
    while (this.threads.size < wanted) this.spawn();
    return checked;
  }

  /** One run (or conversation) on a thread; never rejects. */
  run(plan: Planned, attempt: number): Promise<FinishedRun> {
    return new Promise<FinishedRun>((resolve) => this.dispatch({ plan, seq: 0, attempt, resends: 0, resolve }));
  }

  /** Ends every thread; runs still in flight are left unsettled. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    await Promise.all([...this.threads].map((t) => t.worker.terminate()));
    this.threads.clear();
  }

  private dispatch(pending: Pending): void {
    if (this.broken !== undefined) return this.fail(pending, 'error', this.broken, 0);
    const thread = this.freeThread();
    if (thread === undefined) this.waiting.push(pending);
    else this.send(thread, pending);
  }

  private send(thread: Thread, pending: Pending): void {
    pending.seq = ++this.seq;
    thread.inFlight.set(pending.plan.traceId, pending);
    thread.outbox.push(pending);
    if (this.flushing) return;
    this.flushing = true;
    // The runs sent in one turn go in one message per thread.
    setImmediate(() => {
      this.flushing = false;
      for (const t of this.threads) {
        if (t.outbox.length === 0) continue;
        t.worker.postMessage({ type: 'runs', plans: stringifyDeep(t.outbox.map((p) => p.plan)), seqs: t.outbox.map((p) => p.seq), attempts: t.outbox.map((p) => p.attempt) });
        t.outbox = [];
      }
    });
  }

  /** The least busy thread with a free lane, else a new thread, else the least busy with room in its queue. */
  private freeThread(): Thread | undefined {
    let best: Thread | undefined;
    let live = 0;
    for (const t of this.threads) {
      if (t.retiring) continue;
      live++;
      if (best === undefined || t.inFlight.size < best.inFlight.size) best = t;
    }
    if (best !== undefined && best.inFlight.size < this.perThread) return best;
    if (live < this.maxThreads && !this.closed) return this.spawn();
    return best !== undefined && best.inFlight.size < this.perThread + QUEUE_DEPTH ? best : undefined;
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      if (this.broken !== undefined) {
        for (const p of this.waiting.splice(0)) this.dispatch(p);
        return;
      }
      const thread = this.freeThread();
      if (thread === undefined) return;
      this.send(thread, this.waiting.shift()!);
    }
  }

  private spawn(): Thread {
    const heartbeat = new SharedArrayBuffer(4);
    const started = new SharedArrayBuffer((2 * this.perThread + 1) * Float64Array.BYTES_PER_ELEMENT);
    const data: ThreadData = {
      harness: this.options.harness,
      timeoutMs: this.options.timeoutMs,
      heartbeat,
      lanes: this.perThread,
      started,
      ...(this.options.harness.fresh ? { memoryLimit: FRESH_MEMORY_GROWTH } : {}),
      prices: this.options.prices ?? {},
    };
    // A smaller young generation than V8's default: threads that each make thousands of tiny runs
    // otherwise hold 48 MB apiece of garbage not yet collected. 4 MB rather than 8 takes 7 MB off a
    // replay of two million runs, with no runs/s lost in shared or fresh isolation.
    const worker = new Worker(this.file, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    const now = performance.now();
    const thread: Thread = {
      worker,
      beats: new Int32Array(heartbeat),
      started: new Float64Array(started),
      inFlight: new TransientMap(),
      outbox: [],
      spawned: now,
      lastBeat: 0,
      lastBeatAt: now,
      retiring: false,
      ended: false,
    };
    worker.on('message', (message: FromThread) => this.onMessage(thread, message));
    worker.on('error', (error) => (thread.error = error));
    worker.on('exit', (code) => this.onExit(thread, code));
    this.threads.add(thread);
    this.watchdog ??= setInterval(() => this.watch(), HEARTBEAT_MS).unref();
    return thread;
  }

  private onMessage(thread: Thread, message: FromThread): void {
    switch (message.type) {
      case 'ready':
        thread.ready = thread.lastBeatAt = performance.now();
        return;
      case 'checked':
      case 'check-failed': {
        const check = thread.check;
        thread.check = undefined;
        if (message.type === 'checked') check?.resolve({ replay: message.replay, target: message.target });
        else check?.reject(errorFrom(message.error));
        this.settle(thread);
        return;
      }
      case 'outcomes':
        for (const run of message.runs) {
          const pending = thread.inFlight.get(run.result.trace_id);
          if (pending === undefined) continue;
          thread.inFlight.delete(run.result.trace_id);
          pending.resolve(run);
        }
        if (message.declined.length > 0) {
          const declined = new Set(message.declined);
          for (const pending of thread.inFlight.values()) {
            if (!declined.has(pending.seq)) continue;
            thread.inFlight.delete(pending.plan.traceId);
            this.waiting.push(pending);
          }
        }
        thread.retiring ||= message.retiring;
        this.settle(thread);
        return;
      case 'stray':
        if (!message.run) this.keepStray({ stray: message.kind, trace_id: message.traceId ?? null, error: message.error });
        this.settle(thread);
        return;
      case 'exit':
        thread.exit = { code: message.code, traceId: message.traceId };
        return;
      case 'ask': {
        const { id, request } = message;
        const answer = (reply: Omit<Extract<ToThread, { type: 'answer' }>, 'type' | 'id'>) => {
          // A thread ended meanwhile has no one to take it.
          if (!thread.ended && this.threads.has(thread)) thread.worker.postMessage({ type: 'answer', id, ...reply });
        };
        const user = this.options.simulatedUser;
        if (user === undefined) return answer({ error: { name: 'Error', message: 'no simulated user was set up for this experiment', config: false } });
        user.next(request).then(
          (decision) => answer({ decision }),
          (error: unknown) => answer({ error: { name: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error), config: false } }),
        );
        return;
      }
    }
  }

  /** Ends a retiring thread once it has nothing left to do, and hands out waiting runs. */
  private settle(thread: Thread): void {
    if (thread.retiring && thread.inFlight.size === 0 && thread.check === undefined) this.end(thread);
    this.drain();
  }

  private end(thread: Thread): void {
    thread.ended = true;
    this.threads.delete(thread);
    void thread.worker.terminate();
  }

  private keepStray(stray: StrayError): void {
    this.strayCount++;
    if (this.strays.length < MAX_STRAYS) this.strays.push(stray);
  }

  private onExit(thread: Thread, code: number): void {
    this.threads.delete(thread);
    if (thread.ended || this.closed) return;
    const { exit } = thread;
    const why =
      exit !== undefined
        ? `the target called process.exit(${exit.code})`
        : `its worker thread ended${thread.error ? `: ${thread.error.message}` : ` with exit code ${code}`}`;
    thread.check?.reject(new TargetError(`cannot load ${this.options.harness.target}: ${why}`, { file: 'configs/simulation.yaml', field: 'runner.target' }));
    // A thread that could not even load would fail the same way on every new one.
    if (thread.ready === undefined) this.broken ??= new Error(`the target could not be loaded: ${why}`);
    if (exit !== undefined && (exit.traceId === undefined || !thread.inFlight.has(exit.traceId))) {
      this.keepStray({ stray: 'exit', trace_id: exit.traceId ?? null, error: { name: 'Exit', message: why } });
    }
    const started = startedRuns(thread);
    const now = epochNow();
    for (const pending of thread.inFlight.values()) {
      const at = started.get(pending.seq);
      // Without a word from the thread, nothing tells which of the runs it was making ended it.
      const culprit = at !== undefined && (exit === undefined || exit.traceId === pending.plan.traceId);
      if (culprit) this.fail(pending, 'error', new Error(why), now - at);
      else this.resend(pending, at !== undefined);
    }
    this.drain();
  }

  /** Ends a run that its thread could not finish, as its thread would have written it. */
  private fail(pending: Pending, status: Exclude<RunStatus, 'ok'>, error: unknown, durationMs: number): void {
    pending.resolve(finishPlanned(failedPlanned(pending.plan, status, error, durationMs, this.redaction), pending.attempt));
  }

  /** Sends a run again; one that had started counts the resend, and fails after too many. */
  private resend(pending: Pending, started: boolean): void {
    if (started && ++pending.resends > MAX_RESENDS) {
      return this.fail(pending, 'error', new Error(`its worker thread ended ${MAX_RESENDS + 1} times while it ran`), 0);
    }
    this.waiting.unshift(pending);
  }

  /** Ends threads that have been blocked longer than a run may take, and those that never finish loading. */
  private watch(): void {
    const now = performance.now();
    const { timeoutMs } = this.options;
    for (const thread of this.threads) {
      if (thread.ready === undefined) {
        if (now - thread.spawned > LOAD_TIMEOUT_MS) this.stop(thread, `the target did not finish loading within ${LOAD_TIMEOUT_MS / 1000} s`);
        continue;
      }
      const beat = Atomics.load(thread.beats, 0);
      if (beat !== thread.lastBeat) {
        thread.lastBeat = beat;
        thread.lastBeatAt = now;
      } else if (thread.inFlight.size > 0 && now - thread.lastBeatAt > timeoutMs + HEARTBEAT_MS) {
        this.stop(thread);
      }
    }
  }

  /**
   * Ends a blocked thread. The run whose target it called last, when it is past its timeout, is
   * the one that blocked it: it ends as a timeout, and the runs it held up are sent again. Without
   * one (the block came in a later callback of another run), every run past its timeout ends as
   * one. Runs that had not started are sent again.
   */
  private stop(thread: Thread, loading?: string): void {
    this.end(thread);
    if (loading !== undefined) {
      thread.check?.reject(new TargetError(`cannot load ${this.options.harness.target}: ${loading}`, { file: 'configs/simulation.yaml', field: 'runner.target' }));
      this.broken ??= new Error(loading);
    }
    const started = startedRuns(thread);
    const now = epochNow();
    const { timeoutMs } = this.options;
    const overdue = (seq: number) => started.has(seq) && now - started.get(seq)! >= timeoutMs;
    const last = thread.started[thread.started.length - 1]!;
    const culprit = overdue(last) ? last : undefined;
    for (const pending of thread.inFlight.values()) {
      const at = started.get(pending.seq);
      if (loading !== undefined) this.fail(pending, 'error', this.broken, 0);
      else if (overdue(pending.seq) && (culprit === undefined || culprit === pending.seq)) this.fail(pending, 'timeout', new RunTimeout(timeoutMs), now - at!);
      else this.resend(pending, at !== undefined);
    }
    this.drain();
  }
}

/** The runs a thread was making, by sequence number, with when each started. */
function startedRuns(thread: Thread): Map<number, number> {
  const runs = new Map<number, number>();
  for (let lane = 0; lane + 1 < thread.started.length; lane += 2) if (thread.started[lane] !== 0) runs.set(thread.started[lane]!, thread.started[lane + 1]!);
  return runs;
}

/** An error from a thread as the caller would have got it here: a config error stays one, for exit 2. */
function errorFrom(data: ErrorData): Error {
  if (data.config) {
    // The message already starts with the location.
    const error = new ConfigError(data.message);
    if (data.location !== undefined) Object.defineProperty(error, 'location', { value: data.location });
    return error;
  }
  return Object.assign(new Error(data.message), { name: data.name, stack: data.stack });
}
