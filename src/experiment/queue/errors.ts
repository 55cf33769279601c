import { ConfigError } from '../../config/errors';
import { isRedisUrl } from '../../config/simulation';
import { createRedactor, type Redactor } from '../../record/redact';
/**
 * The queue's Redis could not be reached, or was lost for longer than its grace: the message says
 * where (its URL without the password) and why, and the CLI shows it without a stack.
 */
export class QueueUnavailable extends Error {
  override readonly name = 'QueueUnavailable';
}

let redactor: Redactor | undefined;

/** A Redis URL as messages and summary.json show it: its user info masked by the redaction rules. */
export function maskUrl(url: string): string {
  redactor ??= createRedactor();
  return redactor.redactString(url);
}

/** Refuses a queue URL (from `source`: `--queue`, `runner.queue`) that is not Redis's, masked. */
export function checkQueueUrl(url: string, source: string): void {
  if (!isRedisUrl(url)) throw new ConfigError(`${source} must be a Redis URL (redis://host:port or rediss://…), found "${maskUrl(url)}"`);
}

/** Why a connection failed, in a few words: what ioredis and Node say, in the user's terms. */
export function connectionReason(error: unknown, timeoutMs: number): string {
  const e = error as { code?: string; message?: string } | undefined;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return `no answer within ${timeoutMs / 1000} s`;
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
  }
  const message = e?.message ?? String(error);
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message)) return `authentication failed (${message.split('\n')[0]})`;
  return message.split('\n')[0] ?? message;
}
