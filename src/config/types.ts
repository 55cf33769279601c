/** The parts of `configs/simulation.yaml` that the recorder reads. Other sections are kept in `raw`. */
export interface RecordingConfig {
  /** `path/to/module.js:exportName`, `path:export.method`, `path:Class.method` or `path:default`. */
  targets: string[];
  /** Where records go; relative to the project root. `FLUXLOOP_RECORDING_FILE` wins over it. */
  file?: string;
  /** Extra key words whose values are masked, on top of the built-in ones. */
  redact_keys: string[];
  /** Extra regular expressions (source text) whose matches in string values are masked. */
  redact_patterns: string[];
  max_depth: number;
  max_array_length: number;
  max_string_length: number;
  max_record_bytes: number;
}

export interface ReplayArgsConfig {
  enabled?: boolean;
  recording_file?: string;
  override_param_path?: string;
  callable_providers?: Record<string, string>;
  [key: string]: unknown;
}

export interface SimulationConfig {
  recording: RecordingConfig;
  replay_args?: ReplayArgsConfig;
  runner?: Record<string, unknown>;
  /** The whole parsed document, for sections a later stage reads. */
  raw: Record<string, unknown>;
}

export const RECORDING_DEFAULTS: Omit<RecordingConfig, 'targets'> = {
  redact_keys: [],
  redact_patterns: [],
  max_depth: 12,
  max_array_length: 1000,
  max_string_length: 20_000,
  max_record_bytes: 1_000_000,
};

/** A configured target, split into its parts. */
export interface TargetSpec {
  /** The text as configured, e.g. `app/agent.js:Agent.reply`. */
  spec: string;
  /** The module path as configured, relative to the project root. */
  file: string;
  /** The export name: a named export, or `default`. */
  exportName: string;
  /** The method of an exported object or class, when the spec has one. */
  member?: string;
}
