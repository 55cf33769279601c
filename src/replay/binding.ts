import { formatParamPath, type ParamPath } from '../config/param-path';
import type { Param } from '../instrument/params';
import { decode, isBinary, rebuild, type DecodeOptions } from '../record/decode';
import { Collectors } from './collectors';
import { existingText, locate, setAt, valueAt, type CallArgs, type Location } from './paths';

/** A recorded call's arguments, still encoded. */
export interface EncodedCall {
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** A recorded call decoded for a run, its framework objects still as data. */
export interface DecodedCall extends CallArgs {
  /**
   * The framework objects (a Request, a Koa context) as their recorded data, inner ones first: an
   * input can be put inside them (`kwargs.req.body.message`) before `finishCall` makes them objects.
   */
  framework: Array<{ type: string; value: Record<string, unknown> }>;
}

/** A live value a `replay_args.providers` function made for this run, put at its path as it is. */
export interface ProvidedValue {
  /** `module:function`, for messages. */
  provider: string;
  value: unknown;
}

/** What goes at a path: a built-in collector or a user's function (callable providers), or a provided value. */
export type Provider = 'send' | 'error' | Function | ProvidedValue;

/** A provided value's path points nowhere in this recording: the run is an error naming the path. */
export class ProviderPathError extends Error {
  override name = 'ProviderPathError';
  // Where decoding noticed says nothing about the recording.
  override stack = undefined;
}

const CALLABLE_RE = /^<callable:(.*)>$/s;

/**
 * The run's own arguments from a recording: decoded afresh (so the recording is never mutated and
 * runs share nothing), emitters as stand-ins, `<callable:NAME>` markers as collectors, and the
 * configured providers in place, in the map's order; class instances revived as `classes` finds
 * them. `params` (the recorded function's) let a provided value's `kwargs.NAME` path find a
 * positional argument; callable providers are placed without them, as they always were.
 */
export function decodeCall(
  recorded: EncodedCall,
  collectors: Collectors,
  providers: ReadonlyMap<ParamPath, Provider>,
  params: readonly Param[] = [],
  classes: Pick<DecodeOptions, 'revive' | 'unrevived'> = {},
): DecodedCall {
  const framework: DecodedCall['framework'] = [];
  const options: DecodeOptions = {
    ...classes,
    emitter: (marker: { class: string; methods: string[]; value: unknown }) => collectors.emitter(marker),
    adapted: (node: DecodedCall['framework'][number]) => (framework.push(node), node.value),
  };
  const call: DecodedCall = {
    args: decode(recorded.args, options) as unknown[],
    kwargs: decode(recorded.kwargs, options) as Record<string, unknown>,
    framework,
  };
  replaceCallables(call.args, 'args', collectors, new Set());
  replaceCallables(call.kwargs, 'kwargs', collectors, new Set());
  for (const [path, provider] of providers) {
    if (typeof provider === 'object') {
      const at = locate(path, call, params);
      if (at === undefined) throw new ProviderPathError(providerMiss(path, provider, call, params));
      setAt(call, at, provider.value);
      continue;
    }
    const at = locate(path, call, []);
    if (at === undefined) continue;
    const to = formatParamPath(at.root, at.segments);
    setAt(call, at, typeof provider === 'function' ? collectors.callable(to, 'send', provider) : collectors.callable(to, provider));
  }
  return call;
}

function providerMiss(path: ParamPath, provided: ProvidedValue, call: CallArgs, params: readonly Param[]): string {
  return `replay_args.providers.${path.text} (${provided.provider}) points nowhere in this recording; paths that exist: ${existingText(call, params)}`;
}

/**
 * Makes the call's framework objects from their data, as the data are now (an input put in): a real
 * Request, a Fastify reply stand-in reporting to `collectors`. Inner objects are made first, so
 * that a Request's body is a FormData again before the Request is made.
 */
export function finishCall(call: DecodedCall, collectors: Collectors): void {
  const made = new Map<object, unknown>();
  for (const node of call.framework) {
    swap(node.value, made, new Set());
    made.set(node.value, rebuild(node.type, node.value, collectors));
  }
  const seen = new Set<object>();
  if (made.size > 0) for (const part of [call.args, call.kwargs]) swap(part, made, seen);
}

/** Puts each made object where its data are, anywhere inside `value`; a walk with a stack of its own, past bytes. */
function swap(value: unknown, made: ReadonlyMap<object, unknown>, seen: Set<object>): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const holder = stack.pop();
    if (typeof holder !== 'object' || holder === null || seen.has(holder) || isBinary(holder)) continue;
    seen.add(holder);
    if (holder instanceof Map) {
      for (const [k, v] of holder) if (typeof v === 'object' && v !== null && made.has(v)) holder.set(k, made.get(v));
      for (const v of holder.values()) stack.push(v);
      continue;
    }
    for (const key of Object.keys(holder)) {
      const v = (holder as Record<string, unknown>)[key];
      if (typeof v === 'object' && v !== null && made.has(v)) (holder as Record<string, unknown>)[key] = made.get(v);
      else stack.push(v);
    }
  }
}

