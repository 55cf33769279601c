import { parseParamPath } from '../config/param-path';
import type { InputEntry } from '../config/types';
import type { Param } from '../instrument/params';
import { redactJson } from '../record/redact-json';
import { recordedValue } from '../replay/binding';
import { errorOf, failedRun, type RecordingRef, type RunOutcome, type RunPlan, type RunRedaction, type RunResult, type RunStatus } from '../replay/execute';
import type { Harness } from '../replay/harness';
import type { LoadedTarget } from '../replay/loader';
import { finish, type FinishedRun } from './finished';
import { buildHistory, learnShape, textOf, type HistoryShape, type Said } from './history';
import { recordedCalls } from './recorded-calls';
import { runCost, type Prices } from './usage';
import { TERMINATION, type ConversationResult, type ConversationSummary, type ConversationTurn, type SimulatedUser, type TurnSource } from './conversation-result';

/** One conversation to make: plain data, so that it can be posted to a worker. */
export interface ConversationPlan {
  traceId: string;
  iteration: number;
  inputIndex: number;
  input: InputEntry;
  conversation: {
    /** See {@link ConversationResult.conversation_id}. */
    id: string;
    /** The recorded conversation's calls in order; none without recordings. */
    turns: RecordingRef[];
    /** k: turns before it replay as recorded, the input goes at turn k. Null: the input is the first message. */
    resumeFrom: number | null;
    maxTurns: number;
    /** `replay_args.conversation.history_path`. */
    historyPath?: string;
    /** `multi_turn.auto_approve_tools`, put at `auto_approve` or `autoApprove` where the agent takes one. */
    autoApprove: boolean;
    persona?: string;
    serviceContext?: string;
  };
  /** `override_param_path`; absent without recordings. */
  path?: string;
  /** Known before the conversation: the path points nowhere in one of its recorded turns. */
  error?: string;
}

/** What the runner plans: single runs, or conversations. */
export type Planned = RunPlan | ConversationPlan;

export const isConversationPlan = (plan: Planned): plan is ConversationPlan => 'conversation' in plan;

/** What a planned unit gives: a run's outcome, or a conversation's. */
export type PlannedOutcome = RunOutcome | { conversation: ConversationResult };

/** Runs the turns of one conversation on one target, loaded once for it. */
export interface Turns {
  load(): Promise<LoadedTarget>;
  /** One turn; never throws. */
  run(target: LoadedTarget, plan: RunPlan): Promise<RunOutcome>;
  redaction: RunRedaction;
  prices: Prices;
}

const AUTO_APPROVE = ['kwargs.auto_approve', 'kwargs.autoApprove'];
const MAX_REASON = 200;

/**
 * Makes one conversation: the target loaded once, so that its module and instance carry the
 * agent's own state from turn to turn (and a fresh load starts the next conversation clean);
 * the turns before `resumeFrom` replayed as recorded, the input at the first turn or at turn k;
 * then the simulated user's messages until it ends the conversation or max_turns is reached.
 * Each turn is called with the arguments of the recorded turn of its number (the last recorded
 * one past the recording's end), its message at the override path, and, at `historyPath`, the
 * conversation so far in the recording's shape. Never throws: a turn that fails ends it.
 */
export async function runConversation(plan: ConversationPlan, turns: Turns, user: SimulatedUser): Promise<ConversationResult> {
  const started = performance.now();
  const result = conversationOf(plan, turns.redaction);
  try {
    if (plan.error !== undefined) throw Object.assign(new Error(plan.error), { name: 'OverridePathError', stack: undefined });
    return await converse(plan, await turns.load(), turns, user, result, started);
  } catch (error) {
    // A target that does not load, or a conversation fluxloop could not go on with (a history it could not build), ends; the experiment goes on.
    return ended(result, started, 'error', TERMINATION.agentError, errorOf(error, undefined, turns.redaction));
  }
}

