import fs from 'node:fs';
import path from 'node:path';
import type { SimulationConfig } from './types.js';

/** Where records go when neither the environment nor the config says otherwise. */
export const DEFAULT_RECORDING_FILE = 'recordings/args_recording.jsonl';

/** The project root as an absolute path: `dir`, else `FLUXLOOP_PROJECT_DIR`, else the current directory. */
export function resolveProjectRoot(dir?: string): string {
  return path.resolve(dir ?? process.env.FLUXLOOP_PROJECT_DIR ?? process.cwd());
}

/** How {@link resolveProjectRoot} found the root: the option, the variable, or the current directory. */
export function projectRootSource(dir?: string): '--project-dir' | 'FLUXLOOP_PROJECT_DIR' | 'current directory' {
  return dir !== undefined ? '--project-dir' : process.env.FLUXLOOP_PROJECT_DIR !== undefined ? 'FLUXLOOP_PROJECT_DIR' : 'current directory';
}

/** The project's `.env` file. */
export function envPath(root: string): string {
  return path.join(root, '.env');
}

/** What fluxloop keeps for itself in a project (`.fluxloop/<name>`): status, caches. */
export function stateDir(root: string, name: string): string {
  return path.join(root, '.fluxloop', name);
}

/** The project's `configs/simulation.yaml`. */
export function configPath(root: string): string {
  return path.join(root, 'configs', 'simulation.yaml');
}

/**
 * The absolute path of the recording file: `FLUXLOOP_RECORDING_FILE`, else `recording.file`,
 * else the default. Relative paths are taken from the project root, so that the recorder and the
 * CLI agree wherever each of them was started from.
 */
export function resolveRecordingFile(
  root: string,
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
  config?: Pick<SimulationConfig, 'recording'>,
): string {
  const fromEnv = env.FLUXLOOP_RECORDING_FILE?.trim();
  const chosen = fromEnv || config?.recording.file || DEFAULT_RECORDING_FILE;
  return path.resolve(root, chosen);
}

/** The recordings an experiment replays: `replay_args.recording_file`, else where the recorder writes. */
export function replayRecordingFile(root: string, config: SimulationConfig): string {
  const file = config.replay_args?.recording_file;
  return file ? path.resolve(root, file) : resolveRecordingFile(root, process.env, config);
}

/** A path as shown to the user: relative to the project root with `/` when inside it, else absolute. */
export function projectRelative(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}

/** Whether a `FLUXLOOP_RECORD_ARGS` value turns recording on: `true` or `1`, any case. */
export function isRecordingEnabled(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === 'true' || v === '1';
}

const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.tsx', '/index.js', '/index.ts'];

/** The real path of a module file, trying the extensions Node and tsx would. */
export function findModule(file: string): string | undefined {
  const found = moduleFile(file);
  return found === undefined ? undefined : fs.realpathSync(found);
}

/** The module file that `file` names, trying the extensions Node and tsx would, with its links as written. */
export function moduleFile(file: string): string | undefined {
  for (const ext of EXTENSIONS) {
    try {
      if (fs.statSync(file + ext).isFile()) return file + ext;
    } catch {
      // Try the next form.
    }
  }
  return undefined;
}

const TWINS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'], '.jsx': ['.tsx'] };

/**
 * The TypeScript file that a JavaScript path which is not there stands for: TypeScript's own
 * imports write `./agent.js` for `agent.ts`, and a target is easily written the same way.
 */
export function typeScriptTwin(file: string): string | undefined {
  const ext = path.extname(file);
  return (TWINS[ext] ?? []).map((twin) => file.slice(0, -ext.length) + twin).find((twin) => fs.statSync(twin, { throwIfNoEntry: false })?.isFile());
}

/** Whether Node loads `file` as CommonJS: by extension, else by the nearest package.json's `type`. */
export function isCommonJs(file: string): boolean {
  if (/\.c[jt]s$/.test(file)) return true;
  if (/\.m[jt]s$/.test(file)) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: string };
      return pkg.type !== 'module';
    } catch {
      if (path.dirname(dir) === dir) return true;
    }
  }
}
