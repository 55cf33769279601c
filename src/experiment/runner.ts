import path from 'node:path';
import { ConfigError } from '../config/errors';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatParamPath, parseParamPath } from '../config/param-path';
import { configPath, projectRelative, resolveProjectRoot } from '../config/project';
import { DOWNSTREAM_REPLAY_DEFAULTS, type SimulationConfig } from '../config/types';
import { createEncoder } from '../record/encode';
import { redactJson, redactRules } from '../record/redact-json';
import { decodeCall, override } from '../replay/binding';
import type { CallArgs } from '../replay/paths';
import { Collectors } from '../replay/collectors';
import type { RunPlan, RunStatus } from '../replay/execute';
import { withAdditions, type FinishedRun, type FinishedSummary } from './finished';
import { finishPlanned, isConversationPlan, runPlanned, type ConversationPlan, type Planned } from './conversation';
import { countConversations, planConversations } from './conversation-plan';
import { createSimulatedUser } from './simulated-user';
import { Harness } from '../replay/harness';
import { recordingMatch } from '../replay/match';
import type { LoadedTarget } from '../replay/loader';
import { writeJson } from './output';
import type { DurationStats } from './stats';
import { ExperimentFolder, type PlanFile, type Totals } from './folder';
import { planIdentity } from './identity';
import { shardSize, shareOf, type Shard } from './share';
import { countRuns, planRuns, setupExperiment, unreplayedRecordings, type ExperimentSetup, type SetupOptions } from './plan';
import { checkRecordings, type ReplaySource } from './replay-source';
import { configFor, threadRuns, withTarget } from './work-order';
import type { Runs } from './runs';
import { queuedRuns } from './queue/experiment';
import { maskUrl, QueueUnavailable } from './queue/errors';
import { createRedactor } from '../record/redact';
import { recordedCalls } from './recorded-calls';
import { CallsTally, type CallsSummary } from './tally';
import { pricesOf } from './usage';
import { estimateCost, type CostEstimate, type EstimatedRun } from './estimate';

/** Options of {@link runExperiment}. */
export interface ExperimentOptions extends Pick<SetupOptions, 'inputs' | 'fn' | 'downstream' | 'multiTurn'> {
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
  /**
   * An experiment folder to go on with: only the runs of the plan missing from its traces.jsonl
   * are made, and appended to it. The plan must be the folder's (see plan.json).
   */
  resume?: string;
  /** Makes only this share of the plan (`--shard i/n`): every n-th run from the i-th. */
  shard?: Shard;
  /** A Redis URL (`--queue`; `runner.queue` by default): the runs go through a queue there, made by `fluxloop worker`s. */
  queue?: string;
  /** Called with what the user should hear while runs are made: a queue that no worker takes from. */
  onWarning?: (message: string) => void;
  /** Called once the plan is checked, before the first run. */
  onPlan?: (setup: ExperimentSetup) => void;
  /** Stops the experiment: no new run starts, runs in flight get a short grace, and `summary.json` says `interrupted`. */
  signal?: AbortSignal;
  /**
   * A cap in US dollars on what the runs' live LLM calls cost: once their cost reaches it, no new
   * run starts, those in flight finish, and `summary.json` says `stopped: "max_cost"`.
   */
  maxCostUsd?: number;
  /**
   * Called after each run, in the order runs finish, with its result and, for whoever shows runs
   * in full (`run experiment --verbose`), the lines written for it: its traces.jsonl line (a
   * RunResult as JSON, with the arguments as invoked and the output) and its observations.jsonl
   * lines, masked as they are in those files.
   */
  onProgress?: (progress: { done: number; total: number; result: FinishedSummary; trace: string; observations: string }) => void;
}

