import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import MagicString from 'magic-string';
import { parse } from 'meriyah';
import type { TargetSpec } from '../../config/types';
import { callChannel, REPORT_CHANNEL, TRACE, type ModuleReport } from './channels';
import { locate, type Found, type Node, type Source } from './locate';
import { rewrite, unfit } from './rewrite';

const CHANNELS = '__fluxloop$channels';
const OPEN = '__fluxloop$open';
const DC = '__fluxloop$dc';
const INLINE_MAP = /(\/\/# sourceMappingURL=data:application\/json(?:;charset=[\w-]+)?;base64,)([A-Za-z0-9+/=]+)\s*$/;

/**
 * Rewrites a module's source so that each target function publishes its calls to a
 * diagnostics_channel TracingChannel: meriyah parses it, and each change is text inserted in
 * place (magic-string), so every character of the app's code stays on its line and stack traces
 * stay true without source maps. Returns the new source and what was found for each target;
 * `code` is undefined when nothing in the module could be instrumented. Throws on a syntax error.
 *
 * Why not code-transformer, which dd-trace uses on packages: it generates the whole file anew
 * with astring, whose source map marks only identifiers and literals, so a `throw new Error()`
 * maps to the line of the token before it and frames take wrong names, and it drops comments and
 * layout, so every function of the file prints differently.
 */
export function transformModule(source: string, file: string, format: 'esm' | 'cjs', targets: readonly TargetSpec[]): { code?: string; report: ModuleReport } {
  const report: ModuleReport = { file, targets: [] };
  // A byte-order mark is not code; Node drops it too.
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const program = parse(text, { module: format === 'esm', globalReturn: format === 'cjs', webcompat: true, loc: true, ranges: true }) as unknown as Node;
  const written = sourceOf(text, file);
  const code = new MagicString(text);
  const channels: string[] = [];
  const taken = new Map<Node, string>();
  const rewrites: { found: Found; index: number; variant: number }[] = [];
  for (const target of targets) {
    const location = locate(program, target, written);
    const already = location.ok ? location.found.map((f) => taken.get(f.node)).find((t) => t !== undefined) : undefined;
    const reason = !location.ok
      ? location.reason
      : already !== undefined
        ? `it is the same function as target "${already}", whose records it is in`
        : location.found.map(unfit).find((r) => r !== undefined);
    if (!location.ok || reason !== undefined) {
      report.targets.push({ target: target.spec, ok: false, reason: reason! });
      continue;
    }
    const index = channels.length;
    channels.push(callChannel(target.spec));
    location.found.forEach((found, variant) => {
      taken.set(found.node, target.spec);
      rewrites.push({ found, index, variant });
    });
    const [first, ...others] = location.found as [Found, ...Found[]];
    const line = written.line(first.line).trim();
    report.targets.push({
      target: target.spec,
      ok: true,
      name: first.name || target.spec,
      params: first.params,
      // A getter and its setter (or a static and an instance method) share a target and a channel.
      ...(others.length > 0 ? { variants: others.map((f) => f.params) } : {}),
      line: first.line,
      column: first.column,
      source: line.length > 160 ? `${line.slice(0, 159)}…` : line,
    });
  }
  // Inner functions first, so that text inserted at one place nests (see rewrite).
  rewrites.sort((a, b) => b.found.node.start - a.found.node.start);
  for (const { found, index, variant } of rewrites) rewrite(code, text, found, index, variant);
  if (channels.length === 0) return { report };
  code.prependRight(preludeAt(program, text), prelude(format, report, channels));
  if (written.map !== undefined) chainMap(code, file, written.map);
  return { code: code.toString(), report };
}

/**
 * Code compiled in memory carries its map to the source: the columns the insertions moved are
 * mapped back through it, so that stack traces of TypeScript stay true to the column.
 */
function chainMap(code: MagicString, file: string, original: string): void {
  // Loaded only here: most apps carry no map.
  const remapping = require('@ampproject/remapping') as typeof import('@ampproject/remapping').default;
  const ours = code.generateMap({ source: file, hires: true });
  const chained = remapping([ours.toString(), original], () => null);
  const inline = INLINE_MAP.exec(code.original)!;
  const start = inline.index + inline[1]!.length;
  code.overwrite(start, start + inline[2]!.length, Buffer.from(chained.toString(), 'utf8').toString('base64'));
}

/**
 * What a transformed module declares, on one line: the trace function and the channels, opened
 * at the first call or when the module runs, whichever comes first. Function declarations and
 * `var` are hoisted, so a target called through an import cycle before its module has run works.
 */
function prelude(format: 'esm' | 'cjs', report: ModuleReport, channels: string[]): string {
  const dc = format === 'esm' ? DC : `require("node:diagnostics_channel")`;
  return [
    ';',
    format === 'esm' ? `import * as ${DC} from "node:diagnostics_channel";` : '',
    `var ${CHANNELS};`,
    `function ${TRACE}(index, variant, self, args, run) {`,
    `const channel = (${CHANNELS} ??= ${OPEN}())[index];`,
    'if (!channel.start.hasSubscribers) return run();',
    // A loop copies `arguments` faster than slice does.
    'const copy = new Array(args.length);',
    'for (let i = 0; i < args.length; i++) copy[i] = args[i];',
    'const message = { arguments: copy, self, variant };',
    // The whole trace where a subscriber waits for the end (a replay's tracer, which also binds
    // its context to start); a recorder, which needs the start alone, costs one publish. A start
    // subscriber that must see the call through (the recorder of downstream calls, which runs it
    // in a context) sets `around`: cheaper than binding a store, which takes the whole trace.
    'if (channel.end.hasSubscribers || channel.error.hasSubscribers) return channel.traceSync(() => (message.around === undefined ? run() : message.around(run)), message);',
    'channel.start.publish(message);',
    'return message.around === undefined ? run() : message.around(run);',
    '}',
    `function ${OPEN}() {`,
    `const dc = ${dc};`,
    `dc.channel(${JSON.stringify(REPORT_CHANNEL)}).publish(${JSON.stringify(report)});`,
    `return ${JSON.stringify(channels)}.map((name) => dc.tracingChannel(name));`,
    '}',
    `${CHANNELS} ??= ${OPEN}();`,
  ].join(' ');
}

/** After the directive prologue (`'use strict'` must stay first) and a `#!` line. */
function preludeAt(program: Node, text: string): number {
  const body = program.body as Node[];
  let n = 0;
  while (n < body.length && typeof body[n]!.directive === 'string') n++;
  if (n > 0) return body[n - 1]!.end;
  return text.startsWith('#!') ? text.indexOf('\n') + 1 || text.length : 0;
}

/**
 * Positions as the app wrote them. tsx compiles TypeScript in memory and hands over the result
 * with an inline source map whose source is this very file: lines are then the TypeScript's. A
 * map to another file (a build's output, named as it is) leaves positions as they are.
 */
function sourceOf(text: string, file: string): Source & { map?: string } {
  const lines = text.split('\n');
  const plain: Source = { position: ({ line, column }) => ({ line, column }), line: (n) => lines[n - 1] ?? '' };
  const inline = INLINE_MAP.exec(text);
  if (!inline) return plain;
  try {
    const json = Buffer.from(inline[2]!, 'base64').toString('utf8');
    const map = new TraceMap(json);
    const index = map.resolvedSources.findIndex((s) => sameFile(s, file));
    if (index === -1) return plain;
    const originalLines = (map.sourcesContent?.[index] ?? fs.readFileSync(file, 'utf8')).split('\n');
    return {
      position: (loc, arrow) => {
        const original = originalPositionFor(map, loc);
        // Code the compiler added (its helpers) is on no line of the source.
        if (original.line === null || !sameFile(original.source!, file)) return { line: 0, column: 0 };
        // esbuild maps an arrow to its first parameter: it begins at the `(` (or `async`) before.
        const before = arrow ? /(?:async\s*)?\(\s*$/.exec(originalLines[original.line - 1]!.slice(0, original.column)) : null;
        return { line: original.line, column: before ? before.index : original.column };
      },
      line: (n) => originalLines[n - 1] ?? '',
      map: json,
    };
  } catch {
    return plain;
  }
}

function sameFile(source: string, file: string): boolean {
  try {
    return path.resolve(source.startsWith('file:') ? fileURLToPath(source) : source) === file;
  } catch {
    return false;
  }
}