/** The turns of a conversation, on its loaded target, until it ends. */
async function converse(plan: ConversationPlan, loaded: LoadedTarget, turns: Turns, user: SimulatedUser, result: ConversationResult, started: number): Promise<ConversationResult> {
  const c = plan.conversation;
  const k = c.resumeFrom ?? 1;
  let target = loaded;
  const params = (recording: RecordingRef) => (recording.params?.length ? recording.params : target.params);
  const history = c.historyPath === undefined ? undefined : historyOf(c.turns, c.historyPath, plan.path!, target.params);
  // What the agent is told (the real values) and what the simulated user is told (masked, as the files are).
  const said: Said[] = [];
  const shown: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  let message = k === 1 ? plan.input.input : messageOf(c.turns[0]!, plan.path!, params(c.turns[0]!));
  let source: TurnSource = k === 1 ? 'input' : 'recorded';
  let asked = 0;
  for (let turn = 1; ; turn++) {
    const recording = c.turns[Math.min(turn, c.turns.length) - 1];
    const put: RunPlan['put'] = [];
    if (recording !== undefined && source !== 'recorded') {
      if (history !== undefined) put.push({ path: c.historyPath!, value: buildHistory(history, said, message) });
      for (const path of AUTO_APPROVE) put.push({ path, value: c.autoApprove, optional: true });
    }
    const outcome = await turns.run(target, {
      traceId: `${plan.traceId}:${turn}`,
      iteration: plan.iteration,
      inputIndex: plan.inputIndex,
      input: { input: message, metadata: plan.input.metadata },
      ...(recording === undefined ? {} : { recording }),
      // A recorded turn is called as it was; the others get their message at the path.
      ...(source === 'recorded' || plan.path === undefined ? {} : { path: plan.path }),
      ...(put.length > 0 ? { put } : {}),
    });
    // A class's method is called on the instance the first turn made, as the app kept calling it on one.
    if (outcome.instance !== undefined && target.cls !== undefined) target = { ...target, cls: undefined, thisArg: outcome.instance };
    const step = turnOf(outcome, turn, source, recording, turns);
    result.turns.push(step);
    if (step.status !== 'ok') return ended(result, started, step.status, TERMINATION.agentError, step.error);
    said.push({ role: 'user', content: message }, { role: 'assistant', content: outcome.output });
    shown.push({ role: 'user', content: step.user_message }, { role: 'assistant', content: textOf(step.output) });
    if (turn >= c.maxTurns) return ended(result, started, 'ok', TERMINATION.maxTurns);
    if (turn + 1 < k) {
      message = messageOf(c.turns[turn]!, plan.path!, params(c.turns[turn]!));
      continue;
    }
    if (turn + 1 === k) {
      [message, source] = [plan.input.input, 'input'];
      continue;
    }
    let decision;
    try {
      decision = await user.next({ transcript: shown, asked: asked++, ...(c.persona ? { persona: c.persona } : {}), ...(c.serviceContext ? { service_context: c.serviceContext } : {}) });
    } catch (error) {
      const failure = errorOf(error, undefined, turns.redaction)!;
      return ended(result, started, 'error', TERMINATION.simulatedUserError, { ...failure, message: `the simulated user could not answer: ${failure.message}` });
    }
    if (decision.decision === 'terminate') {
      const { redactor } = turns.redaction;
      result.closing_user_message = decision.closing_user_message === null ? null : redactor.redactString(decision.closing_user_message);
      // A model's reason is counted and shown by its text: kept short.
      return ended(result, started, 'ok', redactor.redactString(decision.termination_reason).slice(0, MAX_REASON));
    }
    [message, source] = [decision.next_user_message, 'simulated_user'];
  }
}

const NO_USER: SimulatedUser = { next: () => Promise.reject(new Error('no simulated user was set up for this experiment')) };

/**
 * Makes one planned unit on a harness: a run, or a conversation on one load of the target. Never
 * rejects. `onCall` comes just before the agent is called, each turn.
 */
export async function runPlanned(harness: Harness, plan: Planned, timeoutMs: number | undefined, options: { user?: SimulatedUser; prices: Prices; onCall?: () => void }): Promise<PlannedOutcome> {
  if (!isConversationPlan(plan)) return harness.run(plan, timeoutMs, options.onCall);
  const turns: Turns = { load: () => harness.probe(), run: (target, turn) => harness.runOn(target, turn, timeoutMs, options.onCall), redaction: harness.masking, prices: options.prices };
  return { conversation: await runConversation(plan, turns, options.user ?? NO_USER) };
}

/** A conversation that ended before its first turn: its thread could not make it. */
export function failedConversation(plan: ConversationPlan, status: Exclude<RunStatus, 'ok'>, error: unknown, durationMs: number, redaction: RunRedaction): ConversationResult {
  return ended(conversationOf(plan, redaction), performance.now() - durationMs, status, TERMINATION.agentError, errorOf(error, undefined, redaction));
}

