import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config/errors';
import { projectRelative, replayRecordingFile } from '../config/project';
import { parseSimulationConfig } from '../config/simulation';
import { DOWNSTREAM_REPLAY_DEFAULTS, type DownstreamReplayConfig, type InputEntry, type MultiTurnConfig, type SimulatedUserConfig, type SimulationConfig } from '../config/types';
import type { ConversationCensus } from './conversation-plan';
import { countRecords, recordingFiles } from '../record/files';
import { redactRules } from '../record/redact-json';
import type { RecordingRef, RunPlan } from '../replay/execute';
import type { HarnessOptions } from '../replay/harness';
import type { LoadedTarget } from '../replay/loader';
import { selectRecordings, type ReplayRecord } from '../replay/reader';
import { loadInputs, type LoadedInputs } from './inputs';
import { describeRecording, pathMiss, type ReplaySource } from './replay-source';

/** Records an experiment does not replay, because `replay_args.enabled` is not true. */
export interface UnreplayedRecordings {
  /** The recording file, project-relative. */
  file: string;
  /** The records in it and in the files it was rotated to. */
  records: number;
  /** How many of those files hold records. */
  files: number;
  /** The config that would turn replay on, project-relative. */
  config: string;
}

/** Everything decided before the first run. */
export interface ExperimentSetup {
  root: string;
  config: SimulationConfig;
  inputs: LoadedInputs;
  /** Absent when the experiment runs on inputs alone. */
  replay?: ReplaySource;
  /** The recordings left out when the experiment runs on inputs alone, though the project has some. */
  unreplayed?: UnreplayedRecordings;
  iterations: number;
  /** iterations × recordings × inputs, capped by the limit (× conversations, in a multi-turn experiment). */
  total: number;
  harness: HarnessOptions;
  /** `multi_turn`, with the command's overrides over it, when the experiment makes conversations. */
  multiTurn?: MultiTurnConfig;
  /** The recorded conversations, in a multi-turn experiment that replays recordings. */
  conversations?: ConversationCensus;
}

/** `run experiment`'s multi-turn flags, over `multi_turn`. */
export interface MultiTurnOverrides {
  /** `--multi-turn`. */
  enabled?: boolean;
  /** `--max-turns`. */
  max_turns?: number;
  /** `--resume-at`. */
  resume_from?: number;
  /** `--supervisor-provider`. */
  provider?: SimulatedUserConfig['provider'];
  /** `--supervisor-model`. */
  model?: string;
}

export interface SetupOptions {
  iterations?: number;
  limit?: number;
  /** Instead of the inputs file or base_inputs. */
  inputs?: InputEntry[];
  /** The function itself, instead of `runner.target`. */
  fn?: Function;
  /** Over `replay_args.downstream`, for this experiment alone (`--downstream`). */
  downstream?: Partial<DownstreamReplayConfig>;
  /** Over `multi_turn`, for this experiment alone. */
  multiTurn?: MultiTurnOverrides;
}

/** Reads the config's experiment settings and inputs; the recordings are checked by `checkRecordings`. */
export function setupExperiment(root: string, config: SimulationConfig, options: SetupOptions = {}): Omit<ExperimentSetup, 'replay' | 'total'> {
  const inputs = options.inputs ? { inputs: options.inputs, source: 'inputs' } : loadInputs(root, config);
  const target = options.fn ? options.fn.name || 'anonymous' : (config.runner.target ?? soleRecordingTarget(config));
  const multiTurn = multiTurnOf(config, options.multiTurn);
  return {
    root,
    config,
    inputs,
    iterations: options.iterations ?? config.iterations,
    ...(multiTurn === undefined ? {} : { multiTurn }),
    harness: harnessOf(root, config, target, options.downstream),
  };
}

/** How each run loads and calls the target: the config's settings, with `--downstream` over them. */
export function harnessOf(root: string, config: SimulationConfig, target: string, downstream?: Partial<DownstreamReplayConfig>): HarnessOptions {
  return {
    root,
    target,
    factory: config.runner.factory,
    fresh: config.runner.isolation !== 'shared',
    providers: config.replay_args?.callable_providers ?? {},
    values: config.replay_args?.providers ?? {},
    revive: config.replay_args?.revive ?? {},
    traceTargets: config.recording.targets,
    redact: redactRules(config),
    limits: { maxDepth: config.recording.max_depth, maxArrayLength: config.recording.max_array_length, maxStringLength: config.recording.max_string_length },
    // Runs without recordings answer downstream calls by the same rules: they have none recorded.
    downstream: { ...(config.replay_args?.downstream ?? DOWNSTREAM_REPLAY_DEFAULTS), ...downstream },
    downstreamTargets: config.recording.downstream?.targets ?? [],
  };
}

