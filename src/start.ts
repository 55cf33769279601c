import path from 'node:path';
import { targetIdentity } from './config/identity';
import { findModule, resolveRecordingFile, stateDir } from './config/project';
import { loadRecordingConfig } from './config/recording-cache';
import { parseTarget } from './config/targets';
import type { RecordingConfig } from './config/types';
import { servedByTransform } from './instrument/mechanism';
import type { Session } from './instrument/session';
import type { LocatedTarget } from './instrument/targets';
import { channelOf, transformTargets, type TargetReport } from './instrument/transform';
import { inThreadHooks } from './instrument/transform/sync-hooks';
import { warn } from './record/warn';

/** The session, or undefined once it could not be made: the app then runs unrecorded. */
export type StartedSession = () => Session | undefined;

/**
 * Starts recording in this process: the session, the taps that record what a recorded call calls
 * downstream (only now, in a process that records), and with `hooks` the configured targets.
 *
 * Where a loader thread loads the app's modules (Node 20), the app's own thread waits on it before
 * any of the app runs, so the session, the taps and the recorder are made in that wait: the
 * preload returns once the hooks are in, with the function that gives the session, and whatever
 * needs it sooner (a target's module running, an exit) makes it then. Elsewhere (the hook on the
 * app's thread, a script from `-e` or stdin, which runs at once) they are made here, first.
 */
export function startSession(root: string, hooks: boolean): Session | StartedSession {
  const recording = loadRecordingConfig(root);
  const entry = entryScript();
  const targets = hooks ? locateTargets(root, recording) : undefined;
  let session: Session | undefined;
  let failed = false;
  const started: StartedSession = () => {
    if (session !== undefined || failed) return session;
    try {
      return (session = begin(root, recording, entry, targets));
    } catch (error) {
      // Made in the app's wait, it must not throw into the app: recording is off, as it would be
      // had the preload failed to make it.
      failed = true;
      warn('start', `recording is off: ${(error as Error)?.message ?? String(error)}`);
      return undefined;
    }
  };
  const deferred = entry !== undefined && targets !== undefined && targets.transformed.length > 0 && inThreadHooks() === undefined;
  if (!deferred) session = begin(root, recording, entry, targets);
  if (targets !== undefined) installHooks(root, targets, started);
  if (!deferred) return session!;
  setImmediate(started).unref();
  // A process that ends before its first wait (its entry failed to load) still leaves its status,
  // written as the session's own shutdown would have (it is made too late to hear this exit).
  process.on('exit', () => {
    try {
      if (session === undefined && !failed) started()?.close();
    } catch {
      // Never let the recorder change how the process ends.
    }
  });
  return started;
}

/** The configured targets and downstream targets (tools), each with its file when found. */
interface Targets {
  transformed: LocatedTarget[];
  patched: LocatedTarget[];
  /** The recording targets by spec: whether the transform serves them, or why they are not recorded. */
  recorded: Map<string, { transformed: boolean; missing?: string }>;
  /** The specs of the tools found. */
  tools: Set<string>;
}

/**
 * Finds the targets' files. A function that is both a recording target and a tool is a recording
 * target: its calls are records of their own, whose downstream calls are their children, and not
 * tool calls. A tool is recorded only where downstream calls are.
 */
