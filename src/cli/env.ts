import type { Command } from 'commander';
import { recordingModeOrigin } from '../config/recording-mode';
import { fluxloopVersion } from '../version';
import { environmentInfo, type EnvironmentInfo, type FileInfo, type KeyLocation } from '../doctor/info';
import { colors, globalOptions, print, existingProjectRootOf, table } from './output';
import { formatBytes } from '../experiment/format';

const KEY_TEXT: Record<string, string> = { environment: 'set in the environment', '.env': 'set in .env' };

function keyText(set: KeyLocation): string {
  return set === null ? colors.yellow('not set') : colors.green(KEY_TEXT[set]!);
}

function fileText(file: FileInfo): string {
  if (!file.exists) return `${file.path}${colors.dim(' (not found)')}`;
  return file.error === undefined ? file.path : `${file.path} ${colors.red(`(does not load: ${file.error})`)}`;
}

function printInfo(info: EnvironmentInfo): void {
  const { recording } = info;
  const mode = recording.mode === 'enabled' ? colors.green('enabled') : colors.yellow('disabled');
  const file = recording.file;
  const recordingFile =
    file === null
      ? colors.dim('unknown: configs/simulation.yaml does not load')
      : `${file.path}${file.exists ? ` (${formatBytes(file.bytes)})` : colors.dim(' (not recorded yet)')}`;
  print(
    ...table([
      ['fluxloop', info.fluxloop],
      ['Node.js', `${info.node} (${info.platform})`],
      ['Project', `${info.project.root} ${colors.dim(`(from ${info.project.found_by})`)}`],
      ['Config', fileText(info.files.simulation)],
      ['Evaluation', fileText(info.files.evaluation)],
      ['.env', fileText(info.files.env)],
      ['Runner', info.config === null ? colors.dim('unknown: configs/simulation.yaml does not load') : `${info.config.runner_target ?? colors.dim('runner.target not set')}, ${info.config.iterations} iteration${info.config.iterations === 1 ? '' : 's'}`],
      ['Recording', `${mode} (${recordingModeOrigin(recording)})`],
      ['Recording file', recordingFile],
      ['tsx', info.tsx.installed ? (info.tsx.version ?? 'installed') : colors.dim('not installed in the project (TypeScript apps need it: npm i -D tsx)')],
      ['LLM keys', info.llm_keys.map((key) => `${key.name} ${keyText(key.set)}`).join(', ')],
    ]),
  );
}

/** Registers `fluxloop env` and `fluxloop version`. */
export function registerEnv(program: Command): void {
  program
    .command('env')
    .description("show fluxloop's and Node's versions, the project, its config files, the recording mode and file, tsx, and which LLM keys are set (never their values)")
    .option('--json', 'print one JSON object')
    .action((options: { json?: boolean }, command: Command) => {
      existingProjectRootOf(command);
      // Given the option as written, so that it can say how the root was found.
      const info = environmentInfo(globalOptions(command).projectDir);
      if (options.json) print(JSON.stringify(info, null, 2));
      else printInfo(info);
    });

  program
    .command('version')
    .description('print the version, as -v does')
    .action(() => print(fluxloopVersion()));
}
