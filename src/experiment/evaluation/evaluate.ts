import path from 'node:path';
import { ConfigError } from '../../config/errors';
import { loadEvaluationConfig } from '../../config/evaluation';
import { projectRelative, resolveProjectRoot } from '../../config/project';
import { loadSimulationConfig } from '../../config/simulation';
import { evaluatorScope, type EvaluationConfig, type EvaluatorConfig } from '../../config/types';
import { createRedactor, type Redactor } from '../../record/redact';
import { redactJson, redactRules, type RedactRules } from '../../record/redact-json';
import type { RunResult, RunStatus } from '../../replay/execute';
import { isConversation, type ConversationResult } from '../conversation-result';
import { clientFor } from '../llm-client';
import { makePrivateDir, writeFileAtomic, writeJson } from '../output';
import { writeReport } from '../report/render';
import { durationStats } from '../stats';
import { compare, pairRuns } from './compare';
import { CONVERSATION_RULES, evaluateConversation } from './conversation';
import { repliesText } from './conversation-text';
import { createConversationJudge, createJudge } from './judge';
import { writeJunit } from './junit';
import { writeMarkdown } from './markdown';
import { readExperiment, type ExperimentData } from './read';
import { NOT_A_CONVERSATION, RULES, type Verdict } from './rules';
import { evaluatorResult, scoreRun } from './score';
import { isConversationEvaluation, type AnyTraceEvaluation, type ConversationsSummary, type EvaluationSummary, type EvaluatorResult, type EvaluatorSummary, type ReportData, type TraceLine } from './types';
import { defaultEvaluatorsOnly, passRateGate } from './verdict';

/** Options of {@link evaluateExperiment}. */
export interface EvaluateOptions {
  /** The experiment's folder. */
  experimentDir: string;
  /** An earlier experiment to compare with: regressions, fixes, new and missing runs. */
  baselineDir?: string;
  /** The project root, where the configs are; `FLUXLOOP_PROJECT_DIR` or the current directory by default. */
  projectDir?: string;
  /** The evaluators; read from `configs/evaluation.yaml` or `configs/simulation.yaml` by default. */
  config?: EvaluationConfig;
  /** Also write JUnit XML here. */
  junit?: string;
  /** Also write a Markdown summary here. */
  markdown?: string;
  /**
   * The share of runs, 0 to 1, that must pass for `summary.gate.passed`; `pass_rate_threshold` of
   * the config by default, else no gate.
   */
  minPassRate?: number;
  /** Write `report.html`; true by default. */
  report?: boolean;
  /**
   * The redaction rules on top of the built-in ones, applied to all that is read and written;
   * `recording.redact_keys` and `redact_patterns` of `configs/simulation.yaml` by default.
   */
  redact?: RedactRules;
  /** Called as each run of the experiment (then of the baseline) is scored. */
  onProgress?: (progress: { done: number; total: number; experiment: 'current' | 'baseline' }) => void;
}

/** What {@link evaluateExperiment} wrote. */
export interface EvaluationResult {
  dir: string;
  summary: EvaluationSummary;
  /** Each run's (or conversation's) evaluation, in the order of traces.jsonl. */
  traces: AnyTraceEvaluation[];
  /** The files written, by kind: per_trace, summary, report, junit, markdown. */
  files: Record<string, string>;
  /** Lines of the experiment folders that could not be read. */
  warnings: string[];
}

type Evaluate = (line: TraceLine, baseline: TraceLine | undefined) => Promise<AnyTraceEvaluation>;

/** The judge's LLM client when an evaluator needs one; a ConfigError when its API key is missing. */
export function judgeClient(root: string, config: EvaluationConfig): ReturnType<typeof clientFor> | undefined {
  if (!config.evaluators.some((e) => e.type === 'llm_judge')) return undefined;
  return clientFor(root, config.llm, 'llm_judge', { file: config.source, field: 'evaluation.llm.api_key_env' });
}

function evaluator(root: string, config: EvaluationConfig, redactor: Redactor): Evaluate {
  const client = judgeClient(root, config);
  const judge = client === undefined ? undefined : createJudge(client, config.llm.model, config.llm.temperature);
  const judgeConversation = client === undefined ? undefined : createConversationJudge(client, config.llm.model, config.llm.temperature);
  // A reason may quote what it judged, and a judge's reply may say anything.
  const result = (e: EvaluatorConfig, v: Verdict): EvaluatorResult => evaluatorResult(e, { ...v, reason: redactor.redactString(v.reason) });
  const onRun = (e: EvaluatorConfig, run: RunResult, baseline: RunResult | undefined): Verdict | Promise<Verdict> => {
    if (e.type !== 'llm_judge') return RULES[e.type](run, e, baseline);
    return evaluatorScope(e) === 'conversation' ? NOT_A_CONVERSATION : judge!(e, run);
  };
  const onConversation = (e: EvaluatorConfig, c: ConversationResult): Verdict | Promise<Verdict> =>
    e.type === 'llm_judge' ? judgeConversation!(e, c) : CONVERSATION_RULES[e.type as keyof typeof CONVERSATION_RULES](c, e);
  return async (line, baseline) => {
    // A conversation pairs with a conversation only, a run with a run: pairing keeps them apart.
    if (isConversation(line)) return evaluateConversation(line, isConversation(baseline) ? baseline : undefined, config, { turn: onRun, conversation: onConversation, result });
    const run = line;
    const before = baseline === undefined || isConversation(baseline) ? undefined : baseline;
    const verdicts = await Promise.all(config.evaluators.map((e) => onRun(e, run, before)));
    const evaluators = verdicts.map((v, i) => result(config.evaluators[i]!, v));
    const { trace_id, input, iteration, recording_index, recording_line, status, duration_ms, metadata } = run;
    const recording_file = run.recording_file ?? null;
    return { trace_id, input, iteration, recording_index, recording_line, recording_file, status, duration_ms, metadata, ...scoreRun(evaluators, config.pass_threshold), evaluators };
  };
}

