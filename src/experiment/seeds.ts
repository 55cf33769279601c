import { ConfigError } from '../config/errors';
import { parseParamPath } from '../config/param-path';
import { projectRelative, replayRecordingFile } from '../config/project';
import type { InputEntry, SimulationConfig } from '../config/types';
import { decodeCall, missMessage } from '../replay/binding';
import { Collectors } from '../replay/collectors';
import { locate, valueAt } from '../replay/paths';
import { recordingMatch } from '../replay/match';
import { RecordingFileError, selectRecordings } from '../replay/reader';

/** The inputs that variations are made from. */
export interface Seeds {
  inputs: InputEntry[];
  /** `base_inputs`, or the recording file (project-relative). */
  source: string;
  /** Recordings whose value at the path was not a string, and so could not seed a variation. */
  skipped: number;
  /** For recordings: the path the inputs were read at (`kwargs.message`). */
  path?: string;
  /**
   * `base_inputs` taken where the recordings would have been, had they been usable: why not
   * (`reason`), and whether that looks like a mistake in the config (`mistake`) rather than
   * recordings not made yet or replay turned off.
   */
  fallback?: { reason: string; mistake: boolean };
}

/** Where base inputs come from: `config` (`base_inputs`), `recording`, or by default the recordings when replay is on and they hold some. */
export type SeedChoice = 'config' | 'recording' | 'default';

const CONFIG = 'configs/simulation.yaml';

/**
 * The base inputs. By default they are the recordings' (see {@link recordingSeeds}) when
 * `replay_args.enabled` is true and the recordings hold some, for they are what users really
 * sent; else `base_inputs`, with the reason in `fallback`.
 */
export async function chooseSeeds(root: string, config: SimulationConfig, choice: SeedChoice = 'default'): Promise<Seeds> {
  if (choice === 'config') return configSeeds(config);
  if (choice === 'recording') return recordingSeeds(root, config);
  const replay = config.replay_args;
  const fallBack = (reason: string, mistake = false): Seeds => ({ ...configSeeds(config, reason), fallback: { reason, mistake } });
  if (replay?.enabled !== true) return fallBack('replay_args.enabled is not true; --from-recording takes the recorded messages all the same');
  if (replay.override_param_path === undefined) {
    return fallBack('replay_args.override_param_path is not set; set it to where the message is in the recorded arguments (e.g. kwargs.message) to take the recorded messages', true);
  }
  let scan: Scan;
  try {
    scan = await scanRecordings(root, config, replay.override_param_path);
  } catch (error) {
    // A file not recorded yet; the reader's message says what to do.
    if (error instanceof RecordingFileError) return fallBack(error.message);
    throw error;
  }
  if (scan.records === 0) {
    return fallBack(`nothing recorded in ${scan.display}${scan.only ? ` for ${scan.only.label}` : ''} yet; ${RECORD_FIRST}, and they are taken`);
  }
  if (scan.seen.size === 0) return fallBack(`${noInputs(scan)}; fix replay_args.override_param_path to take the recorded messages`, true);
  return seedsOf(scan);
}

const RECORD_FIRST = 'record some calls first (npx fluxloop record enable, then run your app with node --import fluxloop/register)';

/** `base_inputs`, checked to be there; `fallback` says why the recordings were not taken instead. */
export function configSeeds(config: SimulationConfig, fallback?: string): Seeds {
  if (config.base_inputs.length === 0) {
    const why = fallback === undefined ? '' : ` (the recordings were not taken: ${fallback})`;
    throw new ConfigError(`no base inputs to vary: add base_inputs to configs/simulation.yaml, or take them from your recordings with --from-recording${why}`, {
      file: CONFIG,
      field: 'base_inputs',
    });
  }
  return { inputs: config.base_inputs, source: 'base_inputs', skipped: 0 };
}

/**
 * The distinct strings found at `replay_args.override_param_path` in the recordings, in the order
 * they were first recorded: the messages real users sent. The recordings are those of
 * `replay_args.function`, else of `runner.target`, else all of them.
 */
export async function recordingSeeds(root: string, config: SimulationConfig): Promise<Seeds> {
  const replay = config.replay_args;
  if (replay?.override_param_path === undefined) {
    throw new ConfigError('--from-recording needs replay_args.override_param_path, the place of the input in the recorded arguments (e.g. kwargs.message)', {
      file: CONFIG,
      field: 'replay_args.override_param_path',
    });
  }
  const scan = await scanRecordings(root, config, replay.override_param_path);
  if (scan.records === 0) {
    throw new ConfigError(`no recordings${scan.only ? ` of ${scan.only.label}` : ''} to take inputs from; ${RECORD_FIRST}`, { file: scan.display });
  }
  if (scan.seen.size === 0) throw new ConfigError(noInputs(scan), { file: CONFIG, field: 'replay_args.override_param_path' });
  return seedsOf(scan);
}

/** What the recordings hold at the path. */
interface Scan {
  display: string;
  only: ReturnType<typeof recordingMatch>;
  path: string;
  /** The distinct strings, by text. */
  seen: Map<string, InputEntry>;
  records: number;
  skipped: number;
  /** Where the path first pointed nowhere, and why. */
  firstMiss?: string;
}

async function scanRecordings(root: string, config: SimulationConfig, overridePath: string): Promise<Scan> {
  const replay = config.replay_args!;
  const file = replayRecordingFile(root, config);
  const display = projectRelative(root, file);
  const only = recordingMatch(root, replay.function, config.runner.target);
  const paramPath = parseParamPath(overridePath);
  const scan: Scan = { display, only, path: paramPath.text, seen: new Map(), records: 0, skipped: 0 };
  for await (const record of selectRecordings(file, { displayPath: display, select: replay.select, match: only?.test })) {
    scan.records++;
    const call = decodeCall(record, new Collectors(), new Map());
    const params = record.params ?? [];
    const at = locate(paramPath, call, params);
    if (at === undefined) {
      scan.firstMiss ??= `${record.file ?? display}:${record.line}: ${missMessage(paramPath, call, params)}`;
      continue;
    }
    const value = valueAt(call, at);
    if (typeof value !== 'string') {
      scan.skipped++;
      continue;
    }
    const known = scan.seen.get(value);
    if (known) (known.metadata.occurrences as number)++;
    else scan.seen.set(value, { input: value, metadata: { source: 'recording', recording: `${record.file ?? display}:${record.line}`, occurrences: 1 } });
  }
  return scan;
}

function noInputs(scan: Scan): string {
  const why = scan.firstMiss ?? `the value at ${scan.path} is never a string (${scan.skipped} recordings)`;
  return `no inputs found at ${scan.path} in ${scan.records} recordings: ${why}`;
}

function seedsOf(scan: Scan): Seeds {
  return { inputs: [...scan.seen.values()], source: scan.display, skipped: scan.skipped, path: scan.path };
}
