import fs from 'node:fs';
import path from 'node:path';
import { resolveRecordingFile } from './config/project';
import { loadSimulationConfig } from './config/simulation';
import { parseTarget } from './config/targets';
import type { TargetSpec } from './config/types';
import { hookFiles, type OnLoad } from './instrument/hooks';
import { patchExports } from './instrument/patch';
import { Session } from './instrument/session';
import { warn } from './record/warn';

/** Starts recording in this process: the session, and with `hooks` the configured targets. */
export function startSession(root: string, hooks: boolean): Session {
  const config = loadSimulationConfig(root);
  const entry = entryScript();
  const session = new Session({ root, recordingFile: resolveRecordingFile(root, process.env, config), recording: config.recording, entry });
  if (hooks) hookTargets(session, root, config.recording.targets, entry);
  return session;
}

function hookTargets(session: Session, root: string, specs: string[], entry: string | undefined): void {
  const byFile = new Map<string, TargetSpec[]>();
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
    if (reason) {
      notHooked(session, spec.spec, reason);
      continue;
    }
    byFile.set(file!, [...(byFile.get(file!) ?? []), spec]);
  }

  const onLoads = new Map<string, OnLoad>();
  for (const [file, targets] of byFile) {
    onLoads.set(file, (exports, format) => {
      let current = exports;
      for (const target of targets) {
        const outcome = patchExports(current, format, target, (fn) => session.observer(target.spec, fn));
        if (!outcome.ok) {
          notHooked(session, target.spec, `${outcome.reason} in ${target.file}`);
          continue;
        }
        session.markHooked(target.spec);
        if (outcome.exports !== undefined) current = outcome.exports;
      }
      return current === exports ? undefined : current;
    });
  }
  hookFiles(onLoads);
}

function notHooked(session: Session, target: string, reason: string): void {
  session.markFailed(target, reason);
  warn(`target:${target}`, `target "${target}" is not recorded: ${reason}`);
}

const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '/index.js', '/index.ts'];

/** The real path of a module file, trying the extensions Node and tsx would. */
function findModule(file: string): string | undefined {
  for (const ext of EXTENSIONS) {
    try {
      if (fs.statSync(file + ext).isFile()) return fs.realpathSync(file + ext);
    } catch {
      // Try the next form.
    }
  }
  return undefined;
}

function entryScript(): string | undefined {
  const main = process.argv[1];
  return main ? findModule(path.resolve(main)) : undefined;
}
