// The benchmark's redis-server helper, typed for the tests: one way to start and stop one.
// @ts-ignore: a script of the benchmark's, without types
import { redisServerBinary, startRedis as start } from '../bench/lib/redis.mjs';

/** A redis-server a test started, on 127.0.0.1, that keeps nothing on disk. */
export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  /** Ends it (SIGKILL with `kill`: Redis gone without a word) and waits for it to exit. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

/** Starts redis-server on a free port; fails with how to install it when it is missing. */
export async function startRedis(): Promise<RedisServer> {
  const binary = redisServerBinary() as string | undefined;
  if (binary === undefined) throw new Error('redis-server not found: apt-get install redis-server');
  return start(binary) as Promise<RedisServer>;
}
