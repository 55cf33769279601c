import path from 'node:path';
import { findModule, stateDir } from '../config/project';
import { parseTarget } from '../config/targets';
import { servedByTransform } from '../instrument/mechanism';
import { hookTargets, type LocatedTarget } from '../instrument/targets';
import { channelOf, transformTargets, type CallMessage } from '../instrument/transform';
import { bindReplayContext, currentReplay } from '../trace/context';
import { beginObservation, observeCall, type OpenObservation } from '../trace/observations';

let hooked = false;

/**
 * Makes the recording targets observations of the replay run that calls them, through the same
 * mechanism that records them. Hooks are for the whole process (or worker), so this is done once;
 * the replayed function itself is left out, since its run makes its observation.
 */
export function traceTargets(root: string, specs: readonly string[], except?: string): void {
  if (hooked) return;
  hooked = true;
  const patched: LocatedTarget[] = [];
  const transformed: LocatedTarget[] = [];
  for (const text of specs) {
    if (text === except) continue;
    const spec = parseTarget(text);
    const file = findModule(path.resolve(root, spec.file));
    if (file !== undefined) (servedByTransform(spec, file) ? transformed : patched).push({ spec, file });
  }
  // A target that cannot be hooked is reported by `fluxloop record status` and `doctor`; a replay goes on without its observations.
  transformTargets(transformed, () => undefined, stateDir(root, 'transform'));
  for (const { spec } of transformed) observeChannel(spec.spec);
  hookTargets(patched, {
    observerFor: (target) => (args) => observeCall(target.spec, 'span', args),
    onOutcome: () => undefined,
  });
}

/** Each call on a transformed target's channel becomes an observation, its call run in the observation's context. */
function observeChannel(target: string): void {
  const channel = channelOf(target);
  const open = new WeakMap<object, OpenObservation>();
  bindReplayContext(channel.start, (message) => {
    const observation = beginObservation(target, 'span', (message as CallMessage).arguments);
    if (observation === undefined) return currentReplay();
    open.set(message as object, observation);
    return observation.context;
  });
  channel.end.subscribe((message) => {
    const { result, error } = message as CallMessage;
    const observation = open.get(message as object);
    if (observation === undefined) return;
    if ('error' in (message as object)) observation.threw(error);
    else observation.returned(result);
  });
}