/** `summary.json`. */
export interface ExperimentSummary extends CallsSummary {
  name: string;
  /**
   * `completed`: every planned run ended; `interrupted` by a signal; `stopped` by fluxloop before
   * the plan's end (see `stopped`); `failed`: fluxloop could not go on (see `failure`).
   */
  ended: 'completed' | 'interrupted' | 'stopped' | 'failed';
  /** The signal that stopped the experiment. */
  interrupted_by?: string;
  /** Why fluxloop stopped starting runs: `max_cost`, the cost reached `--max-cost`. */
  stopped?: 'max_cost';
  /** The cap the experiment ran under (`--max-cost`). */
  max_cost_usd?: number;
  /** What stopped a failed experiment. */
  failure?: string;
  /** The plan's digest (plan.json has its parts): shards, resumes and workers of one plan share it. */
  plan_hash: string;
  /** The share of the plan this folder holds (`--shard`). */
  shard?: Shard;
  /** How many times the experiment was resumed (`--resume`). */
  resumes?: number;
  /** The shard folders a merge made it from (`merge experiments`). */
  merged_from?: string[];
  started_at: string;
  finished_at: string;
  total_time_ms: number;
  /** The runs that finished. */
  total_runs: number;
  /** The runs the plan made: iterations × recordings × inputs, capped by --limit. */
  planned_runs: number;
  counts: Record<RunStatus, number>;
  success_rate: number;
  /** Runs that ran but could not do all the app did (see each run's `warnings`). */
  runs_with_warnings: number;
  /** Errors from the target's code that ended no run (after its run ended, or outside any), listed in errors.json. */
  stray_errors: number;
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
  /** A multi-turn experiment's conversations: its runs are conversations. */
  conversations?: ConversationsSummary;
}

/** What the plan of a multi-turn experiment knows of its conversations before the first run. */
export interface ConversationsPlan {
  /** Recorded conversations replayed (those long enough for the resume point); null without recordings. */
  recorded: number | null;
  /** Their recorded turns. */
  recorded_turns: number | null;
  /** Recorded conversations shorter than the resume point, which no run replays. */
  skipped_short: number;
  /** Recorded calls without a value at `replay_args.conversation.key`, each a conversation of its own. */
  unkeyed: number;
  resumed_from: number | null;
  max_turns: number;
  /** Who carries the conversations on: `mock`, or the provider and model. */
  simulated_user: string;
}

/** `conversations` in summary.json. */
export interface ConversationsSummary extends ConversationsPlan {
  /** Turns made, in every conversation that finished. */
  turns: number;
  /** How the conversations that finished ended: `max_turns_reached`, `script_complete`, the simulated user's reasons, `agent_error`, `supervisor_error`. */
  by_termination_reason: Record<string, number>;
}

export interface ExperimentResult {
  /** The experiment's folder. */
  dir: string;
  summary: ExperimentSummary;
}

/** What `--dry-run` shows: the plan, and the first run's arguments before and after the input goes in. */
export interface ExperimentPlanReport {
  setup: ExperimentSetup;
  /** In a multi-turn experiment. */
  conversations?: ConversationsPlan;
  target: string;
  first?: { input: string; location?: string; before: unknown; after: unknown; error?: string };
  /** What the planned runs' live LLM calls are expected to cost, from the recordings' usage. */
  estimate: CostEstimate;
}

interface Prepared {
  setup: ExperimentSetup;
  runs: Runs;
  /** The target's parameters, for recordings that name none. */
  target: Pick<LoadedTarget, 'params'>;
}

/**
 * Loads and checks everything an experiment needs; throws a ConfigError for the user's mistakes.
 * The target is loaded in a worker thread, as every run is: the caller's thread never runs user
 * code. Only a function given in code (`fn`) runs on the caller's thread, since a function cannot
 * be sent to another. `prestart` is for runs to come: threads start loading for them, and the
 * simulated user is made for them (a dry run needs no key).
 */