/** `multi_turn` with the overrides over it, when conversations are on; undefined when they are off. */
export function multiTurnOf(config: SimulationConfig, overrides: MultiTurnOverrides = {}): MultiTurnConfig | undefined {
  // A config made in code may have no multi_turn: the defaults, as an empty file gives them.
  const base = config.multi_turn ?? parseSimulationConfig('').multi_turn!;
  if (!(overrides.enabled ?? base.enabled)) return undefined;
  const { provider, model, enabled: _enabled, ...numbers } = overrides;
  const supervisor = { ...base.supervisor, ...(provider ? { provider } : {}), llm: { ...base.supervisor.llm, ...(model ? { model } : {}) } };
  const multiTurn: MultiTurnConfig = { ...base, ...numbers, enabled: true, supervisor };
  if (multiTurn.resume_from !== undefined && multiTurn.resume_from > multiTurn.max_turns) {
    const from = overrides.resume_from !== undefined ? `--resume-at ${multiTurn.resume_from}` : `multi_turn.resume_from (${multiTurn.resume_from})`;
    const max = overrides.max_turns !== undefined ? `--max-turns ${multiTurn.max_turns}` : `multi_turn.max_turns (${multiTurn.max_turns})`;
    throw new ConfigError(`${from} is past ${max}: the conversations would end before the input`);
  }
  return multiTurn;
}

export function soleRecordingTarget(config: SimulationConfig): string {
  const targets = config.recording.targets;
  if (targets.length === 1) return targets[0]!;
  throw new ConfigError(
    `runner.target is not set; name the function to replay, e.g. runner: { target: ${targets[0] ?? 'app/agent.js:handleMessage'} }`,
    { file: 'configs/simulation.yaml', field: 'runner.target' },
  );
}

/**
 * The records of the recording an experiment would replay, when `replay_args.enabled` is not true:
 * then each input goes to the function alone, and a user who has recorded calls should hear that
 * they are left out. Undefined when replay is on or nothing is recorded.
 */
export async function unreplayedRecordings(root: string, config: SimulationConfig, configFile: string): Promise<UnreplayedRecordings | undefined> {
  if (config.replay_args?.enabled === true) return undefined;
  const file = replayRecordingFile(root, config);
  let records = 0;
  let files = 0;
  for (const each of recordingFiles(file)) {
    // A file that cannot be read is the replay's to report, when it is turned on; this is a notice.
    const count = await countRecords(each).catch(() => 0);
    records += count;
    if (count > 0) files++;
  }
  return records === 0 ? undefined : { file: projectRelative(root, file), records, files, config: projectRelative(root, configFile) };
}

/** The runs in order: iterations × recordings × inputs, streamed, at most `limit`. */
export async function* planRuns(setup: ExperimentSetup, target: Pick<LoadedTarget, 'params'>, limit = Infinity): AsyncGenerator<RunPlan> {
  let planned = 0;
  const inputs = setup.inputs.inputs;
  const replay = setup.replay;
  for (let iteration = 0; iteration < setup.iterations; iteration++) {
    if (replay === undefined) {
      for (let i = 0; i < inputs.length; i++) {
        if (planned++ >= limit) return;
        yield { traceId: randomUUID(), iteration, inputIndex: i, input: inputs[i]! };
      }
      continue;
    }
    for await (const record of readReplay(replay)) {
      const miss = replay.resolved === replay.count ? undefined : pathMiss(replay, record, target);
      for (let i = 0; i < inputs.length; i++) {
        if (planned++ >= limit) return;
        yield {
          traceId: randomUUID(),
          iteration,
          inputIndex: i,
          input: inputs[i]!,
          recording: recordingRef(record),
          path: replay.path.text,
          ...(miss === undefined ? {} : { error: `${describeRecording(replay, record)}: ${miss}` }),
        };
      }
    }
  }
}

/**
 * The recordings a replay reads, in order. Read again for each iteration, so that memory stays
 * flat on a file of any size; the check before the runs has already reported its malformed lines.
 */
export function readReplay(replay: ReplaySource): AsyncGenerator<ReplayRecord> {
  return selectRecordings(replay.file, { displayPath: replay.display, select: replay.select, match: replay.match.test, onSkip: () => undefined });
}

/** A recording as a run's plan carries it: plain data, without the reader's bookkeeping. */
export function recordingRef(record: ReplayRecord): RecordingRef {
  const { index, line, file, function: fn, target, args, kwargs, params, this: self, id, downstream } = record;
  return { index, line, file, function: fn, target, args, kwargs, params, ...(self === undefined ? {} : { this: self }), ...(id === undefined ? {} : { id, downstream }) };
}

/** How many runs the plan makes. */
export function countRuns(setup: Omit<ExperimentSetup, 'total'>, limit = Infinity): number {
  if (setup.multiTurn !== undefined) {
    const k = setup.multiTurn.resume_from ?? 1;
    const conversations = setup.conversations === undefined ? (k === 1 ? 1 : 0) : setup.conversations.count - setup.conversations.short;
    return Math.min(limit, setup.iterations * conversations * setup.inputs.inputs.length);
  }
  const perIteration = (setup.replay?.count ?? 1) * setup.inputs.inputs.length;
  return Math.min(limit, setup.iterations * perIteration);
}
