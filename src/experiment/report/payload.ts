import type { ModelPrice } from '../../config/types';
import type { Usage } from '../../record/downstream-format';
import type { Answer, Divergence, RunCall } from '../../replay/calls';
import type { RunResult, RunStatus } from '../../replay/execute';
import { isConversation, type ConversationResult } from '../conversation-result';
import { repliesText } from '../evaluation/conversation-text';
import type { DivergencePlace } from '../tally';
import { costOf, priceOf, pricesOf, type Prices } from '../usage';
import { outputText } from '../evaluation/rules';
import type { ComparedRun, Comparison, ConversationEvaluation, EvaluationSummary, EvaluatorResult, EvaluatorScope, ObservationLine, ReportData, TraceEvaluation } from '../evaluation/types';
import { defaultEvaluatorsNote, gateVerdict } from '../evaluation/verdict';
import { compact, isObject, locateOverride, truncateString, type Limits } from './compact';
import { wordDiff, type DiffPiece } from './diff';

// A report of 10,000 runs is one page: what it shows of each run must stay small. Typical runs
// fit the first limits; a run whose detail is still big after them gets the tight ones.
const DETAIL: Limits = { string: 2000, array: 100, keys: 100, depth: 10 };
const OBSERVATION: Limits = { string: 500, array: 20, keys: 30, depth: 6 };
const TIGHT: Limits = { string: 200, array: 20, keys: 30, depth: 5 };
const MAX_OBSERVATIONS = 200;
const MAX_OBSERVATIONS_TIGHT = 50;
const RUN_BUDGET = 64 * 1024;
/** A conversation is several runs: up to this much before its turns get the tight limits. */
const CONVERSATION_BUDGET = 4 * RUN_BUDGET;
/** A turn's observations on the page. */
const MAX_TURN_OBSERVATIONS = 50;
const MAX_TURN_OBSERVATIONS_TIGHT = 10;
/** Reasons and the inputs of compared runs: lines of a table, not documents. */
const LINE = 500;
/** The outputs a regression's diff compares: the first regressions get this much of each… */
const DIFF_TEXT = 2000;
/** …and past this many, a few lines, so that a page where everything regressed stays small. */
const DIFF_FULL_COUNT = 500;
const DIFF_TEXT_TIGHT = 300;
/** A run's downstream calls on the page, and its recording's: a timeline, not a log. */
const MAX_CALLS = 200;
const MAX_CALLS_TIGHT = 50;
/** The arguments a call shows beside its recorded twin. */
const CALL_ARGUMENTS: Limits = { string: 300, array: 10, keys: 20, depth: 5 };

/** An observation as the timeline draws it. */
export interface ReportObservation {
  name: string;
  type: string;
  /** Index of the parent in the run's list; null for a root, or when the parent was left out. */
  parent: number | null;
  /** Milliseconds after the run's first observation started. */
  start_ms: number;
  duration_ms: number;
  input: unknown;
  output?: unknown;
  error?: unknown;
}

/** A run's downstream call as its timeline draws it. */
export interface ReportCall {
  seq: number;
  kind: string;
  name: string;
  answer: Answer;
  matched: number | null;
  started_ms: number;
  duration_ms: number;
  status: number | null;
  model: string | null;
  usage: Usage | null;
  /** What a live LLM call cost; null for other calls, and for a model without a price. */
  cost_usd: number | null;
  error: { name: string; message: string } | null;
}

/** A call of the run's recording, beside the run's own. */
export interface ReportRecordedCall {
  seq: number;
  kind: string;
  name: string;
  arguments: unknown;
  model?: string | null;
}

/** An evaluator's verdict on a run, a turn or a conversation, by its index in `evaluators`. */
export interface ReportVerdict {
  evaluator: number;
  score: number | null;
  passed: boolean;
  skipped: boolean;
  reason: string;
}

/** A turn of a conversation as its transcript shows it: the user's message, the agent's reply and its verdicts. */
export interface ReportTurn {
  turn: number;
  /** Where the user's message came from: `recorded`, `input` or `simulated_user`. */
  source: string;
  user_message: string;
  output: unknown;
  status: RunStatus;
  error: unknown;
  duration_ms: number;
  /** Null when no evaluator judges turns. */
  passed: boolean | null;
  score: number | null;
  reasons: string[];
  evaluators: ReportVerdict[];
  divergence: Divergence | null;
  /** How many downstream calls the turn made. */
  call_count: number;
  usage: Usage | null;
  cost_usd: number | null;
  observations: ReportObservation[];
  observation_count: number;
  observations_omitted: number;
}

