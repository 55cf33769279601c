import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { readEnvFile, setEnvValue } from '../config/env.js';
import { ConfigError } from '../config/errors.js';
import { configPath, envPath, isRecordingEnabled, projectRelative, resolveRecordingFile } from '../config/project.js';
import { loadSimulationConfig, setConfigValue } from '../config/simulation.js';
import type { SimulationConfig } from '../config/types.js';
import { isLineTarget } from '../config/targets.js';
import { RECORD_KEY, recordingMode, recordingModeOrigin, type RecordingMode } from '../config/recording-mode.js';
import { readLastRun, type TargetState, type TargetStatus } from '../instrument/status.js';
import { colors, formatBytes, print, projectRootOf, table, warn } from './output.js';

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
  if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError(`the project directory ${root} does not exist (see --project-dir)`);
  }
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

/** Turns recording on or off in .env and, when the config exists, replay_args.enabled. */
function switchRecording(root: string, enabled: boolean): void {
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

  if (project.configExists) {
    const configText = fs.readFileSync(project.configFile, 'utf8');
    const nextConfig = setConfigValue(configText, ['replay_args', 'enabled'], enabled, configLabel);
    if (nextConfig !== configText) fs.writeFileSync(project.configFile, nextConfig);
    rows.push([configLabel, `replay_args.enabled: ${enabled}`, '']);
  } else {
    rows.push([configLabel, colors.dim('not found, left alone (`fluxloop init` creates it)'), '']);
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

/** Lines with content in a file, read in chunks since recordings can be large. */
async function countRecords(file: string): Promise<number> {
  let count = 0;
  let lineHasContent = false;
  for await (const chunk of fs.createReadStream(file)) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i++) {
      const byte = buf[i]!;
      if (byte === 0x0a) {
        if (lineHasContent) count++;
        lineHasContent = false;
      } else if (!lineHasContent && byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) {
        lineHasContent = true;
        // The rest of the line cannot change the answer: jump to its end.
        const nl = buf.indexOf(0x0a, i);
        i = (nl === -1 ? buf.length : nl) - 1;
      }
    }
  }
  return lineHasContent ? count + 1 : count;
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
  recording_file: { path: string; exists: boolean; records: number; bytes: number };
  /** `dropped_records`: records the last run's writers could not write (a full disk, a refused path). */
  last_run: { run_id: string; updated_at: string; processes: number; dropped_records: number } | null;
  targets: TargetRow[];
  env_file: { path: string; exists: boolean };
  config_file: { path: string; exists: boolean };
  notes: string[];
}

async function collectStatus(root: string): Promise<Status> {
  const project = loadProject(root);
  const mode = recordingMode(project.envValues);

  let bytes = 0;
  let records = 0;
  let exists = false;
  try {
    bytes = fs.statSync(project.recordingFile).size;
    exists = true;
  } catch {
    // Nothing recorded yet.
  }
  if (exists && bytes > 0) records = await countRecords(project.recordingFile);

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
    recording_file: { path: project.recordingFile, exists, records, bytes },
    last_run: run ? { run_id: run.run_id, updated_at: run.updated_at, processes: run.processes.length, dropped_records: run.dropped_records } : null,
    targets,
    env_file: { path: project.envFile, exists: project.envExists },
    config_file: { path: project.configFile, exists: project.configExists },
    notes: notes(project),
  };
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
  const records = file.exists ? `${file.records} (${formatBytes(file.bytes)})` : colors.dim('none yet');
  const lastRun = status.last_run
    ? `${status.last_run.updated_at} (run ${status.last_run.run_id}, ${status.last_run.processes} process${status.last_run.processes === 1 ? '' : 'es'})`
    : colors.dim('none yet');
  const rows = [
    ['Recording', describeMode(status)],
    ['File', file.path + missing(file.exists)],
    ['Records', records],
    ['Last run', lastRun],
    ...(status.last_run?.dropped_records
      ? [['Dropped', colors.red(`${status.last_run.dropped_records} record${status.last_run.dropped_records === 1 ? '' : 's'} could not be written (see the app's stderr)`)]]
      : []),
    ['.env', status.env_file.path + missing(status.env_file.exists)],
    ['Config', status.config_file.path + missing(status.config_file.exists)],
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

/** Registers `fluxloop record` with its `enable`, `disable` and `status` subcommands. */
export function registerRecord(program: Command): void {
  const record = program.command('record').description('switch argument recording on or off, and see what it recorded');

  record
    .command('enable')
    .description('set FLUXLOOP_RECORD_ARGS=true in .env and replay_args.enabled: true in configs/simulation.yaml')
    .action((_options: unknown, command: Command) => switchRecording(projectRootOf(command), true));

  record
    .command('disable')
    .description('set FLUXLOOP_RECORD_ARGS=false in .env and replay_args.enabled: false in configs/simulation.yaml')
    .action((_options: unknown, command: Command) => switchRecording(projectRootOf(command), false));

  record
    .command('status')
    .description('show whether recording is on, the recording file and the state of each target')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }, command: Command) => {
      const status = await collectStatus(projectRootOf(command));
      if (options.json) print(JSON.stringify(status, null, 2));
      else printStatus(status);
    });
}
