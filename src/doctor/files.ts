import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, formatLocation } from '../config/errors';
import { isRecordingEnabled, projectRelative } from '../config/project';
import { recordingFiles } from '../record/files';
import { readRecordings } from '../replay/reader';
import { check, messageOf, type Check } from './check';
import { configLabel, recordingFileOf, type DoctorContext } from './context';
import { findEntry } from './entry';

const RECORD_KEY = 'FLUXLOOP_RECORD_ARGS';
/** How to record, naming the app's entry file when it is known. */
function recordCommands(root: string): string {
  const entry = findEntry(root);
  return `\`npx fluxloop record enable\`, then \`node --import fluxloop/register ${entry ? projectRelative(root, entry) : '<your app>'}\``;
}

/** `file:line:column` of a ConfigError, or just the file. */
function whereIn(error: unknown, fallback: string): string {
  const loc = error instanceof ConfigError ? error.location : undefined;
  return loc ? formatLocation({ ...loc, field: undefined }) : fallback;
}

/** 3a. `.env` parses, and whether it (or the environment) turns recording on. */
export function checkEnv(ctx: DoctorContext): Check {
  if (!ctx.env.ok) {
    return check('env', '.env', 'fail', messageOf(ctx.env.error), `edit ${whereIn(ctx.env.error, '.env')}: one KEY=VALUE per line, # for comments`);
  }
  const { exists, values } = ctx.env.value;
  const fromShell = process.env[RECORD_KEY];
  const fromFile = values[RECORD_KEY];
  const source =
    fromShell !== undefined
      ? `${RECORD_KEY}=${fromShell} in the environment${fromFile === undefined ? '' : `, overriding ${fromFile} in .env`}`
      : fromFile !== undefined
        ? `${RECORD_KEY}=${fromFile} in .env`
        : `${RECORD_KEY} is not set`;
  const file = exists ? 'parses' : 'not found';
  if (isRecordingEnabled(fromShell ?? fromFile)) return check('env', '.env', 'ok', `${file}; recording is on (${source})`);
  const fix = fromShell !== undefined ? `unset ${RECORD_KEY} in your shell, then \`npx fluxloop record enable\`` : '`npx fluxloop record enable`';
  return check('env', '.env', 'warn', `${file}; recording is off (${source})`, fix);
}

/** 3b. `configs/simulation.yaml` parses and validates; a problem is shown with its file:line:column. */
export function checkConfig(ctx: DoctorContext): Check {
  const title = configLabel(ctx);
  if (!ctx.config.ok) {
    const { error } = ctx.config;
    return check('config', title, 'fail', messageOf(error), `edit ${whereIn(error, title)}`);
  }
  if (!ctx.configExists) {
    return check('config', title, 'warn', 'not found: the defaults apply, so nothing is recorded', '`npx fluxloop init`, then list your functions under recording.targets');
  }
  const config = ctx.config.value;
  const count = config.recording.targets.length;
  const targets = `${count} recording target${count === 1 ? '' : 's'}`;
  // With one recording target, experiments replay it; with several, they must be told which.
  if (config.runner.target === undefined && count > 1) {
    return check('config', title, 'warn', `valid; ${targets}, and no runner.target: \`run experiment\` needs one to know which to call`, `set runner.target in ${title} to the function experiments call, e.g. runner: { target: ${config.recording.targets[0]} }`);
  }
  const runner = config.runner.target === undefined ? '' : `, runner.target ${config.runner.target}`;
  return check('config', title, 'ok', `valid; ${targets}${runner}`);
}

