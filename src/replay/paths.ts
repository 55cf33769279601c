import { EventEmitter } from 'node:events';
import { formatParamPath, type ParamPath } from '../config/param-path';
import type { Param } from '../instrument/params';
import { isBinary } from '../record/decode';

/** A call's arguments, decoded: positional and by name. */
export interface CallArgs {
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** A place that exists in one call's arguments, indexes made positive. */
export interface Location {
  root: 'args' | 'kwargs';
  segments: Array<string | number>;
}

type Segment = string | number;

/**
 * The step into JSON text held in a string or bytes (a WebSocket frame, a raw body):
 * `args.1.$json.text` is the `text` of the JSON in the second argument. A value put there is
 * written back as JSON text of the same kind, a string as a string and a Buffer as a Buffer.
 */
export const JSON_STEP = '$json';
const hasOwn = (v: object, k: PropertyKey) => Object.prototype.hasOwnProperty.call(v, k);

/**
 * Where `path` points in `call`, or undefined when it points nowhere. `kwargs.NAME` is looked up
 * in the recorded kwargs first, then as the parameter named NAME (`args[i]`), then as a key of an
 * object-destructuring parameter (`args[i].NAME`), so that `kwargs.message` finds the message of
 * `handle(userId, message)` and of `handle({ userId, message })` alike.
 */
export function locate(path: ParamPath, call: CallArgs, params: readonly Param[]): Location | undefined {
  if (path.root === 'args') return walk(call, 'args', path.segments);
  const [name, ...rest] = path.segments as [string, ...Segment[]];
  const recorded = walk(call, 'kwargs', path.segments);
  if (recorded) return recorded;
  for (let i = 0; i < params.length; i++) {
    const param = params[i];
    if (param === name) return rest.length === 0 ? { root: 'args', segments: [i] } : walk(call, 'args', [i, ...rest]);
    if (typeof param === 'object' && param !== null && 'destructured' in param && param.destructured.includes(name)) {
      if (rest.length > 0) return walk(call, 'args', [i, name, ...rest]);
      // A declared key may be missing from the recorded object (it was undefined); it can be set.
      const holder = call.args[i];
      return isObject(holder) ? { root: 'args', segments: [i, name] } : undefined;
    }
  }
  return undefined;
}

/** Puts `value` at a location of `call`, which must be the run's own copy. */
export function setAt(call: CallArgs, at: Location, value: unknown): void {
  put(call[at.root], at.segments, value);
}

/**
 * `holder` with `value` put at `segments` inside it: the same object changed, or, through a `$json`
 * step, new JSON text. Down the path, then back up it setting each step, innermost first (a `$json`
 * step's text is written from what was put inside it); no recursion, so a path may be any length.
 */
function put(holder: unknown, segments: readonly Segment[], value: unknown): unknown {
  const holders: unknown[] = [];
  let at = holder;
  for (const key of segments) {
    holders.push(at);
    at = key === JSON_STEP ? parseJsonText(at) : step(at, key).value;
  }
  let next = value;
  for (let i = segments.length - 1; i >= 0; i--) {
    const key = segments[i]!;
    const h = holders[i];
    if (key === JSON_STEP) {
      next = jsonTextLike(h, next);
      continue;
    }
    if (h instanceof Map) h.set(h.has(key) ? key : String(key), next);
    else (h as Record<Segment, unknown>)[key] = next;
    next = h;
  }
  return next;
}

const NOT_JSON = Symbol('not JSON');

/** The value of the JSON text in a string or bytes; NOT_JSON for anything else. */
function parseJsonText(value: unknown): unknown {
  const text = typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8') : undefined;
  if (text === undefined || !/^\s*[[{"]/.test(text)) return NOT_JSON;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** `value` as JSON text of the kind `original` was: a string, a Buffer, or other bytes. */
function jsonTextLike(original: unknown, value: unknown): unknown {
  const text = JSON.stringify(value);
  if (typeof original === 'string') return text;
  return Buffer.isBuffer(original) ? Buffer.from(text) : new TextEncoder().encode(text);
}

/** The value at a location of `call`; undefined for a declared key the recorded object lacks. */
export function valueAt(call: CallArgs, at: Location): unknown {
  let value: unknown = call[at.root];
  for (const segment of at.segments) value = step(value, segment).value;
  return value;
}

/**
 * The paths that resolve in `call`, for messages: first each `kwargs.NAME` that `locate` finds
 * through the parameters (a named parameter, a key of a destructured one), then the recorded
 * arguments and their keys, a few levels down, level by level, so that a large object (a
 * recorded SDK client) does not hide its siblings. `more` says that the walk stopped at `limit`.
 */
function pathsIn(call: CallArgs, params: readonly Param[], limit: number): { paths: string[]; more: boolean } {
  const named: string[] = [];
  params.forEach((param, i) => {
    if (typeof param === 'string') named.push(`kwargs.${param}`);
    // Each key of a destructuring parameter, as locate finds it: when the argument is an object.
    else if (param !== null && 'destructured' in param && isObject(call.args[i])) named.push(...param.destructured.map((key) => `kwargs.${key}`));
  });
  const out: string[] = [];
  let level: Array<{ value: unknown; root: 'args' | 'kwargs'; segments: Segment[] }> = [
    { value: call.kwargs, root: 'kwargs', segments: [] },
    { value: call.args, root: 'args', segments: [] },
  ];
  let more = false;
  while (level.length > 0) {
    if (out.length >= limit) {
      more = true;
      break;
    }
    const next: typeof level = [];
    for (const { value, root, segments } of level) {
      if (segments.length > 0) out.push(formatParamPath(root, segments));
      // Bytes are not walked (their keys are their bytes); bytes of JSON text are, as JSON.
      if (!isObject(value) || isBinary(value)) {
        const json = segments.length < 3 ? parseJsonText(value) : NOT_JSON;
        if (isObject(json)) next.push({ value: json, root, segments: [...segments, JSON_STEP] });
        continue;
      }
      if (segments.length >= 3) continue;
      const keys = Array.isArray(value) ? value.map((_, i) => i) : value instanceof Map ? [...value.keys()] : Object.keys(value);
      // A stand-in's own `_events` and the like are EventEmitter's, not the recorded data.
      const emitter = value instanceof EventEmitter;
      for (const key of keys) {
        if ((typeof key !== 'string' && typeof key !== 'number') || (emitter && String(key).startsWith('_'))) continue;
        next.push({ value: step(value, key).value, root, segments: [...segments, key] });
      }
    }
    level = next;
  }
  const walked = [...new Set([...named, ...out])];
  // The names are never cut: they are the paths people write.
  const kept = walked.slice(0, Math.max(limit, new Set(named).size));
  return { paths: kept, more: more || kept.length < walked.length };
}

/** Paths that exist in `call`, for messages (see `pathsIn`): every named one, then at most `limit` in all. */
export function existingPaths(call: CallArgs, params: readonly Param[], limit = 12): string[] {
  return pathsIn(call, params, limit).paths;
}

/**
 * The paths that exist in `call`, as every message lists them (a bad override path, provider path
 * or callable provider path, in `run experiment`, `--dry-run` and `doctor`), "…" when there are more.
 */
export function existingText(call: CallArgs, params: readonly Param[]): string {
  const { paths, more } = pathsIn(call, params, 12);
  if (paths.length === 0) return '(none: the call had no arguments)';
  return more ? `${paths.join(', ')}, …` : paths.join(', ');
}

function walk(call: CallArgs, root: 'args' | 'kwargs', segments: readonly Segment[]): Location | undefined {
  let value: unknown = call[root];
  const resolved: Segment[] = [];
  for (const segment of segments) {
    const next = step(value, segment);
    if (!next.found) return undefined;
    resolved.push(next.key);
    value = next.value;
  }
  return { root, segments: resolved };
}

/** One step down: array index (negative from the end), Map key, own property, or into JSON text. */
function step(value: unknown, segment: Segment): { found: boolean; key: Segment; value?: unknown } {
  if (segment === JSON_STEP) {
    const json = parseJsonText(value);
    return json === NOT_JSON ? { found: false, key: segment } : { found: true, key: segment, value: json };
  }
  if (Array.isArray(value) && typeof segment === 'number') {
    const index = segment < 0 ? value.length + segment : segment;
    return index >= 0 && index < value.length ? { found: true, key: index, value: value[index] } : { found: false, key: segment };
  }
  if (value instanceof Map) {
    for (const key of [segment, String(segment)]) if (value.has(key)) return { found: true, key, value: value.get(key) };
    return { found: false, key: segment };
  }
  if (isObject(value) && hasOwn(value, segment)) return { found: true, key: segment, value: (value as Record<Segment, unknown>)[segment] };
  return { found: false, key: segment };
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}
