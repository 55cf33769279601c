/**
 * The fluxloop SDK. Recording itself needs no code: `node --import fluxloop/register app.js`.
 * These are for marking functions in code and for tools built on the recorder.
 */
export { trace, recordCallArgs, type TraceOptions, type TraceDecorator } from './manual';
export { currentReplay, runInReplay, type ReplayContext } from './trace/context';
export { decode, type DecodeOptions } from './record/decode';
export { ConfigError, type SourceLocation } from './config/errors';
export type { RecordingConfig, SimulationConfig, TargetSpec } from './config/types';
export type { InputEntry, Isolation, ReplayArgsConfig, RunnerConfig } from './config/types';
export type { GenerationMode, InputGenerationConfig, LlmConfig, Persona, Strategy } from './config/types';
export type { Observation } from './trace/observations';
export type { RunResult, RunStatus } from './replay/execute';
export type { ReplayOptions, ReplayResult } from './experiment/replay';
export type { ExperimentOptions, ExperimentResult, ExperimentSummary } from './experiment/runner';
export type { FinishedSummary, RunSummary } from './experiment/finished';
export type { Shard } from './experiment/share';
export type { PlanFile } from './experiment/folder';
export type { PlanIdentity } from './experiment/identity';
export type { DurationStats } from './experiment/stats';
export type { GenerateOptions, GenerationResult, GenerationStats, GenerationStop, PromptFailure, Shortfall } from './experiment/generate';
export type { EvaluationConfig, EvaluatorConfig, EvaluatorScope, EvaluatorType } from './config/types';
export type { EvaluateOptions, EvaluationResult } from './experiment/evaluation/evaluate';
export type { RedactRules } from './record/redact-json';
export type {
  AnyTraceEvaluation,
  ComparedRun,
  Comparison,
  ConversationEvaluation,
  ConversationsSummary,
  Delta,
  EvaluationSummary,
  EvaluatorResult,
  EvaluatorSummary,
  PassRateGate,
  TraceEvaluation,
  TurnEvaluation,
} from './experiment/evaluation/types';

import type { ReplayOptions, ReplayResult } from './experiment/replay';
import type { ExperimentOptions, ExperimentResult } from './experiment/runner';
import type { GenerateOptions, GenerationResult } from './experiment/generate';
import type { EvaluateOptions, EvaluationResult } from './experiment/evaluation/evaluate';

// The replay harness is loaded on first use: an app that imports `trace` must not pay for it.

/** Replays recorded calls (or plain inputs) against a function, in memory; see the README's "Replay from your tests". */
export function replay(options: ReplayOptions): Promise<ReplayResult> {
  return (require('./experiment/replay') as typeof import('./experiment/replay')).replay(options);
}

/** Runs an experiment as `fluxloop run experiment` does, writing its folder; resolves to the folder and summary. */
export function runExperiment(options?: ExperimentOptions): Promise<ExperimentResult> {
  return (require('./experiment/runner') as typeof import('./experiment/runner')).runExperiment(options);
}

/** Merges the shard folders of one plan into one experiment folder, as `fluxloop merge experiments` does. */
export function mergeExperiments(dirs: string[], output: string): Promise<ExperimentResult> {
  return (require('./experiment/merge') as typeof import('./experiment/merge')).mergeExperiments(dirs, output);
}

/**
 * Makes input variations as `fluxloop generate inputs` does, without writing a file: the inputs,
 * their stats, and the groups that fell short or (LLM mode) failed.
 */
export function generateInputs(options?: GenerateOptions): Promise<GenerationResult> {
  return (require('./experiment/generate') as typeof import('./experiment/generate')).generateInputs(options);
}

/**
 * Scores an experiment's runs as `fluxloop evaluate experiment` does, compares them with a
 * baseline when given one, and writes `evaluation/` and `report.html` into the experiment's folder.
 */
export function evaluateExperiment(options: EvaluateOptions): Promise<EvaluationResult> {
  return (require('./experiment/evaluation/evaluate') as typeof import('./experiment/evaluation/evaluate')).evaluateExperiment(options);
}
