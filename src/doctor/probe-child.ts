// Run by probe.ts in a child process: loads one user module and reports on its targets over IPC.
// Nothing here writes to stdout or stderr; the module's own output is discarded by the parent.
import { pathToFileURL } from 'node:url';
import { isCommonJs } from '../config/project';
import { describeValue, listExports } from '../config/targets';
import { parseParams } from '../instrument/params';
import { ensureTypeScript, needsCompiler, nodeStripsTypes } from '../replay/typescript';
import type { Finding, ProbeJob, ProbeReply, ProbeTarget } from './probe';

type Bag = Record<PropertyKey, unknown>;

let replied = false;
function reply(message: ProbeReply): void {
  if (replied) return;
  replied = true;
  process.send?.(message, () => process.exit(0));
}

/** The target's function, found the way the recorder and the replay loader find it, without calling anything. */
function inspect(exports: unknown, target: ProbeTarget, display: string): Finding {
  if (target.mode === 'module') return { ok: true, detail: `${display} loads` };
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) {
    return { ok: false, problem: 'type', detail: `${display} exports ${describeValue(exports)}, not an object` };
  }
  const bag = exports as Bag;
  // `default` of CommonJS is module.exports itself, unless it is compiled ESM with a default.
  const whole = target.exportName === 'default' && !('default' in bag);
  if (!whole && !(target.exportName in bag)) {
    return { ok: false, problem: 'missing', detail: `export "${target.exportName}" not found in ${display} (exports: ${listExports(bag)})` };
  }
  const exported = whole ? exports : bag[target.exportName];
  const { member } = target;
  if (member === undefined) {
    return typeof exported === 'function'
      ? { ok: true, detail: `${display} loads; "${target.exportName}" is a function`, params: parseParams(exported) }
      : { ok: false, problem: 'type', detail: `export "${target.exportName}" is ${describeValue(exported)}, not a function` };
  }
  // A class's prototype method first (every instance), else a method of the exported object or function itself.
  const proto = typeof exported === 'function' ? (exported as { prototype?: Bag }).prototype : undefined;
  const onProto = proto !== undefined && typeof proto[member] === 'function';
  const owner = onProto ? proto : exported;
  const fn = owner !== null && (typeof owner === 'object' || typeof owner === 'function') ? (owner as Bag)[member] : undefined;
  const name = `${target.exportName}.${member}`;
  if (typeof fn === 'function') return { ok: true, detail: `${display} loads; "${name}" is a ${onProto ? 'prototype method' : 'method'}`, onPrototype: onProto, params: parseParams(fn) };
  return fn === undefined
    ? { ok: false, problem: 'missing', detail: `"${target.exportName}" in ${display} has no method "${member}"` }
    : { ok: false, problem: 'type', detail: `"${name}" is ${describeValue(fn)}, not a function` };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as ProbeJob;
  let exports: unknown;
  // The parent starts this process in the project root, whose tsx the replay loader registers too.
  const compiled = needsCompiler(job.file) ? await ensureTypeScript(process.cwd()) : true;
  if (!compiled && !nodeStripsTypes()) {
    reply({ loaded: false, error: `${job.display} is TypeScript, and the project has no tsx` });
    return;
  }
  try {
    exports = isCommonJs(job.file) ? require(job.file) : await import(pathToFileURL(job.file).href);
  } catch (error) {
    const hint = compiled ? '' : ` (${job.display} is TypeScript, and the project has no tsx)`;
    reply({ loaded: false, error: `cannot load ${job.display}: ${error instanceof Error ? error.message : String(error)}${hint}` });
    return;
  }
  reply({ loaded: true, findings: job.targets.map((target) => inspect(exports, target, job.display)) });
}

// A module may throw later, from a timer or a promise it started while loading.
process.on('uncaughtException', (error) => reply({ loaded: false, error: `${(error as Error)?.message ?? String(error)} (thrown while loading)` }));
process.on('unhandledRejection', () => {});
void main();
