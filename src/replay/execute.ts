import { readOutput, type OutputRead } from '../adapters';
import { formatParamPath, parseParamPath, type ParamPath } from '../config/param-path';
import type { DownstreamReplayConfig, InputEntry } from '../config/types';
import { unwrap } from '../instrument/wrap';
import { createEncoder, type Encoder, type EncoderOptions } from '../record/encode';
import { createRedactor, type Redactor } from '../record/redact';
import { redactJson, type RedactRules } from '../record/redact-json';
import { runInReplay, type ReplayContext } from '../trace/context';
import { beginObservation, type Observation, type OpenObservation } from '../trace/observations';
import { bindArguments, decodeCall, finishCall, inputArguments, override, type Provider } from './binding';
import { Collectors } from './collectors';
import { instanceFor } from './instance';
import { existingText, locate, setAt } from './paths';
import { reviver, type Revive } from './revive';
import type { LoadedTarget } from './loader';
import type { ReplayRecord } from './reader';
import type { Usage } from '../record/downstream-format';
import type { Divergence, RunCall } from './calls';
import type { CallEncoding, DownstreamScope } from './intercept';
import { DownstreamRun } from './stubs';

/** A recording as a run needs it: what the reader gives, without the reader's bookkeeping. */
export type RecordingRef = Pick<ReplayRecord, 'index' | 'line' | 'file' | 'function' | 'target' | 'args' | 'kwargs' | 'params' | 'this' | 'id' | 'downstream'>;

/** One run to make: plain data, so that it can be posted to a worker. */
export interface RunPlan {
  traceId: string;
  iteration: number;
  inputIndex: number;
  input: InputEntry;
  /** Absent for runs without recordings: the input then goes to the function's input parameter. */
  recording?: RecordingRef;
  /** `override_param_path`; absent without recordings. */
  path?: string;
  /** Known before the run: the path points nowhere in this recording. */
  error?: string;
  /**
   * Values put in the recording's arguments after the input, each at its path: a conversation's
   * history, its `auto_approve`. One that is `optional` is left out where its path points nowhere.
   */
  put?: Array<{ path: string; value: unknown; optional?: boolean }>;
}

export type RunStatus = 'ok' | 'error' | 'timeout';

/** A run's result as written to traces.jsonl; values are in the recorder's encoding. */
export interface RunResult {
  trace_id: string;
  iteration: number;
  recording_index: number | null;
  recording_line: number | null;
  /** The file `recording_line` is in (project-relative): the recording file, or one it was rotated to. */
  recording_file: string | null;
  target: string | null;
  input: string;
  input_index: number;
  metadata: Record<string, unknown>;
  override_param_path: string | null;
  /** Where the input went in this call, e.g. `args.1` for `kwargs.message`. */
  override_location: string | null;
  /** The arguments as invoked. */
  args: unknown;
  /** What the function returned, read (a Response as its status, headers and body), or else what it sent; frames joined. */
  output: unknown;
  /** The pieces the output came in, when more than one: frames sent, chunks of a streamed body, items of an iterable. */
  frames: unknown[] | null;
  /** Milliseconds from the run's start to the first frame, when there were frames. */
  first_frame_ms: number | null;
  status: RunStatus;
  /** `status` and `code` are an HTTP error's (Koa's `ctx.throw(400)`) or a system error's, when it has them. */
  error: { name: string; message: string; stack?: string; status?: number; code?: string | number } | null;
  duration_ms: number;
  attempts: number;
  /** What reached the collectors: callbacks and stand-ins. */
  messages: unknown;
  /** Where the run could not do what the app did, though it ran: a `Class.method` called on `new Class()`. */
  warnings: string[];
  observation_count: number;
  /** The downstream calls the run made, in the order they started, and how each was answered. */
  downstream: RunCall[];
  /** Where the run's downstream calls first parted from the recording's; null when they match (or the run has no recording). */
  divergence: Divergence | null;
  /** Tokens of the run's live LLM calls; null when it made none. */
  usage: Usage | null;
  /** What the run's live LLM calls cost in US dollars; null when it made none, or a model has no price. */
  cost_usd: number | null;
}

