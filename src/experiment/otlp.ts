import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, RandomIdGenerator, TracerProvider, type IdGenerator, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { RunCall } from '../replay/calls';
import type { RunResult } from '../replay/execute';
import type { Observation } from '../trace/observations';
import { fluxloopVersion } from '../version';

export { otlpTracesUrl } from './otlp-url';
import { isConversation, type ConversationResult, type ConversationTurn } from './conversation-result';
import { isConversationEvaluation, type AnyTraceEvaluation, type EvaluatorResult, type TraceLine, type TurnEvaluation } from './evaluation/types';

// The GenAI conventions are incubating: @opentelemetry/semantic-conventions asks that code copy
// the names it uses rather than import its `incubating` entry, which may change in a minor release.
const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
// Stable names, copied too: the package is not a dependency of fluxloop.
const SERVICE_NAME = 'service.name';
const SERVICE_VERSION = 'service.version';
const ERROR_TYPE = 'error.type';
const HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';

/** The providers fluxloop recognises an LLM call of; their names are the conventions' values too. */
const PROVIDERS = new Set(['openai', 'anthropic']);

// ExportResultCode.SUCCESS and FAILED of @opentelemetry/core, which is not a dependency of fluxloop.
const SUCCESS = 0;
const FAILED = 1;

/** How long one export may take with its retries, and close() waits for the last spans. */
const TIMEOUT_MS = 3000;
/** Longer than a batch's export: a failure found at the deadline is told as what it was. */
const CLOSE_MARGIN_MS = 500;
// Values past this are cut by the SDK: an observation's output may be megabytes.
const ATTRIBUTE_CHARS = 8192;

export interface OtlpExportOptions {
  /** The collector's traces endpoint, as {@link otlpTracesUrl} gives it. */
  url: string;
  /** `fluxloop.experiment` on the resource and on each run's span. */
  experiment: string;
  /** How long one export may take with its retries, and close() waits for the last ones; 3 s by default. */
  timeoutMs?: number;
}

/** What export made of the runs it was given. */
export interface OtlpExportResult {
  /** Runs whose span the collector accepted. */
  exported: number;
  /** One line, when not every run was exported: the URL and why (the first failure). */
  warning?: string;
}

/**
 * Runs sent as OpenTelemetry spans over OTLP/HTTP, in batches, in the background. Nothing it does
 * throws or blocks: a collector that is down, slow or answers errors costs at most the timeout at
 * close(), and is told once, by close()'s warning. After the first failed export, no more is sent.
 */
export interface OtlpExport {
  /**
   * A finished run: its traces.jsonl line (a single run's or a conversation's), its
   * observations.jsonl lines (empty for a conversation, whose observations are in its turns),
   * and its evaluation when it was evaluated.
   */
  add(line: string, observations: string, evaluation?: AnyTraceEvaluation): void;
  /** Sends what is queued now, and waits at most the timeout. */
  flush(): Promise<void>;
  /** Sends what is left and stops; resolves within the timeout, whatever the collector does. */
  close(): Promise<OtlpExportResult>;
}

/** Starts an export; see {@link OtlpExport}. */
export function createOtlpExport(options: OtlpExportOptions): OtlpExport {
  return new OtlpRunExport(options);
}

/** What the export has seen, shared with the exporter that reports to it. */
interface Tally {
  added: number;
  exported: number;
  /** The first failed export, as words: nothing is sent after it. */
  failure?: string;
  /** The first run that could not be made into spans. */
  problem?: string;
}

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

/**
 * The OTLP exporter, watched: the processor swallows a failed export (to `diag`, which prints
 * nothing unless someone set a logger), so the result is read here. Once one failed, the rest
 * fail at once instead of waiting on a collector that is not there.
 */
class WatchedExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly tally: Tally,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.tally.failure !== undefined) return done({ code: FAILED });
    this.inner.export(spans, (result) => {
      if (result.code === SUCCESS) this.tally.exported += spans.filter((s) => s.parentSpanContext === undefined).length;
      else this.tally.failure ??= reasonOf(result.error);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Why an export failed, in words: the HTTP status the collector answered, or the network's error. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return 'the export failed';
  const status = (error as { code?: unknown }).code;
  if (typeof status === 'number') return `HTTP ${status}${error.message ? ` ${error.message}` : ''}`;
  return error.message || error.name;
}

/**
 * Each run's trace id is its fluxloop trace id, a UUID's 32 hex digits: the run can be found in
 * the tracing backend by the id its traces.jsonl line has.
 */
class RunIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  next: string | undefined;

  generateTraceId(): string {
    const id = this.next;
    this.next = undefined;
    return id ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

const otelTraceId = (id: string): string | undefined => {
  const hex = id.replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex) ? hex : undefined;
};

/** {@link OtlpExport}, with a way in for runs already read (an experiment folder's). */
export class OtlpRunExport implements OtlpExport {
  private readonly tally: Tally = { added: 0, exported: 0 };
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly ids = new RunIds();
  private readonly timeoutMs: number;
  private closing: Promise<OtlpExportResult> | undefined;

  constructor(private readonly options: OtlpExportOptions) {
    this.timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
    // Headers of OTEL_EXPORTER_OTLP_HEADERS are the exporter's own to read; the URL is given, so
    // the exporter's reading of the endpoint variables does not apply.
    const exporter = new OTLPTraceExporter({ url: options.url, timeoutMillis: this.timeoutMs });
    const processor = new BatchSpanProcessor({
      exporter: new WatchedExporter(exporter, this.tally),
      maxQueueSize: 8192,
      maxExportBatchSize: 512,
      scheduledDelayMillis: 2000,
      exportTimeoutMillis: this.timeoutMs + CLOSE_MARGIN_MS,
    });
    // A provider of fluxloop's own, never registered: the user's globals are left alone.
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ [SERVICE_NAME]: 'fluxloop', [SERVICE_VERSION]: fluxloopVersion(), 'fluxloop.experiment': options.experiment }),
      idGenerator: this.ids,
      spanLimits: { attributeValueLengthLimit: ATTRIBUTE_CHARS },
      spanProcessors: [processor],
      forceFlushTimeoutMillis: this.timeoutMs + CLOSE_MARGIN_MS,
    });
    this.tracer = this.provider.getTracer('fluxloop', fluxloopVersion());
  }

  add(line: string, observations: string, evaluation?: AnyTraceEvaluation): void {
    this.guarded(() => {
      const parsed = observations.split('\n').flatMap((l) => (l.trim() === '' ? [] : [JSON.parse(l) as Observation]));
      return [JSON.parse(line) as TraceLine, parsed];
    }, evaluation);
  }

  /** A run already read, as {@link add} takes it. */
  addParsed(result: TraceLine, observations: Observation[], evaluation?: AnyTraceEvaluation): void {
    this.guarded(() => [result, observations], evaluation);
  }

  /** Makes the run's spans, unless export has stopped; a run that cannot be read is counted, not thrown. */
  private guarded(read: () => [TraceLine, Observation[]], evaluation?: AnyTraceEvaluation): void {
    this.tally.added++;
    if (this.tally.failure !== undefined || this.closing !== undefined) return;
    try {
      const [result, observations] = read();
      this.spans(result, observations, evaluation);
    } catch (error) {
      this.tally.problem ??= `a run could not be made into spans: ${(error as Error)?.message ?? String(error)}`;
    }
  }

  async flush(): Promise<void> {
    if (this.tally.failure !== undefined) return;
    await this.provider.forceFlush().catch(() => undefined);
  }

  close(): Promise<OtlpExportResult> {
    return (this.closing ??= this.finish());
  }

  private async finish(): Promise<OtlpExportResult> {
    let timer: NodeJS.Timeout | undefined;
    const bound = this.timeoutMs + CLOSE_MARGIN_MS;
    const done = await Promise.race([
      this.provider.shutdown().then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), bound))),
    ]);
    clearTimeout(timer);
    const { added, exported, failure, problem } = this.tally;
    const where = `OTLP export to ${this.options.url}`;
    const count = `${exported} of ${added} run${added === 1 ? '' : 's'} exported`;
    if (failure !== undefined) return { exported, warning: `${where} failed (${failure}): ${count}` };
    if (!done) return { exported, warning: `${where}: the collector did not answer within ${bound / 1000} s: ${count}` };
    if (exported < added) return { exported, warning: `${where}: ${count}${problem === undefined ? '' : ` (${problem})`}` };
    return { exported };
  }

  /** The run's spans: its own, its observations' nested by parent, its downstream calls; a conversation's turns each under it. */
  private spans(result: TraceLine, observations: Observation[], evaluation?: AnyTraceEvaluation): void {
    if (isConversation(result)) return this.conversation(result, evaluation);
    const run = result as RunResult;
    const { start, end } = timing(run.duration_ms, observations, run.downstream);
    this.ids.next = otelTraceId(run.trace_id);
    const root = this.tracer.startSpan(`fluxloop.run ${run.target ?? 'run'}`, { kind: SpanKind.INTERNAL, startTime: hr(start), attributes: runAttributes(this.options.experiment, run) }, ROOT_CONTEXT);
    root.setAttributes(evaluationAttributes(evaluation));
    failed(root, run);
    this.children(root, start, observations, run.downstream ?? []);
    root.end(hr(end));
  }

  private conversation(c: ConversationResult, evaluation?: AnyTraceEvaluation): void {
    const turns = c.turns ?? [];
    const all = turns.flatMap((t) => (t.observations ?? []) as Observation[]);
    const { start } = timing(c.duration_ms, all, []);
    this.ids.next = otelTraceId(c.trace_id);
    const root = this.tracer.startSpan(`fluxloop.conversation ${c.target ?? 'conversation'}`, { kind: SpanKind.INTERNAL, startTime: hr(start), attributes: conversationAttributes(this.options.experiment, c) }, ROOT_CONTEXT);
    root.setAttributes(evaluationAttributes(evaluation));
    failed(root, c);
    const verdicts = new Map<number, TurnEvaluation>();
    if (evaluation !== undefined && isConversationEvaluation(evaluation)) for (const t of evaluation.turns) verdicts.set(t.turn, t);
    // A turn without observations (it failed before its call) is put after the one before it.
    let cursor = start;
    let end = start + c.duration_ms;
    for (const turn of turns) {
      const observed = (turn.observations ?? []) as Observation[];
      const own = timing(turn.duration_ms, observed, turn.downstream, cursor);
      const span = this.tracer.startSpan(`fluxloop.turn ${turn.turn}`, { kind: SpanKind.INTERNAL, startTime: hr(own.start), attributes: turnAttributes(turn) }, trace.setSpan(ROOT_CONTEXT, root));
      span.setAttributes(evaluationAttributes(verdicts.get(turn.turn)));
      failed(span, turn);
      this.children(span, own.start, observed, turn.downstream ?? []);
      span.end(hr(own.end));
      cursor = Math.max(cursor, own.end);
      end = Math.max(end, own.end);
    }
    root.end(hr(end));
  }

  /** Under `parent`: the observations as their tree, and the downstream calls under the run's own observation. */
  private children(parent: Span, runStart: number, observations: Observation[], calls: RunCall[]): void {
    const byId = new Map(observations.map((o) => [o.id, o]));
    const kids = new Map<string | null, Observation[]>();
    for (const o of observations) {
      // An observation whose parent is not among them (cut off by a timeout) hangs from the run.
      const key = o.parent_id !== null && byId.has(o.parent_id) ? o.parent_id : null;
      kids.set(key, [...(kids.get(key) ?? []), o]);
    }
    const spans = new Map<string, Span>();
    const done = new Set<string>();
    const open = (o: Observation, under: Span): void => {
      if (done.has(o.id)) return;
      done.add(o.id);
      const start = Date.parse(o.start_time);
      const span = this.tracer.startSpan(o.name, { kind: SpanKind.INTERNAL, startTime: hr(start), attributes: observationAttributes(o) }, trace.setSpan(ROOT_CONTEXT, under));
      if (o.error !== undefined) {
        const error = o.error as { name?: unknown; message?: unknown } | null;
        span.setStatus({ code: SpanStatusCode.ERROR, ...(typeof error?.message === 'string' ? { message: error.message } : {}) });
        if (typeof error?.name === 'string') span.setAttribute(ERROR_TYPE, error.name);
      }
      spans.set(o.id, span);
      for (const child of kids.get(o.id) ?? []) open(child, span);
      span.end(hr(start + (o.duration_ms ?? 0)));
    };
    for (const o of kids.get(null) ?? []) open(o, parent);
    const agent = observations.find((o) => o.type === 'agent' && (o.parent_id === null || !byId.has(o.parent_id)));
    const under = (agent && spans.get(agent.id)) ?? parent;
    for (const call of calls) this.call(call, under, runStart);
  }

  /** A downstream call: an LLM call as the GenAI conventions name it, an HTTP request, a tool. */
  private call(call: RunCall, parent: Span, runStart: number): void {
    const start = runStart + (call.started_ms ?? 0);
    const attributes: Attributes = { 'fluxloop.downstream.kind': call.kind, 'fluxloop.downstream.answer': call.answer, 'fluxloop.downstream.seq': call.seq };
    let name = call.name;
    if (call.kind === 'llm') {
      // Named `openai chat.completions gpt-4o`: the provider, the API, the model asked.
      const [provider, , asked] = call.name.split(' ');
      const requested = asked ?? call.model ?? undefined;
      name = requested === undefined ? 'chat' : `chat ${requested}`;
      attributes[GEN_AI_OPERATION_NAME] = 'chat';
      if (provider !== undefined && PROVIDERS.has(provider)) attributes[GEN_AI_PROVIDER_NAME] = provider;
      if (requested !== undefined) attributes[GEN_AI_REQUEST_MODEL] = requested;
      // The model the answer named, when it is not the one asked (`gpt-4o` answered by `gpt-4o-2024-08-06`).
      if (call.model != null && call.model !== requested) attributes[GEN_AI_RESPONSE_MODEL] = call.model;
      if (call.usage != null) {
        attributes[GEN_AI_USAGE_INPUT_TOKENS] = call.usage.input_tokens;
        attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = call.usage.output_tokens;
      }
    }
    if (call.status !== undefined) attributes[HTTP_RESPONSE_STATUS_CODE] = call.status;
    const span = this.tracer.startSpan(name, { kind: call.kind === 'tool' ? SpanKind.INTERNAL : SpanKind.CLIENT, startTime: hr(start), attributes }, trace.setSpan(ROOT_CONTEXT, parent));
    if (call.error != null) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: call.error.message });
      span.setAttribute(ERROR_TYPE, call.error.name);
    }
    span.end(hr(start + (call.duration_ms ?? 0)));
  }
}

