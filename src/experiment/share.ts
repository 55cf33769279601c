import type { Planned } from './conversation';
import { plannedPlace } from './identity';
import type { RunSet } from './run-set';

/** `--shard i/n`: the i-th of n shares of a plan, 1-based. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * The runs of `plans` this process makes: every n-th from the i-th (by their place in the plan,
 * which every machine plans in the same order, so that n shards make every run once), without
 * those already `done`.
 */
export async function* shareOf<P extends Planned>(plans: AsyncIterable<P>, shard: Shard | undefined, done?: RunSet): AsyncGenerator<P> {
  let place = 0;
  for await (const plan of plans) {
    const mine = shard === undefined || place % shard.count === shard.index - 1;
    place++;
    if (mine && !(done?.has(plannedPlace(plan)) ?? false)) yield plan;
  }
}

/** How many of a plan's `total` runs shard `shard` makes. */
export function shardSize(total: number, shard: Shard | undefined): number {
  return shard === undefined ? total : Math.max(0, Math.ceil((total - (shard.index - 1)) / shard.count));
}

/** Reads `i/n`, for `--shard`; a message for the user otherwise. */
export function parseShard(text: string): Shard | string {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (m === null) return `must be i/n, such as 1/3, found "${text}"`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) return `must have 1 ≤ i ≤ n, found "${text}"`;
  return { index, count };
}
