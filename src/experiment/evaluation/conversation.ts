import { evaluatorScope, type EvaluationConfig, type EvaluatorConfig } from '../../config/types';
import type { RunResult } from '../../replay/execute';
import { formatPercent } from '../format';
import type { ConversationResult, ConversationTurn } from '../conversation-result';
import type { Verdict } from './rules';
import { scoreRun } from './score';
import type { ConversationEvaluation, EvaluatorResult, TurnEvaluation } from './types';

/**
 * A turn as the run evaluators read it: a run whose input is the turn's user message, with the
 * conversation's iteration, metadata and target. It replays a recording (for same_path) when the
 * turn has a recorded line: a turn the simulated user made up has no recorded path to follow.
 */
export function turnRun(conversation: ConversationResult, turn: ConversationTurn): RunResult {
  return {
    ...turn,
    input: turn.user_message,
    input_index: conversation.input_index,
    iteration: conversation.iteration,
    metadata: conversation.metadata,
    override_param_path: conversation.override_param_path,
    target: conversation.target,
    attempts: 1,
    recording_index: turn.recording_line === null || turn.recording_line === undefined ? null : conversation.recording_index,
  };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The evaluators that judge a conversation whole, but for llm_judge. */
export const CONVERSATION_RULES: Record<'max_turns_under' | 'terminated_by', (conversation: ConversationResult, config: EvaluatorConfig) => Verdict> = {
  max_turns_under: (c, config) => {
    const turns = c.turns.length;
    const ok = turns < config.max_turns!;
    return { score: ok ? 1 : 0, reason: `took ${plural(turns, 'turn')}${ok ? '' : `, not under ${config.max_turns}`}` };
  },
  terminated_by: (c, config) => {
    const ok = config.reasons!.includes(c.termination_reason);
    const expected = config.reasons!.map((r) => JSON.stringify(r)).join(', ');
    return { score: ok ? 1 : 0, reason: ok ? `ended by ${c.termination_reason}` : `ended by ${c.termination_reason}, not ${config.reasons!.length === 1 ? expected : `one of ${expected}`}` };
  },
};

/** How the evaluators' verdicts are had: a rule or the judge, for a turn (as a run) or a whole conversation. */
export interface ConversationJudges {
  turn(config: EvaluatorConfig, run: RunResult, baseline: RunResult | undefined): Verdict | Promise<Verdict>;
  conversation(config: EvaluatorConfig, conversation: ConversationResult): Verdict | Promise<Verdict>;
  /** A verdict as the evaluator's result (its reason masked). */
  result(config: EvaluatorConfig, verdict: Verdict): EvaluatorResult;
}

/** A turn evaluator over the turns: passed when it passed every turn it judged; its score their mean; skipped when it judged none. */
function overTurns(config: EvaluatorConfig, results: EvaluatorResult[], turns: TurnEvaluation[]): EvaluatorResult {
  const judged = results.map((r, i) => ({ r, turn: turns[i]!.turn })).filter(({ r }) => !r.skipped);
  const base = { name: config.name, type: config.type, weight: config.weight };
  if (judged.length === 0) return { ...base, score: null, passed: false, skipped: true, reason: results[0]?.reason ?? 'the conversation has no turn to judge' };
  const failed = judged.filter(({ r }) => !r.passed);
  const score = Math.round((judged.reduce((sum, { r }) => sum + r.score!, 0) / judged.length) * 1000) / 1000;
  const reason =
    failed.length === 0
      ? `passed ${judged.length === 1 ? 'the turn' : `all ${judged.length} turns`} it judged`
      : `failed ${failed.length === 1 ? 'turn' : 'turns'} ${failed.map(({ turn }) => turn).join(', ')} of ${judged.length}: ${failed[0]!.r.reason}`;
  return { ...base, score, passed: failed.length === 0, skipped: false, reason };
}

/**
 * The verdict from its parts: the conversation evaluators' weighted share and the turns' pass
 * rate, each held to pass_threshold (see {@link ConversationEvaluation}). Compared at three
 * decimals, as a run's score is.
 */
function verdict(conversationResults: EvaluatorResult[], turnPassRate: number | null, passThreshold: number): { score: number; passed: boolean } {
  const parts: number[] = [];
  const judged = conversationResults.filter((r) => !r.skipped);
  if (judged.length > 0) {
    const total = judged.reduce((sum, r) => sum + r.weight, 0);
    // Evaluators of weight 0 only inform.
    parts.push(total === 0 ? 1 : judged.filter((r) => r.passed).reduce((sum, r) => sum + r.weight, 0) / total);
  }
  if (turnPassRate !== null) parts.push(turnPassRate);
  if (parts.length === 0) return { score: 0, passed: false };
  const bar = Math.round(passThreshold * 1000);
  return { score: Math.round((parts.reduce((a, b) => a + b, 0) / parts.length) * 1000) / 1000, passed: parts.every((p) => Math.round(p * 1000) >= bar) };
}

/** Why a turn failed, as lines of the conversation's reasons: its failed evaluators', or why it failed without one. */
function turnReasons(t: TurnEvaluation): string[] {
  const failed = t.evaluators.filter((e) => !e.skipped && !e.passed).map((e) => `turn ${t.turn}: ${e.name}: ${e.reason}`);
  if (failed.length > 0) return failed;
  return [t.evaluators.every((e) => e.skipped) ? `turn ${t.turn}: no evaluator could judge it` : `turn ${t.turn}: its score ${formatPercent(t.score)} is below pass_threshold`];
}

/**
 * Evaluates a conversation: each turn by the turn evaluators (paired with the baseline
 * conversation's turn of the same number, for similarity), the conversation by the conversation
 * evaluators. Turns are judged at once: the judge's client bounds the requests in flight.
 */
export async function evaluateConversation(
  conversation: ConversationResult,
  baseline: ConversationResult | undefined,
  config: EvaluationConfig,
  judges: ConversationJudges,
): Promise<ConversationEvaluation> {
  const forTurns = config.evaluators.filter((e) => evaluatorScope(e) === 'turn');
  const baselineTurns = new Map((baseline?.turns ?? []).map((t) => [t.turn, t]));
  const turns: TurnEvaluation[] =
    forTurns.length === 0
      ? []
      : await Promise.all(
          conversation.turns.map(async (turn) => {
            const run = turnRun(conversation, turn);
            const before = baselineTurns.get(turn.turn);
            const verdicts = await Promise.all(forTurns.map((e) => judges.turn(e, run, before && baseline ? turnRun(baseline, before) : undefined)));
            const evaluators = verdicts.map((v, i) => judges.result(forTurns[i]!, v));
            return { turn: turn.turn, ...scoreRun(evaluators, config.pass_threshold), evaluators };
          }),
        );
  const evaluators = await Promise.all(
    config.evaluators.map(async (e) => {
      if (evaluatorScope(e) === 'conversation') return judges.result(e, await judges.conversation(e, conversation));
      const i = forTurns.indexOf(e);
      return overTurns(e, turns.map((t) => t.evaluators[i]!), turns);
    }),
  );
  const turnPassRate = forTurns.length === 0 ? null : turns.length === 0 ? 0 : turns.filter((t) => t.passed).length / turns.length;
  const reasons: string[] = [];
  config.evaluators.forEach((e, i) => {
    const r = evaluators[i]!;
    // A turn evaluator's failures are told turn by turn, below.
    if (r.skipped) reasons.push(`${r.name}: skipped, ${r.reason}`);
    else if (!r.passed && evaluatorScope(e) === 'conversation') reasons.push(`${r.name}: ${r.reason}`);
  });
  if (forTurns.length > 0 && turns.length === 0) reasons.push('turns: the conversation has no turn');
  for (const t of turns) if (!t.passed) reasons.push(...turnReasons(t));
  const conversationResults = evaluators.filter((_, i) => evaluatorScope(config.evaluators[i]!) === 'conversation');
  const { trace_id, conversation_id, input, iteration, recording_index, recording_line, recording_file, resumed_from, termination_reason, status, duration_ms, metadata } = conversation;
  return {
    kind: 'conversation',
    trace_id,
    conversation_id,
    input,
    iteration,
    recording_index,
    recording_line,
    recording_file,
    resumed_from,
    termination_reason,
    status,
    duration_ms,
    metadata,
    turns,
    turn_pass_rate: turnPassRate === null ? null : Math.round(turnPassRate * 1000) / 1000,
    evaluators,
    ...verdict(conversationResults, turnPassRate, config.pass_threshold),
    reasons,
  };
}
