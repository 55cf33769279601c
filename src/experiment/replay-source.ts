import { ConfigError } from '../config/errors';
import { parseParamPath, type ParamPath } from '../config/param-path';
import { projectRelative, replayRecordingFile } from '../config/project';
import type { SimulationConfig } from '../config/types';
import type { Param } from '../instrument/params';
import { isBinary } from '../record/decode';
import { rotatedFiles } from '../record/files';
import { decodeCall, missMessage } from '../replay/binding';
import { Collectors } from '../replay/collectors';
import type { LoadedTarget } from '../replay/loader';
import { recordingMatch, tallyOthers, type RecordingMatch } from '../replay/match';
import { locate, valueAt, type CallArgs } from '../replay/paths';
import { ProviderPaths } from '../replay/providers';
import { selectRecordings, type ReplayRecord } from '../replay/reader';
import type { Revive } from '../replay/revive';

// The recordings an experiment replays, checked once before any run. Apart from the plan (which
// reads the inputs, and with them the YAML library): the run threads check them too.

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
  const tally = tallyOthers(source.match);
  const providers = new ProviderPaths(replay, source.display);
  for await (const record of selectRecordings(file, { displayPath: source.display, select: source.select, match: tally.test })) {
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
    const recorded = tally.held();
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

/** Why the override path points nowhere in a recording, or undefined when it resolves. */
export function pathMiss(source: ReplaySource, record: ReplayRecord, target: Pick<LoadedTarget, 'params'>): string | undefined {
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

export function describeRecording(source: ReplaySource, record: ReplayRecord): string {
  return `recording #${record.index} (${record.file ?? source.display}:${record.line}, ${record.target ?? record.function})`;
}

