import path from 'node:path';
import { findModule, resolveRecordingFile, stateDir } from './config/project';
import { loadRecordingConfig } from './config/recording-cache';
import { parseTarget } from './config/targets';
import { servedByTransform } from './instrument/mechanism';
import { hookTargets, type LocatedTarget } from './instrument/targets';
import { transformTargets, type TargetReport } from './instrument/transform';
import { Session } from './instrument/session';
import { warn } from './record/warn';

/** Starts recording in this process: the session, and with `hooks` the configured targets. */
export function startSession(root: string, hooks: boolean): Session {
  const recording = loadRecordingConfig(root);
  const entry = entryScript();
  const session = new Session({ root, recordingFile: resolveRecordingFile(root, process.env, { recording }), recording, entry });
  if (hooks) hookConfigured(session, root, recording.targets);
  return session;
}

function hookConfigured(session: Session, root: string, specs: string[]): void {
  const patched: LocatedTarget[] = [];
  const transformed: LocatedTarget[] = [];
  for (const text of specs) {
    const spec = parseTarget(text);
    session.addTarget(spec.spec);
    const configured = path.resolve(root, spec.file);
    const file = findModule(configured);
    if (file === undefined) {
      notHooked(session, spec.spec, `file not found: ${configured}`);
    } else if (servedByTransform(spec, file)) {
      session.recordTransformed(spec.spec);
      transformed.push({ spec, file });
    } else {
      patched.push({ spec, file });
    }
  }
  const onReport = (report: TargetReport) => (report.ok ? session.transformed(report) : notHooked(session, report.target, report.reason));
  transformTargets(transformed, onReport, stateDir(root, 'transform'));
  hookTargets(patched, {
    observerFor: (target, fn) => session.observer(target.spec, fn),
    onOutcome: (target, reason) => (reason === undefined ? session.markHooked(target.spec, { mechanism: 'patch' }) : notHooked(session, target.spec, reason)),
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
