import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config/errors';
import { projectRelative, replayRecordingFile } from '../config/project';
import { DOWNSTREAM_REPLAY_DEFAULTS, type DownstreamReplayConfig, type InputEntry, type SimulationConfig } from '../config/types';
import { countRecords, recordingFiles } from '../record/files';
import { redactRules } from '../record/redact-json';
import type { RunPlan } from '../replay/execute';
import type { HarnessOptions } from '../replay/harness';
import type { LoadedTarget } from '../replay/loader';
import { selectRecordings } from '../replay/reader';
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
  /** iterations × recordings × inputs, capped by the limit. */
  total: number;
  harness: HarnessOptions;
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
}

/** Reads the config's experiment settings and inputs; the recordings are checked by `checkRecordings`. */
export function setupExperiment(root: string, config: SimulationConfig, options: SetupOptions = {}): Omit<ExperimentSetup, 'replay' | 'total'> {
  const inputs = options.inputs ? { inputs: options.inputs, source: 'inputs' } : loadInputs(root, config);
  const target = options.fn ? options.fn.name || 'anonymous' : (config.runner.target ?? soleRecordingTarget(config));
  return {
    root,
    config,
    inputs,
    iterations: options.iterations ?? config.iterations,
    harness: {
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
      downstream: { ...(config.replay_args?.downstream ?? DOWNSTREAM_REPLAY_DEFAULTS), ...options.downstream },
      downstreamTargets: config.recording.downstream?.targets ?? [],
    },
  };
}

function soleRecordingTarget(config: SimulationConfig): string {
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
    // Read again for each iteration, so that memory stays flat on a file of any size; the
    // check before the runs has already reported its malformed lines.
    const records = selectRecordings(replay.file, { displayPath: replay.display, select: replay.select, match: replay.match.test, onSkip: () => undefined });
    for await (const record of records) {
      const miss = replay.resolved === replay.count ? undefined : pathMiss(replay, record, target);
      const { index, line, file, function: fn, target: recorded, args, kwargs, params, this: self, id, downstream } = record;
      for (let i = 0; i < inputs.length; i++) {
        if (planned++ >= limit) return;
        yield {
          traceId: randomUUID(),
          iteration,
          inputIndex: i,
          input: inputs[i]!,
          recording: {
            index,
            line,
            file,
            function: fn,
            target: recorded,
            args,
            kwargs,
            params,
            ...(self === undefined ? {} : { this: self }),
            ...(id === undefined ? {} : { id, downstream }),
          },
          path: replay.path.text,
          ...(miss === undefined ? {} : { error: `${describeRecording(replay, record)}: ${miss}` }),
        };
      }
    }
  }
}

/** How many runs the plan makes. */
export function countRuns(setup: Omit<ExperimentSetup, 'total'>, limit = Infinity): number {
  const perIteration = (setup.replay?.count ?? 1) * setup.inputs.inputs.length;
  return Math.min(limit, setup.iterations * perIteration);
}
