import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { LimitFunction } from 'p-limit';
import { readEnvFile } from '../config/env';
import { ConfigError, type SourceLocation } from '../config/errors';
import { envPath } from '../config/project';
import type { LlmConfig } from '../config/types';

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }
export interface ChatClientOptions {
  /** Up to the API version, e.g. http://127.0.0.1:8080/v1 ; `/chat/completions` is appended (mind a trailing slash). */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer`; omitted when undefined. Never appears in any error message or thrown object: replace any occurrence of it in response text with '***'. */
  apiKey?: string;
  /** Per attempt; a timeout counts as a retryable failure. Never outlasts `maxTimeMs`: the stop aborts the attempt. */
  timeoutMs: number;
  /** Retries after the first attempt, on 429, 5xx (500-599), timeouts and network errors. Not on other 4xx, nor on a malformed body. */
  maxRetries: number;
  /** Requests in flight at once (p-limit). */
  concurrency: number;
  /** Backoff base, default 500 ms: exponential (base * 2^retry) with jitter, capped at 20 s. A `Retry-After` header (seconds or HTTP date) on 429/5xx replaces the computed backoff, capped at 60 s. */
  retryBaseMs?: number;
  /**
   * The limit of all requests together, counted from the first: when it passes, requests in flight
   * are aborted and every call, then and later, rejects with an {@link LlmStopped}. None by default.
   */
  maxTimeMs?: number;
  /**
   * After this many requests in a row failed for good (retries spent), the rest are not sent: that
   * request rejects with its LlmError, those in flight are aborted, and every call, then and later,
   * rejects with an {@link LlmStopped}. None by default.
   */
  maxConsecutiveFailures?: number;
}
export interface ChatRequest { messages: ChatMessage[]; temperature?: number; maxTokens?: number; seed?: number; /** Overrides the client's model. */ model?: string }
export interface ChatCompletion { content: string; /** 1 + retries used */ attempts: number }
export type LlmFailure = 'http' | 'timeout' | 'network' | 'malformed';

/** One request that failed for good. message is short and user-facing, e.g. "HTTP 500 after 4 attempts: <first 200 chars of body, key masked>", "timed out after 200 ms (4 attempts)", "malformed response: no choices[0].message.content". */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    message: string,
    readonly kind: LlmFailure,
    readonly attempts: number,
    readonly status?: number,
  ) {
    // No `cause`: a fetch error's cause can carry request details we don't want serialized with the key nearby.
    super(message);
  }
}

/**
 * The client stopped before this request was answered: `max_time` passed, or `failures` requests
 * in a row failed. The message says which, and for failures the endpoint and the last error.
 */
export class LlmStopped extends Error {
  override readonly name = 'LlmStopped';
  constructor(
    message: string,
    readonly reason: 'max_time' | 'failures',
    /** Requests answered or failed for good before the stop. */
    readonly done: number,
    /** For `failures`: the last of them. */
    readonly lastError?: LlmError,
  ) {
    super(message);
  }
}

export interface ChatClient { complete(request: ChatRequest): Promise<ChatCompletion>; }

/** How many requests in a row may fail before a client made by {@link clientFor} stops, when the config does not say. */
export const DEFAULT_MAX_CONSECUTIVE_FAILURES = 3;

const MAX_BACKOFF_MS = 20_000;
const MAX_RETRY_AFTER_MS = 60_000;

// p-limit 7 is ESM-only and we compile to CommonJS, where a static import becomes require() and fails;
// a dynamic import() stays real under module nodenext. Cached so the module is loaded once per process.
let pLimitModule: Promise<typeof import('p-limit')> | undefined;
const loadPLimit = () => (pLimitModule ??= import('p-limit'));

/** `1 attempt`, `2 attempts`. */
const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;
// setTimeout takes a longer delay for 1 ms; a limit of 24 days is as good as none.
const timerMs = (ms: number) => Math.min(ms, 2 ** 31 - 1);

/** A URL fit for a file or a message: no user, password, query or fragment, which may hold credentials. */
export function publicUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/$/, '');
}

/** Milliseconds to wait per a Retry-After header, or undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

export function createChatClient(options: ChatClientOptions): ChatClient {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const base = options.retryBaseMs ?? 500;
  // fetch names the URL in some errors (one that holds credentials, which it refuses), and a
  // server may echo it: messages show it without user, password or query.
  const shownUrl = `${publicUrl(options.baseUrl)}/chat/completions`;
  // An empty secret would make split/join mangle every character boundary, so only mask real ones.
  const secrets = [options.apiKey, new URL(options.baseUrl).password].filter((secret): secret is string => Boolean(secret));
  const mask = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('***'), text.split(url).join(shownUrl));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  let limit: Promise<LimitFunction> | undefined;
  // One stop for every request: the deadline or a run of failures aborts them all at once.
  const stopper = new AbortController();
  // Each request in flight listens to it: more than 10 at once is expected, not a leak to warn about.
  setMaxListeners(0, stopper.signal);
  let stopped: LlmStopped | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let done = 0;
  let failedInRow = 0;
  const stop = (error: LlmStopped) => {
    if (stopped) return;
    stopped = error;
    clearTimeout(deadline);
    stopper.abort(error);
  };

  /**
   * One attempt's signal: its timeout, or the stop. Made by hand because AbortSignal.timeout
   * inside AbortSignal.any can be garbage-collected before it fires (Node 20), and then the
   * attempt never times out.
   */
  function attemptSignal(): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${options.timeoutMs} ms`, 'TimeoutError')), timerMs(options.timeoutMs));
    const onStop = () => controller.abort(stopper.signal.reason);
    stopper.signal.addEventListener('abort', onStop, { once: true });
    return {
      signal: controller.signal,
      release: () => {
        clearTimeout(timer);
        stopper.signal.removeEventListener('abort', onStop);
      },
    };
  }

  async function attemptAll(request: ChatRequest): Promise<ChatCompletion> {
    const body = JSON.stringify({
      model: request.model ?? options.model,
      messages: request.messages,
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      seed: request.seed,
    }); // undefined fields drop out of the JSON, which is what keeps them optional on the wire
    for (let attempt = 1; ; attempt++) {
      if (stopped) throw stopped;
      let failure: LlmError;
      let wait: number | undefined;
      const { signal, release } = attemptSignal();
      try {
        // The timeout covers reading the body as well, so a server that stalls mid-stream is caught too.
        const response = await fetch(url, { method: 'POST', headers, body, signal });
        const text = await response.text();
        if (response.ok) return { content: parseContent(text, attempt), attempts: attempt };
        const status = response.status;
        failure = new LlmError(`HTTP ${status} after ${count(attempt, 'attempt')}: ${mask(text).slice(0, 200)}`, 'http', attempt, status);
        if (status !== 429 && (status < 500 || status > 599)) throw failure;
        wait = retryAfterMs(response.headers.get('retry-after'));
      } catch (error) {
        if (error instanceof LlmError) throw error;
        if (stopped) throw stopped;
        const name = (error as { name?: string } | null)?.name;
        if (name === 'TimeoutError' || name === 'AbortError') {
          failure = new LlmError(`timed out after ${options.timeoutMs} ms (${count(attempt, 'attempt')})`, 'timeout', attempt);
        } else {
          // fetch reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND...) in cause.
          const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
          const detail = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
          failure = new LlmError(`network error (${count(attempt, 'attempt')}): ${mask(String(detail)).slice(0, 200)}`, 'network', attempt);
        }
      } finally {
        release();
      }
      if (attempt > options.maxRetries) throw failure;
      const retry = attempt - 1;
      // Jitter spreads out many clients that failed together so they don't retry in lockstep.
      // A stop ends the wait early; the loop's first line then throws it.
      await delay(wait ?? Math.min(base * 2 ** retry * (0.5 + Math.random() / 2), MAX_BACKOFF_MS), undefined, { signal: stopper.signal }).catch(() => {});
    }
  }

  function parseContent(text: string, attempts: number): string {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LlmError('malformed response: body is not JSON', 'malformed', attempts);
    }
    const content = (json as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new LlmError('malformed response: no choices[0].message.content', 'malformed', attempts);
    return content;
  }

  return {
    async complete(request) {
      if (options.maxTimeMs !== undefined && deadline === undefined && !stopped) {
        const ms = options.maxTimeMs;
        deadline = setTimeout(() => stop(new LlmStopped(`the overall time limit of ${seconds(ms)} for LLM requests passed`, 'max_time', done)), timerMs(ms));
        // The limit must not keep a process alive once its requests are over.
        deadline.unref();
      }
      if (stopped) throw stopped;
      limit ??= loadPLimit().then((m) => m.default(options.concurrency));
      try {
        // The slot is held through backoff on purpose: when the server says slow down, fewer requests should be in flight.
        const completion = await (await limit)(() => attemptAll(request));
        done++;
        failedInRow = 0;
        return completion;
      } catch (error) {
        if (error instanceof LlmError) {
          done++;
          if (++failedInRow >= (options.maxConsecutiveFailures ?? Infinity)) {
            stop(new LlmStopped(`${count(failedInRow, 'request')} in a row failed at ${publicUrl(options.baseUrl)}; the last: ${error.message}`, 'failures', done, error));
          }
        }
        throw error;
      }
    },
  };
}

