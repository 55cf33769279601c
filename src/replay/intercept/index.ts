import path from 'node:path';
import { findModule } from '../../config/project';
import { parseTarget } from '../../config/targets';
import { hookTargets, type LocatedTarget } from '../../instrument/targets';
import { interceptFetch } from './fetch';
import { interceptHttp } from './http';
import { toolObserver } from './tools';

export { currentScope, type CallEncoding, type DownstreamScope } from './requests';

let installed = false;

/**
 * Puts the run's stubs between the app and what it calls downstream: `fetch`, `http`/`https`
 * requests, and the tool functions of `recording.downstream.targets`. Done once per thread,
 * before the app loads; outside a run with downstream state, every call goes straight through.
 * Tools are hooked by patching their module's exports (they must be able to answer without being
 * called, which the transform's tracing cannot do), so a tool called from inside its own module
 * is not seen.
 */
export function installIntercepts(root: string, tools: readonly string[]): void {
  if (installed) return;
  installed = true;
  interceptFetch();
  interceptHttp();
  const located: LocatedTarget[] = [];
  const names = new Map<object, string>();
  for (const text of tools) {
    const spec = parseTarget(text);
    const file = findModule(path.resolve(root, spec.file));
    if (file === undefined) continue;
    // A key of its own: the same function may also be a recording target, wrapped for tracing.
    const own = { ...spec, spec: `fluxloop.downstream:${spec.spec}` };
    names.set(own, spec.spec);
    located.push({ spec: own, file });
  }
  hookTargets(located, { observerFor: (target, fn) => toolObserver(names.get(target) ?? target.spec, fn), onOutcome: () => undefined });
}
