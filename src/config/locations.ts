import type { SourceLocation } from './errors.js';

// Where each key of a parsed config was written, apart from the parser: a worker thread that
// checks a posted config needs the locations for its messages, not the YAML parser.

/** Where each key of a parsed mapping was written, for errors found after parsing (a provider path that resolves nowhere). */
const keyLocations = new WeakMap<object, Map<string, SourceLocation>>();

/** Remembers where the keys of `mapping` were written. */
export function setKeyLocations(mapping: object, locations: Map<string, SourceLocation>): void {
  keyLocations.set(mapping, locations);
}
/** The file, line and field of `key` in a mapping this module parsed (`replay_args.providers`); undefined for one made in code. */
export function configLocation(mapping: object, key: string): SourceLocation | undefined {
  return keyLocations.get(mapping)?.get(key);
}

/** The key locations of the mappings in `config`, by their path: a config posted to a worker thread loses them. */
export function locationsOf(config: object): Array<[string[], Array<[string, SourceLocation]>]> {
  const found: Array<[string[], Array<[string, SourceLocation]>]> = [];
  eachMapping(config, (mapping, at) => {
    const locations = keyLocations.get(mapping);
    if (locations !== undefined) found.push([at, [...locations]]);
  });
  return found;
}

/** Gives the mappings of a posted `config` the locations that `locationsOf` took from the original. */
export function restoreLocations(config: object, found: ReturnType<typeof locationsOf>): void {
  for (const [at, locations] of found) {
    const mapping = at.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], config);
    if (typeof mapping === 'object' && mapping !== null) keyLocations.set(mapping, new Map(locations));
  }
}

function eachMapping(root: object, fn: (mapping: object, at: string[]) => void): void {
  const stack: Array<[object, string[]]> = [[root, []]];
  while (stack.length > 0) {
    const [value, at] = stack.pop()!;
    fn(value, at);
    for (const [key, child] of Object.entries(value)) if (typeof child === 'object' && child !== null) stack.push([child, [...at, key]]);
  }
}

