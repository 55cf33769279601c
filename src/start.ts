import path from 'node:path';
import { findModule, resolveRecordingFile } from './config/project';
import { loadRecordingConfig } from './config/recording-cache';
import { parseTarget } from './config/targets';
import { hookTargets, type LocatedTarget } from './instrument/targets';
import { Session } from './instrument/session';
import { warn } from './record/warn';

/** Starts recording in this process: the session, and with `hooks` the configured targets. */
export function startSession(root: string, hooks: boolean): Session {
  const recording = loadRecordingConfig(root);
  const entry = entryScript();
  const session = new Session({ root, recordingFile: resolveRecordingFile(root, process.env, { recording }), recording, entry });
  if (hooks) hookConfigured(session, root, recording.targets, entry);
  return session;
}

function hookConfigured(session: Session, root: string, specs: string[], entry: string | undefined): void {
  const located: LocatedTarget[] = [];
  for (const text of specs) {
    const spec = parseTarget(text);
    session.addTarget(spec.spec);
    const configured = path.resolve(root, spec.file);
    const file = findModule(configured);
    const reason =
      file === undefined
        ? `file not found: ${configured}`
        : file === entry
          ? `${spec.file} is the entry module; loader hooks cannot reach the functions of the entry module itself. Move "${spec.exportName}" into a module that the entry imports`
          : undefined;
    if (reason) notHooked(session, spec.spec, reason);
    else located.push({ spec, file: file! });
  }
  hookTargets(located, {
    observerFor: (target, fn) => session.observer(target.spec, fn),
    onOutcome: (target, reason) => (reason === undefined ? session.markHooked(target.spec) : notHooked(session, target.spec, reason)),
  });
}

function notHooked(session: Session, target: string, reason: string): void {
  session.markFailed(target, reason);
  warn(`target:${target}`, `target "${target}" is not recorded: ${reason}`);
}

function entryScript(): string | undefined {
  const main = process.argv[1];
  return main ? findModule(path.resolve(main)) : undefined;
}
