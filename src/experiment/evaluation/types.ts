import type { EvaluatorScope, EvaluatorType } from '../../config/types';
import type { RunResult, RunStatus } from '../../replay/execute';
import type { ConversationResult } from '../conversation-result';
import type { DurationStats } from '../stats';
import type { Observation } from '../../trace/observations';

export { EVALUATOR_TYPES, type EvaluationConfig, type EvaluatorConfig, type EvaluatorScope, type EvaluatorType } from '../../config/types';

/** A line of traces.jsonl: a single run's, or a conversation's (multi_turn). */
export type TraceLine = RunResult | ConversationResult;

/** What one evaluator said about one run. */
export interface EvaluatorResult {
  name: string;
  type: EvaluatorType;
  weight: number;
  /** 0 to 1; null when the evaluator could not judge (no baseline to compare with, judge unreachable). */
  score: number | null;
  passed: boolean;
  /** Skipped evaluators do not count towards the run's score. */
  skipped: boolean;
  reason: string;
}

/** One line of `evaluation/per_trace.jsonl`. */
export interface TraceEvaluation {
  trace_id: string;
  input: string;
  iteration: number;
  recording_index: number | null;
  recording_line: number | null;
  /** The file of `recording_line`: the recording file or one it was rotated to; null in experiments made before rotation. */
  recording_file: string | null;
  status: RunStatus;
  duration_ms: number;
  metadata: Record<string, unknown>;
  /** Weighted share of the evaluators that passed, among those not skipped; 0 when every one was skipped. */
  score: number;
  passed: boolean;
  /** One line per evaluator that failed or was skipped, e.g. `not_contains: output contains "ERROR"`. */
  reasons: string[];
  evaluators: EvaluatorResult[];
}

/** How one turn of a conversation fared: its turn evaluators, as a run's evaluators are. */
export interface TurnEvaluation {
  /** The turn's number, from 1. */
  turn: number;
  /** The weighted share of the turn evaluators that passed; the turn passes when it reaches pass_threshold, as a run does. */
  score: number;
  passed: boolean;
  reasons: string[];
  /** The turn-scoped evaluators, in the config's order. */
  evaluators: EvaluatorResult[];
}

/**
 * One line of `evaluation/per_trace.jsonl` for a conversation. Its turns are evaluated one by one
 * as runs (the turn's user message as the input) by the turn-scoped evaluators; the
 * conversation-scoped ones (`max_turns_under`, `terminated_by`, `llm_judge` with `scope:
 * conversation`) judge it whole.
 *
 * The rule: the conversation passes when the weighted share of its conversation evaluators that
 * passed reaches `pass_threshold` (as a run's evaluators must) and so does `turn_pass_rate`; with
 * the default threshold of 1, when every conversation evaluator and every turn passed. A part
 * with nothing to judge (no conversation evaluator that could judge, no turn evaluator) is left
 * out; a conversation that nothing could judge fails. `score` is the mean of the two parts
 * present.
 */
export interface ConversationEvaluation extends TraceEvaluation {
  kind: 'conversation';
  conversation_id: string;
  /** k when the conversation was resumed at turn k, else null. */
  resumed_from: number | null;
  termination_reason: string;
  /** One per turn, in order; empty when no evaluator judges turns. */
  turns: TurnEvaluation[];
  /** The share of turns that passed; null when no evaluator judges turns, 0 for a conversation without turns. */
  turn_pass_rate: number | null;
  /**
   * One per configured evaluator, in the config's order: a conversation evaluator's verdict on
   * the conversation, and a turn evaluator's over the turns (passed when it passed every turn it
   * judged, its score their mean, skipped when it judged none). Which is which: `evaluatorScope`.
   */
  evaluators: EvaluatorResult[];
  /** The conversation evaluators' reasons, as a run's; then one line per failed turn, e.g. `turn 2: contains: output does not contain "order"`. */
  reasons: string[];
}

/** A line of `evaluation/per_trace.jsonl`. */
export type AnyTraceEvaluation = TraceEvaluation | ConversationEvaluation;

/** Whether a per_trace line is a conversation's. */
export function isConversationEvaluation(t: AnyTraceEvaluation): t is ConversationEvaluation {
  return (t as { kind?: unknown }).kind === 'conversation';
}

