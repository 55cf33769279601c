import path from 'node:path';
import { ConfigError } from '../config/errors';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatParamPath, parseParamPath } from '../config/param-path';
import { resolveProjectRoot } from '../config/project';
import { loadSimulationConfig } from '../config/simulation';
import { parseTarget } from '../config/targets';
import type { SimulationConfig } from '../config/types';
import { createEncoder } from '../record/encode';
import { decodeCall, override } from '../replay/binding';
import type { CallArgs } from '../replay/paths';
import { Collectors } from '../replay/collectors';
import type { RunOutcome, RunPlan, RunResult, RunStatus } from '../replay/execute';
import { Harness } from '../replay/harness';
import type { LoadedTarget } from '../replay/loader';
import type { WorkerPool } from '../replay/pool';
import { createExperimentDir, errorEntry, JsonArray, JsonLines, writeJson } from './output';
import { durationStats, type DurationStats } from './stats';
import { checkRecordings, countRuns, planRuns, setupExperiment, type ExperimentSetup, type SetupOptions } from './plan';

/** Options of {@link runExperiment}. */
export interface ExperimentOptions extends Pick<SetupOptions, 'inputs' | 'fn'> {
  /** The project root; `FLUXLOOP_PROJECT_DIR` or the current directory by default. */
  projectDir?: string;
  /** The config; read from `configs/simulation.yaml` by default. */
  config?: SimulationConfig;
  /** Overrides the config's `iterations`. */
  iterations?: number;
  /** At most this many runs. */
  limit?: number;
  /** The folder experiment folders go in; the config's `output_directory` by default. */
  outputDir?: string;
  /** Replays this target (`module:export`), and its recordings, instead of `runner.target`. */
  target?: string;
  /** The config file to read instead of `configs/simulation.yaml`, relative to the project. */
  configFile?: string;
  /** Called once the plan is checked, before the first run. */
  onPlan?: (setup: ExperimentSetup) => void;
  /** Called after each run, in the order runs finish. */
  onProgress?: (progress: { done: number; total: number; result: RunResult }) => void;
}

/** `summary.json`. */
export interface ExperimentSummary {
  name: string;
  started_at: string;
  finished_at: string;
  total_time_ms: number;
  total_runs: number;
  counts: Record<RunStatus, number>;
  success_rate: number;
  /** Runs that ran but could not do all the app did (see each run's `warnings`). */
  runs_with_warnings: number;
  duration_ms: DurationStats;
  iterations: number;
  recordings: number;
  inputs: number;
  inputs_source: string;
  recording_file: string | null;
  override_param_path: string | null;
  target: string;
  runner: SimulationConfig['runner'];
  /** The config as read, with every secret masked. */
  config: unknown;
}

export interface ExperimentResult {
  /** The experiment's folder. */
  dir: string;
  summary: ExperimentSummary;
}

/** What `--dry-run` shows: the plan, and the first run's arguments before and after the input goes in. */
export interface ExperimentPlanReport {
  setup: ExperimentSetup;
  target: string;
  first?: { input: string; location?: string; before: unknown; after: unknown; error?: string };
}

/** Loads and checks everything an experiment needs; throws a ConfigError for the user's mistakes. */
export async function prepare(options: ExperimentOptions): Promise<{ setup: ExperimentSetup; harness: Harness; target: LoadedTarget }> {
  const root = resolveProjectRoot(options.projectDir);
  let config = options.config ?? loadSimulationConfig(root, options.configFile);
  if (options.target !== undefined) {
    parseTarget(options.target, { file: '--target' });
    config = { ...config, runner: { ...config.runner, target: options.target } };
  }
  const partial = setupExperiment(root, config, options);
  if (options.fn !== undefined && config.runner.isolation === 'worker') {
    throw new ConfigError('worker isolation needs a target module, not a function: a function cannot be sent to a worker thread');
  }
  const harness = await Harness.create(partial.harness, options.fn);
  const target = await harness.probe();
  const replay = await checkRecordings(root, config, partial.harness.target, target, harness.reviver(target));
  const setup: ExperimentSetup = { ...partial, replay, total: 0 };
  setup.total = countRuns(setup, options.limit);
  options.onPlan?.(setup);
  return { setup, harness, target };
}

/** The plan of an experiment, and the first run's argument diff, without running anything. */
export async function planExperiment(options: ExperimentOptions = {}): Promise<ExperimentPlanReport> {
  const { setup, target } = await prepare(options);
  const report: ExperimentPlanReport = { setup, target: setup.harness.target };
  for await (const plan of planRuns(setup, target, 1)) {
    const encoder = createEncoder();
    const show = (v: unknown) => JSON.parse(encoder.encode(v)) as unknown;
    if (plan.recording === undefined) {
      report.first = { input: plan.input.input, before: [], after: show([plan.input.input]) };
      break;
    }
    const before = callOf(decodeCall(plan.recording, new Collectors(), new Map()));
    const after = callOf(decodeCall(plan.recording, new Collectors(), new Map()));
    const params = plan.recording.params?.length ? plan.recording.params : target.params;
    const at = override(after, parseParamPath(plan.path!), plan.input.input, params);
    report.first = {
      input: plan.input.input,
      before: show(before),
      after: show(after),
      ...(typeof at === 'string' ? { error: at } : { location: formatParamPath(at.root, at.segments) }),
    };
  }
  return report;
}

