import { create } from '@apm-js-collab/code-transformer';
import { pathToFileURL } from 'node:url';
import { parse } from 'meriyah';
import type { TargetSpec } from '../../config/types';
import { callChannel, REPORT_CHANNEL, TRACE, type ModuleReport, type TargetReport } from './channels';
import { locate, type Node } from './locate';
import { rewrite } from './rewrite';

const CHANNELS = '__fluxloop$channels';
const OPEN = '__fluxloop$open';
const DC = '__fluxloop$dc';
const INLINE_MAP = /\n?\/\/# sourceMappingURL=data:application\/json(?:;charset=[\w-]+)?;base64,([A-Za-z0-9+/=]+)\s*$/;

/**
 * Rewrites a module's source so that each target function publishes its calls to a
 * diagnostics_channel TracingChannel, with code-transformer doing the parsing, the code
 * generation and the source map (chained to one the source already carries, as tsx's). Returns
 * the new source with an inline source map, and what was found for each target; `code` is
 * undefined when nothing in the module could be instrumented.
 */
export function transformModule(source: string, file: string, format: 'esm' | 'cjs', targets: readonly TargetSpec[]): { code?: string; report: ModuleReport } {
  const report: ModuleReport = { file, targets: [] };
  const channels: string[] = [];
  const matcher = create([
    {
      channelName: 'fluxloop',
      module: { name: 'fluxloop', versionRange: '*', filePath: 'module.js' },
      // The whole program, once: finding the targets needs the module's scope, not one node at a time.
      astQuery: 'Program',
      transform: (_state, program) => instrument(program as unknown as Node, source, targets, format, report, channels),
    },
  ]);
  const inputMap = INLINE_MAP.exec(source);
  const body = inputMap ? source.slice(0, inputMap.index) : source;
  const out = matcher.getTransformer('fluxloop', '0.0.0', 'module.js')!.transform(body, format, inputMap ? Buffer.from(inputMap[1]!, 'base64').toString('utf8') : undefined, {
    // Stack traces name an ES module by its URL and CommonJS by its path; the map keeps that.
    sourceFile: format === 'esm' ? pathToFileURL(file).href : file,
  });
  if (channels.length === 0) return { report };
  const map = Buffer.from(out.map!, 'utf8').toString('base64');
  return { code: `${out.code}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}\n`, report };
}

function instrument(program: Node, source: string, targets: readonly TargetSpec[], format: 'esm' | 'cjs', report: ModuleReport, channels: string[]): void {
  const lines = source.split('\n');
  const taken = new Map<Node, string>();
  // Every target is looked for before any is rewritten, in the tree as written.
  const locations = targets.map((target) => locate(program, target));
  for (const [i, target] of targets.entries()) {
    const location = locations[i]!;
    if (!location.ok) {
      report.targets.push({ target: target.spec, ok: false, reason: location.reason });
      continue;
    }
    const first = location.found[0]!;
    const already = location.found.map((f) => taken.get(f.node)).find((t) => t !== undefined);
    if (already !== undefined) {
      report.targets.push({ target: target.spec, ok: false, reason: `it is the same function as target "${already}", whose records it is in` });
      continue;
    }
    const index = channels.length;
    const refused = location.found.map((f) => rewrite(f, index)).find((r) => r !== undefined);
    if (refused !== undefined) {
      report.targets.push({ target: target.spec, ok: false, reason: refused });
      continue;
    }
    for (const f of location.found) taken.set(f.node, target.spec);
    channels.push(callChannel(target.spec));
    const text = (lines[first.line - 1] ?? '').trim();
    report.targets.push({
      target: target.spec,
      ok: true,
      name: first.name || target.spec,
      params: first.params,
      line: first.line,
      column: first.column,
      source: text.length > 160 ? `${text.slice(0, 159)}…` : text,
    });
  }
  if (channels.length > 0) (program.body as Node[]).splice(directiveCount(program), 0, ...prelude(format, report, channels));
}

/**
 * What a transformed module declares: the trace function and the channels, opened at the first
 * call or when the module runs, whichever comes first. Function declarations and `var` are hoisted,
 * so a target called through an import cycle before its module has run still works.
 */
function prelude(format: 'esm' | 'cjs', report: ModuleReport, channels: string[]): Node[] {
  const dc = format === 'esm' ? DC : `require("node:diagnostics_channel")`;
  const code = `
    ${format === 'esm' ? `import * as ${DC} from "node:diagnostics_channel";` : ''}
    var ${CHANNELS};
    function ${TRACE}(index, self, args, run) {
      const channel = (${CHANNELS} ??= ${OPEN}())[index];
      if (!channel.start.hasSubscribers) return run();
      return channel.traceSync(run, { arguments: Array.prototype.slice.call(args), self });
    }
    function ${OPEN}() {
      const dc = ${dc};
      dc.channel(${JSON.stringify(REPORT_CHANNEL)}).publish(${JSON.stringify(report)});
      return ${JSON.stringify(channels)}.map((name) => dc.tracingChannel(name));
    }
    ${CHANNELS} ??= ${OPEN}();
  `;
  return parse(code, { module: format === 'esm', next: true }).body as unknown as Node[];
}

function directiveCount(program: Node): number {
  const body = program.body as Node[];
  let n = 0;
  while (n < body.length && typeof body[n]!.directive === 'string') n++;
  return n;
}