/**
 * Where a run sits in time. Its line has no start: its first observation (the run's own call)
 * has; without one (a run that failed before its call), it is put at `fallback`, else just now.
 */
function timing(durationMs: number, observations: Observation[], calls: RunCall[] | undefined, fallback?: number): { start: number; end: number } {
  const starts = observations.map((o) => Date.parse(o.start_time)).filter(Number.isFinite);
  const start = starts.length > 0 ? Math.min(...starts) : (fallback ?? Date.now() - (durationMs ?? 0));
  let end = start + (durationMs ?? 0);
  for (const o of observations) {
    const at = Date.parse(o.start_time) + (o.duration_ms ?? 0);
    if (Number.isFinite(at)) end = Math.max(end, at);
  }
  for (const c of calls ?? []) end = Math.max(end, start + (c.started_ms ?? 0) + (c.duration_ms ?? 0));
  return { start, end };
}

/** Milliseconds since the epoch as the SDK's exact time, sub-millisecond parts kept. */
function hr(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

/** Attributes without the absent ones. */
function defined(values: Record<string, string | number | boolean | string[] | null | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(values)) if (value !== null && value !== undefined) out[key] = value;
  return out;
}

/** A run's span, and what a conversation's shares with it: the fields both lines have. */
function runAttributes(experiment: string, run: RunResult | ConversationResult): Attributes {
  return defined({
    'fluxloop.experiment': experiment,
    'fluxloop.trace_id': run.trace_id,
    'fluxloop.target': run.target,
    'fluxloop.iteration': run.iteration,
    'fluxloop.input': run.input,
    'fluxloop.input_index': run.input_index,
    'fluxloop.recording_line': run.recording_line,
    'fluxloop.recording_file': run.recording_file,
    'fluxloop.status': run.status,
    'fluxloop.duration_ms': run.duration_ms,
    'fluxloop.attempts': run.attempts,
    'fluxloop.cost_usd': run.cost_usd,
  });
}

