import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/errors';
import { parseInputsFile } from '../config/simulation';
import type { InputEntry, SimulationConfig } from '../config/types';
import { INCOMPLETE_MARK } from './inputs-file';

/** Where an experiment's inputs came from, for the summary and messages. */
export interface LoadedInputs {
  inputs: InputEntry[];
  /** The inputs file (project-relative), or `base_inputs`. */
  source: string;
  /** Why the inputs file is incomplete, when generation stopped short of finishing it. */
  incomplete?: string;
}

/** The experiment's inputs: the `inputs` of `inputs_file` when it exists, else `base_inputs`. */
export function loadInputs(root: string, config: SimulationConfig): LoadedInputs {
  const file = path.resolve(root, config.inputs_file);
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read the inputs file (${(error as NodeJS.ErrnoException).code})`, { file: config.inputs_file });
    }
  }
  const loaded = text === undefined ? { inputs: config.base_inputs, source: 'base_inputs' } : { inputs: parseInputsFile(text, config.inputs_file), source: config.inputs_file };
  if (loaded.inputs.length === 0) {
    throw new ConfigError(
      `no inputs to run: ${loaded.source} is empty; add base_inputs to configs/simulation.yaml or run fluxloop generate inputs`,
      { file: text === undefined ? 'configs/simulation.yaml' : config.inputs_file, field: text === undefined ? 'base_inputs' : 'inputs' },
    );
  }
  if (text?.startsWith(INCOMPLETE_MARK)) return { ...loaded, incomplete: text.slice(INCOMPLETE_MARK.length, text.indexOf('\n')).replace(/\.$/, '') };
  return loaded;
}