/** The arguments of a decoded call, as `--dry-run` shows them. */
function callOf({ args, kwargs }: CallArgs): CallArgs {
  return { args, kwargs };
}

/**
 * Runs an experiment: iterations × recordings × inputs, each run with the input at the
 * override path, and writes `summary.json`, `traces.jsonl`, `observations.jsonl` and
 * `errors.json` into a new folder `<output_directory>/<name>_<YYYYmmdd_HHMMSS>/`.
 */
export async function runExperiment(options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const { setup, harness, target } = await prepare(options);
  const { config, root } = setup;
  const dir = createExperimentDir(path.resolve(root, options.outputDir ?? config.output_directory), config.name);
  const traces = new JsonLines(path.join(dir, 'traces.jsonl'));
  const observations = new JsonLines(path.join(dir, 'observations.jsonl'));
  const errors = new JsonArray(path.join(dir, 'errors.json'));
  const durations: number[] = [];
  const counts: Record<RunStatus, number> = { ok: 0, error: 0, timeout: 0 };
  let warned = 0;
  const startedAt = new Date();
  const started = performance.now();
  try {
    await execute(setup, harness, planRuns(setup, target, options.limit), (outcome) => {
      const { result } = outcome;
      traces.write([result]);
      observations.write(outcome.observations);
      counts[result.status]++;
      if (result.warnings.length > 0) warned++;
      durations.push(result.duration_ms);
      if (result.status !== 'ok') errors.write(errorEntry(result));
      options.onProgress?.({ done: durations.length, total: setup.total, result });
    });
  } finally {
    traces.close();
    observations.close();
    errors.close();
  }
  const summary = summarize(setup, { counts, warned, durations, startedAt, totalMs: performance.now() - started });
  writeJson(path.join(dir, 'summary.json'), summary);
  return { dir, summary };
}

/**
 * Makes the runs, `runner.concurrency` at a time, retrying those that did not end ok. Workers
 * pull plans from the stream rather than a queue holding every run (as p-limit would), so that
 * a recording of a million lines is never held in memory.
 */
export async function execute(setup: ExperimentSetup, harness: Harness, plans: AsyncIterator<RunPlan>, onOutcome: (outcome: RunOutcome) => void): Promise<void> {
  const { isolation, concurrency, timeout_ms: timeoutMs, retries } = setup.config.runner;
  // Loaded only for worker isolation, with its thread pool library.
  const pool: WorkerPool | undefined =
    isolation === 'worker' ? new (require('../replay/pool') as typeof import('../replay/pool')).WorkerPool(setup.harness, concurrency) : undefined;
  const attempt = (plan: RunPlan) => (pool ? pool.run(plan, timeoutMs) : harness.run(plan, timeoutMs));
  const lane = async (): Promise<void> => {
    for (let next = await plans.next(); !next.done; next = await plans.next()) {
      let outcome = await attempt(next.value);
      for (let retry = 1; retry <= retries && outcome.result.status !== 'ok' && next.value.error === undefined; retry++) {
        await sleep(Math.min(100 * 2 ** (retry - 1), 2000));
        outcome = await attempt(next.value);
        outcome.result.attempts = retry + 1;
      }
      onOutcome(outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    await pool?.close();
  }
}

function summarize(setup: ExperimentSetup, run: { counts: Record<RunStatus, number>; warned: number; durations: number[]; startedAt: Date; totalMs: number }): ExperimentSummary {
  const { config } = setup;
  const total = run.durations.length;
  const encoder = createEncoder({ redactKeys: config.recording.redact_keys, redactPatterns: config.recording.redact_patterns });
  return {
    name: config.name,
    started_at: run.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    total_time_ms: Math.round(run.totalMs),
    total_runs: total,
    counts: run.counts,
    success_rate: total === 0 ? 0 : run.counts.ok / total,
    runs_with_warnings: run.warned,
    duration_ms: durationStats(run.durations),
    iterations: setup.iterations,
    recordings: setup.replay?.count ?? 0,
    inputs: setup.inputs.inputs.length,
    inputs_source: setup.inputs.source,
    recording_file: setup.replay?.display ?? null,
    override_param_path: setup.replay?.path.text ?? null,
    target: setup.harness.target,
    runner: config.runner,
    // FluxLoop writes API keys into its summary; the redactor masks them here.
    config: JSON.parse(encoder.encode(config.raw)),
  };
}