/** What executing a run gives: the result line and the run's observations, both ready to write. */
export interface RunOutcome {
  result: RunResult;
  observations: unknown[];
  /** The output as the function gave it, read but not encoded: what a conversation's next turn shows the agent. */
  output?: unknown;
  /** The instance a `Class.method` target was called on: a conversation's later turns are called on it too. */
  instance?: unknown;
}

/** How runs mask what they write: the built-in rules and the project's (`redact_keys`, `redact_patterns`). */
export interface RunRedaction {
  /** Encodes values: the arguments as invoked, outputs, messages, observations. */
  encoder: Encoder;
  /** Masks the text of errors and inputs, which are written as they are. */
  redactor: Redactor;
  /** Describes the run's downstream calls as the recorder described the recorded ones: masked and cut alike, so that the two compare. */
  calls: CallEncoding;
}

/** The recording's caps (`recording.max_depth`, …), which cut the recorded calls. */
export type RecordingLimits = Partial<Pick<EncoderOptions, 'maxDepth' | 'maxArrayLength' | 'maxStringLength'>>;

/** The redaction of runs under `rules`: made once per harness, since encoders keep caches. */
export function runRedaction(rules: RedactRules = { keys: [], patterns: [] }, limits: RecordingLimits = {}): RunRedaction {
  const redact = { redactKeys: rules.keys, redactPatterns: rules.patterns };
  const calls = createEncoder({ ...redact, ...limits });
  const value = (v: unknown): unknown => JSON.parse(calls.encode(v));
  return { encoder: createEncoder(redact), redactor: createRedactor(rules.keys, rules.patterns), calls: { value, url: (url) => String(value(url)) } };
}

const BUILT_IN = runRedaction();

/** How a run describes its downstream calls to compare them with the recording's: encoded and masked as the recorder does. */
const encoded = (value: unknown, encoder: Encoder): unknown => JSON.parse(encoder.encode(value));

// How long the arguments as invoked wait for a body read from a clone; rebuilt bodies are in memory.
const BODY_WAIT_MS = 1000;

/** The encoding of a value whose bodies are read from clones now, before the function reads them. */
function encodedLater(value: unknown, encoder: Encoder): () => Promise<unknown> {
  const text = encoder.encode(value, true);
  if (typeof text === 'string') return async () => JSON.parse(text);
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([text.done, new Promise((resolve) => (timer = setTimeout(resolve, BODY_WAIT_MS)))]);
    clearTimeout(timer);
    return JSON.parse(text.text(`it was not read within ${BODY_WAIT_MS} ms`));
  };
}

/**
 * Makes one run: the recording's arguments decoded afresh, the input put in place, the function
 * called in a replay context of its own (nothing is recorded again; what it calls is traced), its
 * output awaited and read to its end. A run never throws: its error becomes its status. Without
 * `timeoutMs` the caller bounds the run (a worker is ended from outside). What it gives is masked
 * by `redaction`: errors and their stacks too.
 */