function conversationAttributes(experiment: string, c: ConversationResult): Attributes {
  return {
    ...runAttributes(experiment, c),
    ...defined({ 'fluxloop.conversation_id': c.conversation_id, 'fluxloop.turn_count': c.turns?.length, 'fluxloop.termination_reason': c.termination_reason }),
  };
}

function turnAttributes(turn: ConversationTurn): Attributes {
  return defined({
    'fluxloop.trace_id': turn.trace_id,
    'fluxloop.turn': turn.turn,
    'fluxloop.turn_source': turn.source,
    'fluxloop.user_message': turn.user_message,
    'fluxloop.recording_line': turn.recording_line,
    'fluxloop.status': turn.status,
    'fluxloop.duration_ms': turn.duration_ms,
  });
}

function observationAttributes(o: Observation): Attributes {
  return defined({
    'fluxloop.observation.type': o.type,
    'fluxloop.observation.input': json(o.input),
    'fluxloop.observation.output': json(o.output),
    'fluxloop.observation.error': json(o.error),
  });
}

/** A verdict's attributes: passed, score, and the evaluators that failed (skipped ones did not). */
function evaluationAttributes(verdict: { passed: boolean; score: number; evaluators: EvaluatorResult[] } | undefined): Attributes {
  if (verdict === undefined) return {};
  return {
    'fluxloop.evaluation.passed': verdict.passed,
    'fluxloop.evaluation.score': verdict.score,
    'fluxloop.evaluation.failed_evaluators': verdict.evaluators.filter((e) => !e.passed && !e.skipped).map((e) => e.name),
  };
}

/** A run that did not end ok: its span's status is ERROR, with the error's message. */
function failed(span: Span, run: Pick<RunResult, 'status' | 'error'>): void {
  if (run.status === 'ok') return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: run.error?.message ?? run.status });
  span.setAttribute(ERROR_TYPE, run.error?.name ?? run.status);
}

const json = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));