function locateTargets(root: string, recording: RecordingConfig): Targets {
  const targets: Targets = { transformed: [], patched: [], recorded: new Map(), tools: new Set() };
  for (const text of recording.targets) {
    const spec = parseTarget(text);
    const configured = path.resolve(root, spec.file);
    const file = findModule(configured);
    if (file === undefined) {
      const missing = `file not found: ${configured}`;
      targets.recorded.set(spec.spec, { transformed: false, missing });
      warn(`target:${spec.spec}`, `target "${spec.spec}" is not recorded: ${missing}`);
      continue;
    }
    const transformed = servedByTransform(spec, file);
    (transformed ? targets.transformed : targets.patched).push({ spec, file });
    targets.recorded.set(spec.spec, { transformed });
  }
  const d = recording.downstream;
  if (d === undefined || !(d.http || d.llm || d.targets.length > 0)) return targets;
  for (const text of d.targets) {
    const spec = parseTarget(text);
    if (targets.recorded.has(spec.spec) || targets.tools.has(spec.spec)) continue;
    const configured = path.resolve(root, spec.file);
    const file = findModule(configured);
    if (file === undefined) {
      toolNotHooked(spec.spec, `file not found: ${configured}`);
      continue;
    }
    targets.tools.add(spec.spec);
    (servedByTransform(spec, file) ? targets.transformed : targets.patched).push({ spec, file });
  }
  return targets;
}

/** The session, the taps, and what the session must know of the targets before their modules load. */
function begin(root: string, recording: RecordingConfig, entry: string | undefined, targets: Targets | undefined): Session {
  const { Session } = require('./instrument/session') as typeof import('./instrument/session');
  const session = new Session({ root, recordingFile: resolveRecordingFile(root, process.env, { recording }), recording, entry });
  const children = session.children;
  if (children?.http) {
    (require('./record/downstream/http') as typeof import('./record/downstream/http')).tapHttp(children);
    (require('./record/downstream/fetch') as typeof import('./record/downstream/fetch')).tapFetch(children);
  }
  if (targets === undefined) return session;
  for (const [spec, { transformed, missing }] of targets.recorded) {
    session.addTarget(spec);
    if (missing !== undefined) session.markFailed(spec, missing);
    else if (transformed) session.recordTransformed(spec);
  }
  const { recordToolChannel } = require('./record/downstream/tool') as typeof import('./record/downstream/tool');
  for (const { spec } of targets.transformed) {
    if (targets.tools.has(spec.spec)) recordToolChannel(children!, targetIdentity(root, spec.spec), channelOf(spec.spec));
  }
  return session;
}

/** Hooks the recording targets and the tools by the same mechanisms, in one pass: the module hooks are installed once. */
function installHooks(root: string, targets: Targets, started: StartedSession): void {
  const { tools } = targets;
  const onReport = (report: TargetReport) => {
    if (tools.has(report.target)) return report.ok ? undefined : toolNotHooked(report.target, report.reason);
    const session = started();
    if (session === undefined) return;
    return report.ok ? session.transformed(report) : notHooked(session, report.target, report.reason);
  };
  transformTargets(targets.transformed, onReport, stateDir(root, 'transform'));
  if (targets.patched.length === 0) return;
  // Loaded only now: the patcher is for targets in installed packages, which many apps have none of.
  const { hookTargets } = require('./instrument/targets') as typeof import('./instrument/targets');
  const { toolObserver } = require('./record/downstream/tool') as typeof import('./record/downstream/tool');
  hookTargets(targets.patched, {
    observerFor: (target, fn) => {
      const session = started();
      if (session === undefined) return () => undefined;
      return tools.has(target.spec) ? toolObserver(session.children!, targetIdentity(root, target.spec)) : session.observer(target.spec, fn);
    },
    onOutcome: (target, reason) => {
      if (tools.has(target.spec)) return reason === undefined ? undefined : toolNotHooked(target.spec, reason);
      const session = started();
      if (session === undefined) return;
      return reason === undefined ? session.markHooked(target.spec, { mechanism: 'patch' }) : notHooked(session, target.spec, reason);
    },
  });
}

function toolNotHooked(target: string, reason: string): void {
  warn(`target:${target}`, `downstream target "${target}" is not recorded: ${reason}`);
}

function notHooked(session: Session, target: string, reason: string): void {
  session.markFailed(target, reason);
  warn(`target:${target}`, `target "${target}" is not recorded: ${reason}`);
}

function entryScript(): string | undefined {
  const main = process.argv[1];
  return main ? findModule(path.resolve(main)) : undefined;
}
