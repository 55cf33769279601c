import path from 'node:path';
import { findModule, stateDir } from '../config/project';
import { parseTarget } from '../config/targets';
import { servedByTransform } from '../instrument/mechanism';
import { hookTargets, type LocatedTarget } from '../instrument/targets';
import { channelOf, transformTargets, type CallMessage } from '../instrument/transform';
import { bindReplayContext, currentReplay } from '../trace/context';
import { beginObservation, observeCall, type OpenObservation } from '../trace/observations';
import { types } from 'node:util';
import type { TargetSpec } from '../config/types';
import { toolObserver } from './intercept/tools';

let hooked = false;

/**
 * Makes the recording targets observations of the replay run that calls them, through the same
 * mechanism that records them, and puts the run's stubs in front of the tool functions
 * (`recording.downstream.targets`), through the same mechanism that records their calls. Hooks
 * are for the whole process (or worker), so this is done once; the replayed function itself is
 * left out, since its run makes its observation. A function that is both a recording target and a
 * tool is a recording target, as when it was recorded.
 */
export function traceTargets(root: string, specs: readonly string[], except?: string, tools: readonly string[] = []): void {
  if (hooked) return;
  hooked = true;
  const patched: LocatedTarget[] = [];
  const transformed: LocatedTarget[] = [];
  /** The tools, by the spec they are hooked under. */
  const answered = new Map<TargetSpec, string>();
  const locate = (text: string, tool: boolean) => {
    const spec = parseTarget(text);
    const file = findModule(path.resolve(root, spec.file));
    if (file === undefined) return;
    const transform = servedByTransform(spec, file);
    // A wrapper is kept by key: a tool's has its own, as the same function may be wrapped for tracing too.
    const hooked = tool && !transform ? { ...spec, spec: `${TOOL_KEY}${spec.spec}` } : spec;
    if (tool) answered.set(hooked, spec.spec);
    (transform ? transformed : patched).push({ spec: hooked, file });
  };
  for (const text of specs) if (text !== except) locate(text, false);
  for (const text of tools) if (!specs.includes(text)) locate(text, true);
  // A target that cannot be hooked is reported by `fluxloop record status` and `doctor`; a replay goes on without its observations.
  transformTargets(transformed, () => undefined, stateDir(root, 'transform'));
  for (const { spec } of transformed) {
    const tool = answered.get(spec);
    if (tool === undefined) observeChannel(spec.spec);
    else answerChannel(tool);
  }
  hookTargets(patched, {
    observerFor: (target, fn) => {
      const tool = answered.get(target);
      return tool === undefined ? (args) => observeCall(target.spec, 'span', args) : toolObserver(tool, types.isAsyncFunction(fn));
    },
    onOutcome: () => undefined,
  });
}

const TOOL_KEY = 'fluxloop.downstream:';

/** Each call on a transformed tool's channel is made through the run's stubs: answered from the recording without running, or run. */
function answerChannel(target: string): void {
  const observe = toolObserver(target);
  channelOf(target).start.subscribe((message) => {
    const m = message as CallMessage;
    const around = observe(m.arguments, m.self);
    if (around !== undefined) m.around = around;
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
