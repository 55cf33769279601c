import { afterEach, describe, expect, it } from 'vitest';
import { createJudge } from '../../src/experiment/evaluation/judge.js';
import { createChatClient, LlmError, LlmStopped, type ChatClientOptions } from '../../src/experiment/llm-client.js';
import type { RunResult } from '../../src/replay/execute.js';
import { chatReply, startFakeLlm, type FakeLlm, type FakeReply, type FakeRequest } from '../fake-llm.js';

let server: FakeLlm | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: (req: FakeRequest) => FakeReply | Promise<FakeReply>) {
  server = await startFakeLlm(handler);
  return server;
}

const client = (fake: FakeLlm, options: Partial<ChatClientOptions> = {}) =>
  createChatClient({ baseUrl: fake.url, model: 'test-model', timeoutMs: 5_000, maxRetries: 3, concurrency: 4, retryBaseMs: 1, ...options });

const ask = { messages: [{ role: 'user' as const, content: 'hi' }] };

async function failure(promise: Promise<unknown>): Promise<LlmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmError);
  return error as LlmError;
}

describe('createChatClient', () => {
  it('posts the OpenAI body with the key and returns the content', async () => {
    const fake = await serve(() => chatReply('hello there'));
    const messages = [
      { role: 'system' as const, content: 'be brief' },
      { role: 'user' as const, content: 'hi' },
    ];
    // Trailing slash on purpose: it must not produce //chat/completions.
    const result = await client(fake, { baseUrl: `${fake.url}/`, apiKey: 'sk-secret' }).complete({ messages, temperature: 0.7, seed: 42, maxTokens: 64 });
    expect(result).toEqual({ content: 'hello there', attempts: 1 });
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req.body).toEqual({ model: 'test-model', messages, temperature: 0.7, seed: 42, max_tokens: 64 });
    expect(req.headers.authorization).toBe('Bearer sk-secret');
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('sends no Authorization header and no unset options without a key', async () => {
    const fake = await serve(() => chatReply('ok'));
    await client(fake).complete(ask);
    expect(fake.requests[0].headers.authorization).toBeUndefined();
    expect(Object.keys(fake.requests[0].body).sort()).toEqual(['messages', 'model']);
  });

  it('retries a 429 after Retry-After', async () => {
    const fake = await serve(({ count }) => (count === 1 ? { status: 429, headers: { 'retry-after': '0' }, body: 'slow down' } : chatReply('ok')));
    const result = await client(fake).complete(ask);
    expect(result).toEqual({ content: 'ok', attempts: 2 });
    expect(fake.requests).toHaveLength(2);
  });

  it('gives up on 5xx after maxRetries retries', async () => {
    const fake = await serve(() => ({ status: 500, body: 'boom' }));
    const error = await failure(client(fake, { maxRetries: 3 }).complete(ask));
    expect(error).toMatchObject({ kind: 'http', status: 500, attempts: 4 });
    expect(error.message).toBe('HTTP 500 after 4 attempts: boom');
    expect(fake.requests).toHaveLength(4);
  });

  it('does not retry other 4xx', async () => {
    const fake = await serve(() => ({ status: 400, json: { error: { message: 'bad model' } } }));
    const error = await failure(client(fake).complete(ask));
    expect(error).toMatchObject({ kind: 'http', status: 400, attempts: 1 });
    expect(error.message).toContain('bad model');
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ['a non-JSON body', { body: '<html>gateway</html>' }],
    ['JSON without choices', { json: { object: 'chat.completion' } }],
    ['a non-string content', { json: { choices: [{ message: { content: null } }] } }],
  ])('reports %s as malformed without retrying', async (_, reply: FakeReply) => {
    const fake = await serve(() => reply);
    const error = await failure(client(fake).complete(ask));
    expect(error).toMatchObject({ kind: 'malformed', attempts: 1 });
    expect(error.message).toMatch(/^malformed response: /);
    expect(fake.requests).toHaveLength(1);
  });

  it('retries a timeout, then reports it', async () => {
    // Room for a cold fetch to reach the server within the timeout, on a busy machine too.
    const fake = await serve(() => ({ ...chatReply('late'), delayMs: 3_000 }));
    const error = await failure(client(fake, { timeoutMs: 300, maxRetries: 1 }).complete(ask));
    expect(error).toMatchObject({ kind: 'timeout', attempts: 2 });
    expect(error.message).toBe('timed out after 300 ms (2 attempts)');
    expect(fake.requests).toHaveLength(2);
  });

  it('reports a network error once retries are used up', async () => {
    const fake = await serve(() => chatReply('never'));
    const url = fake.url;
    await fake.close();
    server = undefined;
    const error = await failure(createChatClient({ baseUrl: url, model: 'm', timeoutMs: 2_000, maxRetries: 1, concurrency: 1, retryBaseMs: 1 }).complete(ask));
    expect(error).toMatchObject({ kind: 'network', attempts: 2 });
  });

  it('never lets the API key out through an error', async () => {
    const key = 'sk-very-secret-key-123';
    // The raw key also straddles character 200, so truncating before masking would leak a prefix of it.
    const fake = await serve(({ headers }) => ({ status: 401, body: `invalid key ${String(headers.authorization)} ${'x'.repeat(148)}${key}` }));
    const error = await failure(client(fake, { apiKey: key }).complete(ask));
    expect(error).toMatchObject({ kind: 'http', status: 401, attempts: 1 });
    expect(error.message).toContain('Bearer ***');
    for (const text of [error.message, String(error), JSON.stringify(error), error.stack ?? '']) expect(text).not.toContain(key.slice(0, 8));
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const fake = await serve(async ({ body }) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight--;
      return chatReply(`echo ${body.messages[0].content}`);
    });
    const chat = client(fake, { concurrency: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => chat.complete({ messages: [{ role: 'user', content: String(n) }] })));
    expect(results.map((r) => r.content)).toEqual(['echo 1', 'echo 2', 'echo 3', 'echo 4', 'echo 5', 'echo 6']);
    expect(peak).toBe(2);
    expect(fake.requests).toHaveLength(6);
  });
});