/** What a conversation adds to its run on the page: its transcript and how it ended. */
export interface ReportConversation {
  conversation_id: string;
  termination_reason: string;
  /** The simulated user's last words, after the agent's last reply. */
  closing_user_message: string | null;
  resumed_from: number | null;
  turn_pass_rate: number | null;
  turns: ReportTurn[];
}

/** One run on the page: the table's columns and the detail's content. */
export interface ReportRun {
  index: number;
  trace_id: string;
  iteration: number;
  input_index: number;
  recording_index: number | null;
  recording_line: number | null;
  /** The recording file the run's recording came from: the run's own when it names one, else the experiment's. */
  recording_file: string | null;
  /** Index in `bases` of the base input this run's input is, or is a variation of. */
  base: number;
  /** The run's input is the base input itself, not a variation of it. */
  is_base: boolean;
  target: string | null;
  status: RunStatus;
  passed: boolean;
  score: number;
  duration_ms: number;
  attempts: number;
  input: string;
  strategy: string | null;
  persona: string | null;
  metadata: unknown;
  /** Indexes in `evaluators` of those that failed this run, for the evaluator filter. */
  failed: number[];
  reasons: string[];
  evaluators: ReportVerdict[];
  override_param_path: string | null;
  override_location: string | null;
  /** Where the input is in `args` as shown (tagged objects add a `value` step); null when not found. */
  override_path: Array<string | number> | null;
  args: unknown;
  output: unknown;
  /** The pieces the output came in, when more than one. */
  frames: unknown[] | null;
  first_frame_ms: number | null;
  error: unknown;
  messages: unknown;
  observations: ReportObservation[];
  observation_count: number;
  /** Observations of the run not on the page. */
  observations_omitted: number;
  /** Tokens and cost of the run's live LLM calls, as traces.jsonl has them. */
  usage: Usage | null;
  cost_usd: number | null;
  /** Where the run's calls left its recording's; null when they did not, or the run has no recording. */
  divergence: Divergence | null;
  /** The run's downstream calls, the first MAX_CALLS of them. */
  calls: ReportCall[];
  calls_omitted: number;
  /** Its recording's calls, when the run's line carries them (`recorded_downstream`); null for a run without. */
  recorded_calls: ReportRecordedCall[] | null;
  recorded_omitted: number;
  /**
   * For a conversation: its transcript. The run's own fields are then the conversation's (its
   * input, status, duration, verdict and evaluators); `output` is the last reply, and the fields
   * of a single call (arguments, calls, observations) are empty, being in each turn.
   */
  conversation?: ReportConversation;
}

/**
 * A compared run, with where it is in `runs` when this experiment has it; for a regression, its
 * output's word diff against the baseline's (`-1` only in the baseline's, `1` only in the current).
 */
export type ReportComparedRun = ComparedRun & { run_index: number | null; diff?: DiffPiece[] };

/** A base input and its variations: the runs of them, and how many passed. */
export interface ReportBase {
  /** The base input's text, or a stand-in (`base input 3`) when no run has it. */
  input: string;
  /** The base input is one of the runs' inputs (include_base_inputs), rather than named by its variations alone. */
  ran: boolean;
  /** Where a base input taken from the recordings was recorded (`file:line`), when the inputs say. */
  recording: string | null;
  runs: number;
  passed: number;
  /** Distinct inputs run: the base input and its variations. */
  inputs: number;
}

/** Runs and passes of one strategy or persona; null is the runs with none. */
export interface ReportBreakdown {
  value: string | null;
  runs: number;
  passed: number;
}