export async function executeRun(
  plan: RunPlan,
  target: LoadedTarget,
  providers: ReadonlyMap<ParamPath, Provider>,
  timeoutMs?: number,
  revive: Revive = reviver(new Map(), target.exports),
  redaction: RunRedaction = BUILT_IN,
  /** Called just before the target is, on the same stack: a thread marks which run its stack is in. */
  onCall?: () => void,
  /** How the run's downstream calls are answered; without, they all go through as they would. */
  modes?: DownstreamReplayConfig,
): Promise<RunOutcome> {
  const { encoder } = redaction;
  // A recording without an id was made before downstream calls were recorded: it has none to answer with.
  const downstream = modes === undefined ? undefined : new DownstreamRun(plan.recording?.id === undefined ? undefined : (plan.recording.downstream ?? []), modes);
  const observations: Observation[] = [];
  const collectors = new Collectors();
  // Set again just before the call: duration_ms is the call and the reading of its output, not the decoding of its arguments.
  let started = performance.now();
  let prepared: Prepared | undefined;
  let status: RunStatus = 'ok';
  let output: OutputRead = { value: undefined };
  let failure: unknown;
  let open = true;
  let invokedArgs: (() => Promise<unknown>) | undefined;
  let root: OpenObservation | undefined;
  /** Values the run encoded itself, by identity, for the observations that hold them. */
  const reads = new Map<unknown, unknown>();
  try {
    if (plan.error !== undefined) throw new PlanError(plan.error);
    prepared = prepare(plan, target, providers, collectors, revive);
    const invoked = prepared.args;
    invokedArgs = encodedLater(invoked, encoder);
    const context: ReplayContext = { traceId: plan.traceId, observe: (o: Observation) => open && observations.push(o) };
    if (downstream !== undefined) context.downstream = { run: downstream, encoding: redaction.calls } satisfies DownstreamScope;
    // Defined: the context observes.
    const observed = runInReplay(context, () => beginObservation(target.name, 'agent', invoked))!;
    root = observed;
    const self = prepared.self;
    started = performance.now();
    onCall?.();
    const running = runInReplay(observed.context, () => callAndRead(target.fn, self, invoked, observed, collectors, reads, encoder));
    output = timeoutMs === undefined ? await running : await withTimeout(running, timeoutMs);
  } catch (error) {
    failure = error;
    status = error instanceof RunTimeout ? 'timeout' : 'error';
    // A run that timed out still shows what it called; its own call ends with the timeout.
    root?.threw(error);
  }
  open = false;
  // A call the recording could not answer fails the run, though the app may have caught its error.
  if (downstream?.failure !== undefined && status !== 'timeout') {
    status = 'error';
    failure = downstream.failure;
  }
  const result = resultOf(plan, status, round(performance.now() - started), redaction, target.name);
  const ok = status === 'ok';
  const args = invokedArgs === undefined ? null : await invokedArgs();
  // The run's own observation shows the arguments as invoked, bodies read before the call used them up.
  if (prepared !== undefined) reads.set(prepared.args, args);
  Object.assign(result, {
    override_location: prepared?.location ?? null,
    args,
    output: ok ? encodedOutput(output, encoder) : null,
    frames: ok && output.frames ? encoded(output.frames, encoder) : null,
    first_frame_ms: ok && output.firstFrameAt !== undefined ? round(output.firstFrameAt - started) : null,
    error: ok ? null : errorOf(failure, target.cls !== undefined && prepared?.warnings.length === 0 ? target.cls.name : undefined, redaction),
    messages: encoded(collectors.messages, encoder),
    warnings: [...(prepared?.warnings ?? []), ...(downstream?.warnings ?? [])].map((w) => redaction.redactor.redactString(w)),
    observation_count: observations.length,
    downstream: downstream?.timeline() ?? [],
    divergence: downstream?.divergence() ?? null,
  });
  const kept = ok ? { output: output.value } : {};
  const made = target.cls !== undefined && prepared !== undefined ? { instance: prepared.self } : {};
  return { result, observations: observations.map((o) => encodeObservation(o, reads, redaction)), ...kept, ...made };
}

/**
 * Calls the function and reads its output to the end, in the run's own observation, which ends
 * only then: a stream is read in the observation's context, so that what it calls while it
 * streams nests under the run. A wrapped function (a recording target, a trace() mark) is called
 * unwrapped, so that its wrapper makes no second observation; a sync function is still called
 * synchronously.
 */
async function callAndRead(fn: Function, self: unknown, args: unknown[], root: OpenObservation, collectors: Collectors, reads: Map<unknown, unknown>, encoder: Encoder): Promise<OutputRead> {
  try {
    const returned = await Reflect.apply(unwrap(fn), self, args);
    const output = await outputOfRun(returned, collectors);
    // A read framework object (a Response) is shown as the run writes it.
    if (output.type !== undefined) reads.set(output.value, encodedOutput(output, encoder));
    root.read(output.value, output.frames, output.firstFrameAt);
    return output;
  } catch (error) {
    root.threw(error);
    throw error;
  }
}

