import { InvalidArgumentError } from 'commander';
import { DOWNSTREAM_MODES, type DownstreamReplayConfig } from '../config/types';
import { parseShard, type Shard } from '../experiment/share';

/** A commander parser for an integer option of at least `min` (0 or 1), with a message that says which. */
export function integerAtLeast(min: 0 | 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(min === 0 ? 'must be 0 or a positive integer' : 'must be a positive integer');
    return n;
  };
}

/** A commander parser for an integer option from 1 to `max` (a turn of a conversation, say). */
export function integerUpTo(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`must be an integer from 1 to ${max}`);
    return n;
  };
}

/**
 * A commander parser for `--downstream KIND=MODE`, repeatable: each one over the last, collected
 * into `replay_args.downstream`'s shape (`tools=stub`, `unmatched=live`).
 */
export function downstreamMode(value: string, previous: Partial<DownstreamReplayConfig> = {}): Partial<DownstreamReplayConfig> {
  const [kind, mode, ...rest] = value.split('=').map((part) => part.trim());
  const kinds = ['llm', 'http', 'tools', 'unmatched'];
  if (kind === undefined || mode === undefined || rest.length > 0 || !kinds.includes(kind)) {
    throw new InvalidArgumentError(`"${value}" is not KIND=MODE, with KIND one of ${kinds.join(', ')} (e.g. llm=stub)`);
  }
  const modes: readonly string[] = kind === 'unmatched' ? ['error', 'live'] : DOWNSTREAM_MODES[kind as keyof typeof DOWNSTREAM_MODES];
  if (!modes.includes(mode)) throw new InvalidArgumentError(`${kind} takes ${modes.join(', ')}, not "${mode}"`);
  return { ...previous, [kind]: mode };
}

/** A commander parser for a number above 0 (an amount of money, a duration), decimals allowed. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number above 0');
  return n;
}

/** A commander parser for `--shard i/n`. */
export function shardArgument(value: string): Shard {
  const shard = parseShard(value);
  if (typeof shard === 'string') throw new InvalidArgumentError(shard);
  return shard;
}
