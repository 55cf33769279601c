import fs from 'node:fs';
import { evaluationConfigPath } from '../config/evaluation';
import { configPath, envPath, projectRootSource, resolveProjectRoot } from '../config/project';
import { recordingMode, type RecordingMode } from '../config/recording-mode';
import { LLM_DEFAULTS } from '../config/types';
import { projectTsx } from '../replay/typescript';
import { fluxloopVersion, versionOf } from '../version';
import { messageOf } from './check';
import { loadContext, recordingFileOf, type Loaded } from './context';

/** A file fluxloop reads, as `fluxloop env` shows it. */
export interface FileInfo {
  path: string;
  exists: boolean;
  /** Why it does not load, when it exists and does not. */
  error?: string;
}

/** Where an LLM key is set; its value is never read into this. */
export type KeyLocation = 'environment' | '.env' | null;

/** `fluxloop env --json`: what a bug report needs to know of the machine and the project. No secret is in it. */
export interface EnvironmentInfo {
  /** This CLI's version. */
  fluxloop: string;
  node: string;
  platform: string;
  project: { root: string; found_by: ReturnType<typeof projectRootSource> };
  files: { simulation: FileInfo; evaluation: FileInfo; env: FileInfo };
  recording: RecordingMode & {
    /** Where records go, as the recorder will resolve it; null when that depends on a config that does not load. */
    file: { path: string; exists: boolean; bytes: number } | null;
  };
  /** What experiments run, from configs/simulation.yaml; null when it does not load. */
  config: { name: string; runner_target: string | null; iterations: number; output_directory: string; inputs_file: string } | null;
  /** The project's own tsx, which TypeScript apps record and replay under. */
  tsx: { installed: boolean; version: string | null };
  /** `OPENAI_API_KEY` and every `api_key_env` the configs name: where each is set, never its value. */
  llm_keys: Array<{ name: string; set: KeyLocation }>;
}

function fileInfo(file: string, loaded?: Loaded<unknown>): FileInfo {
  const exists = fs.existsSync(file);
  return { path: file, exists, ...(exists && loaded && !loaded.ok ? { error: messageOf(loaded.error) } : {}) };
}

/**
 * What `fluxloop env` shows, for the project at `dir` (else `FLUXLOOP_PROJECT_DIR`, else the
 * current directory). Files that do not load are reported, not thrown: this is what one runs when
 * something is wrong.
 */
export function environmentInfo(dir?: string): EnvironmentInfo {
  const root = resolveProjectRoot(dir);
  const ctx = loadContext(root);
  const envValues = ctx.env.ok ? ctx.env.value.values : {};
  const recordingFile = recordingFileOf(ctx);
  const stat = recordingFile === undefined ? undefined : fs.statSync(recordingFile, { throwIfNoEntry: false });
  const tsx = projectTsx(root);
  const config = ctx.config.ok ? ctx.config.value : undefined;
  const evaluation = ctx.evaluation?.ok ? ctx.evaluation.value : undefined;
  const names = new Set(['OPENAI_API_KEY', config?.input_generation.llm.api_key_env ?? LLM_DEFAULTS.api_key_env]);
  if (evaluation) names.add(evaluation.llm.api_key_env);
  if (config?.multi_turn?.enabled) names.add(config.multi_turn.supervisor.llm.api_key_env);
  return {
    fluxloop: fluxloopVersion(),
    node: process.versions.node,
    platform: `${process.platform} ${process.arch}`,
    project: { root, found_by: projectRootSource(dir) },
    files: {
      simulation: fileInfo(configPath(root), ctx.config),
      evaluation: fileInfo(evaluationConfigPath(root), ctx.evaluation),
      env: fileInfo(envPath(root), ctx.env),
    },
    recording: {
      ...recordingMode(envValues),
      file: recordingFile === undefined ? null : { path: recordingFile, exists: stat !== undefined, bytes: stat?.size ?? 0 },
    },
    config: config === undefined ? null : {
      name: config.name,
      runner_target: config.runner.target ?? null,
      iterations: config.iterations,
      output_directory: config.output_directory,
      inputs_file: config.inputs_file,
    },
    tsx: { installed: tsx !== undefined, version: tsx === undefined ? null : (versionOf(tsx) ?? null) },
    // Only whether a value is there is looked at: the value itself is never copied.
    llm_keys: [...names].map((name) => ({ name, set: process.env[name] ? 'environment' : envValues[name] ? '.env' : null })),
  };
}