export async function prepare(options: ExperimentOptions, prestart = false): Promise<Prepared> {
  const root = resolveProjectRoot(options.projectDir);
  const config = options.config === undefined ? configFor(root, options) : withTarget(options.config, options.target);
  // Runs through a queue are made by workers: no thread here waits for them, nor a simulated user.
  if ((options.queue ?? config.runner.queue) !== undefined) prestart = false;
  const partial = setupExperiment(root, config, options);
  const { isolation, timeout_ms: timeoutMs } = config.runner;
  const prices = pricesOf(config);
  let replay: ReplaySource | undefined;
  let runs: Runs;
  let target: Pick<LoadedTarget, 'params'>;
  if (options.fn !== undefined) {
    if (isolation === 'worker') {
      throw new ConfigError('worker isolation needs a target module, not a function: a function cannot be sent to a worker thread');
    }
    const harness = await Harness.create(partial.harness, options.fn);
    const loaded = await harness.probe();
    replay = await checkRecordings(root, config, partial.harness.target, loaded, harness.reviver(loaded));
    const user = partial.multiTurn === undefined || !prestart ? undefined : createSimulatedUser(root, partial.multiTurn.supervisor, options.configFile ?? 'configs/simulation.yaml');
    runs = { run: async (plan, attempt) => finishPlanned(await runPlanned(harness, plan, timeoutMs, { user, prices }), attempt), close: async () => undefined };
    target = loaded;
  } else {
    const supervisor = threadRuns(root, config, partial.harness, { multiTurn: options.multiTurn, configFile: options.configFile, withUser: prestart });
    try {
      // Threads start loading while the recordings are checked, for the runs to come (at least
      // an input each, once per iteration); a dry run needs one.
      const fewest = prestart ? Math.min(options.limit ?? Infinity, partial.inputs.inputs.length * partial.iterations) : 0;
      const checked = await supervisor.check(config, fewest);
      target = checked.target;
      // The match is a function, made again on this side of the thread.
      if (checked.replay !== undefined) replay = { ...checked.replay, match: recordingMatch(root, config.replay_args?.function, partial.harness.target)! };
    } catch (error) {
      await supervisor.close();
      throw error;
    }
    runs = supervisor;
  }
  const setup: ExperimentSetup = { ...partial, replay, total: 0 };
  if (setup.multiTurn !== undefined) {
    try {
      if (replay !== undefined) setup.conversations = await countConversations(replay, config, setup.multiTurn, target.params);
      else if ((setup.multiTurn.resume_from ?? 1) > 1) throw new ConfigError('resuming a conversation needs recorded ones: set replay_args.enabled to true');
    } catch (error) {
      await runs.close();
      throw error;
    }
  }
  // Only for the project's own config: one given in code (`replay()`) chose its recordings itself.
  if (replay === undefined && options.config === undefined) {
    const unreplayed = await unreplayedRecordings(root, config, options.configFile === undefined ? configPath(root) : path.resolve(root, options.configFile));
    if (unreplayed !== undefined) setup.unreplayed = unreplayed;
  }
  setup.total = shardSize(countRuns(setup, options.limit), options.shard);
  options.onPlan?.(setup);
  return { setup, runs, target };
}

