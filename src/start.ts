import path from 'node:path';
import { targetIdentity } from './config/identity';
import { findModule, resolveRecordingFile, stateDir } from './config/project';
import { loadRecordingConfig } from './config/recording-cache';
import { parseTarget } from './config/targets';
import { servedByTransform } from './instrument/mechanism';
import type { LocatedTarget } from './instrument/targets';
import { channelOf, transformTargets, type TargetReport } from './instrument/transform';
import { Session } from './instrument/session';
import { tapFetch } from './record/downstream/fetch';
import { tapHttp } from './record/downstream/http';
import { recordToolChannel, toolObserver } from './record/downstream/tool';
import { warn } from './record/warn';

/**
 * Starts recording in this process: the session, the taps that record what a recorded call calls
 * downstream (only now, in a process that records), and with `hooks` the configured targets.
 */
export function startSession(root: string, hooks: boolean): Session {
  const recording = loadRecordingConfig(root);
  const entry = entryScript();
  const session = new Session({ root, recordingFile: resolveRecordingFile(root, process.env, { recording }), recording, entry });
  const children = session.children;
  if (children?.http) {
    tapHttp(children);
    tapFetch(children);
  }
  if (hooks) hookConfigured(session, root, recording.targets, recording.downstream.targets);
  return session;
}

/**
 * Hooks the recording targets, and the downstream targets (tools) by the same mechanisms, in one
 * pass: the module hooks are installed once. A function that is both is a recording target: its
 * calls are records of their own, whose downstream calls are their children, and not tool calls.
 */
function hookConfigured(session: Session, root: string, specs: string[], toolSpecs: string[]): void {
  const patched: LocatedTarget[] = [];
  const transformed: LocatedTarget[] = [];
  const recorded = new Set<string>();
  const tools = new Set<string>();
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
    recorded.add(spec.spec);
  }
  const children = session.children;
  for (const text of toolSpecs) {
    const spec = parseTarget(text);
    if (children === undefined || recorded.has(spec.spec) || tools.has(spec.spec)) continue;
    const configured = path.resolve(root, spec.file);
    const file = findModule(configured);
    if (file === undefined) {
      toolNotHooked(spec.spec, `file not found: ${configured}`);
      continue;
    }
    tools.add(spec.spec);
    if (servedByTransform(spec, file)) {
      recordToolChannel(children, targetIdentity(root, spec.spec), channelOf(spec.spec));
      transformed.push({ spec, file });
    } else {
      patched.push({ spec, file });
    }
  }
  const onReport = (report: TargetReport) => {
    if (tools.has(report.target)) return report.ok ? undefined : toolNotHooked(report.target, report.reason);
    return report.ok ? session.transformed(report) : notHooked(session, report.target, report.reason);
  };
  transformTargets(transformed, onReport, stateDir(root, 'transform'));
  if (patched.length === 0) return;
  // Loaded only now: the patcher is for targets in installed packages, which many apps have none of.
  const { hookTargets } = require('./instrument/targets') as typeof import('./instrument/targets');
  hookTargets(patched, {
    observerFor: (target, fn) => (tools.has(target.spec) ? toolObserver(children!, targetIdentity(root, target.spec)) : session.observer(target.spec, fn)),
    onOutcome: (target, reason) => {
      if (tools.has(target.spec)) return reason === undefined ? undefined : toolNotHooked(target.spec, reason);
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