/** The API key named by `name`, from the environment or the project's `.env`. */
export function findApiKey(root: string, name: string): string | undefined {
  return process.env[name] || readEnvFile(envPath(root), '.env').values[name] || undefined;
}

/**
 * A client for a config's `llm` section, with its limits: `max_time_ms` (none when absent) and
 * `max_consecutive_failures` (3 when absent). Only OpenAI's own endpoint requires a key: local
 * OpenAI-compatible servers often take none. `what` says what needs it, and `at` where the section is, for the message.
 */
export function clientFor(root: string, llm: LlmConfig, what: string, at: SourceLocation): ChatClient {
  const apiKey = findApiKey(root, llm.api_key_env);
  if (apiKey === undefined && new URL(llm.base_url).hostname === 'api.openai.com') {
    throw new ConfigError(`${what} needs an API key: set ${llm.api_key_env} in the environment or in .env (${at.field} names the variable)`, at);
  }
  return createChatClient({
    baseUrl: llm.base_url,
    model: llm.model,
    apiKey,
    timeoutMs: llm.timeout_ms,
    maxRetries: llm.max_retries,
    concurrency: llm.concurrency,
    maxTimeMs: llm.max_time_ms,
    maxConsecutiveFailures: llm.max_consecutive_failures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES,
  });
}
