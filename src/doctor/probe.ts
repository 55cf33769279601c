import { fork } from 'node:child_process';
import path from 'node:path';
import type { Param } from '../instrument/params';

/** One target to look up in a module's exports. `module`: only check that the module loads. */
export interface ProbeTarget {
  spec: string;
  exportName: string;
  member?: string;
  mode: 'function' | 'module';
}

/** What the child process is asked: load `file` once and look up each target in it. */
export interface ProbeJob {
  file: string;
  /** The module's path as shown to the user. */
  display: string;
  targets: ProbeTarget[];
}

/**
 * `onPrototype`: the target is a method of a class's prototype, which a replay calls on an instance.
 * `params`: the function's parameters, as replay reads them (absent for a module only loaded).
 */
export type Finding = { ok: true; detail: string; onPrototype?: boolean; params?: Param[] } | { ok: false; problem: 'missing' | 'type'; detail: string };

/** The child's answer. */
export type ProbeReply = { loaded: true; findings: Finding[] } | { loaded: false; error: string };

/** The child's reply, or why there was none: it overstayed the timeout, or the module ended the process. */
export type ProbeOutcome = ProbeReply | { loaded: false; error: string; cause: 'timeout' | 'exit' };

/**
 * Loads a user module in a child process, as the replay loader would (require for CommonJS,
 * import for ESM), and looks its targets up there. Whatever the module does when it loads (start
 * a server, print, loop forever, exit) stays in that process: its output is discarded, recording
 * is off, and it is killed once it has answered or when `timeoutMs` is up.
 */
export function probeModule(root: string, job: ProbeJob, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, 'probe-child.js'), [JSON.stringify(job)], {
      cwd: root,
      env: { ...process.env, FLUXLOOP_RECORD_ARGS: 'false' },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    let settled = false;
    const settle = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      const seconds = timeoutMs >= 1000 ? `${+(timeoutMs / 1000).toFixed(1)} s` : `${timeoutMs} ms`;
      settle({ loaded: false, cause: 'timeout', error: `${job.display} did not finish loading within ${seconds}` });
    }, timeoutMs);
    child.on('message', (reply) => settle(reply as ProbeReply));
    child.on('error', (error) => settle({ loaded: false, error: `cannot start a process to load ${job.display}: ${error.message}` }));
    child.on('exit', (code, signal) =>
      settle({ loaded: false, cause: 'exit', error: `loading ${job.display} ended the process (${signal ?? `exit code ${code}`}) before it could be checked` }),
    );
  });
}
