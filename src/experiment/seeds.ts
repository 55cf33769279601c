import { ConfigError } from '../config/errors';
import { parseParamPath } from '../config/param-path';
import { projectRelative, replayRecordingFile } from '../config/project';
import type { InputEntry, SimulationConfig } from '../config/types';
import { decodeCall, missMessage } from '../replay/binding';
import { Collectors } from '../replay/collectors';
import { locate, valueAt } from '../replay/paths';
import { recordingMatch } from '../replay/match';
import { selectRecordings } from '../replay/reader';

/** The inputs that variations are made from. */
export interface Seeds {
  inputs: InputEntry[];
  /** `base_inputs`, or the recording file (project-relative). */
  source: string;
  /** Recordings whose value at the path was not a string, and so could not seed a variation. */
  skipped: number;
}

const CONFIG = 'configs/simulation.yaml';

/** `base_inputs`, checked to be there. */
export function configSeeds(config: SimulationConfig): Seeds {
  if (config.base_inputs.length === 0) {
    throw new ConfigError('no base inputs to vary: add base_inputs to configs/simulation.yaml, or take them from your recordings with --from-recording', {
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
  const file = replayRecordingFile(root, config);
  const display = projectRelative(root, file);
  const only = recordingMatch(root, replay.function, config.runner.target);
  const paramPath = parseParamPath(replay.override_param_path);
  const seen = new Map<string, InputEntry>();
  let skipped = 0;
  let records = 0;
  let firstMiss: string | undefined;
  for await (const record of selectRecordings(file, { displayPath: display, select: replay.select, match: only?.test })) {
    records++;
    const call = decodeCall(record, new Collectors(), new Map());
    const params = record.params ?? [];
    const at = locate(paramPath, call, params);
    if (at === undefined) {
      firstMiss ??= `${record.file ?? display}:${record.line}: ${missMessage(paramPath, call, params)}`;
      continue;
    }
    const value = valueAt(call, at);
    if (typeof value !== 'string') {
      skipped++;
      continue;
    }
    const known = seen.get(value);
    if (known) (known.metadata.occurrences as number)++;
    else seen.set(value, { input: value, metadata: { source: 'recording', recording: `${record.file ?? display}:${record.line}`, occurrences: 1 } });
  }
  if (records === 0) {
    throw new ConfigError(`no recordings${only ? ` of ${only.label}` : ''} to take inputs from; record some calls first (fluxloop record enable, then run your app)`, { file: display });
  }
  if (seen.size === 0) {
    const why = firstMiss ?? `the value at ${paramPath.text} is never a string (${skipped} recordings)`;
    throw new ConfigError(`no inputs found at ${paramPath.text} in ${records} recordings: ${why}`, { file: CONFIG, field: 'replay_args.override_param_path' });
  }
  return { inputs: [...seen.values()], source: display, skipped };
}
