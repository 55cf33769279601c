import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { readEnvFile, setEnvValue } from '../config/env.js';
import { ConfigError } from '../config/errors.js';
import { configPath, envPath, isRecordingEnabled, projectRelative, resolveRecordingFile } from '../config/project.js';
import { loadSimulationConfig, setConfigValue } from '../config/simulation.js';
import type { SimulationConfig } from '../config/types.js';
import { addTarget } from '../config/add-target.js';
import { isLineTarget, parseTarget } from '../config/targets.js';
import type { Position, TargetAt } from '../instrument/transform/target-at.js';
import { RECORD_KEY, recordingMode, recordingModeOrigin, type RecordingMode } from '../config/recording-mode.js';
import { readLastRun, type TargetState, type TargetStatus } from '../instrument/status.js';
import { describeRecordingFiles, type RecordingFileInfo } from '../record/files.js';
import { EXIT_FAILURE, colors, print, existingProjectRootOf, table, warn } from './output.js';
import { formatBytes } from '../experiment/format';

/** The project's files, read and checked before anything is changed. */
interface Project {
  root: string;
  envFile: string;
  envExists: boolean;
  envValues: Record<string, string>;
  configFile: string;
  configExists: boolean;
  config: SimulationConfig;
  /** Where records go, as the recorder will resolve it: the environment wins over .env. */
  recordingFile: string;
}

function loadProject(root: string): Project {
  const envFile = envPath(root);
  const env = readEnvFile(envFile, projectRelative(root, envFile));
  const config = loadSimulationConfig(root);
  const configFile = configPath(root);
  return {
    root,
    envFile,
    envExists: env.exists,
    envValues: env.values,
    configFile,
    configExists: fs.existsSync(configFile),
    config,
    recordingFile: resolveRecordingFile(root, { ...env.values, ...process.env }, config),
  };
}

/** Why the project may not record what the user expects, beyond the switch itself. */
function notes(project: Project): string[] {
  const found: string[] = [];
  if (project.config.recording.targets.length === 0) {
    found.push(
      project.configExists
        ? `no recording.targets in ${projectRelative(project.root, project.configFile)}: nothing will be recorded`
        : `no ${projectRelative(project.root, project.configFile)} (run \`fluxloop init\`): nothing will be recorded`,
    );
  }
  const replayFile = project.config.replay_args?.recording_file;
  if (typeof replayFile === 'string' && path.resolve(project.root, replayFile) !== project.recordingFile) {
    found.push(`replay_args.recording_file (${replayFile}) is not the file records go to (${project.recordingFile})`);
  }
  return found;
}

/** How to start the app so that the recorder finds this project. */
function runCommand(root: string): string {
  const prefix = path.resolve(process.cwd()) === root ? '' : `FLUXLOOP_PROJECT_DIR=${JSON.stringify(root)} `;
  return `${prefix}node --import fluxloop/register your/app.js`;
}

/**
 * Turns recording on or off in .env. Turning it on turns replay on too (`replay_args.enabled`, when
 * the config exists), so that the next experiment replays what is recorded; turning it off leaves
 * replay alone unless `disableReplay`, since the recordings made so far are still worth replaying.
 */
function switchRecording(root: string, enabled: boolean, disableReplay = false): void {
  const project = loadProject(root);
  const envLabel = projectRelative(root, project.envFile);
  const configLabel = projectRelative(root, project.configFile);
  const rows: string[][] = [];

  const envText = project.envExists ? fs.readFileSync(project.envFile, 'utf8') : '';
  const nextEnv = setEnvValue(envText, RECORD_KEY, String(enabled));
  if (nextEnv !== envText) {
    fs.writeFileSync(project.envFile, nextEnv, project.envExists ? undefined : { mode: 0o600 });
  }
  rows.push([envLabel, `${RECORD_KEY}=${enabled}`, project.envExists ? '' : colors.dim('(created)')]);

  const replay = enabled || disableReplay ? enabled : undefined;
  if (project.configExists && replay !== undefined) {
    const configText = fs.readFileSync(project.configFile, 'utf8');
    const nextConfig = setConfigValue(configText, ['replay_args', 'enabled'], replay, configLabel);
    if (nextConfig !== configText) fs.writeFileSync(project.configFile, nextConfig);
    rows.push([configLabel, `replay_args.enabled: ${replay}`, '']);
  } else if (replay !== undefined) {
    rows.push([configLabel, colors.dim('not found, left alone (`fluxloop init` creates it)'), '']);
  } else if (project.config.replay_args?.enabled === true) {
    rows.push([configLabel, 'replay_args.enabled: true, left on: experiments still replay the recordings (--disable-replay turns it off)', '']);
  }

  if (enabled) {
    // The recorder appends to the file; its folder has to exist before the app starts.
    fs.mkdirSync(path.dirname(project.recordingFile), { recursive: true });
    rows.push(['recording file', project.recordingFile, '']);
  }

  print(enabled ? colors.green('Recording enabled.') : 'Recording disabled.', '', ...table(rows, '  '));

  const fromEnvironment = process.env[RECORD_KEY];
  if (fromEnvironment !== undefined && isRecordingEnabled(fromEnvironment) !== enabled) {
    warn(`${RECORD_KEY}=${fromEnvironment} is set in this shell and overrides .env; unset it for this change to take effect`);
  }
  if (enabled) {
    for (const note of notes(project)) warn(note);
    print('', 'Run your app with:', `  ${runCommand(root)}`);
  }
}


