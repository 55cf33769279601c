import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readRecords, recordTwice, recordingPath, replayTarget, type Experiment, type RecordLine, type Run } from './helpers';

/**
 * A real Koa 3 app with its own body parsing, auth and dispatch middleware, whose handlers take
 * Koa's `ctx`. The context is recorded as `KoaContext` data (request, response, state); a replay
 * rebuilds a context, the input in its request body, and the output is the final `ctx.body`.
 */

const FIXTURE = 'koa-app';
const CHAT = 'app/handlers.js:chat';
const HEALTH = 'app/handlers.js:health';
const TARGETS = [CHAT, HEALTH];
const SECRET = 'sk-live-abcdefghijklmnop1234';

/** What app/main.js prints: one line per request, as handlers.js answers it. */
const EXPECTED_STDOUT = [
  'POST /chat?lang=fr -> 201 x-agent=koa-app {"user":"ann","reply":"You said: Where is my order?","lang":"fr"}',
  // ctx.throw(400, ...) is exposed by Koa: the message is the text body.
  'POST /chat?lang=fr -> 400 empty message',
  'GET /health -> 200 ok',
];

/** The headers every request from main.js's fetch has, as Node gives them to Koa (lowercase). */
const BASE_HEADERS = { host: expect.stringMatching(/^127\.0\.0\.1:\d+$/), connection: 'keep-alive', 'user-agent': 'node' };

/** The response a handler gets before it answers: Koa's default 404, no body. */
const UNANSWERED = { status: 404, message: 'Not Found', headers: {}, body: { $type: 'undefined' } };

/** The recorded context of a record, checked to be a KoaContext node. */
function contextOf(record: RecordLine): Record<string, any> {
  const ctx = record.args[0] as { $type: string; value: Record<string, any> };
  expect(ctx.$type).toBe('KoaContext');
  return ctx.value;
}