/** The JSON the page reads. */
export interface ReportPayload {
  format: 1;
  experiment: string;
  generated_at: string;
  /** The scalar fields of the experiment's summary.json (name, started_at, target…). */
  experiment_summary: Record<string, string | number | boolean | null>;
  summary: Omit<EvaluationSummary, 'comparison'>;
  /** The evaluators' names and types, which runs refer to by index; with conversations, what each judges. */
  evaluators: Array<{ name: string; type: string; scope?: EvaluatorScope }>;
  comparison: (Omit<Comparison, 'regressions' | 'fixes' | 'new_runs' | 'missing_runs'> & Record<'regressions' | 'fixes' | 'new_runs' | 'missing_runs', ReportComparedRun[]>) | null;
  /** What the evaluation concludes, in the words of the console: the gate's verdict, and the note when only the default evaluators ran. */
  verdict: { gate: string | null; passed: boolean | null; note: string[] | null };
  /** Base inputs in their order (`base_index`, else the input's place in the inputs); runs refer to them by index. */
  bases: ReportBase[];
  by_strategy: ReportBreakdown[];
  by_persona: ReportBreakdown[];
  /** The experiment's tokens, cost and divergence, from its summary.json; null for an experiment that counted none. */
  calls: ReportCallsSummary | null;
  /** Some run made downstream calls, or has a recording's: the page shows the Path column and the calls. */
  has_calls: boolean;
  runs: ReportRun[];
}

/** What summary.json says of the experiment's downstream calls. */
export interface ReportCallsSummary {
  usage: Usage | null;
  cost_usd: number | null;
  unpriced_models: string[];
  live_llm_calls: number;
  diverged_runs: number;
  diverged_at: DivergencePlace[];
}

export function preparePayload(data: ReportData, now: Date): ReportPayload {
  const { comparison, ...summary } = data.evaluation;
  const evaluators: ReportPayload['evaluators'] = summary.evaluators.map((e) => ({ name: e.name, type: e.type, ...(e.scope ? { scope: e.scope } : {}) }));
  const evaluatorIndex = new Map(evaluators.map((e, i) => [e.name, i]));
  // A run may name an evaluator the summary lacks (a partial summary); it still gets an index.
  const indexOf = (name: string, type: string): number => {
    let i = evaluatorIndex.get(name);
    if (i === undefined) {
      i = evaluators.push({ name, type }) - 1;
      evaluatorIndex.set(name, i);
    }
    return i;
  };
  const recordingFile = typeof data.experiment_summary?.recording_file === 'string' ? data.experiment_summary.recording_file : null;
  const { bases, of } = baseInputs(data.runs);
  const prices = experimentPrices(data.experiment_summary);
  const runs = data.runs.map((run, index) =>
    isConversation(run.result)
      ? prepareConversation(index, run.result, run.evaluation as ConversationEvaluation, indexOf, recordingFile, of[index]!)
      : prepareRun(index, run.result, run.evaluation, run.observations, indexOf, recordingFile, of[index]!, prices),
  );
  const runIndex = new Map(runs.map((r) => [r.trace_id, r.index]));
  // What a regression's diff compares: a run's output, a conversation's replies.
  const outputs = new Map(data.runs.map(({ result }) => [result.trace_id, isConversation(result) ? repliesText(result) : result.output]));
  return {
    format: 1,
    experiment: data.experiment,
    generated_at: now.toISOString(),
    experiment_summary: scalars(data.experiment_summary),
    summary,
    evaluators,
    comparison: comparison ? prepareComparison(comparison, runIndex, outputs, data.baseline_outputs ?? new Map()) : null,
    verdict: { gate: gateVerdict(data.evaluation), passed: data.evaluation.gate?.passed ?? null, note: defaultEvaluatorsNote(data.evaluation) },
    bases,
    by_strategy: breakdown(runs, (r) => r.strategy),
    by_persona: breakdown(runs, (r) => r.persona),
    calls: callsSummary(data.experiment_summary),
    has_calls: runs.some((r) => r.calls.length > 0 || (r.recorded_calls !== null && r.recorded_calls.length > 0) || r.divergence !== null),
    runs,
  };
}

/** The prices the experiment ran at: the table fluxloop ships, under its config's `pricing:` as summary.json keeps it. */
function experimentPrices(summary: Record<string, unknown> | undefined): Prices {
  const config = isObject(summary?.config) ? summary.config : {};
  const pricing: Record<string, ModelPrice> = {};
  if (isObject(config.pricing)) {
    for (const [model, price] of Object.entries(config.pricing)) {
      if (isObject(price) && typeof price.input === 'number' && typeof price.output === 'number') {
        pricing[model] = { input: price.input, output: price.output, ...(typeof price.cached_input === 'number' ? { cached_input: price.cached_input } : {}) };
      }
    }
  }
  return pricesOf({ pricing });
}