interface TargetRow {
  target: string;
  state: TargetState | 'no_run_yet';
  calls: number | null;
  reason: string | null;
  /** `transform` (its source rewritten at load) or `patch` (its module's exports), once hooked. */
  mechanism: 'transform' | 'patch' | null;
  /** For a transformed target: the line its function begins on, and that line's text. */
  line: number | null;
  source: string | null;
}

interface Status extends RecordingMode {
  project_root: string;
  /** The environment sets FLUXLOOP_RECORD_ARGS, so the value in .env does not count. */
  environment_overrides_env_file: boolean;
  /** The file records go to now. */
  recording_file: { path: string; exists: boolean; records: number; bytes: number };
  /** The files it was rotated to (`recording.max_file_mb`), oldest first; replays read them before it. */
  rotated_files: RecordingFileInfo[];
  /** The recording as a whole: the file and those it was rotated to. */
  total: { files: number; records: number; bytes: number };
  /** `dropped_records`: records the last run's writers could not write (a full disk, a refused path). */
  last_run: { run_id: string; updated_at: string; processes: number; dropped_records: number } | null;
  targets: TargetRow[];
  /** With `replay_args.conversation.key`: each target's recorded conversations, and its calls without a key. */
  conversations: Array<{ target: string; conversations: number; turns: number; unkeyed: number }> | null;
  env_file: { path: string; exists: boolean };
  config_file: { path: string; exists: boolean };
  notes: string[];
}

async function collectStatus(root: string): Promise<Status> {
  const project = loadProject(root);
  const mode = recordingMode(project.envValues);

  const files = await describeRecordingFiles(project.recordingFile);
  const current = files.find((f) => f.path === project.recordingFile);
  const rotated = files.filter((f) => f !== current);

  const run = readLastRun(root);
  const configured = project.config.recording.targets;
  const row = (seen: TargetStatus): TargetRow => ({
    target: seen.target,
    state: seen.state,
    calls: seen.calls,
    reason: seen.reason ?? null,
    mechanism: seen.mechanism ?? null,
    line: seen.line ?? null,
    source: seen.source ?? null,
  });
  const targets = configured.map((target): TargetRow => {
    const seen = run?.targets.find((t) => t.target === target);
    return seen ? row(seen) : { target, state: 'no_run_yet', calls: null, reason: null, mechanism: null, line: null, source: null };
  });
  // Functions marked in code (trace(), recordCallArgs()) are known only from the run itself.
  for (const seen of run?.targets ?? []) if (!configured.includes(seen.target)) targets.push(row(seen));

  return {
    project_root: root,
    ...mode,
    environment_overrides_env_file: mode.environment_value !== null,
    recording_file: { path: project.recordingFile, exists: current !== undefined, records: current?.records ?? 0, bytes: current?.bytes ?? 0 },
    rotated_files: rotated,
    total: { files: files.length, records: sum(files, 'records'), bytes: sum(files, 'bytes') },
    last_run: run ? { run_id: run.run_id, updated_at: run.updated_at, processes: run.processes.length, dropped_records: run.dropped_records } : null,
    targets,
    conversations: await conversationsIn(project, files.length > 0),
    env_file: { path: project.envFile, exists: project.envExists },
    config_file: { path: project.configFile, exists: project.configExists },
    notes: notes(project),
  };
}

/** The recorded conversations by target, when the config says how calls form them; read only then. */
async function conversationsIn(project: Project, recorded: boolean): Promise<Status['conversations']> {
  if (project.config.replay_args?.conversation?.key === undefined) return null;
  if (!recorded) return [];
  const { recordedConversations } = await import('../experiment/conversation-plan.js');
  return recordedConversations(project.recordingFile, project.config);
}

const STATE_TEXT: Record<TargetRow['state'], string> = {
  hooked: colors.green('hooked'),
  not_loaded: colors.yellow('not loaded'),
  failed: colors.red('failed'),
  no_run_yet: colors.dim('no run yet'),
};

function describeMode(status: Status): string {
  const mode = status.mode === 'enabled' ? colors.green('enabled') : colors.yellow('disabled');
  return `${mode} (${recordingModeOrigin(status)})`;
}