describe('a Koa 3 app, recorded and replayed', () => {
  let dir: string;
  let plain: Run;
  let recorded: Run;
  let records: RecordLine[];

  beforeAll(async () => {
    dir = project(FIXTURE, ['koa']);
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
      [HEALTH, 'health', 0],
    ]);
    expect(fs.readFileSync(recordingPath(dir), 'utf8')).not.toContain(SECRET);
  });

  it('records the chat context: the request as the middleware left it (parsed body), the unanswered response, and the state auth set', () => {
    const chats = byTarget(records, CHAT);
    const bodies = [{ message: 'Where is my order?' }, { message: '   ' }];
    chats.forEach((record, i) => {
      expect(record.params).toEqual(['ctx', 'next']);
      // Koa's next, a function of koa-compose.
      expect(record.args[1]).toMatch(/^<callable:.*>$/);
      const ctx = contextOf(record);
      expect(ctx).toEqual({
        request: {
          method: 'POST',
          url: '/chat?lang=fr',
          path: '/chat',
          query: { lang: 'fr' },
          headers: expect.objectContaining({
            ...BASE_HEADERS,
            'x-user-id': 'ann',
            authorization: '***',
            'content-type': 'application/json',
            'content-length': String(JSON.stringify(bodies[i]).length),
          }),
          body: bodies[i],
          ip: '127.0.0.1',
          host: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
          protocol: 'http',
        },
        response: UNANSWERED,
        state: { user: 'ann' },
      });
      // No router in this app: no params.
      expect(ctx).not.toHaveProperty('params');
    });
  });

  it('records the health context: no user in the state, the empty body the middleware set', () => {
    const [record] = byTarget(records, HEALTH);
    expect(record!.params).toEqual(['ctx']);
    const ctx = contextOf(record!);
    expect(ctx).toEqual({
      request: {
        method: 'GET',
        url: '/health',
        path: '/health',
        query: {},
        headers: expect.objectContaining(BASE_HEADERS),
        body: {},
        ip: '127.0.0.1',
        host: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        protocol: 'http',
      },
      response: UNANSWERED,
      state: {},
    });
    expect(ctx.request.headers).not.toHaveProperty('authorization');
  });

  it('replays chat with the input in ctx.request.body: the output is the final ctx.body; a blank input ends in the HttpError of ctx.throw', async () => {
    const input = 'hello from the test';
    const exp = await replay('chat', CHAT, 'kwargs.ctx.request.body.message', [input, '   ']);
    expect(exp.summary).toMatchObject({ total_runs: 4, counts: { ok: 2, error: 2, timeout: 0 } });
    expect(exp.traces.map((t) => [t.recording_line, t.input]).sort()).toEqual(
      [
        [1, input],
        [1, '   '],
        [2, input],
        [2, '   '],
      ].sort(),
    );
    for (const t of exp.traces) {
      expect(t).toMatchObject({ target: CHAT, override_param_path: 'kwargs.ctx.request.body.message', override_location: 'args.0.request.body.message', frames: null });
      // The context as invoked: the input as the body's message, the recorded state and query beside it.
      // The context as invoked is recorded as a Koa context again.
      expect(t.args[0]).toMatchObject({ $type: 'KoaContext', value: { request: { method: 'POST', path: '/chat', body: { message: t.input }, query: { lang: 'fr' } }, state: { user: 'ann' } } });
      if (t.input === input) {
        const body = { user: 'ann', reply: `You said: ${input}`, lang: 'fr' };
        expect(t).toMatchObject({ status: 'ok', error: null, output: body });
        expect(t.messages).toEqual([
          { to: 'KoaContext.status', kind: 'call', args: [201] },
          { to: 'KoaContext.set', kind: 'call', args: ['x-agent', 'koa-app'] },
          { to: 'KoaContext.body', kind: 'call', args: [body] },
        ]);
      } else {
        // ctx.throw(400, 'empty message') leaves the handler: the run is an error, with Koa's error.
        expect(t).toMatchObject({ status: 'error', output: null, error: { name: 'HttpError', message: 'empty message' } });
        expect(t.messages).toEqual([]);
      }
    }
    const failed = exp.traces.filter((t) => t.status === 'error').map((t) => t.trace_id);
    expect(exp.errors.map((e: any) => e.trace_id).sort()).toEqual(failed.sort());
  });

  it('replays chat with the input as ctx.state.user: the handler takes the user from the state, not the header', async () => {
    const exp = await replay('state', CHAT, 'kwargs.ctx.state.user', ['zoe']);
    const ok = exp.traces.find((t) => t.recording_line === 1);
    // The recorded x-user-id header still says ann; only the state says zoe.
    expect(ok.args[0]).toMatchObject({ $type: 'KoaContext', value: { state: { user: 'zoe' }, request: { headers: { 'x-user-id': 'ann' } } } });
    expect(ok).toMatchObject({ status: 'ok', override_location: 'args.0.state.user', output: { user: 'zoe', reply: 'You said: Where is my order?', lang: 'fr' } });
    // The second recording's message is blank: it throws as it did when recorded.
    const blank = exp.traces.find((t) => t.recording_line === 2);
    expect(blank).toMatchObject({ status: 'error', error: { name: 'HttpError', message: 'empty message' } });
  });

  it('replays health: the output is the text it set as ctx.body', async () => {
    // Health reads nothing of the request; the input goes to its path only because a replay needs a place for it.
    const exp = await replay('health', HEALTH, 'kwargs.ctx.request.path', ['/elsewhere']);
    expect(exp.traces).toHaveLength(1);
    expect(exp.traces[0]).toMatchObject({
      status: 'ok',
      override_location: 'args.0.request.path',
      output: 'ok',
      messages: [{ to: 'KoaContext.body', kind: 'call', args: ['ok'] }],
    });
    expect(exp.traces[0].args[0]).toMatchObject({ $type: 'KoaContext', value: { request: { path: '/elsewhere' } } });
  });
});
