// The shapes of what `fluxloop … --json` prints, as far as the extension reads them. The CLI owns
// them; the fields here are the ones the extension shows, so a field the CLI adds costs nothing.

export interface RecordingFile {
  path: string;
  records: number;
  bytes: number;
}

/** `fluxloop record status --json`. */
export interface RecordStatus {
  project_root: string;
  mode: 'enabled' | 'disabled';
  source: string;
  environment_overrides_env_file: boolean;
  recording_file: RecordingFile & { exists: boolean };
  /** Oldest first. */
  rotated_files: RecordingFile[];
  total: { files: number; records: number; bytes: number };
  targets: { target: string; state: string; calls: number | null }[];
  env_file: { path: string; exists: boolean };
  config_file: { path: string; exists: boolean };
  notes: string[];
}

/** `fluxloop env --json`. */
export interface EnvInfo {
  fluxloop: string;
  node: string;
  recording: { mode: 'enabled' | 'disabled'; source: string };
  /** The run settings the Configuration section shows, when the CLI prints them. */
  config?: { runner_target?: string | null; iterations?: number | null } | null;
}

/** `fluxloop run experiment --dry-run --json`, where the runner and iterations also show. */
export interface DryRun {
  target?: string;
  setup?: { iterations?: number };
}

/** `fluxloop list experiments --json`. */
export interface ExperimentList {
  output_directory: string;
  experiments: Experiment[];
}

export interface Experiment {
  dir: string;
  name: string;
  experiment: string | null;
  started_at: string | null;
  finished_at: string | null;
  ended: string | null;
  total_runs: number | null;
  planned_runs: number | null;
  success_rate: number | null;
  pass_rate: number | null;
  report: string | null;
  files: string[];
}

/** `fluxloop list inputs --json`. */
export interface InputList {
  file: string;
  exists: boolean;
  inputs: InputEntry[];
}

export interface InputEntry {
  index: number;
  line: number;
  input: string;
  metadata: Record<string, unknown> | null;
}

/** `fluxloop evaluate experiment --json`. */
export interface Evaluation {
  experiment_dir?: string;
  experiment?: string;
  total: number;
  passed: number;
  failed: number;
  pass_rate: number;
  gate?: { min_pass_rate: number; source: string; passed: boolean } | null;
  files?: { report?: string | null };
}

/** `fluxloop run experiment --evaluate --json`: the run summary, and its evaluation. */
export interface RunResult {
  experiment_dir: string;
  name?: string;
  ended?: string;
  total_runs?: number;
  planned_runs?: number;
  counts?: Record<string, number>;
  success_rate?: number | null;
  evaluation?: Evaluation | null;
}

/** `fluxloop doctor --json`. */
export interface DoctorReport {
  ok: boolean;
  checks: { id: string; title: string; status: 'ok' | 'warn' | 'fail' | 'skip'; detail: string; fix?: string }[];
}

/** `fluxloop record add … --json`. */
export interface RecordAdd {
  target: string;
  added: boolean;
  config_file: string;
  message: string;
}
