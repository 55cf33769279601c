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

/** `replay_args`: which recordings an experiment replays, and where each input goes in them. */
export interface ReplayArgsConfig {
  enabled: boolean;
  /** Relative to the project root; the recording file by default. */
  recording_file?: string;
  /** `args.N[.rest]`, `kwargs.NAME[.rest]` or a bare `NAME[.rest]` (meaning `kwargs.NAME`). */
  override_param_path?: string;
  /** A path in the arguments to `builtin:collector.send`, `builtin:collector.error` or `module:function`. */
  callable_providers: Record<string, string>;
  /** `all` recordings, the `first`, the `last`, or the first N. */
  select: 'all' | 'first' | 'last' | number;
  /** Only the recordings of this function name or target. */
  function?: string;
}

export type Isolation = 'shared' | 'fresh' | 'worker';

/** `runner`: how an experiment loads and calls the agent. */
export interface RunnerConfig {
  /** `module:export` or `module:Class.method`; a recording target by default. */
  target?: string;
  /** `module:function` that makes the instance whose method `target` names. */
  factory?: string;
  isolation: Isolation;
  concurrency: number;
  /** Per run. */
  timeout_ms: number;
  retries: number;
}

/** One entry of `base_inputs` or of an inputs file. */
export interface InputEntry {
  input: string;
  metadata: Record<string, unknown>;
}

export interface SimulationConfig {
  /** The experiment's name, the first part of its folder's name. */
  name: string;
  recording: RecordingConfig;
  /** Absent when the section is absent. */
  replay_args?: ReplayArgsConfig;
  runner: RunnerConfig;
  iterations: number;
  /** Where experiment folders go; relative to the project root. */
  output_directory: string;
  /** The generated inputs; relative to the project root. */
  inputs_file: string;
  base_inputs: InputEntry[];
  /** The whole parsed document, for sections a later stage reads. */
  raw: Record<string, unknown>;
}

export const RUNNER_DEFAULTS: RunnerConfig = {
  // Each run gets its own copy of the target module's state at the cost of one module
  // evaluation, so that a first experiment cannot be skewed by runs leaking into each other.
  isolation: 'fresh',
  concurrency: 4,
  timeout_ms: 60_000,
  retries: 0,
};

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
