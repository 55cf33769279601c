import type { EvaluatorType } from '../../config/types';
import type { RunResult, RunStatus } from '../../replay/execute';
import type { DurationStats } from '../stats';
import type { Observation } from '../../trace/observations';

export { EVALUATOR_TYPES, type EvaluationConfig, type EvaluatorConfig, type EvaluatorType } from '../../config/types';

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

/** `comparison` in `evaluation/summary.json`. Runs pair by (recording, input, iteration). */
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
  runs: Array<{ result: RunResult; evaluation: TraceEvaluation; observations: ObservationLine[] }>;
  /** With a baseline: the output of each baseline run that a regression pairs with, by its trace id. */
  baseline_outputs?: Map<string, unknown>;
}
