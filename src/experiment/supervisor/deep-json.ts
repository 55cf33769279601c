/**
 * JSON.stringify, and, for a value nested past the depth at which V8's own recursion runs out of
 * stack (about 10,000 levels on Node 20), the same text written by a loop. Plans carry recorded
 * values of any depth to worker threads, and JSON.parse reads any depth back. Written here
 * because the JSON writers on npm recurse as V8 does. For JSON data: no toJSON, no cycles.
 */
export function stringifyDeep(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  const out: string[] = [];
  const stack: Array<{ value: Record<string, unknown> | unknown[]; keys?: string[]; i: number }> = [];
  const write = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) out.push(JSON.stringify(v) ?? 'null');
    else if (Array.isArray(v)) {
      out.push('[');
      stack.push({ value: v, i: 0 });
    } else {
      const o = v as Record<string, unknown>;
      out.push('{');
      stack.push({ value: o, keys: Object.keys(o).filter((k) => o[k] !== undefined && typeof o[k] !== 'function'), i: 0 });
    }
  };
  write(value);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const { keys } = frame;
    if (frame.i === (keys ?? (frame.value as unknown[])).length) {
      out.push(keys ? '}' : ']');
      stack.pop();
      continue;
    }
    if (frame.i > 0) out.push(',');
    if (keys !== undefined) {
      const key = keys[frame.i++]!;
      out.push(JSON.stringify(key), ':');
      write((frame.value as Record<string, unknown>)[key]);
    } else {
      const item = (frame.value as unknown[])[frame.i++];
      write(typeof item === 'function' ? null : item);
    }
  }
  return out.join('');
}