async function evaluateAll(
  experiment: ExperimentData,
  evaluate: Evaluate,
  baselines: Array<TraceLine | undefined>,
  report: (done: number) => void,
): Promise<AnyTraceEvaluation[]> {
  let done = 0;
  // Every run at once: the judge's client bounds the requests in flight, and rules are synchronous.
  return Promise.all(
    experiment.runs.map(async (run, i) => {
      const result = await evaluate(run, baselines[i]);
      report(++done);
      return result;
    }),
  );
}

/** An evaluator's results to count: one per turn for a turn evaluator on a conversation, else one per line. */
function resultsOf(config: EvaluatorConfig, index: number, trace: AnyTraceEvaluation): EvaluatorResult[] {
  if (!isConversationEvaluation(trace) || evaluatorScope(config) === 'conversation') return [trace.evaluators[index]!];
  return trace.turns.flatMap((t) => t.evaluators.filter((r) => r.name === config.name));
}

function conversationsSummary(lines: TraceLine[], traces: AnyTraceEvaluation[], judgesTurns: boolean): ConversationsSummary | undefined {
  const conversations = traces.filter(isConversationEvaluation);
  if (conversations.length === 0) return undefined;
  const byReason: Record<string, number> = {};
  for (const c of conversations) byReason[c.termination_reason] = (byReason[c.termination_reason] ?? 0) + 1;
  const turns = lines.reduce((n, line) => n + (isConversation(line) ? line.turns.length : 0), 0);
  const passed = conversations.reduce((n, c) => n + c.turns.filter((t) => t.passed).length, 0);
  return {
    total: conversations.length,
    turns,
    turns_passed: passed,
    turn_pass_rate: !judgesTurns ? null : turns === 0 ? 0 : Math.round((passed / turns) * 1000) / 1000,
    by_termination_reason: byReason,
  };
}

function summarize(experiment: ExperimentData, config: EvaluationConfig, traces: AnyTraceEvaluation[], minPassRate: number | undefined): EvaluationSummary {
  const counts: Record<RunStatus, number> = { ok: 0, error: 0, timeout: 0 };
  for (const t of traces) counts[t.status]++;
  const passed = traces.filter((t) => t.passed).length;
  const conversations = conversationsSummary(experiment.runs, traces, config.evaluators.some((e) => evaluatorScope(e) === 'turn'));
  const evaluators: EvaluatorSummary[] = config.evaluators.map((e, i) => {
    const results = traces.flatMap((t) => resultsOf(e, i, t));
    const scored = results.filter((r) => !r.skipped);
    const mean = scored.length === 0 ? null : Math.round((scored.reduce((a, r) => a + r.score!, 0) / scored.length) * 1000) / 1000;
    const pass = scored.filter((r) => r.passed).length;
    const summary: EvaluatorSummary = { name: e.name, type: e.type, weight: e.weight, passed: pass, failed: scored.length - pass, skipped: results.length - scored.length, mean_score: mean };
    if (conversations) summary.scope = evaluatorScope(e);
    return summary;
  });
  const passRate = traces.length === 0 ? 0 : passed / traces.length;
  return {
    experiment: experiment.name,
    evaluated_at: new Date().toISOString(),
    total: traces.length,
    passed,
    failed: traces.length - passed,
    pass_rate: passRate,
    pass_threshold: config.pass_threshold,
    gate: passRateGate(passRate, config, minPassRate),
    evaluation_config: config.source,
    default_evaluators_only: defaultEvaluatorsOnly(config),
    counts,
    success_rate: traces.length === 0 ? 0 : counts.ok / traces.length,
    latency_ms: durationStats(traces.map((t) => t.duration_ms)),
    evaluators,
    ...(conversations ? { conversations } : {}),
    comparison: null,
  };
}

