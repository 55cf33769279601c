import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/errors';
import { parseInputLines, parseInputsFile } from '../config/simulation';
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

/** The inputs file as `fluxloop list inputs` shows it. */
export interface InputsListing {
  /** The config's inputs_file, absolute. */
  file: string;
  exists: boolean;
  inputs: Array<{ index: number; line: number; input: string; metadata: Record<string, unknown> | null }>;
}

/** The entries of the config's inputs file, each with its line; none when the file does not exist. */
export function listInputs(root: string, config: SimulationConfig): InputsListing {
  const file = path.resolve(root, config.inputs_file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { file, exists: false, inputs: [] };
    throw new ConfigError(`cannot read the inputs file (${code})`, { file: config.inputs_file });
  }
  const inputs = parseInputLines(text, config.inputs_file).map(({ input, metadata, line }, index) => ({
    index,
    line,
    input,
    metadata: Object.keys(metadata).length > 0 ? metadata : null,
  }));
  return { file, exists: true, inputs };
}
