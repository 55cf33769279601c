import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest { body: any; headers: Record<string, string | string[] | undefined>; count: number /* 1-based, across the server's life */ }
export interface FakeReply { status?: number; headers?: Record<string, string>; json?: unknown; body?: string; delayMs?: number; /** never answer: the request stays open until the client gives up or close() */ hang?: boolean }
export interface FakeLlm { url: string /* http://127.0.0.1:PORT/v1 */; requests: FakeRequest[]; close(): Promise<void> }

/** A node:http server on 127.0.0.1, port 0, answering POST /v1/chat/completions with handler's reply (404 otherwise). */
export async function startFakeLlm(handler: (req: FakeRequest) => FakeReply | Promise<FakeReply>): Promise<FakeLlm> {
  const requests: FakeRequest[] = [];
  const pending = new Set<() => void>(); // ends a delayed reply's wait early
  let count = 0;

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // keep the raw text so a test can still see what was sent
    }
    const request: FakeRequest = { body, headers: req.headers, count: ++count };
    requests.push(request);
    let reply: FakeReply;
    try {
      reply = await handler(request);
    } catch (error) {
      reply = { status: 500, body: `fake-llm handler threw: ${String(error)}` };
    }
    if (reply.delayMs || reply.hang) {
      await new Promise<void>((resolve) => {
        const done = () => (clearTimeout(timer), pending.delete(done), resolve());
        const timer = reply.hang ? undefined : setTimeout(done, reply.delayMs);
        pending.add(done);
        // A client that gave up (timeout) or close() ends the wait early; the write below is then skipped.
        res.once('close', done);
      });
    }
    if (res.destroyed || res.writableEnded) return;
    const text = reply.body ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
    const type = reply.body !== undefined ? 'text/plain' : 'application/json';
    res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers }).end(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // close() alone waits for keep-alive sockets (fetch keeps them) and for delayed replies; end them now.
        server.closeAllConnections();
        for (const done of [...pending]) done();
      }),
  };
}

/** The content of the last message a chat completion request sent: the user's turn. */
export function lastContent(req: FakeRequest): string {
  return req.body.messages.at(-1).content;
}

/** The OpenAI chat.completion JSON for one assistant message. */
export function chatReply(content: string): FakeReply {
  return {
    json: {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'fake-model',
      choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    },
  };
}