const RUN_TEXT = ['input', 'metadata', 'args', 'output', 'frames', 'error', 'messages', 'warnings'] as const;
const CONVERSATION_TEXT = ['input', 'metadata', 'error', 'warnings', 'closing_user_message'] as const;
const TURN_TEXT = ['user_message', 'args', 'output', 'frames', 'error', 'messages', 'warnings', 'observations'] as const;
const OBSERVATION_TEXT = ['name', 'input', 'output', 'error', 'frames'] as const;

/**
 * An experiment read back, with the rules applied again to what came from the app: a folder
 * written before a rule was added, or by an older fluxloop, must not leak through the judge's
 * prompts, the report or the CI outputs.
 */
function masked(experiment: ExperimentData, redactor: Redactor): ExperimentData {
  const mask = <T extends object>(value: T, fields: readonly string[]): T => {
    const out = { ...value } as Record<string, unknown>;
    for (const field of fields) if (field in out) out[field] = redactJson(out[field], redactor);
    return out as T;
  };
  const observations = new Map([...experiment.observations].map(([id, list]) => [id, list.map((o) => mask(o, OBSERVATION_TEXT))]));
  const summary = redactJson(experiment.summary, redactor) as Record<string, unknown>;
  const line = (run: TraceLine): TraceLine =>
    isConversation(run) ? { ...mask(run, CONVERSATION_TEXT), turns: (run.turns ?? []).map((t) => mask(t, TURN_TEXT)) } : mask(run, RUN_TEXT);
  return { ...experiment, summary, runs: experiment.runs.map(line), observations };
}

/**
 * Scores every run of an experiment with the configured evaluators and writes
 * `evaluation/per_trace.jsonl`, `evaluation/summary.json` and `report.html` into its folder.
 * With a baseline, the baseline's runs are scored with the same evaluators (so that a change of
 * config never shows up as a regression) and the two are compared; the baseline's folder is not
 * written to.
 */
export async function evaluateExperiment(options: EvaluateOptions): Promise<EvaluationResult> {
  const root = resolveProjectRoot(options.projectDir);
  const { minPassRate } = options;
  if (minPassRate !== undefined && !(minPassRate >= 0 && minPassRate <= 1)) throw new ConfigError(`minPassRate must be from 0 to 1, found ${minPassRate}`);
  const config = options.config ?? loadEvaluationConfig(root);
  const shown = (dir: string) => projectRelative(root, path.resolve(root, dir));
  const dir = path.resolve(root, options.experimentDir);
  const withReport = options.report !== false;
  const rules = options.redact ?? redactRules(loadSimulationConfig(root));
  const redactor = createRedactor(rules.keys, rules.patterns);
  const experiment = masked(readExperiment(dir, shown(dir), withReport), redactor);
  const baseline = options.baselineDir === undefined ? undefined : masked(readExperiment(path.resolve(root, options.baselineDir), shown(options.baselineDir), false), redactor);
  const evaluate = evaluator(root, config, redactor);
  const progress = (which: 'current' | 'baseline', total: number) => (done: number) => options.onProgress?.({ done, total, experiment: which });

  const pairs = baseline ? pairRuns(experiment.runs, baseline.runs).pairs : [];
  const traces = await evaluateAll(experiment, evaluate, pairs, progress('current', experiment.runs.length));
  const summary = summarize(experiment, config, traces, minPassRate);
  // The baseline's outputs that regressions are shown beside in the report.
  const baselineOutputs = new Map<string, unknown>();
  if (baseline) {
    const before = await evaluateAll(baseline, evaluate, [], progress('baseline', baseline.runs.length));
    summary.comparison = compare(shown(baseline.dir), traces, before);
    const regressed = new Set(summary.comparison.regressions.map((r) => r.baseline_trace_id));
    for (const run of baseline.runs) if (regressed.has(run.trace_id)) baselineOutputs.set(run.trace_id, isConversation(run) ? repliesText(run) : run.output);
  }

  const out = path.join(dir, 'evaluation');
  makePrivateDir(out);
  const files: Record<string, string> = { per_trace: path.join(out, 'per_trace.jsonl'), summary: path.join(out, 'summary.json') };
  writeFileAtomic(files.per_trace!, traces.map((t) => `${JSON.stringify(t)}\n`).join(''), { private: true });
  writeJson(files.summary!, summary);
  if (withReport) {
    files.report = path.join(dir, 'report.html');
    writeReport(files.report, {
      experiment: experiment.name,
      experiment_summary: experiment.summary,
      evaluation: summary,
      // A conversation's observations are in its turns.
      runs: experiment.runs.map((result, i) => ({ result, evaluation: traces[i]!, observations: experiment.observations.get(result.trace_id) ?? [] }) as ReportData['runs'][number]),
      baseline_outputs: baselineOutputs,
    });
  }
  if (options.junit) writeJunit((files.junit = path.resolve(root, options.junit)), summary, traces);
  if (options.markdown) {
    files.markdown = path.resolve(root, options.markdown);
    writeMarkdown(files.markdown, summary, { reportPath: files.report ? projectRelative(root, files.report) : undefined });
  }
  return { dir, summary, traces, files, warnings: [...experiment.warnings, ...(baseline?.warnings ?? [])] };
}
