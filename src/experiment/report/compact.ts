import { JSON_STEP } from '../../replay/paths';

/** How much of a value the page keeps; the rest is counted in markers. */
export interface Limits {
  /** Characters of a string. */
  string: number;
  /** Elements of an array. */
  array: number;
  /** Keys of an object. */
  keys: number;
  /** Levels of nesting. */
  depth: number;
}

/**
 * Where `override_location` (e.g. `args.1.content`) is in the arguments as encoded: a class
 * instance or escaped object is `{"$type":"Object","value":{…}}`, so its keys are one step down.
 */
export function locateOverride(args: unknown, location: string | null): Array<string | number> | null {
  if (location === null || !Array.isArray(args)) return null;
  const [root, ...segments] = location.split('.');
  if (root !== 'args' || segments.length === 0) return null;
  const found: Array<string | number> = [];
  let node: unknown = args;
  for (const segment of segments) {
    // Inside JSON text (`$json`): the text itself is what shows the input.
    if (segment === JSON_STEP) return found;
    if (Array.isArray(node)) {
      if (!/^-?\d+$/.test(segment)) return null;
      let i = Number(segment);
      if (i < 0) i += node.length;
      if (i < 0 || i >= node.length) return null;
      found.push(i);
      node = node[i];
      continue;
    }
    if (!isObject(node)) return null;
    if (!hasOwn(node, segment) && typeof node.$type === 'string' && isObject(node.value) && hasOwn(node.value, segment)) {
      found.push('value');
      node = node.value;
    }
    if (!isObject(node) || !hasOwn(node, segment)) return null;
    found.push(segment);
    node = node[segment];
  }
  return found;
}

/**
 * A copy of a JSON value within limits: long strings cut with `…[truncated N chars]` as the
 * recorder does, long arrays ended by its Truncated marker, extra keys counted under `…`.
 * What lies on `keep` (the override's path) is never cut away, so the page can still mark it.
 */
export function compact(value: unknown, limits: Limits, keep?: ReadonlyArray<string | number>, depth = 0): unknown {
  if (typeof value === 'string') return truncateString(value, limits.string);
  if (typeof value !== 'object' || value === null) return value;
  const next = keep !== undefined && keep.length > 0 ? keep[0] : undefined;
  const rest = next === undefined ? undefined : keep!.slice(1);
  if (depth >= limits.depth && next === undefined) return { $type: 'Truncated', reason: 'depth' };
  if (Array.isArray(value)) {
    const length = Math.max(limits.array, typeof next === 'number' ? next + 1 : 0);
    const out: unknown[] = value.slice(0, length).map((v, i) => compact(v, limits, i === next ? rest : undefined, depth + 1));
    if (value.length > length) out.push({ $type: 'Truncated', reason: 'array_length', omitted: value.length - length });
    return out;
  }
  const keys = Object.keys(value);
  const out: Record<string, unknown> = {};
  let shown = 0;
  for (const key of keys) {
    if (shown >= limits.keys && key !== next) continue;
    out[key] = compact((value as Record<string, unknown>)[key], limits, key === next ? rest : undefined, depth + 1);
    shown++;
  }
  if (keys.length > shown) out['…'] = `[truncated ${keys.length - shown} keys]`;
  return out;
}

export function truncateString(s: string, max: number): string {
  if (typeof s !== 'string' || s.length <= max) return s;
  // Never cut between the halves of a surrogate pair.
  const code = s.charCodeAt(max - 1);
  const cut = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${s.slice(0, cut)}…[truncated ${s.length - cut} chars]`;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}
