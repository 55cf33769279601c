import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from '../../config/errors';
import { restoreLocations } from '../../config/locations';
import { errorOf, runRedaction } from '../../replay/execute';
import { Harness } from '../../replay/harness';
import { TransientMap } from '../../replay/transient-map';
import { currentReplay } from '../../trace/context';
import type { FinishedRun } from '../finished';
import { failedPlanned, finishPlanned, isConversationPlan, runPlanned, type Planned, type PlannedOutcome } from '../conversation';
import type { SimulatedUser, SimulatedUserDecision } from '../conversation-result';
import { checkRecordings } from '../replay-source';
import { epochNow, HEARTBEAT_MS, type ErrorData, type FromThread, type StrayKind, type ThreadData, type ToThread } from './protocol';

// A run thread: it loads the target once, then makes the runs the supervisor sends, `lanes` at a
// time, the rest queued so that a lane never waits on a message to start its next run. Once it
// retires (a stray error, or a fresh thread's memory past its bound) it starts no more runs and
// hands its queue back. It never ends itself; the supervisor ends it.

const port = parentPort!;
const { harness: options, timeoutMs, heartbeat, lanes, started: startedBuffer, memoryLimit, prices } = workerData as ThreadData;
const beats = new Int32Array(heartbeat);
setInterval(() => Atomics.add(beats, 0, 1), HEARTBEAT_MS).unref();
const startedAt = new Float64Array(startedBuffer);
const freeLanes = Array.from({ length: lanes }, (_, i) => i);
const redaction = runRedaction(options.redact);

let queue: Array<{ plan: Planned; seq: number; attempt: number }> = [];
let queueHead = 0;
/** Runs in flight, by trace id, with what ends one early when user code outside it fails. */
const inFlight = new TransientMap<{ plan: Planned; started: number; end: (outcome: PlannedOutcome) => void }>();
/** A conversation's questions to the simulated user, which lives on the supervisor's side, by number. */
const asked = new Map<number, { resolve(decision: SimulatedUserDecision): void; reject(error: Error): void }>();
let questions = 0;
const user: SimulatedUser = {
  next: (request) =>
    new Promise((resolve, reject) => {
      const id = ++questions;
      asked.set(id, { resolve, reject });
      post({ type: 'ask', id, request });
    }),
};
let outbox: FinishedRun[] = [];
let declined: number[] = [];
let scheduled = false;
let retiring = false;
let toldRetiring = false;
let baseline: number | undefined;

const post = (message: FromThread) => port.postMessage(message);

/** The run (or conversation) whose code is running: a conversation's turn is `<its trace id>:<turn>`. */
const currentRun = (): string | undefined => currentReplay()?.traceId.split(':')[0];