/** The run's output: what the function returned, read, or else what it sent. */
async function outputOfRun(returned: unknown, collectors: Collectors): Promise<OutputRead> {
  // A function that returns its reply stand-in (Fastify's `return reply.send(x)`) answered through it.
  if (collectors.isStandIn(returned)) return collectors.output() ?? { value: undefined };
  const read = await outputOf(returned);
  return isEmpty(read.value) ? (collectors.output() ?? read) : read;
}

/** A run that ended before its function could be called: its target did not load, or a worker was ended. */
export function failedRun(plan: RunPlan, status: Exclude<RunStatus, 'ok'>, error: unknown, durationMs: number, redaction: RunRedaction = BUILT_IN): RunOutcome {
  const result = resultOf(plan, status, round(durationMs), redaction);
  result.error = errorOf(error, undefined, redaction);
  return { result, observations: [] };
}

/** The result's fields known before the run; the input and its metadata are the user's text, masked like any other. */
function resultOf(plan: RunPlan, status: RunStatus, durationMs: number, { redactor }: RunRedaction, targetName: string | null = null): RunResult {
  return {
    trace_id: plan.traceId,
    iteration: plan.iteration,
    recording_index: plan.recording?.index ?? null,
    recording_line: plan.recording?.line ?? null,
    recording_file: plan.recording?.file ?? null,
    target: plan.recording?.target ?? plan.recording?.function ?? targetName,
    input: redactor.redactString(plan.input.input),
    input_index: plan.inputIndex,
    metadata: redactJson(plan.input.metadata, redactor) as Record<string, unknown>,
    override_param_path: plan.path ?? null,
    override_location: null,
    args: null,
    output: null,
    frames: null,
    first_frame_ms: null,
    status,
    error: null,
    duration_ms: durationMs,
    attempts: 1,
    messages: [],
    warnings: [],
    observation_count: 0,
    downstream: [],
    divergence: null,
    usage: null,
    cost_usd: null,
  };
}

interface Prepared {
  args: unknown[];
  /** Where the input went, e.g. `args.1`. */
  location: string | null;
  /** What the function is called on. */
  self: unknown;
  warnings: string[];
}

/**
 * The run's arguments: the recording's, with the input at the path, bound to the function; and what
 * it is called on: for a `Class.method` target, an instance made from the recording's `this`.
 */
function prepare(plan: RunPlan, target: LoadedTarget, providers: ReadonlyMap<ParamPath, Provider>, collectors: Collectors, revive: Revive): Prepared {
  const recording = plan.recording;
  const made = target.cls === undefined ? undefined : instanceFor(target.cls, recording?.this, { revive, emitter: (marker) => collectors.emitter(marker) }, recording === undefined ? 'the run has no recording' : undefined);
  const self = made === undefined ? target.thisArg : made.self;
  const warnings = made?.warning === undefined ? [] : [made.warning];
  if (recording === undefined) return { args: inputArguments(plan.input.input, target.params), location: null, self, warnings };
  const params = recording.params?.length ? recording.params : target.params;
  const call = decodeCall(recording, collectors, providers, params, { revive });
  let location: string | null = null;
  if (plan.path !== undefined) {
    const at = override(call, parseParamPath(plan.path), plan.input.input, params);
    if (typeof at === 'string') throw new Error(at);
    location = formatParamPath(at.root, at.segments);
  }
  for (const { path, value, optional } of plan.put ?? []) {
    const at = locate(parseParamPath(path), call, params);
    if (at !== undefined) setAt(call, at, value);
    else if (!optional) throw new Error(`${path} points nowhere in this recording; paths that exist: ${existingText(call, params)}`);
  }
  finishCall(call, collectors);
  return { args: bindArguments(call, target.params), location, self, warnings };
}

/**
 * The output of a call: a framework object read by its adapter (a Response to the end of its body);
 * async iterables (a Node Readable, a web ReadableStream) and generators consumed, their items as
 * frames, string chunks joined, and byte chunks read as UTF-8 text when they are text.
 */