/** The value at `path` in a recording's arguments, decoded afresh; undefined where it points nowhere. */
export function recordedValue(recorded: EncodedCall, path: ParamPath, params: readonly Param[]): unknown {
  const call = decodeCall(recorded, new Collectors(), new Map());
  const at = locate(path, call, params);
  return at === undefined ? undefined : valueAt(call, at);
}

/** Puts `input` at `path`; returns the location, or a message naming what does exist. */
export function override(call: CallArgs, path: ParamPath, input: unknown, params: readonly Param[]): Location | string {
  const at = locate(path, call, params);
  if (at === undefined) return missMessage(path, call, params);
  setAt(call, at, input);
  return at;
}

export function missMessage(path: ParamPath, call: CallArgs, params: readonly Param[]): string {
  return `override_param_path "${path.text}" points nowhere in this recording; paths that exist: ${existingText(call, params)}`;
}

/**
 * The positional arguments for a call. A call recorded by name (FluxLoop's Python records,
 * `recordCallArgs`) is bound to the function's parameters by name; a destructured parameter
 * gets the named values left, as one object; a function whose parameters cannot be told gets
 * them as one object too.
 */
export function bindArguments(call: CallArgs, params: readonly Param[]): unknown[] {
  const names = Object.keys(call.kwargs);
  if (names.length === 0) return call.args;
  const out = [...call.args];
  const left = new Map(names.map((k) => [k, call.kwargs[k]]));
  let end = out.length;
  for (let i = out.length; i < params.length && left.size > 0; i++) {
    const param = params[i];
    if (typeof param === 'string') {
      if (!left.has(param)) continue;
      out[i] = left.get(param);
      left.delete(param);
    } else if (param !== null && 'destructured' in param) {
      out[i] = Object.fromEntries(left);
      left.clear();
    } else {
      break;
    }
    end = i + 1;
  }
  if (end === call.args.length) return [...call.args, call.kwargs];
  out.length = end;
  return out;
}

// FluxLoop's rule for runs without recordings: the input goes to the first parameter with one of these names.
const INPUT_NAMES = ['input', 'message', 'query', 'text', 'content'];

/** The arguments of a run without a recording: the input at the parameter FluxLoop would choose. */
export function inputArguments(input: unknown, params: readonly Param[]): unknown[] {
  for (let i = 0; i < params.length; i++) {
    const param = params[i];
    if (typeof param === 'string' && INPUT_NAMES.includes(param)) return [...new Array(i).fill(undefined), input];
    if (param !== null && typeof param === 'object' && 'destructured' in param) {
      const name = param.destructured.find((k) => INPUT_NAMES.includes(k));
      if (name !== undefined) return [...new Array(i).fill(undefined), { [name]: input }];
    }
  }
  return [input];
}

/** Where a value sits in a call's arguments, kept as a chain so that a path is only spelt out for a callable. */
interface Place {
  value: unknown;
  key: string | number;
  parent: Place | undefined;
}

function pathOf(place: Place): string {
  const keys: Array<string | number> = [];
  for (let p: Place | undefined = place; p !== undefined; p = p.parent) keys.push(p.key);
  return keys.reverse().join('.');
}

/**
 * Puts a collector in place of each `<callable:NAME>` marker inside `value`, each object walked
 * once, in document order, so that one reached twice is named by its first path. A walk with a
 * stack of its own, so that a value nested any depth is fine; it does not go into bytes (a
 * Buffer's keys are its bytes). A recorded `then` method stays a marker:
 * as a collector it would make its object a thenable that never settles, and `await obj` would
 * hang the run; left as it is, `await obj` gives the object, as for a stand-in.
 */
function replaceCallables(value: unknown, root: string, collectors: Collectors, seen: Set<object>): void {
  const stack: Place[] = [{ value, key: root, parent: undefined }];
  while (stack.length > 0) {
    const place = stack.pop()!;
    const holder = place.value;
    if (typeof holder !== 'object' || holder === null || seen.has(holder) || isBinary(holder)) continue;
    seen.add(holder);
    const keys = Array.isArray(holder) ? undefined : Object.keys(holder);
    // From the last key to the first, so that the first is walked first, as a recursive walk would.
    for (let i = (keys ?? (holder as unknown[])).length - 1; i >= 0; i--) {
      const key = keys === undefined ? i : keys[i]!;
      const item = (holder as Record<string | number, unknown>)[key];
      const match = typeof item === 'string' && key !== 'then' ? CALLABLE_RE.exec(item) : null;
      if (match) {
        const at = `${pathOf(place)}.${key}`;
        (holder as Record<string | number, unknown>)[key] = collectors.callable(at, /err/i.test(match[1]!) ? 'error' : 'send', undefined, match[1]);
      } else if (typeof item === 'object' && item !== null) {
        stack.push({ value: item, key, parent: place });
      }
    }
  }
}
