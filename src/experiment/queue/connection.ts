import { Redis } from 'ioredis';
import type { RedisOptions } from 'bullmq';
import { connectionReason, maskUrl, QueueUnavailable } from './errors';

/** How long a first connection may take before Redis counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 3000;

/**
 * Checks that Redis answers at `url`, within a few seconds: BullMQ's own connections retry
 * forever, which would leave a command waiting in silence on a Redis that is not there.
 */
export async function checkRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  let client: Redis | undefined;
  let timer: NodeJS.Timeout | undefined;
  let cause: unknown;
  try {
    client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    // connect() fails with "Connection is closed"; the event says why.
    client.on('error', (error) => (cause ??= error));
    const c = client;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), timeoutMs)));
    await Promise.race([c.connect().then(() => c.ping()), timeout]);
  } catch (error) {
    throw new QueueUnavailable(`cannot reach Redis at ${maskUrl(url)}: ${connectionReason(cause ?? error, timeoutMs)}`);
  } finally {
    clearTimeout(timer);
    client?.disconnect();
  }
}

/**
 * BullMQ's connection to `url`: reconnecting for as long as it takes, at most a second apart, so
 * that a Redis that restarts is found again soon; whoever holds it decides how long to wait.
 */
export function connectionTo(url: string): RedisOptions {
  return { url, retryStrategy: (times: number) => Math.min(250 * times, 1000) };
}

/** What a client's connection is: up, or down since when and why. */
export interface RedisWatch {
  /** Milliseconds since the connection was last ready; 0 while it is. */
  downFor(): number;
  /** The last connection error, in a few words. */
  reason(): string;
  stop(): void;
}

/** Watches an ioredis client's status (BullMQ's client proxies it), polled every `everyMs`. */
export function watchRedis(client: { status?: string; on(event: 'error', listener: (error: unknown) => void): unknown }, everyMs = 250): RedisWatch {
  let readyAt = Date.now();
  let last = 'the connection closed';
  client.on('error', (error) => (last = connectionReason(error, CONNECT_TIMEOUT_MS)));
  const poll = () => {
    if (client.status === 'ready') readyAt = Date.now();
  };
  const timer = setInterval(poll, everyMs).unref();
  return {
    downFor: () => {
      poll();
      return client.status === 'ready' ? 0 : Date.now() - readyAt;
    },
    reason: () => last,
    stop: () => clearInterval(timer),
  };
}