function printStatus(status: Status): void {
  const missing = (exists: boolean) => (exists ? '' : colors.dim(' (not found)'));
  const file = status.recording_file;
  const { total } = status;
  const records =
    total.files === 0
      ? colors.dim('none yet')
      : `${total.records} (${formatBytes(total.bytes)})` + (status.rotated_files.length > 0 ? `, in ${total.files} files, oldest first:` : '');
  // Each file of a rotated recording, in the order replays read them.
  const listed = status.rotated_files.length === 0 ? [] : [...status.rotated_files, ...(file.exists ? [file] : [])];
  const fileRows = fileTable(status.project_root, listed).map((line) => ['', line]);
  const lastRun = status.last_run
    ? `${status.last_run.updated_at} (run ${status.last_run.run_id}, ${status.last_run.processes} process${status.last_run.processes === 1 ? '' : 'es'})`
    : colors.dim('none yet');
  const rows = [
    ['Recording', describeMode(status)],
    ['File', file.path + missing(file.exists)],
    ['Records', records],
    ...fileRows,
    ['Last run', lastRun],
    ...(status.last_run?.dropped_records
      ? [['Dropped', colors.red(`${status.last_run.dropped_records} record${status.last_run.dropped_records === 1 ? '' : 's'} could not be written (see the app's stderr)`)]]
      : []),
    ['.env', status.env_file.path + missing(status.env_file.exists)],
    ['Config', status.config_file.path + missing(status.config_file.exists)],
    ...(status.conversations === null ? [] : conversationRows(status.conversations)),
    ['Targets', status.targets.length === 0 ? colors.dim('none configured (recording.targets)') : ''],
  ];
  const targetRows = status.targets.map((t) => [
    t.target,
    STATE_TEXT[t.state],
    t.calls === null ? '' : `${t.calls} call${t.calls === 1 ? '' : 's'}`,
    // A line target shows its line, so that the user sees which function it is.
    t.reason ?? (t.source !== null && isLineTarget(t.target) ? colors.dim(`${t.line} │ ${t.source}`) : ''),
  ]);
  print(...table(rows), ...table(targetRows, '  '));
  for (const note of status.notes) warn(note);
}

/** One row a target: its conversations and turns (`replay_args.conversation.key`). */
function conversationRows(list: NonNullable<Status['conversations']>): string[][] {
  if (list.length === 0) return [['Conversations', colors.dim('none yet')]];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return list.map((c, i) => [
    i === 0 ? 'Conversations' : '',
    `${c.target}: ${plural(c.conversations, 'conversation')}, ${plural(c.turns, 'turn')}` + (c.unkeyed > 0 ? colors.yellow(` (${plural(c.unkeyed, 'call')} without the key, each one alone)`) : ''),
  ]);
}