/** The plan of an experiment, and the first run's argument diff, without running anything. */
export async function planExperiment(options: ExperimentOptions = {}): Promise<ExperimentPlanReport> {
  const { setup, runs, target } = await prepare(options);
  await runs.close();
  // The modes the runs will have: the harness's, with --downstream over the config, where the replay sets them.
  const modes = setup.harness.downstream ?? setup.config.replay_args?.downstream ?? DOWNSTREAM_REPLAY_DEFAULTS;
  // Every planned run is read (not the first alone), its recording's calls with it: the plan streams, so memory stays flat.
  const share = <P extends Planned>(plans: AsyncIterable<P>) => shareOf(plans, options.shard);
  const estimate = await estimateCost(setup.multiTurn === undefined ? share(planRuns(setup, target, options.limit)) : recordedTurns(share(planConversations(setup, target, options.limit))), pricesOf(setup.config), modes);
  const report: ExperimentPlanReport = { setup, target: setup.harness.target, estimate, ...(setup.multiTurn === undefined ? {} : { conversations: conversationsPlan(setup) }) };
  for await (const plan of planRuns(setup, target, 1)) {
    const { keys, patterns } = setup.harness.redact ?? redactRules(setup.config);
    const encoder = createEncoder({ redactKeys: keys, redactPatterns: patterns });
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

/** The recorded turns of planned conversations, for the estimate: each expected to make its recording's calls again (the simulated user's turns are not known in advance). */
async function* recordedTurns(plans: AsyncIterable<ConversationPlan>): AsyncGenerator<EstimatedRun> {
  for await (const plan of plans) for (const recording of plan.conversation.turns) yield { recording };
}

/** The arguments of a decoded call, as `--dry-run` shows them. */
function callOf({ args, kwargs }: CallArgs): CallArgs {
  return { args, kwargs };
}

/**
 * Runs an experiment: iterations × recordings × inputs, each run with the input at the
 * override path, and writes `plan.json`, `summary.json`, `traces.jsonl`, `observations.jsonl` and
 * `errors.json` into a new folder `<output_directory>/<name>_<YYYYmmdd_HHMMSS>/`, or adds the
 * runs it lacks to the folder `resume` names. Once the folder exists, `summary.json` is written
 * however the experiment ends: `ended` says how.
 */
export async function runExperiment(options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const { setup, runs: local, target } = await prepare(options, true);
  const { config, root } = setup;
  const tally = new CallsTally(pricesOf(config));
  let runs = local;
  let folder: ExperimentFolder;
  try {
    const plan = await planIdentity(setup, options);
    // Before the folder is made: a queue that cannot be reached leaves none.
    runs = await queuedRuns(local, setup, options, plan);
    if (options.resume !== undefined) {
      folder = await ExperimentFolder.reopen(path.resolve(options.resume), plan, options.shard, tally, setup.inputs.inputs.length);
    } else {
      const base = path.resolve(root, options.outputDir ?? config.output_directory);
      folder = ExperimentFolder.create(base, config.name, { ...plan, shard: options.shard ?? null, started_at: new Date().toISOString() });
    }
  } catch (error) {
    await runs.close();
    throw error;
  }
  const shard = folder.plan.shard ?? undefined;
  // A resume without --shard goes on with the folder's share.
  if (options.shard === undefined && shard !== undefined) setup.total = shardSize(setup.total, shard);
  const { totals } = folder;
  const started = performance.now();
  let end: Pick<ExperimentSummary, 'ended' | 'interrupted_by' | 'failure' | 'stopped'> = { ended: 'completed' };
  let failure: unknown;
  try {
    const planned = setup.multiTurn === undefined ? planRuns(setup, target, options.limit) : planConversations(setup, target, options.limit);
    const plans = shareOf<Planned>(planned, shard, folder.done);
    const stop = await execute(setup, runs, plans, (run) => {
      folder.write(run);
      options.onProgress?.({ done: totals.durations.length, total: setup.total, result: run.result, trace: run.line, observations: run.observations });
    }, { signal: options.signal, tally, maxCostUsd: options.maxCostUsd });
    if (stop === 'interrupted') end = { ended: 'interrupted', interrupted_by: String(options.signal?.reason ?? 'abort') };
    else if (stop === 'max_cost') end = { ended: 'stopped', stopped: 'max_cost' };
  } catch (error) {
    // The runs that did not come back are made by a resume, once the queue is there again.
    if (error instanceof QueueUnavailable) error.message += `; once it is back, go on with: fluxloop run experiment --resume ${projectRelative(root, folder.dir)}`;
    failure = error;
    end = { ended: 'failed', failure: (error as Error)?.message ?? String(error) };
  } finally {
    for (const stray of runs.strays ?? []) folder.writeStray(stray);
    try {
      folder.close();
    } catch (error) {
      failure ??= error;
    }
  }
  const summary = summarize(setup, {
    totals,
    plan: folder.plan,
    resumes: folder.resumes,
    totalMs: folder.earlierMs + performance.now() - started,
    strays: folder.earlierStrays + (runs.strayCount ?? 0),
    calls: tally.summary(),
    maxCostUsd: options.maxCostUsd,
    ...end,
  });
  writeJson(path.join(folder.dir, 'summary.json'), summary);
  if (failure !== undefined) throw failure;
  return { dir: folder.dir, summary };
}

/** How long runs in flight may take to finish once the experiment is interrupted. */
const GRACE_MS = 2000;

/** Why {@link execute} stopped before the plan's end: a signal, or the cost cap. */
export type Stop = 'interrupted' | 'max_cost';

/** Options of {@link execute}. */
export interface ExecuteOptions {
  signal?: AbortSignal;
  /** Counts the runs' usage, cost and divergence; one of its own by default. */
  tally?: CallsTally;
  /** Stops starting runs once the tally's priced cost reaches this many US dollars. */
  maxCostUsd?: number;
}

/**
 * Makes the runs, `runner.concurrency` at a time, retrying those that did not end ok. Lanes pull
 * plans from the stream rather than a queue holding every run (as p-limit would), so that a
 * recording of a million lines is never held in memory. Once `signal` is aborted no run starts,
 * those in flight get a short grace, and the result is `interrupted`. Once the cost reaches
 * `maxCostUsd` no run starts and those in flight finish: the result is `max_cost`.
 *
 * Each run's line gets its usage and cost (priced by the config's prices) and its recording's
 * calls before `onRun` sees it.
 */
export async function execute(setup: ExperimentSetup, runs: Runs, plans: AsyncIterator<Planned>, onRun: (run: FinishedRun) => void, options: ExecuteOptions = {}): Promise<Stop | undefined> {
  const { signal, maxCostUsd } = options;
  const { concurrency, retries } = setup.config.runner;
  const tally = options.tally ?? new CallsTally(pricesOf(setup.config));
  const { keys, patterns } = setup.harness.redact ?? redactRules(setup.config);
  const redactor = createRedactor(keys, patterns);
  let open = true;
  let capped = false;
  const stopped = () => signal?.aborted === true || capped;
  const lane = async (): Promise<void> => {
    for (let next = stopped() ? undefined : await plans.next(); next !== undefined && !next.done && !stopped(); next = await plans.next()) {
      let run = await runs.run(next.value, 1);
      for (let retry = 1; retry <= retries && run.result.status !== 'ok' && next.value.error === undefined && !stopped(); retry++) {
        await sleep(Math.min(100 * 2 ** (retry - 1), 2000));
        run = await runs.run(next.value, retry + 1);
      }
      const { usage, cost_usd } = tally.add(run.result);
      if (isConversationPlan(next.value)) {
        // Each of its turns shows its own recording's calls.
        run = withAdditions(run, { usage, cost_usd });
      } else {
        // Known to the run's plan, not to its thread: kept here, so that a recording's calls cross to a thread once.
        // A recording without an id was made before calls were recorded: it has none to show.
        const recording = next.value.recording;
        const recorded = recording?.id === undefined ? undefined : (redactJson(recordedCalls(recording.downstream), redactor) as unknown[]);
        run = withAdditions(run, { usage, cost_usd, recorded_downstream: recorded ?? null });
      }
      if (maxCostUsd !== undefined && tally.pricedUsd >= maxCostUsd) capped = true;
      if (open) onRun(run);
    }
  };
  let onAbort: (() => void) | undefined;
  const graceOver = new Promise<void>((resolve) => {
    onAbort = () => setTimeout(resolve, GRACE_MS).unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  // Under a cost cap, no run waits in a thread's queue: each run handed over starts at once, so
  // that none starts after the cap is reached.
  const lanes = maxCostUsd === undefined ? Math.max(concurrency, runs.capacity ?? 0) : concurrency;
  try {
    await Promise.race([Promise.all(Array.from({ length: lanes }, lane)), graceOver]);
  } finally {
    open = false;
    signal?.removeEventListener('abort', onAbort!);
    await runs.close();
  }
  return signal?.aborted === true ? 'interrupted' : capped ? 'max_cost' : undefined;
}

/** The conversations a multi-turn experiment plans, as the census counted them. */
function conversationsPlan(setup: ExperimentSetup): ConversationsPlan {
  const multiTurn = setup.multiTurn!;
  const census = setup.conversations;
  const { provider, llm } = multiTurn.supervisor;
  let recordedTurns: number | null = null;
  if (census !== undefined) {
    const k = multiTurn.resume_from ?? 1;
    recordedTurns = 0;
    for (const size of census.sizes.values()) if (size >= k) recordedTurns += size;
  }
  return {
    recorded: census === undefined ? null : census.count - census.short,
    recorded_turns: recordedTurns,
    skipped_short: census?.short ?? 0,
    unkeyed: census?.unkeyed ?? 0,
    resumed_from: multiTurn.resume_from ?? null,
    max_turns: multiTurn.max_turns,
    simulated_user: provider === 'mock' ? 'mock' : `${provider} ${llm.model}`,
  };
}

type SummaryOf = Pick<ExperimentSummary, 'ended' | 'interrupted_by' | 'failure' | 'stopped'> & {
  calls: CallsSummary;
  maxCostUsd?: number;
  totals: Totals;
  plan: PlanFile;
  resumes: number;
  totalMs: number;
  strays: number;
};

function summarize(setup: ExperimentSetup, run: SummaryOf): ExperimentSummary {
  const { config } = setup;
  const { counts, durations } = run.totals;
  const total = durations.length;
  const { keys, patterns } = redactRules(config);
  const encoder = createEncoder({ redactKeys: keys, redactPatterns: patterns });
  return {
    name: config.name,
    ended: run.ended,
    ...(run.interrupted_by === undefined ? {} : { interrupted_by: run.interrupted_by }),
    ...(run.failure === undefined ? {} : { failure: run.failure }),
    ...(run.stopped === undefined ? {} : { stopped: run.stopped }),
    ...(run.maxCostUsd === undefined ? {} : { max_cost_usd: run.maxCostUsd }),
    plan_hash: run.plan.hash,
    ...(run.plan.shard === null ? {} : { shard: run.plan.shard }),
    ...(run.resumes === 0 ? {} : { resumes: run.resumes }),
    started_at: run.plan.started_at,
    finished_at: new Date().toISOString(),
    total_time_ms: Math.round(run.totalMs),
    total_runs: total,
    planned_runs: setup.total,
    counts,
    success_rate: total === 0 ? 0 : counts.ok / total,
    runs_with_warnings: run.totals.warned,
    stray_errors: run.strays,
    duration_ms: durations.stats(),
    ...run.calls,
    iterations: setup.iterations,
    recordings: setup.replay?.count ?? 0,
    inputs: setup.inputs.inputs.length,
    inputs_source: setup.inputs.source,
    recording_file: setup.replay?.display ?? null,
    override_param_path: setup.replay?.path.text ?? null,
    target: setup.harness.target,
    // A password in the queue's URL stays out of the file.
    runner: config.runner.queue === undefined ? config.runner : { ...config.runner, queue: maskUrl(config.runner.queue) },
    // FluxLoop writes API keys into its summary; the redactor masks them here.
    config: JSON.parse(encoder.encode(config.raw)),
    ...(setup.multiTurn === undefined ? {} : { conversations: { ...conversationsPlan(setup), turns: run.totals.turns, by_termination_reason: run.totals.endings } }),
  };
}