/** A run of both experiments whose verdict changed, or one that only one of them has. */
export interface ComparedRun {
  trace_id: string;
  /** The paired run in the baseline; null for a new run. */
  baseline_trace_id: string | null;
  input: string;
  iteration: number;
  recording_index: number | null;
  /** The recording's line in its file, which tells apart runs of one input. */
  recording_line: number | null;
  /** A conversation's id; absent for a single run. */
  conversation_id?: string;
  /** Now: why it fails (a regression) or the baseline's reasons (a fix). */
  reasons: string[];
  score: number | null;
  baseline_score: number | null;
}

/** A figure in both experiments. */
export interface Delta {
  baseline: number;
  current: number;
  /** current − baseline. */
  delta: number;
}

/**
 * `comparison` in `evaluation/summary.json`. Runs pair by (recording, input, iteration);
 * conversations by (recording, or the conversation's id without one, input, iteration, resume
 * point). A run never pairs with a conversation.
 */
export interface Comparison {
  /** The baseline's folder, as given. */
  baseline: string;
  /** Passed in the baseline, fails now. */
  regressions: ComparedRun[];
  /** Failed in the baseline, passes now. */
  fixes: ComparedRun[];
  /** Only in this experiment (`baseline_trace_id` null). */
  new_runs: ComparedRun[];
  /** Only in the baseline (`trace_id` is the baseline's). */
  missing_runs: ComparedRun[];
  counts: { regressions: number; fixes: number; new_runs: number; missing_runs: number; still_passing: number; still_failing: number };
  pass_rate: Delta;
  /** Share of runs whose status is ok. */
  success_rate: Delta;
  latency_ms: { p50: Delta; p95: Delta };
}

/** Per evaluator, over every run. */
export interface EvaluatorSummary {
  name: string;
  type: EvaluatorType;
  weight: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Over the runs it scored; null when it scored none. */
  mean_score: number | null;
  /**
   * In an experiment with conversations: what the counts count, turns (a turn evaluator is counted
   * once per turn) or conversations and single runs. Absent otherwise.
   */
  scope?: EvaluatorScope;
}

/** `conversations` in `evaluation/summary.json`, when the experiment has conversations. */
export interface ConversationsSummary {
  /** Conversations among the `total` lines evaluated. */
  total: number;
  /** Their turns, and how many passed (when an evaluator judges turns). */
  turns: number;
  turns_passed: number;
  /** turns_passed / turns over every conversation; null when no evaluator judges turns. */
  turn_pass_rate: number | null;
  /** How many conversations ended for each reason (`max_turns_reached`, `user_satisfied`…). */
  by_termination_reason: Record<string, number>;
}

/** The minimum pass rate an evaluation was held to, and whether it reached it. */
export interface PassRateGate {
  /** 0 to 1. */
  min_pass_rate: number;
  /** Where it was set: `--min-pass-rate`, or the config file's `pass_rate_threshold`. */
  source: string;
  /** `pass_rate` is at least `min_pass_rate`. */
  passed: boolean;
}

/** `evaluation/summary.json`. */
export interface EvaluationSummary {
  /** The experiment's folder name. */
  experiment: string;
  evaluated_at: string;
  total: number;
  passed: number;
  failed: number;
  pass_rate: number;
  pass_threshold: number;
  /** The minimum pass rate, from `--min-pass-rate` or `pass_rate_threshold`; null when none was set. */
  gate: PassRateGate | null;
  /** Where the evaluators came from: a config file, or `(defaults)`. */
  evaluation_config: string;
  /** Only `success` and `output_not_empty` ran: the runs were checked for output, not for what it says. */
  default_evaluators_only: boolean;
  /** Run status counts, as in the experiment's summary. */
  counts: Record<RunStatus, number>;
  success_rate: number;
  latency_ms: DurationStats;
  evaluators: EvaluatorSummary[];
  /** Present when some line is a conversation's; then `total` counts conversations (and any single runs). */
  conversations?: ConversationsSummary;
  /** Present with `--baseline`. */
  comparison: Comparison | null;
}

/** An observation as written in `observations.jsonl`: its values in the recorder's encoding. */
export type ObservationLine = Observation;

/** Everything `report.html` shows, in the order runs were written. */
export interface ReportData {
  /** The experiment's folder name. */
  experiment: string;
  /** The experiment's `summary.json`, as written. */
  experiment_summary: Record<string, unknown>;
  evaluation: EvaluationSummary;
  runs: Array<{ result: RunResult; evaluation: TraceEvaluation; observations: ObservationLine[] } | { result: ConversationResult; evaluation: ConversationEvaluation; observations: ObservationLine[] }>;
  /** With a baseline: the output of each baseline run (for a conversation, its agent's replies as text) that a regression pairs with, by its trace id. */
  baseline_outputs?: Map<string, unknown>;
}
