// Run by probe.ts in a child process: loads one user module and reports on its targets over IPC.
// Nothing here writes to stdout or stderr; the module's own output is discarded by the parent.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, ProbeJob, ProbeReply, ProbeTarget } from './probe';

type Bag = Record<PropertyKey, unknown>;

let replied = false;
function reply(message: ProbeReply): void {
  if (replied) return;
  replied = true;
  process.send?.(message, () => process.exit(0));
}

/** Whether Node loads `file` as CommonJS: by extension, else by the nearest package.json's `type` (as the replay loader decides). */
function isCommonJs(file: string): boolean {
  if (/\.c[jt]s$/.test(file)) return true;
  if (/\.m[jt]s$/.test(file)) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { type?: string }).type !== 'module';
    } catch {
      if (path.dirname(dir) === dir) return true;
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : type === 'undefined' ? 'undefined' : `a ${type}`;
}

/** The target's function, found the way the recorder and the replay loader find it, without calling anything. */
function inspect(exports: unknown, target: ProbeTarget, display: string): Finding {
  if (target.mode === 'module') return { ok: true, detail: `${display} loads` };
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) {
    return { ok: false, problem: 'type', detail: `${display} exports ${describe(exports)}, not an object` };
  }
  const bag = exports as Bag;
  // `default` of CommonJS is module.exports itself, unless it is compiled ESM with a default.
  const whole = target.exportName === 'default' && !('default' in bag);
  if (!whole && !(target.exportName in bag)) {
    const names = Object.keys(bag).filter((k) => k !== '__esModule');
    const list = names.length === 0 ? 'none' : names.slice(0, 20).join(', ') + (names.length > 20 ? ', …' : '');
    return { ok: false, problem: 'missing', detail: `export "${target.exportName}" not found in ${display} (exports: ${list})` };
  }
  const exported = whole ? exports : bag[target.exportName];
  const { member } = target;
  if (member === undefined) {
    return typeof exported === 'function'
      ? { ok: true, detail: `${display} loads; "${target.exportName}" is a function` }
      : { ok: false, problem: 'type', detail: `export "${target.exportName}" is ${describe(exported)}, not a function` };
  }
  // A class's prototype method first (every instance), else a method of the exported object or function itself.
  const proto = typeof exported === 'function' ? (exported as { prototype?: Bag }).prototype : undefined;
  const onProto = proto !== undefined && typeof proto[member] === 'function';
  const owner = onProto ? proto : exported;
  const fn = owner !== null && (typeof owner === 'object' || typeof owner === 'function') ? (owner as Bag)[member] : undefined;
  const name = `${target.exportName}.${member}`;
  if (typeof fn === 'function') return { ok: true, detail: `${display} loads; "${name}" is a ${onProto ? 'prototype method' : 'method'}` };
  return fn === undefined
    ? { ok: false, problem: 'missing', detail: `"${target.exportName}" in ${display} has no method "${member}"` }
    : { ok: false, problem: 'type', detail: `"${name}" is ${describe(fn)}, not a function` };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as ProbeJob;
  let exports: unknown;
  try {
    exports = isCommonJs(job.file) ? require(job.file) : await import(pathToFileURL(job.file).href);
  } catch (error) {
    reply({ loaded: false, error: `cannot load ${job.display}: ${error instanceof Error ? error.message : String(error)}` });
    return;
  }
  reply({ loaded: true, findings: job.targets.map((target) => inspect(exports, target, job.display)) });
}

// A module may throw later, from a timer or a promise it started while loading.
process.on('uncaughtException', (error) => reply({ loaded: false, error: `${(error as Error)?.message ?? String(error)} (thrown while loading)` }));
process.on('unhandledRejection', () => {});
void main();