/** What each call ended with: its content, or its error. */
const settle = (calls: Array<Promise<{ content: string }>>) => Promise.all(calls.map((c) => c.then((r) => r.content, (e: unknown) => e)));
const asks = (n: number) => Array.from({ length: n }, (_, i) => ({ messages: [{ role: 'user' as const, content: String(i) }] }));

describe('the overall time limit', () => {
  it('aborts the requests in flight, fails the queued ones, and refuses later ones', async () => {
    // The first two are answered; the rest hang, as a stuck endpoint does.
    const fake = await serve(({ count }) => (count <= 2 ? chatReply(`answer ${count}`) : { hang: true }));
    const chat = client(fake, { timeoutMs: 30_000, maxTimeMs: 1_000, concurrency: 4 });
    const started = Date.now();
    const results = await settle(asks(20).map((a) => chat.complete(a)));
    // Far less than one 30 s timeout: the limit, not the per-request timeout, ended them.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(results.filter((r) => typeof r === 'string').sort()).toEqual(['answer 1', 'answer 2']);
    const stops = results.filter((r): r is LlmStopped => r instanceof LlmStopped);
    expect(stops).toHaveLength(18);
    expect(stops[0]).toMatchObject({ reason: 'max_time', done: 2, message: 'the overall time limit of 1 s for LLM requests passed' });
    // Only what fit in the concurrency was ever sent.
    expect(fake.requests.length).toBeLessThanOrEqual(6);
    expect(await chat.complete(ask).catch((e: unknown) => e)).toBe(stops[0]);
  });

  it('ends a backoff wait, even one a Retry-After asked for', async () => {
    const fake = await serve(() => ({ status: 503, headers: { 'retry-after': '60' }, body: 'later' }));
    const started = Date.now();
    const error = await client(fake, { maxTimeMs: 1_000 }).complete(ask).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(LlmStopped);
    expect(error).toMatchObject({ reason: 'max_time', done: 0 });
    expect(fake.requests).toHaveLength(1);
  });

  it('counts from the first request, and does not stop a client that is within it', async () => {
    const fake = await serve(() => chatReply('ok'));
    const chat = client(fake, { maxTimeMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await settle(asks(3).map((a) => chat.complete(a)))).toEqual(['ok', 'ok', 'ok']);
  });
});

describe('failures in a row', () => {
  it('stop the client after maxConsecutiveFailures, naming the endpoint and the last error', async () => {
    const key = 'sk-stop-secret-77';
    const fake = await serve(({ count }) => ({ status: 500, body: `boom ${count} for ${key}` }));
    const chat = client(fake, { apiKey: key, maxRetries: 0, concurrency: 1, maxConsecutiveFailures: 3 });
    const results = await settle(asks(6).map((a) => chat.complete(a)));
    expect(fake.requests).toHaveLength(3);
    expect(results.slice(0, 3).every((r) => r instanceof LlmError)).toBe(true);
    const stops = results.slice(3) as LlmStopped[];
    expect(stops.every((r) => r instanceof LlmStopped)).toBe(true);
    const stop = stops[0]!;
    expect(stop).toMatchObject({ reason: 'failures', done: 3, lastError: results[2] });
    expect(stop.message).toBe(`3 requests in a row failed at ${fake.url}; the last: HTTP 500 after 1 attempt: boom 3 for ***`);
    for (const text of [stop.message, JSON.stringify(stop)]) expect(text).not.toContain(key);
  });

  it('name the endpoint without the credentials or query its URL holds', async () => {
    const fake = await serve(() => chatReply('never reached'));
    // fetch refuses a URL with credentials, and says so naming the URL.
    const withSecrets = fake.url.replace('http://', 'http://user:pw-in-the-url@') + '?token=query-in-the-url';
    const chat = client(fake, { baseUrl: withSecrets, maxRetries: 0, maxConsecutiveFailures: 1 });
    const failed = await failure(chat.complete(ask));
    expect(failed.kind).toBe('network');
    const stop = await chat.complete(ask).catch((e: unknown) => e);
    expect(stop).toBeInstanceOf(LlmStopped);
    expect((stop as Error).message).toMatch(new RegExp(`^1 request in a row failed at ${fake.url.replace(/[.]/g, '\\.')}; the last: network error`));
    for (const text of [failed.message, (stop as Error).message]) {
      expect(text).not.toContain('pw-in-the-url');
      expect(text).not.toContain('query-in-the-url');
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('count requests that failed for good, not attempts, and restart after a success', async () => {
    // Each request fails once and succeeds on its retry; then every third request fails for good.
    let attempt = 0;
    const fake = await serve(({ body }) => {
      attempt++;
      const n = Number(body.messages[0].content);
      if (n % 3 === 2 || attempt % 2 === 1) return { status: 500, body: 'flaky' };
      return chatReply(`ok ${n}`);
    });
    const chat = client(fake, { maxRetries: 1, concurrency: 1, maxConsecutiveFailures: 2 });
    const results = await settle(asks(9).map((a) => chat.complete(a)));
    expect(results.filter((r) => r instanceof LlmStopped)).toHaveLength(0);
    expect(results.filter((r) => r instanceof LlmError)).toHaveLength(3);
    expect(results.filter((r) => typeof r === 'string')).toEqual(['ok 0', 'ok 1', 'ok 3', 'ok 4', 'ok 6', 'ok 7']);
  });

  it('abort the requests still in flight', async () => {
    // One request hangs while the others fail fast.
    const fake = await serve(({ body }) => (body.messages[0].content === '0' ? { hang: true } : { status: 500, body: 'down' }));
    const chat = client(fake, { timeoutMs: 30_000, maxRetries: 0, concurrency: 4, maxConsecutiveFailures: 3 });
    const started = Date.now();
    const results = await settle(asks(4).map((a) => chat.complete(a)));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(results[0]).toBeInstanceOf(LlmStopped);
    expect(results.slice(1).every((r) => r instanceof LlmError)).toBe(true);
  });
});

describe('the judge over a stopped client', () => {
  it('fails the evaluation with the reason and how to go on, instead of skipping the runs', async () => {
    const fake = await serve(() => ({ status: 500, body: 'judge down' }));
    const judge = createJudge(client(fake, { maxRetries: 0, concurrency: 1, maxConsecutiveFailures: 1 }), 'judge-model', 0);
    const config = { type: 'llm_judge', name: 'llm_judge', weight: 1, threshold: 0.7, rubric: 'Polite?' } as const;
    const run = (input: string) => ({ trace_id: input, input, status: 'ok', output: `reply to ${input}` }) as unknown as RunResult;
    // The request that trips the stop is a skip like any failed request; the ones after it end the evaluation.
    expect(await judge(config, run('a'))).toEqual({ score: null, reason: 'the judge could not be reached: HTTP 500 after 1 attempt: judge down' });
    const error = await judge(config, run('b')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmStopped);
    expect((error as Error).message).toBe(
      `the judge stopped: 1 request in a row failed at ${fake.url}; the last: HTTP 500 after 1 attempt: judge down. 1 request done; the evaluation was not written. ` +
        'Check the endpoint; --max-consecutive-failures <n> or evaluation.llm.max_consecutive_failures sets how many failures in a row stop it.',
    );
  });
});

describe('startFakeLlm', () => {
  it('answers 404 elsewhere and closes while a delayed reply is pending', async () => {
    const fake = await serve(() => ({ ...chatReply('late'), delayMs: 10_000 }));
    const missing = await fetch(`${fake.url}/models`);
    expect(missing.status).toBe(404);
    const pending = fetch(`${fake.url}/chat/completions`, { method: 'POST', body: '{}' }).then(
      (r) => r.status,
      () => 'closed',
    );
    while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await fake.close();
    server = undefined;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await pending).toBe('closed');
  });
});
