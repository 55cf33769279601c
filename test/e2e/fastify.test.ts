import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readRecords, recordTwice, recordingPath, replayTarget, type Experiment, type RecordLine, type Run } from './helpers';

/**
 * A real Fastify 5 app whose handlers answer three ways: through the reply (`code().header().send()`),
 * by returning a value, and synchronously through `reply.type().send()`. Its requests and replies are
 * recorded as `FastifyRequest` and `FastifyReply` data; a replay rebuilds them, the input in the
 * request, and the output is what the handler sent or returned.
 */

const FIXTURE = 'fastify-app';
const CHAT = 'app/routes.js:chat';
const ITEM = 'app/routes.js:item';
const HELLO = 'app/routes.js:hello';
const TARGETS = [CHAT, ITEM, HELLO];
const SECRET = 'sk-live-abcdefghijklmnop1234';

/** What app/main.js prints: one line per request, as routes.js answers it. */
const EXPECTED_STDOUT = [
  'POST /chat?lang=fr -> 201 x-agent=fastify-app {"user":"ann","reply":"You said: Where is my order?","lang":"fr"}',
  'POST /chat?lang=fr -> 400 {"error":"empty message"}',
  'GET /items/42?x=1 -> 200 {"id":"42","method":"GET","url":"/items/42?x=1","route":"/items/:id"}',
  'GET /hello/ann -> 200 hello ann',
];

/** The headers every request from main.js's fetch has, as Node gives them to Fastify (lowercase). */
const BASE_HEADERS = { host: expect.stringMatching(/^127\.0\.0\.1:\d+$/), connection: 'keep-alive', 'user-agent': 'node' };

/** The recorded request and reply of a record, checked to be Fastify's nodes. */
function fastifyArgs(record: RecordLine): { request: Record<string, any>; reply: Record<string, any> } {
  expect(record.params).toEqual(['request', 'reply']);
  expect(record.args).toHaveLength(2);
  const [request, reply] = record.args as [{ $type: string; value: Record<string, any> }, { $type: string; value: Record<string, any> }];
  expect(request.$type).toBe('FastifyRequest');
  expect(reply.$type).toBe('FastifyReply');
  return { request: request.value, reply: reply.value };
}

