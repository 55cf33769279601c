import { randomUUID } from 'node:crypto';
import { ConfigError } from '../config/errors';
import { parseParamPath, type ParamPath } from '../config/param-path';
import { projectRelative, replayRecordingFile } from '../config/project';
import type { InputEntry, SimulationConfig } from '../config/types';
import type { Param } from '../instrument/params';
import { isBinary } from '../record/decode';
import { countRecords, recordingFiles, rotatedFiles } from '../record/files';
import { redactRules } from '../record/redact-json';
import { decodeCall, missMessage } from '../replay/binding';
import { Collectors } from '../replay/collectors';
import type { RunPlan } from '../replay/execute';
import type { HarnessOptions } from '../replay/harness';
import type { LoadedTarget } from '../replay/loader';
import { recordingMatch, type RecordingMatch } from '../replay/match';
import { locate, valueAt, type CallArgs } from '../replay/paths';
import { ProviderPaths } from '../replay/providers';
import { selectRecordings, type ReplayRecord } from '../replay/reader';
import type { Revive } from '../replay/revive';
import { loadInputs, type LoadedInputs } from './inputs';

/** Which recordings an experiment replays, checked. */
export interface ReplaySource {
  /** Absolute path. */
  file: string;
  /** Project-relative, for messages. */
  display: string;
  path: ParamPath;
  select: NonNullable<SimulationConfig['replay_args']>['select'];
  /** The recordings of `replay_args.function`, else of the runner target (by identity), so that records of other targets are left out. */
  match: RecordingMatch;
  /** How many of the selected recordings name no module, and so were matched by their function's name. */
  byName: number;
  /** How many recordings are selected. */
  count: number;
  /** How many of them the path resolves in; the others become runs with status `error`. */
  resolved: number;
  /** Classes whose recorded instances (outside the providers' paths) come back as plain data: no class was found for them. */
  plainClasses: string[];
  /** The class of a `Class.method` target without `runner.factory`, whose instance each run makes from its recording. */
  instanceClass?: string;
  /** How many recordings keep no instance, so that their runs call the method on `new Class()`. */
  withoutInstance: number;
  /** How many files `file` was rotated to (`recording.max_file_mb`); their records are read first. */
  rotated: number;
}

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
export async function checkRecordings(root: string, config: SimulationConfig, targetSpec: string, target: LoadedTarget, revive?: Revive): Promise<ReplaySource | undefined> {
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
    match: recordingMatch(root, replay.function, targetSpec)!,
    byName: 0,
    count: 0,
    resolved: 0,
    plainClasses: [],
    withoutInstance: 0,
    rotated: rotatedFiles(file).length,
    ...(target.cls === undefined ? {} : { instanceClass: target.cls.name }),
  };
  const plain = new Set<string>();
  const live = [...Object.keys(replay.providers), ...Object.keys(replay.callable_providers)].map((text) => parseParamPath(text));
  let firstMiss: string | undefined;
  // The targets the file has besides, so that a miss can name them.
  const others = new Map<string, number>();
  const test = (record: ReplayRecord) => {
    if (source.match.test(record)) return true;
    const name = record.target ?? record.function;
    if (others.size < 50 || others.has(name)) others.set(name, (others.get(name) ?? 0) + 1);
    return false;
  };
  const providers = new ProviderPaths(replay, source.display);
  for await (const record of selectRecordings(file, { displayPath: source.display, select: source.select, match: test })) {
    source.count++;
    const params = record.params?.length ? record.params : target.params;
    // Decoded once, for every check: the classes it leaves plain, the providers' paths, the override path.
    const unrevived = new Map<object, string>();
    const call = decodeCall(record, new Collectors(), new Map(), [], { revive, unrevived: (name, value) => unrevived.set(value, name) });
    for (const name of plainOutside(call, params, live, unrevived)) plain.add(name);
    providers.see(record, params, call);
    const miss = missIn(source.path, call, params);
    if (target.cls !== undefined && record.this === undefined) source.withoutInstance++;
    if (miss === undefined) source.resolved++;
    else firstMiss ??= `${describeRecording(source, record)}: ${miss}`;
  }
  source.byName = source.match.byName;
  source.plainClasses = [...plain];
  if (source.count === 0) {
    const recorded = [...others].slice(0, 10).map(([name, n]) => `${name} (${n})`);
    throw new ConfigError(
      `no recordings of ${source.match.label} to replay; ` +
        (recorded.length > 0
          ? `the file holds recordings of ${recorded.join(', ')}: choose one with runner.target or --target`
          : 'record some calls first (fluxloop record enable, then run your app with node --import fluxloop/register)'),
      { file: source.display },
    );
  }
  if (source.resolved === 0) throw new ConfigError(firstMiss!, { file: 'configs/simulation.yaml', field: 'replay_args.override_param_path' });
  await providers.finish(source.count);
  return source;
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

/** Why the override path points nowhere in a recording, or undefined when it resolves. */
function pathMiss(source: ReplaySource, record: ReplayRecord, target: Pick<LoadedTarget, 'params'>): string | undefined {
  return missIn(source.path, decodeCall(record, new Collectors(), new Map()), record.params?.length ? record.params : target.params);
}

function missIn(path: ParamPath, call: CallArgs, params: readonly Param[]): string | undefined {
  return locate(path, call, params) === undefined ? missMessage(path, call, params) : undefined;
}

/** The classes of the instances left as plain data, but for those at the `live` paths, where providers put live values. */
function plainOutside(call: CallArgs, params: readonly Param[], live: readonly ParamPath[], unrevived: Map<object, string>): Iterable<string> {
  for (const path of live) {
    const at = locate(path, call, params);
    if (at !== undefined) forEachObject(valueAt(call, at), (o) => unrevived.delete(o));
  }
  return unrevived.values();
}

/** Calls `fn` with `value` and every object inside it; a walk with a stack of its own (any depth), never into bytes, whose keys are their bytes. */
function forEachObject(value: unknown, fn: (o: object) => void): void {
  const seen = new Set<object>();
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    fn(v);
    if (isBinary(v)) continue;
    for (const key of Object.keys(v)) stack.push((v as Record<string, unknown>)[key]);
  }
}

function describeRecording(source: ReplaySource, record: ReplayRecord): string {
  return `recording #${record.index} (${record.file ?? source.display}:${record.line}, ${record.target ?? record.function})`;
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
      const { index, line, file, function: fn, target: recorded, args, kwargs, params, this: self } = record;
      for (let i = 0; i < inputs.length; i++) {
        if (planned++ >= limit) return;
        yield {
          traceId: randomUUID(),
          iteration,
          inputIndex: i,
          input: inputs[i]!,
          recording: { index, line, file, function: fn, target: recorded, args, kwargs, params, ...(self === undefined ? {} : { this: self }) },
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