/** A planned unit that its thread could not make. */
export function failedPlanned(plan: Planned, status: Exclude<RunStatus, 'ok'>, error: unknown, durationMs: number, redaction: RunRedaction): PlannedOutcome {
  return isConversationPlan(plan) ? { conversation: failedConversation(plan, status, error, durationMs, redaction) } : failedRun(plan, status, error, durationMs, redaction);
}

/** What the experiment counts of a conversation: its line without the turns, and their calls. */
export function conversationSummary(result: ConversationResult): ConversationSummary {
  const { turns, ...rest } = result;
  const diverged = turns.find((t) => t.divergence !== null);
  return {
    ...rest,
    turn_count: turns.length,
    downstream: turns.flatMap((t) => t.downstream),
    divergence: diverged === undefined ? null : { ...diverged.divergence!, turn: diverged.turn },
  };
}

/** A planned unit's outcome as the experiment keeps it; see `finish`. */
export function finishPlanned(outcome: PlannedOutcome, attempt: number): FinishedRun {
  if (!('conversation' in outcome)) return finish(outcome, attempt);
  const result = outcome.conversation;
  result.attempts = attempt;
  const summary = conversationSummary(result);
  // Its observations are in its turns.
  return { result: summary, line: JSON.stringify(result), observations: '' };
}

/** The conversation's fields known before its first turn; its input and metadata masked as a run's are. */
function conversationOf(plan: ConversationPlan, { redactor }: RunRedaction): ConversationResult {
  const recorded = plan.conversation.turns;
  const first = recorded[0];
  return {
    kind: 'conversation',
    trace_id: plan.traceId,
    conversation_id: redactor.redactString(plan.conversation.id),
    iteration: plan.iteration,
    input: redactor.redactString(plan.input.input),
    input_index: plan.inputIndex,
    metadata: redactJson(plan.input.metadata, redactor) as Record<string, unknown>,
    target: first?.target ?? first?.function ?? null,
    override_param_path: plan.path ?? null,
    recording_file: first?.file ?? null,
    recording_index: first?.index ?? null,
    recording_line: first?.line ?? null,
    recording_lines: recorded.map((r) => r.line),
    resumed_from: plan.conversation.resumeFrom,
    turns: [],
    termination_reason: TERMINATION.agentError,
    closing_user_message: null,
    status: 'ok',
    error: null,
    duration_ms: 0,
    attempts: 1,
    warnings: [],
    // Last, where the runner writes them (see withAdditions).
    usage: null,
    cost_usd: null,
  };
}

function ended(result: ConversationResult, started: number, status: RunStatus, reason: string, error: RunResult['error'] = null): ConversationResult {
  result.status = status;
  result.termination_reason = reason;
  result.error = error;
  result.duration_ms = Math.round((performance.now() - started) * 1000) / 1000;
  result.warnings = result.turns.flatMap((t) => t.warnings.map((w) => `turn ${t.turn}: ${w}`));
  // Moved to the end again, after the fields set last.
  const { usage, cost_usd, ...rest } = result;
  return Object.assign(rest, { usage, cost_usd }) as ConversationResult;
}

/** A turn as its conversation's line keeps it: the run's result, its usage priced, its recording's calls beside its own. */
function turnOf(outcome: RunOutcome, turn: number, source: TurnSource, recording: RecordingRef | undefined, turns: Turns): ConversationTurn {
  const { input, input_index: _i, iteration: _n, metadata: _m, override_param_path: _p, target: _t, attempts: _a, recording_index: _r, usage: _u, cost_usd: _c, ...rest } = outcome.result;
  const { usage, cost_usd } = runCost(rest.downstream, turns.prices);
  const recorded = recording?.id === undefined ? null : (redactJson(recordedCalls(recording.downstream), turns.redaction.redactor) as unknown[]);
  return { turn, source, user_message: input, ...rest, observations: outcome.observations, usage, cost_usd, recorded_downstream: recorded } as ConversationTurn;
}

/** The user's message of a recorded turn: what it had at the override path, as text. */
function messageOf(recording: RecordingRef, path: string, params: readonly Param[]): string {
  return textOf(recordedValue(recording, parseParamPath(path), params) ?? '');
}

/** The history's shape, learnt from what the recorded turns had at `historyPath` beside their messages. */
function historyOf(recorded: readonly RecordingRef[], historyPath: string, path: string, fallback: readonly Param[]): HistoryShape {
  const history = parseParamPath(historyPath);
  return learnShape(
    recorded.map((recording) => {
      const params = recording.params?.length ? recording.params : fallback;
      return { history: recordedValue(recording, history, params), message: messageOf(recording, path, params) };
    }),
  );
}