/** The calls' part of summary.json; null for an experiment written before it had one. */
function callsSummary(summary: Record<string, unknown> | undefined): ReportCallsSummary | null {
  if (summary === undefined || !('usage' in summary) || !('cost_usd' in summary)) return null;
  const usage = isObject(summary.usage) ? (summary.usage as unknown as Usage) : null;
  const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const places = Array.isArray(summary.diverged_at) ? summary.diverged_at.filter(isObject).slice(0, 20) : [];
  return {
    usage,
    cost_usd: typeof summary.cost_usd === 'number' ? summary.cost_usd : null,
    unpriced_models: Array.isArray(summary.unpriced_models) ? summary.unpriced_models.filter((m): m is string => typeof m === 'string').slice(0, 20).map((m) => truncateString(m, LINE)) : [],
    live_llm_calls: number(summary.live_llm_calls),
    diverged_runs: number(summary.diverged_runs),
    diverged_at: places.map((p) => ({ index: number(p.index), kind: String(p.kind) as DivergencePlace['kind'], runs: number(p.runs) })),
  };
}

/** A run's calls, the first `max`, each with what it cost when it was a live LLM call. */
function prepareCalls(calls: unknown, max: number, prices: Prices): ReportCall[] {
  if (!Array.isArray(calls)) return [];
  return (calls as RunCall[]).slice(0, max).map((c) => {
    const usage = isObject(c.usage) ? c.usage : null;
    const price = c.kind === 'llm' && c.answer === 'live' && usage && typeof c.model === 'string' ? priceOf(c.model, prices) : undefined;
    return {
      seq: Number(c.seq),
      kind: String(c.kind),
      name: truncateString(String(c.name), LINE),
      answer: c.answer,
      matched: typeof c.matched === 'number' ? c.matched : null,
      started_ms: Number.isFinite(c.started_ms) ? round(c.started_ms) : 0,
      duration_ms: Number.isFinite(c.duration_ms) ? round(c.duration_ms) : 0,
      status: typeof c.status === 'number' ? c.status : null,
      model: typeof c.model === 'string' ? truncateString(c.model, LINE) : null,
      usage,
      cost_usd: price && usage ? costOf(usage, price) : null,
      error: isObject(c.error) ? { name: truncateString(String(c.error.name), LINE), message: truncateString(String(c.error.message), LINE) } : null,
    };
  });
}

function prepareRecorded(recorded: unknown, max: number): ReportRecordedCall[] | null {
  if (!Array.isArray(recorded)) return null;
  return recorded.slice(0, max).filter(isObject).map((c) => ({
    seq: Number(c.seq),
    kind: String(c.kind),
    name: truncateString(String(c.name), LINE),
    arguments: compact(c.arguments, CALL_ARGUMENTS),
    ...(c.kind === 'llm' ? { model: typeof c.model === 'string' ? truncateString(c.model, LINE) : null } : {}),
  }));
}

function prepareDivergence(divergence: unknown): Divergence | null {
  if (!isObject(divergence)) return null;
  const d = divergence as unknown as Divergence;
  const side = (c: Divergence['expected']) => (isObject(c) ? { kind: c.kind, name: truncateString(String(c.name), LINE), arguments: compact(c.arguments, CALL_ARGUMENTS) } : null);
  return { index: Number(d.index), kind: d.kind, expected: side(d.expected), actual: side(d.actual) };
}

/**
 * Which base input each run's input is or varies. Generated inputs say so in their metadata
 * (`base_index`, and `strategy: base` for the base input itself); any other input is a base input
 * of its own. Bases are ordered as the inputs were, whatever order the runs finished in.
 */
