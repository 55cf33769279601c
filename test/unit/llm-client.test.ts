import { afterEach, describe, expect, it } from 'vitest';
import { createChatClient, LlmError, type ChatClientOptions } from '../../src/experiment/llm-client.js';
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
    const fake = await serve(() => ({ ...chatReply('late'), delayMs: 150 }));
    const error = await failure(client(fake, { timeoutMs: 50, maxRetries: 1 }).complete(ask));
    expect(error).toMatchObject({ kind: 'timeout', attempts: 2 });
    expect(error.message).toBe('timed out after 50 ms (2 attempts)');
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
