import fs from 'node:fs';
import { readEnvFile } from '../config/env';
import { configPath, envPath, projectRelative, resolveRecordingFile } from '../config/project';
import { loadEvaluationConfig } from '../config/evaluation';
import { loadSimulationConfig } from '../config/simulation';
import type { EvaluationConfig, SimulationConfig } from '../config/types';

/** A file read for the checks, or why it could not be. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The project's files, each read once and shared by the checks that need them. */
export interface DoctorContext {
  root: string;
  env: Loaded<{ exists: boolean; values: Record<string, string> }>;
  config: Loaded<SimulationConfig>;
  /** Undefined when the simulation config, which it builds on, does not load. */
  evaluation?: Loaded<EvaluationConfig>;
  configExists: boolean;
}

function attempt<T>(read: () => T): Loaded<T> {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function loadContext(root: string): DoctorContext {
  const config = attempt(() => loadSimulationConfig(root));
  return {
    root,
    env: attempt(() => readEnvFile(envPath(root), projectRelative(root, envPath(root)))),
    config,
    evaluation: config.ok ? attempt(() => loadEvaluationConfig(root)) : undefined,
    configExists: fs.existsSync(configPath(root)),
  };
}

/** The variables as the recorder sees them: the environment wins over .env. */
function effectiveEnv(ctx: DoctorContext): Record<string, string | undefined> {
  return { ...(ctx.env.ok ? ctx.env.value.values : {}), ...process.env };
}

/**
 * Where the recorder writes, as it will resolve it; undefined when that depends on a config that
 * does not load (FLUXLOOP_RECORDING_FILE decides without it).
 */
export function recordingFileOf(ctx: DoctorContext): string | undefined {
  const env = effectiveEnv(ctx);
  if (ctx.config.ok) return resolveRecordingFile(ctx.root, env, ctx.config.value);
  return env.FLUXLOOP_RECORDING_FILE?.trim() ? resolveRecordingFile(ctx.root, env) : undefined;
}

/** The config file's path as shown to the user. */
export function configLabel(ctx: DoctorContext): string {
  return projectRelative(ctx.root, configPath(ctx.root));
}
