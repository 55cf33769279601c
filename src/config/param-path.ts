import { ConfigError, type SourceLocation } from './errors.js';

/** `replay_args.override_param_path`, parsed: where in a call's arguments an input goes. */
export interface ParamPath {
  /** As configured. */
  text: string;
  root: 'args' | 'kwargs';
  /** After the root: for `args` an index first, then keys; numbers index arrays (negative from the end). */
  segments: Array<string | number>;
}

const NUMBER_RE = /^-?\d+$/;

/**
 * Parses `args.N[.rest]`, `kwargs.NAME[.rest]`, or a bare `NAME[.rest]`, which means
 * `kwargs.NAME[.rest]` as in FluxLoop (`data.content` is `kwargs["data"]["content"]`).
 */
export function parseParamPath(text: string, location?: SourceLocation): ParamPath {
  const fail = (why: string): never => {
    throw new ConfigError(
      `invalid override_param_path ${JSON.stringify(text)}: ${why}; expected args.N[.key…], kwargs.NAME[.key…] or NAME[.key…]`,
      location,
    );
  };
  if (text.trim() === '') fail('it is empty');
  if (/\s/.test(text)) fail('it contains blanks');
  const parts = text.split('.');
  if (parts.some((p) => p === '')) fail('a segment between dots is empty');
  const segments = parts.map((p) => (NUMBER_RE.test(p) ? Number(p) : p));
  const [head] = segments;
  if (head === 'args') {
    if (typeof segments[1] !== 'number') fail('"args" must be followed by an argument index, as in args.0');
    return { text, root: 'args', segments: segments.slice(1) };
  }
  if (head === 'kwargs') {
    if (typeof segments[1] !== 'string') fail('"kwargs" must be followed by a parameter name, as in kwargs.message');
    return { text, root: 'kwargs', segments: segments.slice(1) };
  }
  if (typeof head === 'number') fail('a bare path starts with a parameter name; use args.N for a position');
  return { text, root: 'kwargs', segments };
}

/** The canonical text of a concrete location, e.g. `args.0.userId`. */
export function formatParamPath(root: 'args' | 'kwargs', segments: ReadonlyArray<string | number>): string {
  return [root, ...segments].join('.');
}
