import path from 'node:path';
import { findModule } from '../config/project';
import { parseTarget } from '../config/targets';
import { hookTargets, type LocatedTarget } from '../instrument/targets';
import { observeCall } from '../trace/observations';

let hooked = false;

/**
 * Makes the recording targets observations of the replay run that calls them. Hooks are for
 * the whole process (or worker), so this is done once; the replayed function itself is left
 * out, since its run makes its observation.
 */
export function traceTargets(root: string, specs: readonly string[], except?: string): void {
  if (hooked) return;
  hooked = true;
  const located: LocatedTarget[] = [];
  for (const text of specs) {
    if (text === except) continue;
    const spec = parseTarget(text);
    const file = findModule(path.resolve(root, spec.file));
    if (file !== undefined) located.push({ spec, file });
  }
  hookTargets(located, {
    observerFor: (target) => (args) => observeCall(target.spec, 'span', args),
    // A target that cannot be hooked is reported by `fluxloop record status` and `doctor`; a replay goes on without its observations.
    onOutcome: () => undefined,
  });
}