async function outputOf(value: unknown): Promise<OutputRead> {
  if (typeof value !== 'object' || value === null) return { value };
  const read = readOutput(value);
  if (read !== undefined) return read;
  const iterable = value as Partial<AsyncIterable<unknown> & Iterator<unknown> & Iterable<unknown>>;
  const isGenerator = typeof iterable.next === 'function' && typeof iterable[Symbol.iterator] === 'function';
  if (typeof iterable[Symbol.asyncIterator] !== 'function' && !isGenerator) return { value };
  let chunks: unknown[] = [];
  let firstFrameAt: number | undefined;
  for await (const chunk of value as AsyncIterable<unknown>) {
    firstFrameAt ??= performance.now();
    chunks.push(chunk);
  }
  chunks = textOf(chunks) ?? chunks;
  const frames = chunks.length > 1 ? { frames: chunks, firstFrameAt } : {};
  return { value: chunks.every((c) => typeof c === 'string') ? chunks.join('') : chunks, ...frames };
}

/** Byte chunks (a Readable's Buffers) as the text they hold, each chunk's part; undefined unless all are bytes of UTF-8 text. */
function textOf(chunks: unknown[]): string[] | undefined {
  if (chunks.length === 0 || !chunks.every((c) => c instanceof Uint8Array)) return undefined;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    // A character split across two chunks belongs to the chunk that completes it.
    const texts = (chunks as Uint8Array[]).map((c) => decoder.decode(c, { stream: true }));
    texts.push(decoder.decode());
    return texts.filter((t) => t !== '');
  } catch {
    return undefined;
  }
}

/** The output as traces.jsonl keeps it: a read framework object under its `$type`. */
function encodedOutput(output: OutputRead, encoder: Encoder): unknown {
  return output.type === undefined ? encoded(output.value, encoder) : { $type: output.type, value: encoded(output.value, encoder) };
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A run known to fail before it starts; its stack would say nothing. */
class PlanError extends Error {
  override name = 'OverridePathError';
  override stack = undefined;
}

/** A run that did not finish in time. */
export class RunTimeout extends Error {
  override name = 'TimeoutError';
  // Where the timer fired says nothing about the run.
  override stack = undefined;
  constructor(ms: number) {
    super(`the run did not finish within ${ms} ms`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RunTimeout(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A run's error, masked: an app's errors quote keys and tokens (`401 Unauthorized: key sk-…`), in
 * the message and again in the stack. `rebuilt` names the class of an instance made from its
 * recording, whose private fields it lacks.
 */
export function errorOf(error: unknown, rebuilt?: string, { encoder, redactor }: RunRedaction = BUILT_IN): RunResult['error'] {
  if (error instanceof Error) {
    const mask = (text: unknown) => redactor.redactString(String(text));
    const { status, code } = error as { status?: unknown; code?: unknown };
    const hint =
      rebuilt !== undefined && error instanceof TypeError && /private (member|field|method)/i.test(error.message)
        ? `; ${rebuilt} has private fields, which an instance made from its recording does not have: set runner.factory to make one as the app does`
        : '';
    return {
      name: mask(error.name),
      message: mask(error.message + hint),
      ...(error.stack ? { stack: mask(error.stack) } : {}),
      ...(typeof status === 'number' ? { status } : {}),
      ...(typeof code === 'string' ? { code: mask(code) } : typeof code === 'number' ? { code } : {}),
    };
  }
  return { name: 'Error', message: `thrown: ${encoder.encode(error)}` };
}

/**
 * An observation as observations.jsonl keeps it. What the run already encoded before it was used up
 * (the arguments as invoked, with their bodies; an output it read, such as a Response) is taken as
 * the run encoded it.
 */
function encodeObservation(o: Observation, reads: ReadonlyMap<unknown, unknown>, redaction: RunRedaction): unknown {
  const { encoder } = redaction;
  return {
    ...o,
    duration_ms: round(o.duration_ms),
    input: reads.has(o.input) ? reads.get(o.input) : encoded(o.input, encoder),
    output: 'output' in o ? (reads.has(o.output) ? reads.get(o.output) : encoded(o.output, encoder)) : null,
    error: 'error' in o ? errorOf(o.error, undefined, redaction) : null,
    frames: o.frames === undefined ? null : encoded(o.frames, encoder),
    first_frame_ms: o.first_frame_ms === undefined ? null : round(o.first_frame_ms),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