/** The nearest folder on the way up from `dir` that exists (`dir` itself when it does). */
function nearestExisting(dir: string): string {
  let current = dir;
  while (!fs.existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

function writable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** 4. The recorder can create and append to the recording file: its folder, or the nearest existing ancestor, is writable. */
export function checkRecordingFolder(ctx: DoctorContext): Check {
  const title = 'recording folder';
  const file = recordingFileOf(ctx);
  if (file === undefined) return check('recording-folder', title, 'skip', `recording.file is in ${configLabel(ctx)}, which does not load`);
  const show = (p: string) => (p === ctx.root ? 'the project folder' : `${projectRelative(ctx.root, p)}/`);
  const folder = path.dirname(file);
  const existing = nearestExisting(folder);
  const elsewhere = `or set recording.file in ${configLabel(ctx)} (or FLUXLOOP_RECORDING_FILE) to a writable place`;
  if (!fs.statSync(existing).isDirectory()) {
    return check('recording-folder', title, 'fail', `${projectRelative(ctx.root, existing)} is a file, so ${show(folder)} cannot be created`, `move that file away, ${elsewhere}`);
  }
  if (!writable(existing)) {
    const detail = existing === folder ? `${show(folder)} exists but is not writable` : `${show(folder)} does not exist and ${show(existing)} is not writable`;
    return check('recording-folder', title, 'fail', detail, `\`chmod u+w ${projectRelative(ctx.root, existing)}\`, ${elsewhere}`);
  }
  if (fs.existsSync(file) && !writable(file)) {
    return check('recording-folder', title, 'fail', `${projectRelative(ctx.root, file)} exists but is not writable`, `\`chmod u+w ${projectRelative(ctx.root, file)}\``);
  }
  return existing === folder
    ? check('recording-folder', title, 'ok', `${show(folder)} exists and is writable`)
    : check('recording-folder', title, 'ok', `${show(folder)} does not exist yet; the recorder creates it (${show(existing)} is writable)`);
}

/** 7. The recording file's records and malformed lines, counted with the replay reader. Records themselves are never shown. */
export async function checkRecordingFile(ctx: DoctorContext): Promise<Check> {
  const title = 'recording file';
  const file = recordingFileOf(ctx);
  if (file === undefined) return check('recording-file', title, 'skip', `recording.file is in ${configLabel(ctx)}, which does not load`);
  const label = projectRelative(ctx.root, file);
  // The file and those it was rotated to (recording.max_file_mb), as replays read them.
  const files = recordingFiles(file).filter((each) => fs.existsSync(each));
  if (files.length === 0) return check('recording-file', title, 'warn', `${label}: nothing recorded yet`, recordCommands(ctx.root));
  let records = 0;
  const malformed: string[] = [];
  try {
    for (const each of files) {
      const shown = projectRelative(ctx.root, each);
      for await (const _ of readRecordings(each, { displayPath: shown, onSkip: (skip) => malformed.push(files.length === 1 ? String(skip.line) : `${shown}:${skip.line}`) })) records++;
    }
  } catch (error) {
    return check('recording-file', title, 'fail', messageOf(error), `make ${label} a readable file, or point recording.file in ${configLabel(ctx)} at one`);
  }
  const counted = `${label}: ${records} record${records === 1 ? '' : 's'}${files.length > 1 ? ` in ${files.length} files (rotated)` : ''}`;
  const replayFile = ctx.config.ok ? ctx.config.value.replay_args?.recording_file : undefined;
  const replayNote =
    replayFile !== undefined && path.resolve(ctx.root, replayFile) !== file
      ? { detail: `; experiments read replay_args.recording_file (${replayFile}) instead`, fix: `set replay_args.recording_file to ${label}, or remove it` }
      : undefined;
  if (malformed.length > 0) {
    const lines = malformed.slice(0, 5).join(', ') + (malformed.length > 5 ? ', …' : '');
    return check(
      'recording-file',
      title,
      'warn',
      `${counted}, ${malformed.length} malformed line${malformed.length === 1 ? '' : 's'} (line${malformed.length === 1 ? '' : 's'} ${lines}), which experiments skip${replayNote?.detail ?? ''}`,
      `delete or repair those lines in ${label} (a cut-off last line means the app was killed while writing)${replayNote ? `; ${replayNote.fix}` : ''}`,
    );
  }
  if (records === 0) return check('recording-file', title, 'warn', `${counted}${replayNote?.detail ?? ''}`, recordCommands(ctx.root));
  if (replayNote) return check('recording-file', title, 'warn', `${counted}, none malformed${replayNote.detail}`, replayNote.fix);
  return check('recording-file', title, 'ok', `${counted}, none malformed`);
}