describe('a Fastify 5 app, recorded and replayed', () => {
  let dir: string;
  let plain: Run;
  let recorded: Run;
  let records: RecordLine[];

  beforeAll(async () => {
    dir = project(FIXTURE, ['fastify']);
    ({ plain, recorded } = await recordTwice(dir));
    records = readRecords(dir);
  });

  /** Replays `target` on its own records into experiments/<name>, read back. */
  const replay = (name: string, target: string, overridePath: string, inputs: string[]): Promise<Experiment> =>
    replayTarget(dir, { targets: TARGETS, target, path: overridePath, inputs, name: `experiments/${name}` });

  it('serves its requests without fluxloop', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split('\n')).toEqual(EXPECTED_STDOUT);
  });

  it('answers every request as it does without fluxloop, and warns about nothing', () => {
    expectSameRun(plain, recorded);
  });

  it('records each handler call once, and never the secret', () => {
    expect(records.map((r) => [r.target, r.function, r.iteration])).toEqual([
      [CHAT, 'chat', 0],
      [CHAT, 'chat', 1],
      [ITEM, 'item', 0],
      [HELLO, 'hello', 0],
    ]);
    expect(fs.readFileSync(recordingPath(dir), 'utf8')).not.toContain(SECRET);
  });

  it("records the chat request with its data as the handler saw it: headers (authorization masked), query, body, ip, route", () => {
    const chats = byTarget(records, CHAT).map(fastifyArgs);
    const bodies = [{ message: 'Where is my order?' }, { message: '   ' }];
    chats.forEach(({ request, reply }, i) => {
      expect(request).toEqual({
        id: expect.any(String),
        method: 'POST',
        url: '/chat?lang=fr',
        headers: expect.objectContaining({
          ...BASE_HEADERS,
          'x-user-id': 'ann',
          authorization: '***',
          'content-type': 'application/json',
          'content-length': String(JSON.stringify(bodies[i]).length),
        }),
        query: { lang: 'fr' },
        params: {},
        body: bodies[i],
        ip: '127.0.0.1',
        hostname: '127.0.0.1',
        routeOptions: { url: '/chat', method: 'POST' },
      });
      // The reply as the handler got it: nothing sent yet.
      expect(reply).toEqual({ statusCode: 200, headers: {}, sent: false });
    });
    // Two requests, two ids.
    expect(new Set(chats.map((c) => c.request.id)).size).toBe(2);
  });

  it('records the GET requests with their params and query, and no body', () => {
    const [item] = byTarget(records, ITEM).map(fastifyArgs);
    expect(item!.request).toEqual({
      id: expect.any(String),
      method: 'GET',
      url: '/items/42?x=1',
      headers: expect.objectContaining(BASE_HEADERS),
      query: { x: '1' },
      params: { id: '42' },
      body: { $type: 'undefined' },
      ip: '127.0.0.1',
      hostname: '127.0.0.1',
      routeOptions: { url: '/items/:id', method: 'GET' },
    });
    expect(item!.request.headers).not.toHaveProperty('authorization');
    expect(item!.reply).toEqual({ statusCode: 200, headers: {}, sent: false });

    const [hello] = byTarget(records, HELLO).map(fastifyArgs);
    expect(hello!.request).toMatchObject({ method: 'GET', url: '/hello/ann', query: {}, params: { name: 'ann' }, body: { $type: 'undefined' }, routeOptions: { url: '/hello/:name', method: 'GET' } });
    expect(hello!.reply).toEqual({ statusCode: 200, headers: {}, sent: false });
  });

  it('replays chat with the input in request.body: the output is what reply.code(201).header().send() sent', async () => {
    const input = 'hello from the test';
    const exp = await replay('chat', CHAT, 'kwargs.request.body.message', [input, '   ']);
    // Two recordings, two inputs each; the blank input takes the handler's 400 branch.
    expect(exp.summary).toMatchObject({ total_runs: 4, counts: { ok: 4, error: 0, timeout: 0 } });
    expect(exp.errors).toEqual([]);
    expect(exp.traces.map((t) => [t.recording_line, t.input]).sort()).toEqual(
      [
        [1, input],
        [1, '   '],
        [2, input],
        [2, '   '],
      ].sort(),
    );
    for (const t of exp.traces) {
      expect(t).toMatchObject({ status: 'ok', error: null, target: CHAT, override_param_path: 'kwargs.request.body.message', override_location: 'args.0.body.message', frames: null, first_frame_ms: null });
      // The arguments as invoked: the request with the input as its body's message, the reply as recorded.
      expect(t.args[0]).toMatchObject({ value: { method: 'POST', url: '/chat?lang=fr', body: { message: t.input }, query: { lang: 'fr' } } });
      expect(t.args[1]).toEqual({ $type: 'FastifyReply', value: { statusCode: 200, headers: {}, sent: false } });
      if (t.input === input) {
        const sent = { user: 'ann', reply: `You said: ${input}`, lang: 'fr' };
        expect(t.output).toEqual(sent);
        expect(t.messages).toEqual([
          { to: 'FastifyReply.code', kind: 'call', args: [201] },
          { to: 'FastifyReply.header', kind: 'call', args: ['x-agent', 'fastify-app'] },
          { to: 'FastifyReply.send', kind: 'call', args: [sent] },
        ]);
      } else {
        // An answer with an error status is still the handler's answer: the run is ok, the 400 is in its messages.
        expect(t.output).toEqual({ error: 'empty message' });
        expect(t.messages).toEqual([
          { to: 'FastifyReply.code', kind: 'call', args: [400] },
          { to: 'FastifyReply.send', kind: 'call', args: [{ error: 'empty message' }] },
        ]);
      }
    }
  });

  it('replays item, which returns its answer: the output is the returned object, from the recorded url and route', async () => {
    const exp = await replay('item', ITEM, 'kwargs.request.params.id', ['7']);
    expect(exp.traces).toHaveLength(1);
    const [t] = exp.traces;
    expect(t).toMatchObject({
      status: 'ok',
      override_location: 'args.0.params.id',
      output: { id: '7', method: 'GET', url: '/items/42?x=1', route: '/items/:id' },
      frames: null,
      // It never touches the reply.
      messages: [],
    });
    expect(t.args[0]).toMatchObject({ value: { params: { id: '7' }, query: { x: '1' }, routeOptions: { url: '/items/:id', method: 'GET' } } });
  });

  it('replays the sync hello handler: the output is the text it sent through reply.type().send()', async () => {
    const exp = await replay('hello', HELLO, 'kwargs.request.params.name', ['zoe']);
    expect(exp.traces).toHaveLength(1);
    const [t] = exp.traces;
    expect(t).toMatchObject({ status: 'ok', override_location: 'args.0.params.name', output: 'hello zoe', frames: null, first_frame_ms: null });
    expect(t.messages).toEqual([
      { to: 'FastifyReply.type', kind: 'call', args: ['text/plain'] },
      { to: 'FastifyReply.send', kind: 'call', args: ['hello zoe'] },
    ]);
  });
});