// What no caller caught ends the run it came from, found by the replay context that its callback
// still runs in. The app would have crashed: this thread's state is not to be trusted with more runs.
function stray(kind: StrayKind, error: unknown): void {
  const traceId = currentRun();
  const run = traceId === undefined ? undefined : inFlight.get(traceId);
  if (run !== undefined) {
    const failure = new Error(`${kind === 'uncaughtException' ? 'uncaught exception' : 'unhandled rejection'}: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof Error) Object.assign(failure, { name: error.name, stack: error.stack });
    run.end(failedPlanned(run.plan, 'error', failure, performance.now() - run.started, redaction));
  }
  retire();
  post({ type: 'stray', kind, traceId, run: run !== undefined, error: errorOf(error, undefined, redaction) });
}
process.on('uncaughtException', (error) => stray('uncaughtException', error));
process.on('unhandledRejection', (reason) => stray('unhandledRejection', reason));

// process.exit in a thread ends only the thread. Said first, with the run it came from, and after
// the outcomes already made, so that none of them is run again.
const exit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  flush();
  const traceId = currentRun();
  post({ type: 'exit', code: Number(code ?? process.exitCode ?? 0), traceId });
  return exit(code as number | undefined);
}) as typeof process.exit;

const harness = Harness.create(options);
// Ready either way: a harness that failed fails each run with its error.
const ready = () => post({ type: 'ready' });
harness.then(ready, ready);

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush);
}

/** Sends what ended this turn, and the runs handed back, in one message. */
function flush(): void {
  scheduled = false;
  if (outbox.length === 0 && declined.length === 0 && retiring === toldRetiring) return;
  post({ type: 'outcomes', runs: outbox, declined, retiring });
  toldRetiring = retiring;
  outbox = [];
  declined = [];
}

function retire(): void {
  retiring = true;
  handBack();
}

/** Gives the queued runs back, for the supervisor to send elsewhere. */
function handBack(): void {
  for (let i = queueHead; i < queue.length; i++) declined.push(queue[i]!.seq);
  queue = [];
  queueHead = 0;
  schedule();
}

/** Memory the thread holds: Buffers are outside the heap proper, and a module can hold as much in them. */
function memory(): number {
  const heap = v8.getHeapStatistics();
  return heap.used_heap_size + ((heap as { external_memory?: number }).external_memory ?? 0);
}

/** Starts queued runs while lanes are free. */
function pump(): void {
  while (!retiring && freeLanes.length > 0 && queueHead < queue.length) {
    const { plan, seq, attempt } = queue[queueHead++]!;
    start(plan, seq, attempt, freeLanes.pop()!);
  }
  // Compacted as it goes: a queue that is never quite empty would otherwise keep every plan it held.
  if (queueHead >= 256 || queueHead === queue.length) {
    queue.splice(0, queueHead);
    queueHead = 0;
  }
}

function start(plan: Planned, seq: number, attempt: number, lane: number): void {
  Atomics.add(beats, 0, 1);
  startedAt[2 * lane + 1] = epochNow();
  startedAt[2 * lane] = seq;
  const started = performance.now();
  let end!: (outcome: PlannedOutcome) => void;
  const early = new Promise<PlannedOutcome>((resolve) => (end = resolve));
  inFlight.set(plan.traceId, { plan, started, end });
  // Each turn of a conversation is timed from its own call: the conversation as a whole has no timeout.
  const turns = isConversationPlan(plan);
  const onCall = () => {
    startedAt[2 * lanes] = seq;
    if (turns) startedAt[2 * lane + 1] = epochNow();
  };
  const run = harness.then(
    (h) => runPlanned(h, plan, timeoutMs, { user, prices, onCall }),
    (error: unknown) => failedPlanned(plan, 'error', error, 0, redaction),
  );
  void Promise.race([run, early]).then((outcome) => {
    if (!inFlight.delete(plan.traceId)) return;
    startedAt[2 * lane] = 0;
    freeLanes.push(lane);
    outbox.push(finishPlanned(outcome, attempt));
    if (memoryLimit !== undefined) {
      const now = memory();
      baseline ??= now;
      if (now - baseline > memoryLimit) retire();
    }
    pump();
    schedule();
  });
}

async function check({ config, locations }: Extract<ToThread, { type: 'check' }>): Promise<void> {
  restoreLocations(config, locations);
  try {
    const h = await harness;
    const target = await h.probe();
    const replay = await checkRecordings(options.root, config, options.target, target, h.reviver(target));
    // The match is a function, which cannot be posted; the supervisor's side makes it again.
    const checked = replay === undefined ? undefined : { ...replay, match: undefined };
    post({ type: 'checked', replay: checked, target: { params: target.params } });
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
  if (message.type === 'check') return void check(message);
  if (message.type === 'answer') {
    const question = asked.get(message.id);
    asked.delete(message.id);
    if (message.decision !== undefined) question?.resolve(message.decision);
    // Its stack is the other thread's, and says nothing of the conversation.
    else question?.reject(Object.assign(new Error(message.error?.message ?? 'no answer'), { name: message.error?.name ?? 'Error', stack: undefined }));
    return;
  }
  const plans = JSON.parse(message.plans) as Planned[];
  for (let i = 0; i < plans.length; i++) queue.push({ plan: plans[i]!, seq: message.seqs[i]!, attempt: message.attempts[i]! });
  // Runs sent before the supervisor heard that this thread retired go back at once.
  if (retiring) handBack();
  else pump();
});
