import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

export const REPO = path.resolve(__dirname, '../..');

/**
 * Copies a fixture app into a fresh temporary project, with fluxloop (and tsx) installed the way
 * a user has them: as packages in its node_modules, here links to this repository. `packages`
 * names more of this repository's installed packages (e.g. `express`) to link in the same way.
 */
export function project(fixture: string, packages: string[] = []): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fluxloop-${fixture}-`));
  fs.cpSync(path.join(REPO, 'fixtures', fixture), dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(REPO, path.join(dir, 'node_modules', 'fluxloop'), 'dir');
  for (const name of ['tsx', ...packages]) {
    // A scoped package (`@hono/node-server`) goes in its scope's folder.
    fs.mkdirSync(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true });
    fs.symlinkSync(path.join(REPO, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  }
  return dir;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Extra node flags before the preload, e.g. `--import tsx`. */
  nodeArgs?: string[];
  preload?: boolean;
  timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * A getter of one project of `fixture` whose app has run once, recording (per test worker: the
 * files of a worker share it); `check` looks at that run. Tests copy its recordings rather than
 * run the app again for each.
 */
export function recordedOnce(fixture: string, check: (run: Run) => void, script = 'app/main.js'): () => Promise<string> {
  let made: Promise<string> | undefined;
  return () =>
    (made ??= (async () => {
      const dir = project(fixture);
      check(await runApp(dir, script));
      return dir;
    })());
}

/** `node --import fluxloop/register <script>` in the project, recording on unless env says otherwise. */
export function runApp(dir: string, script: string, options: RunOptions = {}): Promise<Run> {
  const args = [...(options.nodeArgs ?? []), ...(options.preload === false ? [] : ['--import', 'fluxloop/register']), script];
  // The test runner's own FLUXLOOP_* variables must not leak into the app under test.
  // A collector set in the developer's environment would get every test's runs.
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXLOOP_') && !key.startsWith('OTEL_EXPORTER_OTLP_'));
  const env: Record<string, string | undefined> = { ...Object.fromEntries(inherited), FLUXLOOP_RECORD_ARGS: 'true', ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}

/** A fixture app run twice, plain (no preload, recording off) then recorded, with `env` given to both. */
export async function recordTwice(dir: string, script = 'app/main.js', env: Record<string, string> = {}): Promise<{ plain: Run; recorded: Run }> {
  const plain = await runApp(dir, script, { preload: false, env: { ...env, FLUXLOOP_RECORD_ARGS: undefined } });
  const recorded = await runApp(dir, script, { env });
  return { plain, recorded };
}

/** The recorded run of recordTwice exited 0, wrote nothing to stderr and printed what the plain run printed. */
export function expectSameRun(plain: Run, recorded: Run): void {
  expect(recorded.stderr).toBe('');
  expect(recorded.code).toBe(0);
  expect(recorded.stdout).toBe(plain.stdout);
}

export interface RecordLine {
  _version: string;
  function: string;
  target: string;
  iteration: number;
  /** Present when downstream calls are recorded: what the record's children name as `parent`. */
  id?: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** The instance a method was called on, encoded. */
  this?: unknown;
  params: unknown[];
  timestamp: string;
  meta: { pid: number };
}

export function recordingPath(dir: string): string {
  return path.join(dir, 'recordings', 'args_recording.jsonl');
}

/** Every line of the recording, parsed; a line that is not JSON fails the test. */
/** The records of the recording file: its recorded calls, without the lines of their downstream calls. */
export function readRecords(dir: string, file = recordingPath(dir)): RecordLine[] {
  return readLines(file).filter((line) => !isChildLine(line)) as unknown as RecordLine[];
}

/** The lines of the downstream calls (children) in the recording file, in the order they were written. */
export function readChildren(dir: string, file = recordingPath(dir)): ChildLine[] {
  return readLines(file).filter(isChildLine) as unknown as ChildLine[];
}

/** A downstream call's line: a child record plus the line's `_version`, `timestamp` and `meta`. */
export type ChildLine = import('../../src/record/downstream-format').ChildRecord & { _version: string; timestamp: string; meta: { pid: number } };

function readLines(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  expectWholeLines(text);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function isChildLine(line: Record<string, unknown>): boolean {
  return typeof line.parent === 'string' && typeof line.kind === 'string';
}

function expectWholeLines(text: string): void {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the recording ends in a partial line');
}

export function byTarget(records: RecordLine[], target: string): RecordLine[] {
  return records.filter((r) => r.target === target);
}

export interface TargetRow {
  target: string;
  state: string;
  calls: number | null;
  reason?: string | null;
  mechanism?: 'transform' | 'patch' | null;
  line?: number | null;
  source?: string | null;
}

/** What `fluxloop record status --json` says of the project's targets. */
export function statusTargets(dir: string): TargetRow[] {
  const cli = spawnSync(process.execPath, [path.join(REPO, 'bin', 'fluxloop.js'), 'record', 'status', '--json', '--project-dir', dir], { encoding: 'utf8' });
  if (cli.status !== 0) throw new Error(`fluxloop record status failed: ${cli.stderr}`);
  return JSON.parse(cli.stdout).targets;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `fluxloop <args> --project-dir <dir>` run from the project, with none of the test runner's FLUXLOOP_* variables. */
export function runCli(dir: string, args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliRun> {
  // A collector set in the developer's environment would get every test's runs.
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXLOOP_') && !key.startsWith('OTEL_EXPORTER_OTLP_'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'fluxloop.js'), ...args, '--project-dir', dir], {
      cwd: dir,
      // CI=true turns picocolors' colours on; the tests read plain text.
      env: { ...Object.fromEntries(inherited), NO_COLOR: '1', ...env } as NodeJS.ProcessEnv,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An experiment folder read back: JSON whose shape the tests assert on. */
export interface Experiment {
  dir: string;
  summary: any;
  traces: any[];
  observations: any[];
  errors: any[];
}

/** The one experiment folder under `<dir>/<base>`, its files parsed; none or several fail the test. */
export function readExperiment(dir: string, base = 'experiments'): Experiment {
  const folders = fs.existsSync(path.join(dir, base)) ? fs.readdirSync(path.join(dir, base)) : [];
  if (folders.length !== 1) throw new Error(`expected one experiment folder in ${base}, found ${folders.length}`);
  const folder = path.join(dir, base, folders[0]!);
  const lines = (file: string) => {
    const text = fs.readFileSync(path.join(folder, file), 'utf8');
    expectWholeLines(text);
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  };
  const json = (file: string) => JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8'));
  return { dir: folder, summary: json('summary.json'), traces: lines('traces.jsonl'), observations: lines('observations.jsonl'), errors: json('errors.json') };
}

export interface ReplayConfig {
  /** The targets the recording config lists. */
  targets: string[];
  /** The target the runner calls. */
  target: string;
  /** Where each input goes (`override_param_path`). */
  path: string;
  inputs: string[];
  /** The target whose records are replayed, when not `target` (a variant of a function on the function's records). */
  from?: string;
  /** More `replay_args` keys, e.g. `function` or `select`. */
  replayArgs?: Record<string, unknown>;
}

/**
 * Writes configs/simulation.yaml (JSON is YAML) to replay `target` on the records of `from` (itself
 * by default) alone, from the project's one recording file: records are chosen by their target.
 */
export function writeReplayConfig(dir: string, config: ReplayConfig): void {
  const { targets, target, path: overridePath, inputs, from = target, replayArgs } = config;
  const simulation = {
    recording: { targets },
    runner: { target },
    replay_args: { enabled: true, override_param_path: overridePath, ...(from === target ? {} : { function: from }), ...replayArgs },
    base_inputs: inputs,
  };
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), JSON.stringify(simulation, null, 2) + '\n');
}

/** Replays one target: writes its config, runs `fluxloop run experiment --output <name>` (with `env`), and reads the experiment back. */
export async function replayTarget(dir: string, options: ReplayConfig & { name: string; env?: Record<string, string> }): Promise<Experiment> {
  writeReplayConfig(dir, options);
  const run = await runCli(dir, ['run', 'experiment', '--output', options.name], options.env);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return readExperiment(dir, options.name);
}
