import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config/errors';
import { parseParamPath, type ParamPath } from '../config/param-path';
import { projectRelative, replayRecordingFile } from '../config/project';
import type { InputEntry, SimulationConfig } from '../config/types';
import { decodeCall, missMessage } from '../replay/binding';
import { Collectors } from '../replay/collectors';
import type { RunPlan } from '../replay/execute';
import type { HarnessOptions } from '../replay/harness';
import type { LoadedTarget } from '../replay/loader';
import { locate } from '../replay/paths';
import { recordingFilter, selectRecordings, type ReplayRecord } from '../replay/reader';
import { loadInputs, type LoadedInputs } from './inputs';

/** Which recordings an experiment replays, checked. */
export interface ReplaySource {
  /** Absolute path. */
  file: string;
  /** Project-relative, for messages. */
  display: string;
  path: ParamPath;
  select: NonNullable<SimulationConfig['replay_args']>['select'];
  /** `replay_args.function`, else the runner target and its function's name, so that records of other targets are left out. */
  function: string[];
  /** How many recordings are selected. */
  count: number;
  /** How many of them the path resolves in; the others become runs with status `error`. */
  resolved: number;
}

/** Everything decided before the first run. */
export interface ExperimentSetup {
  root: string;
  config: SimulationConfig;
  inputs: LoadedInputs;
  /** Absent when the experiment runs on inputs alone. */
  replay?: ReplaySource;
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
      traceTargets: config.recording.targets,
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
 * Streams the selected recordings once, before any run, and checks the override path in each.
 * Exit 2 (a ConfigError) when there are none, or when the path resolves in none of them, naming
 * the path, a recording and the paths that do exist in it.
 */
export async function checkRecordings(root: string, config: SimulationConfig, targetSpec: string, target: LoadedTarget): Promise<ReplaySource | undefined> {
  const replay = config.replay_args;
  if (replay === undefined || !replay.enabled) return undefined;
  if (replay.override_param_path === undefined) {
    throw new ConfigError('replay_args.enabled is true but override_param_path is not set; say where each input goes, e.g. kwargs.message', {
      file: 'configs/simulation.yaml',
      field: 'replay_args.override_param_path',
    });
  }
  const file = replayRecordingFile(root, config);
  const source: ReplaySource = {
    file,
    display: projectRelative(root, file),
    path: parseParamPath(replay.override_param_path),
    select: replay.select,
    function: recordingFilter(replay.function, targetSpec)!,
    count: 0,
    resolved: 0,
  };
  let firstMiss: string | undefined;
  for await (const record of selectRecordings(file, { displayPath: source.display, select: source.select, function: source.function })) {
    source.count++;
    const miss = pathMiss(source, record, target);
    if (miss === undefined) source.resolved++;
    else firstMiss ??= `${describeRecording(source, record)}: ${miss}`;
  }
  if (source.count === 0) {
    const which = replay.function ?? targetSpec;
    throw new ConfigError(
      `no recordings of ${which} to replay; record some calls first (fluxloop record enable, then run your app with node --import fluxloop/register), or choose the recorded function with replay_args.function`,
      { file: source.display },
    );
  }
  if (source.resolved === 0) throw new ConfigError(firstMiss!, { file: 'configs/simulation.yaml', field: 'replay_args.override_param_path' });
  return source;
}

/** Why the override path points nowhere in a recording, or undefined when it resolves. */
export function pathMiss(source: ReplaySource, record: ReplayRecord, target: LoadedTarget): string | undefined {
  const call = decodeCall(record, new Collectors(), new Map());
  const params = record.params?.length ? record.params : target.params;
  return locate(source.path, call, params) === undefined ? missMessage(source.path, call, params) : undefined;
}

function describeRecording(source: ReplaySource, record: ReplayRecord): string {
  return `recording #${record.index} (${source.display}:${record.line}, ${record.target ?? record.function})`;
}

/** The runs in order: iterations × recordings × inputs, streamed, at most `limit`. */
export async function* planRuns(setup: ExperimentSetup, target: LoadedTarget, limit = Infinity): AsyncGenerator<RunPlan> {
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
    const records = selectRecordings(replay.file, { displayPath: replay.display, select: replay.select, function: replay.function, onSkip: () => undefined });
    for await (const record of records) {
      const miss = replay.resolved === replay.count ? undefined : pathMiss(replay, record, target);
      const { index, line, function: fn, target: recorded, args, kwargs, params } = record;
      for (let i = 0; i < inputs.length; i++) {
        if (planned++ >= limit) return;
        yield {
          traceId: randomUUID(),
          iteration,
          inputIndex: i,
          input: inputs[i]!,
          recording: { index, line, function: fn, target: recorded, args, kwargs, params },
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
