import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from '../../config/errors';
import { errorOf, failedRun, type RunOutcome, type RunPlan } from '../../replay/execute';
import { Harness } from '../../replay/harness';
import { currentReplay } from '../../trace/context';
import { checkRecordings } from '../plan';
import { HEARTBEAT_MS, type ErrorData, type FromThread, type StrayKind, type ThreadData, type ToThread } from './protocol';

// A run thread: it loads the target once, then runs what the supervisor sends, as many at a
// time as it is sent. It never decides when to end; the supervisor ends it.

const port = parentPort!;
const { harness: options, timeoutMs, heartbeat } = workerData as ThreadData;
const beats = new Int32Array(heartbeat);
setInterval(() => Atomics.add(beats, 0, 1), HEARTBEAT_MS).unref();

const post = (message: FromThread) => port.postMessage(message);

/** Runs in flight, by trace id, with what ends one early when user code outside it fails. */
const inFlight = new Map<string, { plan: RunPlan; started: number; end: (outcome: RunOutcome) => void }>();

// What no caller caught ends the run it came from, found by the replay context that its callback
// still runs in; the process the app would have crashed is this thread, which the supervisor retires.
function stray(kind: StrayKind, error: unknown): void {
  const traceId = currentReplay()?.traceId;
  const run = traceId === undefined ? undefined : inFlight.get(traceId);
  if (run !== undefined) {
    const failure = new Error(`${kind === 'uncaughtException' ? 'uncaught exception' : 'unhandled rejection'}: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof Error) Object.assign(failure, { name: error.name, stack: error.stack });
    run.end(failedRun(run.plan, 'error', failure, performance.now() - run.started));
  }
  flush();
  post({ type: 'stray', kind, traceId, run: run !== undefined, error: errorOf(error) });
}
process.on('uncaughtException', (error) => stray('uncaughtException', error));
process.on('unhandledRejection', (reason) => stray('unhandledRejection', reason));

// process.exit in a thread ends only the thread. Said first, with the run it came from, and after
// the outcomes already made, so that none of them is run again.
const exit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  flush();
  const traceId = currentReplay()?.traceId;
  post({ type: 'exit', code: Number(code ?? process.exitCode ?? 0), traceId });
  return exit(code as number | undefined);
}) as typeof process.exit;

const harness = Harness.create(options);
harness.then(
  () => post({ type: 'ready' }),
  () => post({ type: 'ready' }),
);

let outbox: RunOutcome[] = [];
let scheduled = false;

/** Sends the outcomes made this turn in one message. */
function flush(): void {
  scheduled = false;
  if (outbox.length === 0) return;
  const outcomes = outbox;
  outbox = [];
  const heap = v8.getHeapStatistics();
  // Buffers are outside the heap proper, and a module can hold as much in them.
  post({ type: 'outcomes', outcomes, heap: heap.used_heap_size + ((heap as { external_memory?: number }).external_memory ?? 0) });
}

function start(plan: RunPlan): void {
  Atomics.add(beats, 0, 1);
  const started = performance.now();
  let end!: (outcome: RunOutcome) => void;
  const early = new Promise<RunOutcome>((resolve) => (end = resolve));
  inFlight.set(plan.traceId, { plan, started, end });
  const run = harness.then(
    (h) => h.run(plan, timeoutMs),
    (error: unknown) => failedRun(plan, 'error', error, 0),
  );
  void Promise.race([run, early]).then((outcome) => {
    if (!inFlight.delete(plan.traceId)) return;
    outbox.push(outcome);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}

async function check(config: Extract<ToThread, { type: 'check' }>['config']): Promise<void> {
  try {
    const h = await harness;
    const target = await h.probe();
    const replay = await checkRecordings(options.root, config, options.target, target, h.reviver(target));
    const { match: _match, ...checked } = replay ?? ({} as NonNullable<typeof replay>);
    post({ type: 'checked', ...(replay === undefined ? {} : { replay: checked }), target: { params: target.params } });
  } catch (error) {
    post({ type: 'check-failed', error: errorData(error) });
  }
}

function errorData(error: unknown): ErrorData {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), config: false };
  const location = error instanceof ConfigError ? error.location : undefined;
  return { name: error.name, message: error.message, stack: error.stack, config: error instanceof ConfigError, ...(location ? { location } : {}) };
}

port.on('message', (message: ToThread) => {
  if (message.type === 'check') void check(message.config);
  else for (const plan of message.plans) start(plan);
});
