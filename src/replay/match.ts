import { functionName, namesModule, targetIdentity } from '../config/identity';
import type { ReplayRecord } from './reader';

/** Which recordings belong to an experiment, and how many of them could only be matched by name. */
export interface RecordingMatch {
  /** What is wanted, for messages: a target's identity, or a name. */
  readonly label: string;
  /** The name records without a module are matched by. */
  readonly name: string;
  /** Whether a record belongs; `byName` counts those taken by their name alone. */
  test(record: ReplayRecord): boolean;
  byName: number;
}

/**
 * The recordings of `target`, by identity: a record that names a module belongs when it names this
 * target's module and export exactly, so that two route files exporting `POST` keep their own. A
 * record that names no module (an older `trace()` record, FluxLoop Python's) can only be matched
 * by its function's name, and is counted, so that the run can say so. `replay_args.function` picks
 * records by their function name or their target as written, as the user chose. A bare `target`
 * (a function replayed from code) matches by name. Undefined (all records) without either.
 */
export function recordingMatch(root: string, fn: string | undefined, target: string | undefined): RecordingMatch | undefined {
  if (fn !== undefined) {
    const wanted = namesModule(fn) ? targetIdentity(root, fn) : undefined;
    const identities = identityCache(root);
    return counted(fn, fn, (r) => r.function === fn || r.target === fn || (wanted !== undefined && r.target !== undefined && identities(r.target) === wanted));
  }
  if (target === undefined) return undefined;
  const name = functionName(target);
  if (!namesModule(target)) return counted(target, name, (r) => r.function === target || r.target === target);
  const wanted = targetIdentity(root, target);
  const identities = identityCache(root);
  const match = counted(wanted, name, (r) => {
    if (r.target !== undefined && namesModule(r.target)) return identities(r.target) === wanted;
    const taken = r.function === name || (r.target !== undefined && functionName(r.target) === name);
    if (taken) match.byName++;
    return taken;
  });
  return match;
}

function counted(label: string, name: string, test: (record: ReplayRecord) => boolean): RecordingMatch {
  return { label, name, test, byName: 0 };
}

/** Identities by recorded target: a file of a million records names a handful of targets. */
function identityCache(root: string): (target: string) => string {
  const known = new Map<string, string>();
  return (target) => {
    let identity = known.get(target);
    if (identity === undefined) known.set(target, (identity = targetIdentity(root, target)));
    return identity;
  };
}

/**
 * `match`, also tallying the targets of the records it turns away, so that a file without the
 * wanted recordings can name those it holds (`app/a.js:handle (3), app/b.js:run (1)`).
 */
export function tallyOthers(match: RecordingMatch): { test(record: ReplayRecord): boolean; held(): string[] } {
  const others = new Map<string, number>();
  return {
    test: (record) => {
      if (match.test(record)) return true;
      const name = record.target ?? record.function;
      // A file may name many targets: a few dozen are plenty to name ten.
      if (others.size < 50 || others.has(name)) others.set(name, (others.get(name) ?? 0) + 1);
      return false;
    },
    held: () => [...others].slice(0, 10).map(([name, n]) => `${name} (${n})`),
  };
}