function sum(files: RecordingFileInfo[], key: 'records' | 'bytes'): number {
  return files.reduce((total, f) => total + f[key], 0);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The files of a recording, one a line: path, records, size. */
function fileTable(root: string, files: RecordingFileInfo[]): string[] {
  return table(files.map((f) => [projectRelative(root, f.path), plural(f.records, 'record'), formatBytes(f.bytes)]), '  ');
}

/** Asks a yes-or-no question on the terminal; only yes (or y) is yes. */
async function confirm(question: string): Promise<boolean> {
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Removes the recording file and the files it was rotated to, after asking on a terminal. Off a
 * terminal it never removes without `--yes`: a script that forgot it must not lose the recordings.
 */
async function clearRecordings(root: string, yes: boolean): Promise<void> {
  const project = loadProject(root);
  const files = await describeRecordingFiles(project.recordingFile);
  const shown = projectRelative(root, project.recordingFile);
  if (files.length === 0) {
    print(`Nothing to clear: ${shown} does not exist, nor any file it was rotated to.`);
    return;
  }
  const what = `${plural(files.length, 'file')} (${plural(sum(files, 'records'), 'record')}, ${formatBytes(sum(files, 'bytes'))})`;
  if (!yes) {
    if (process.stdin.isTTY !== true) {
      throw new ConfigError(`record clear would remove ${what} of ${shown}; there is no terminal to ask on, so pass --yes to remove them`);
    }
    process.stderr.write(`${fileTable(root, files).join('\n')}\n`);
    if (!(await confirm(`Remove ${what}?`))) {
      print('Nothing removed.');
      return;
    }
  }
  const removed: RecordingFileInfo[] = [];
  for (const file of files) {
    try {
      fs.rmSync(file.path);
      removed.push(file);
    } catch (error) {
      // Gone meanwhile: what is wanted. Anything else is said, and the others are still removed.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`${projectRelative(root, file.path)} cannot be removed: ${(error as Error).message}`);
    }
  }
  print(
    `Removed ${plural(removed.length, 'file')} (${plural(sum(removed, 'records'), 'record')}, ${formatBytes(sum(removed, 'bytes'))}):`,
    ...fileTable(root, removed),
  );
  if (removed.length < files.length) process.exitCode = EXIT_FAILURE;
}

/** `--at LINE` or `--at LINE:COLUMN`, from 1. */
function parsePosition(value: string): Position {
  const match = /^([1-9]\d*)(?::([1-9]\d*))?$/.exec(value);
  if (!match) throw new InvalidArgumentError('must be LINE or LINE:COLUMN, counted from 1 (42, or 42:7)');
  return match[2] === undefined ? { line: Number(match[1]) } : { line: Number(match[1]), column: Number(match[2]) };
}

/** The target of the function at `at` in a file of the project. */
function targetInFile(root: string, name: string, at: Position): TargetAt {
  const file = path.resolve(root, name);
  const shown = projectRelative(root, file);
  if (path.isAbsolute(shown)) throw new ConfigError(`${name} is outside the project ${root}: targets name its files`);
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code})`, { file: shown });
  }
  // Loaded here: the parser it stands on is no business of `record status`.
  const { targetAt } = require('../instrument/transform/target-at.js') as typeof import('../instrument/transform/target-at.js');
  return targetAt(source, shown, at);
}

interface AddResult {
  target: string;
  added: boolean;
  config_file: string;
  message: string;
}

/** Adds a target, or the function at a position of a file, to recording.targets. */
function addRecordingTarget(root: string, arg: string, at: Position | undefined): AddResult {
  let found: TargetAt | undefined;
  if (at !== undefined) found = targetInFile(root, arg, at);
  else if (!arg.includes(':')) throw new ConfigError(`${JSON.stringify(arg)} is no target: name one as file:export (app/agent.js:handle), or a function's position with --at LINE[:COLUMN]`);
  else parseTarget(arg);
  const target = found?.target ?? arg;
  if (found?.note) warn(found.note);
  const configFile = configPath(root);
  const label = projectRelative(root, configFile);
  if (!fs.existsSync(configFile)) throw new ConfigError(`${label} does not exist: \`fluxloop init\` makes it`);
  const text = fs.readFileSync(configFile, 'utf8');
  const result = addTarget(text, target, label);
  if (result.added) fs.writeFileSync(configFile, result.text);
  const how = found?.by === 'line' && found.note === undefined ? ' (by the line the function begins on: no name reaches it)' : '';
  const message = result.added ? `Added ${target} to recording.targets in ${label}${how}.` : `${target} is in recording.targets of ${label} already.`;
  return { target, added: result.added, config_file: configFile, message };
}

/** Registers `fluxloop record` with its `enable`, `disable`, `status`, `add` and `clear` subcommands. */
export function registerRecord(program: Command): void {
  const record = program.command('record').description('switch argument recording on or off, and see what it recorded');

  record
    .command('enable')
    .description('set FLUXLOOP_RECORD_ARGS=true in .env and replay_args.enabled: true in configs/simulation.yaml')
    .action((_options: unknown, command: Command) => switchRecording(existingProjectRootOf(command), true));

  record
    .command('disable')
    .description('set FLUXLOOP_RECORD_ARGS=false in .env; experiments go on replaying what was recorded')
    .option('--disable-replay', 'also set replay_args.enabled: false in configs/simulation.yaml, so that experiments stop replaying the recordings')
    .action((options: { disableReplay?: boolean }, command: Command) => switchRecording(existingProjectRootOf(command), false, options.disableReplay === true));

  record
    .command('status')
    .description('show whether recording is on, the recording file and the state of each target')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }, command: Command) => {
      const status = await collectStatus(existingProjectRootOf(command));
      if (options.json) print(JSON.stringify(status, null, 2));
      else printStatus(status);
    });

  record
    .command('add')
    .argument('<file|target>', 'with --at, a file of the project; else a target as recording.targets lists it (app/agent.js:handle)')
    .description('add the function at --at LINE[:COLUMN] of a file (by name, else by its line), or a target, to recording.targets in configs/simulation.yaml')
    .option('--at <line[:column]>', 'the position of the function in the file, counted from 1: the innermost function there', parsePosition)
    .option('--json', 'print one JSON object')
    .action((arg: string, options: { at?: Position; json?: boolean }, command: Command) => {
      const result = addRecordingTarget(existingProjectRootOf(command), arg, options.at);
      if (options.json) print(JSON.stringify(result, null, 2));
      else print(result.message);
    });

  record
    .command('clear')
    .description('remove the recording file and the files it was rotated to (asks first)')
    .option('-y, --yes', 'remove without asking (needed where there is no terminal to ask on)')
    .action((options: { yes?: boolean }, command: Command) => clearRecordings(existingProjectRootOf(command), options.yes === true));
}