function baseInputs(runs: ReportData['runs']): { bases: ReportBase[]; of: Array<{ base: number; is_base: boolean }> } {
  type Entry = ReportBase & { order: [number, number] };
  const byKey = new Map<string, Entry>();
  const inputs = new Map<string, Set<string>>();
  const keys = runs.map(({ result, evaluation }) => {
    const metadata = isObject(result.metadata) ? result.metadata : {};
    const index = metadata.base_index;
    const generated = typeof index === 'number' && Number.isInteger(index) && index >= 0;
    const key = generated ? `b${index}` : `i${result.input_index}`;
    const isBase = !generated || metadata.strategy === 'base';
    let entry = byKey.get(key);
    if (!entry) {
      const named = typeof metadata.base_input === 'string' ? metadata.base_input : null;
      entry = {
        input: isBase ? result.input : (named ?? `base input ${(index as number) + 1}`),
        ran: isBase,
        recording: typeof metadata.recording === 'string' ? truncateString(metadata.recording, LINE) : null,
        runs: 0,
        passed: 0,
        inputs: 0,
        order: generated ? [0, index as number] : [1, result.input_index],
      };
      byKey.set(key, entry);
      inputs.set(key, new Set());
    }
    if (isBase && !entry.ran) {
      entry.input = result.input;
      entry.ran = true;
    }
    entry.runs++;
    if (evaluation.passed) entry.passed++;
    inputs.get(key)!.add(result.input);
    return { key, is_base: isBase };
  });
  const ordered = [...byKey.entries()].sort(([, a], [, b]) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
  const position = new Map(ordered.map(([key], i) => [key, i]));
  const bases = ordered.map(([key, { order: _order, ...base }]) => ({ ...base, input: truncateString(base.input, DETAIL.string), inputs: inputs.get(key)!.size }));
  return { bases, of: keys.map(({ key, is_base }) => ({ base: position.get(key)!, is_base })) };
}

/** Runs and passes by a label's value, the most runs first; the runs without one last. */
function breakdown(runs: ReportRun[], label: (run: ReportRun) => string | null): ReportBreakdown[] {
  const rows = new Map<string | null, ReportBreakdown>();
  for (const run of runs) {
    const value = label(run);
    const row = rows.get(value) ?? { value, runs: 0, passed: 0 };
    rows.set(value, row);
    row.runs++;
    if (run.passed) row.passed++;
  }
  return [...rows.values()].sort((a, b) => (a.value === null ? 1 : 0) - (b.value === null ? 1 : 0) || b.runs - a.runs || String(a.value).localeCompare(String(b.value)));
}

function prepareRun(
  index: number,
  result: RunResult,
  evaluation: TraceEvaluation,
  observations: ObservationLine[],
  indexOf: (name: string, type: string) => number,
  recordingFile: string | null,
  base: { base: number; is_base: boolean },
  prices: Prices,
): ReportRun {
  const located = locateOverride(result.args, result.override_location);
  const recorded = (result as { recorded_downstream?: unknown }).recorded_downstream;
  const calls = Array.isArray(result.downstream) ? result.downstream : [];
  const build = (limits: Limits, observationLimits: Limits, maxObservations: number, maxCalls: number): ReportRun => {
    const kept = prepareObservations(observations, observationLimits, maxObservations);
    const keptRecorded = prepareRecorded(recorded, maxCalls);
    return {
      index,
      ...rowOf(result, evaluation, indexOf, recordingFile, base, limits),
      override_location: result.override_location,
      override_path: located,
      args: compact(result.args, limits, located ?? undefined),
      output: compact(result.output, limits),
      frames: Array.isArray(result.frames) ? (compact(result.frames, limits) as unknown[]) : null,
      first_frame_ms: result.first_frame_ms ?? null,
      error: compact(result.error, { ...limits, string: limits.string * 2 }),
      messages: compact(result.messages, limits),
      observations: kept,
      observation_count: Math.max(result.observation_count, observations.length),
      observations_omitted: observations.length - kept.length,
      usage: isObject(result.usage) ? result.usage : null,
      cost_usd: typeof result.cost_usd === 'number' ? result.cost_usd : null,
      divergence: prepareDivergence(result.divergence),
      calls: prepareCalls(calls, maxCalls, prices),
      calls_omitted: Math.max(0, calls.length - maxCalls),
      recorded_calls: keptRecorded,
      recorded_omitted: Array.isArray(recorded) && keptRecorded !== null ? recorded.length - keptRecorded.length : 0,
    };
  };
  const run = build(DETAIL, OBSERVATION, MAX_OBSERVATIONS, MAX_CALLS);
  return JSON.stringify(run).length <= RUN_BUDGET ? run : build(TIGHT, TIGHT, MAX_OBSERVATIONS_TIGHT, MAX_CALLS_TIGHT);
}

type RowOf = Pick<RunResult, 'trace_id' | 'iteration' | 'input_index' | 'recording_index' | 'recording_line' | 'target' | 'status' | 'duration_ms' | 'attempts' | 'input' | 'metadata' | 'override_param_path'>;

/** What a run and a conversation show alike in the table: which it is, its verdict, its input. */
function rowOf(
  result: RowOf,
  evaluation: Pick<TraceEvaluation, 'passed' | 'score' | 'evaluators' | 'reasons'>,
  indexOf: (name: string, type: string) => number,
  recordingFile: string | null,
  base: { base: number; is_base: boolean },
  limits: Limits,
) {
  // A run may name its own file (recordings rotated into several); the experiment's otherwise.
  const ownFile = (result as { recording_file?: unknown }).recording_file;
  return {
    trace_id: result.trace_id,
    iteration: result.iteration,
    input_index: result.input_index,
    recording_index: result.recording_index,
    recording_line: result.recording_line,
    recording_file: result.recording_index === null ? null : typeof ownFile === 'string' ? truncateString(ownFile, LINE) : recordingFile,
    base: base.base,
    is_base: base.is_base,
    target: result.target,
    status: result.status,
    passed: evaluation.passed,
    score: evaluation.score,
    duration_ms: result.duration_ms,
    attempts: result.attempts,
    input: truncateString(result.input, limits.string),
    strategy: label(result.metadata?.strategy),
    persona: label(result.metadata?.persona),
    metadata: compact(result.metadata, limits),
    failed: evaluation.evaluators.filter((e) => !e.passed && !e.skipped).map((e) => indexOf(e.name, e.type)),
    reasons: evaluation.reasons.map((r) => truncateString(r, LINE)),
    evaluators: verdicts(evaluation.evaluators, indexOf),
    override_param_path: result.override_param_path,
  };
}

function verdicts(results: EvaluatorResult[], indexOf: (name: string, type: string) => number): ReportVerdict[] {
  return results.map((e) => ({ evaluator: indexOf(e.name, e.type), score: e.score, passed: e.passed, skipped: e.skipped, reason: truncateString(e.reason, LINE) }));
}

/**
 * A conversation as a run of the table, with its transcript: each turn's user message, reply and
 * verdicts. A conversation too big for its budget gets the tight limits, as a run does.
 */
function prepareConversation(
  index: number,
  result: ConversationResult,
  evaluation: ConversationEvaluation,
  indexOf: (name: string, type: string) => number,
  recordingFile: string | null,
  base: { base: number; is_base: boolean },
): ReportRun {
  const turnsById = new Map((evaluation.turns ?? []).map((t) => [t.turn, t]));
  const turns = Array.isArray(result.turns) ? result.turns : [];
  const build = (limits: Limits, observationLimits: Limits, maxObservations: number): ReportRun => {
    const shownTurns = turns.map((t): ReportTurn => {
      const judged = turnsById.get(t.turn);
      const observations = Array.isArray(t.observations) ? (t.observations as ObservationLine[]) : [];
      const kept = prepareObservations(observations, observationLimits, maxObservations);
      const calls = Array.isArray(t.downstream) ? t.downstream : [];
      return {
        turn: t.turn,
        source: String(t.source),
        user_message: truncateString(String(t.user_message ?? ''), limits.string),
        output: compact(t.output, limits),
        status: t.status,
        error: compact(t.error, { ...limits, string: limits.string * 2 }),
        duration_ms: t.duration_ms,
        passed: judged ? judged.passed : null,
        score: judged ? judged.score : null,
        reasons: judged ? judged.reasons.map((r) => truncateString(r, LINE)) : [],
        evaluators: judged ? verdicts(judged.evaluators, indexOf) : [],
        divergence: prepareDivergence(t.divergence),
        call_count: calls.length,
        usage: isObject(t.usage) ? t.usage : null,
        cost_usd: typeof t.cost_usd === 'number' ? t.cost_usd : null,
        observations: kept,
        observation_count: Math.max(Number(t.observation_count) || 0, observations.length),
        observations_omitted: observations.length - kept.length,
      };
    });
    const last = turns[turns.length - 1];
    return {
      index,
      ...rowOf(result, evaluation, indexOf, recordingFile, base, limits),
      override_location: null,
      override_path: null,
      args: null,
      output: last === undefined ? null : compact(last.output, limits),
      frames: null,
      first_frame_ms: null,
      error: compact(result.error, { ...limits, string: limits.string * 2 }),
      messages: null,
      observations: [],
      observation_count: shownTurns.reduce((n, t) => n + t.observation_count, 0),
      observations_omitted: 0,
      usage: isObject(result.usage) ? result.usage : null,
      cost_usd: typeof result.cost_usd === 'number' ? result.cost_usd : null,
      divergence: null,
      calls: [],
      calls_omitted: 0,
      recorded_calls: null,
      recorded_omitted: 0,
      conversation: {
        conversation_id: truncateString(String(result.conversation_id), LINE),
        termination_reason: truncateString(String(result.termination_reason), LINE),
        closing_user_message: typeof result.closing_user_message === 'string' ? truncateString(result.closing_user_message, limits.string) : null,
        resumed_from: typeof result.resumed_from === 'number' ? result.resumed_from : null,
        turn_pass_rate: evaluation.turn_pass_rate ?? null,
        turns: shownTurns,
      },
    };
  };
  const run = build(DETAIL, OBSERVATION, MAX_TURN_OBSERVATIONS);
  return JSON.stringify(run).length <= CONVERSATION_BUDGET ? run : build(TIGHT, TIGHT, MAX_TURN_OBSERVATIONS_TIGHT);
}

/** The first observations by start time, placed relative to the earliest of them. */
function prepareObservations(observations: ObservationLine[], limits: Limits, max: number): ReportObservation[] {
  const timed = observations.map((o) => ({ o, start: Date.parse(o.start_time) }));
  timed.sort((a, b) => (a.start || 0) - (b.start || 0));
  const kept = timed.slice(0, max);
  const origin = kept.reduce((min, t) => (Number.isFinite(t.start) ? Math.min(min, t.start) : min), Infinity);
  const position = new Map(kept.map((t, i) => [t.o.id, i]));
  return kept.map(({ o, start }) => {
    const observation: ReportObservation = {
      name: String(o.name),
      type: String(o.type),
      parent: o.parent_id === null ? null : (position.get(o.parent_id) ?? null),
      start_ms: Number.isFinite(start) && Number.isFinite(origin) ? start - origin : 0,
      duration_ms: Number.isFinite(o.duration_ms) ? round(o.duration_ms) : 0,
      input: compact(o.input, limits),
    };
    if ('output' in o) observation.output = compact(o.output, limits);
    if ('error' in o && o.error !== undefined) observation.error = compact(o.error, limits);
    return observation;
  });
}

function prepareComparison(
  comparison: Comparison,
  runIndex: Map<string, number>,
  outputs: Map<string, unknown>,
  baselineOutputs: Map<string, unknown>,
): NonNullable<ReportPayload['comparison']> {
  const list = (runs: ComparedRun[], here: boolean): ReportComparedRun[] =>
    runs.map((r) => ({
      ...r,
      input: truncateString(r.input, LINE),
      reasons: r.reasons.map((reason) => truncateString(reason, LINE)),
      // Missing runs carry the baseline's trace id, which names no run here.
      run_index: here ? (runIndex.get(r.trace_id) ?? null) : null,
    }));
  // The outputs as the evaluators read them, so that the diff shows what they judged.
  const regressions = list(comparison.regressions, true).map((r, i) => {
    if (r.baseline_trace_id === null || !baselineOutputs.has(r.baseline_trace_id)) return r;
    const max = i < DIFF_FULL_COUNT ? DIFF_TEXT : DIFF_TEXT_TIGHT;
    const text = (output: unknown) => truncateString(outputText(output), max);
    return { ...r, diff: wordDiff(text(baselineOutputs.get(r.baseline_trace_id)), text(outputs.get(r.trace_id))) };
  });
  return {
    ...comparison,
    regressions,
    fixes: list(comparison.fixes, true),
    new_runs: list(comparison.new_runs, true),
    missing_runs: list(comparison.missing_runs, false),
  };
}

/** A metadata value as a filter label: strategy and persona are names, or objects with one. */
function label(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isObject(value) && typeof value.name === 'string') return value.name;
  return null;
}

/** The summary's plain fields; its config and runner settings have no place on the page. */
function scalars(record: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(record ?? {})) {
    if (value === null || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'string') out[key] = truncateString(value, LINE);
  }
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
