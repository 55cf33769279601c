import fs from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { LlmStopped } from '../experiment/llm-client';
import { QueueUnavailable } from '../experiment/queue/errors';
import { ConfigError } from '../config/errors.js';
import { resolveProjectRoot } from '../config/project.js';
import { formatEta } from '../experiment/format';

/** Exit codes: 1 for failures of fluxloop or the user's app, 2 for mistakes in the user's files or command line. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The options every command accepts, declared on the program. */
export interface GlobalOptions {
  projectDir?: string;
  debug?: boolean;
}

/** The global options as seen from inside a command's action. */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The project root a command works on: `--project-dir`, else `FLUXLOOP_PROJECT_DIR`, else the current directory. */
export function projectRootOf(command: Command): string {
  return resolveProjectRoot(globalOptions(command).projectDir);
}

/** The project root a command works on, which must be a folder: exit 2 when it is not. */
export function existingProjectRootOf(command: Command): string {
  const root = projectRootOf(command);
  if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError(`the project directory ${root} does not exist (see --project-dir)`);
  }
  return root;
}

/** Writes lines to stdout. */
export function print(...lines: string[]): void {
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
}

/** Writes a warning to stderr, so that it never mixes into output meant for other programs. */
export function warn(message: string): void {
  process.stderr.write(`${pc.yellow(`warning: ${message}`)}\n`);
}

/**
 * Reports an error on stderr and returns the exit code. A ConfigError is the user's to fix, so it
 * gets its message only; anything else is fluxloop's or the app's, with the stack under --debug.
 */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`${pc.red(`fluxloop: ${err.message}`)}\n`);
    return EXIT_USAGE;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${pc.red(`fluxloop: ${message}`)}\n`);
  // An LLM endpoint that stopped answering, or a queue's Redis that is not there, is told in full by its message; a stack adds nothing.
  if ((err instanceof LlmStopped || err instanceof QueueUnavailable) && !debug) return EXIT_FAILURE;
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${pc.dim(err.stack)}\n`);
  else process.stderr.write(`${pc.dim('(run with --debug for the stack trace)')}\n`);
  return EXIT_FAILURE;
}

/** Progress on stderr: redrawn in place on a terminal, elsewhere a plain line at most once a second, and the last one. */
function progressLine(): { show: (text: string, last: boolean) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  // Off a terminal, a step that ends within a second of the start needs no line but the last.
  let shownAt = Date.now();
  return {
    show: (text, last) => {
      if (tty) process.stderr.write(`\r${text}\x1b[K`);
      else if (last || Date.now() - shownAt >= 1000) {
        shownAt = Date.now();
        process.stderr.write(`${text}\n`);
      }
    },
    end: () => {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** The environment variable that makes progress machine-readable, for tools that run the CLI (the VS Code extension). */
export const PROGRESS_ENV = 'FLUXLOOP_PROGRESS';

// A tool redraws what it is sent; ten a second is smooth, and more would only flood its pipe.
const JSON_PROGRESS_MS = 100;

/** Progress as `{"progress":{label,done,total,detail}}` lines on stderr: at most ten a second, and always the last. */
function progressJson(label: string): { update: (done: number, total: number, detail?: string) => void; end: () => void } {
  let shownAt: number | undefined;
  return {
    update: (done, total, detail) => {
      const now = Date.now();
      if (done !== total && shownAt !== undefined && now - shownAt < JSON_PROGRESS_MS) return;
      shownAt = now;
      process.stderr.write(`${JSON.stringify({ progress: { label, done, total, ...(detail ? { detail } : {}) } })}\n`);
    },
    end: () => {},
  };
}

/**
 * A progress bar on stderr for `total` steps: the bar (on a terminal), `done/total`, the rate per
 * second, the time left, and whatever `detail` the caller adds (a tally of outcomes). With
 * `FLUXLOOP_PROGRESS=json`, JSON lines instead.
 */
export function progressBar(label: string): { update: (done: number, total: number, detail?: string) => void; end: () => void } {
  if (process.env[PROGRESS_ENV] === 'json') return progressJson(label);
  const line = progressLine();
  const tty = process.stderr.isTTY === true;
  // The clock starts at the first step, not at the call: start-up (loading the target, the
  // threads) would otherwise skew the rate, and the time left with it.
  let first: { at: number; done: number } | undefined;
  return {
    update: (done, total, detail = '') => {
      const now = Date.now();
      first ??= { at: now, done };
      const steps = done - first.done;
      const elapsed = now - first.at;
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      const bar = tty ? `${pc.cyan('█'.repeat(filled))}${pc.dim('░'.repeat(width - filled))} ` : '';
      // Under a second, a rate says more about timers than about the work.
      const timing = steps === 0 || elapsed < 1000 ? '' : `  ${((steps * 1000) / elapsed).toFixed(1)}/s${done === total ? '' : `  ${formatEta(((total - done) * elapsed) / steps)} left`}`;
      line.show(`${label} ${bar}${done}/${total}${timing}${detail ? `  ${detail}` : ''}`, done === total);
    },
    end: line.end,
  };
}

/** Rows of cells as lines, each column padded to its widest cell; colour codes do not count. */
export function table(rows: string[][], indent = ''): string[] {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows.map((row) => {
    const cells = row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell))));
    return (indent + cells.join('  ')).trimEnd();
  });
}

/** On one line, at most `max` characters (code points, so that no emoji is cut in half). */
export function cut(text: string, max: number): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}


export { pc as colors };
