import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readRecords, recordTwice, recordingPath, replayTarget, type Experiment, type RecordLine, type Run } from './helpers';

/**
 * A Hono 4 app on @hono/node-server: its handlers get a Context, whose request, headers, query,
 * route parameters, body and middleware variables are recorded as a `HonoContext`, and which a
 * replay rebuilds with `c.json`, `c.text` and `c.body` returning real Responses, read as the output.
 */

const FIXTURE = 'hono-app';
const CHAT = 'app/routes.js:chat';
const HELLO = 'app/routes.js:hello';
const STREAM = 'app/routes.js:stream';
const SECRET = 'sk-live-abcdefghijklmnop1234';

/** What app/main.js prints, one line per request (the chat reply holds the message the handler read). */
const STDOUT = [
  'POST /chat?lang=fr -> 201 hono-app "{\\"user\\":\\"ann\\",\\"caller\\":\\"key-1234\\",\\"reply\\":\\"You said: Bonjour, can you help?\\",\\"lang\\":\\"fr\\"}"',
  'POST /chat -> 400 null "{\\"error\\":\\"empty message\\"}"',
  'GET /hello/ann -> 200 null "hello ann"',
  'GET /stream?n=4 -> 200 hono-app "streamed\\nin\\n4\\nchunks\\n"',
];

/**
 * `fluxloop run experiment` replaying `target` from its own records, each input put at
 * `overridePath`; the experiment folder goes under `out/<name>`, read back, and has no errors.
 */
async function replay(dir: string, name: string, target: string, overridePath: string, inputs: string[]): Promise<Experiment> {
  const experiment = await replayTarget(dir, { targets: [CHAT, HELLO, STREAM], target, path: overridePath, inputs, name: `out/${name}` });
  expect(experiment.errors).toEqual([]);
  return experiment;
}

describe('a Hono app recorded and replayed through its Context', () => {
  let dir: string;
  let plain: Run;
  let recorded: Run;
  let records: RecordLine[];
  /** The data of the HonoContext a target's n-th call received. */
  const context = (target: string, n: number) => {
    const arg = byTarget(records, target)[n]!.args[0] as { $type: string; value: any };
    expect(arg.$type).toBe('HonoContext');
    return arg.value;
  };

  beforeAll(async () => {
    dir = project(FIXTURE, ['hono', '@hono/node-server']);
    ({ plain, recorded } = await recordTwice(dir));
    records = readRecords(dir);
  });

  it('serves its requests without fluxloop', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().split('\n')).toEqual(STDOUT);
  });

  it('answers the same when recorded: each handler still reads the body the recorder copied', () => {
    expectSameRun(plain, recorded);
  });

  it('records each handler call once, with its Context and `next`', () => {
    expect(records.map((r) => [r.target, r.iteration])).toEqual([
      [CHAT, 0],
      [CHAT, 1],
      [HELLO, 0],
      [STREAM, 0],
    ]);
    for (const r of records) {
      expect(r.params).toEqual(['c']);
      expect(r.kwargs).toEqual({});
      // Hono calls a handler with the context and the next step of its chain.
      expect(r.args).toHaveLength(2);
      expect(r.args[1]).toMatch(/^<callable:/);
    }
  });

  it("records the chat handler's request as it saw it, authorization masked, and the middleware's variable", () => {
    const { req, var: vars } = context(CHAT, 0);
    const host = req.headers.host as string;
    expect(host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(req).toEqual({
      method: 'POST',
      url: `http://${host}/chat?lang=fr`,
      path: '/chat',
      routePath: '/chat',
      headers: expect.objectContaining({ authorization: '***', 'content-type': 'application/json', 'x-user-id': 'ann' }),
      params: {},
      query: { lang: 'fr' },
      body: { message: 'Bonjour, can you help?' },
    });
    // Set by the `identify` middleware from the token's last four characters.
    expect(vars).toEqual({ user: 'key-1234' });
    const file = fs.readFileSync(recordingPath(dir), 'utf8');
    expect(file).not.toContain(SECRET);
    expect(file).not.toContain('abcdefghijklmnop');
  });

  it('records the body a middleware read before the handler, from the cache Hono keeps of it', () => {
    // `limitAnonymous` reads anonymous callers' bodies with c.req.json(): the request's own
    // stream is used up before `chat` is called, and only Hono's bodyCache still has the body.
    const { req, var: vars } = context(CHAT, 1);
    expect(vars).toEqual({ user: 'anonymous' });
    expect(req).toMatchObject({ method: 'POST', path: '/chat', query: {}, headers: expect.objectContaining({ 'x-user-id': 'bob' }) });
    expect(req.headers).not.toHaveProperty('authorization');
    expect(req.body).toEqual({ message: '   ' });
  });

  it('records route parameters and the query, and no body for a GET', () => {
    const hello = context(HELLO, 0).req;
    expect(hello).toMatchObject({ method: 'GET', path: '/hello/ann', routePath: '/hello/:name', params: { name: 'ann' }, query: {} });
    expect(hello).not.toHaveProperty('body');
    const stream = context(STREAM, 0).req;
    expect(stream).toMatchObject({ method: 'GET', path: '/stream', routePath: '/stream', params: {}, query: { n: '4' } });
    expect(stream.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/stream\?n=4$/);
    expect(stream).not.toHaveProperty('body');
    expect(context(HELLO, 0).var).toEqual({ user: 'anonymous' });
  });

  it('replays chat with each input in the body: the Response it returns is the output, c.json in messages', async () => {
    const inputs = ['hello from the test', '   '];
    const { traces, observations } = await replay(dir, 'chat', CHAT, 'kwargs.c.req.body.message', inputs);
    expect(traces).toHaveLength(4);
    const recorded = { 1: { user: 'ann', caller: 'key-1234', lang: 'fr' }, 2: { user: 'bob', caller: 'anonymous' } } as Record<number, Record<string, string>>;
    expect(traces.map((t) => [t.recording_line, t.input]).sort()).toEqual([
      [1, '   '],
      [1, 'hello from the test'],
      [2, '   '],
      [2, 'hello from the test'],
    ]);
    for (const t of traces) {
      expect(t).toMatchObject({ status: 'ok', error: null, target: CHAT, override_param_path: 'kwargs.c.req.body.message', override_location: 'args.0.req.body.message', frames: null, first_frame_ms: null });
      // The context as invoked: the input in the body, the rest as recorded, the secret still masked.
      expect(t.args[0]).toMatchObject({ $type: 'HonoContext', value: { req: { body: { message: t.input } }, var: { user: recorded[t.recording_line]!.caller } } });
      expect(t.args[0].value.req.headers.authorization).toBe(t.recording_line === 1 ? '***' : undefined);
      expect(JSON.stringify(t)).not.toContain('abcdefghijklmnop');

      if (t.input.trim() === '') {
        // The handler refuses an empty message: the run is fine, the status it answered shows.
        const body = { error: 'empty message' };
        expect(t.output).toEqual({ $type: 'Response', value: { status: 400, statusText: '', headers: { 'content-type': 'application/json' }, body } });
        expect(t.messages).toEqual([{ to: 'HonoContext.json', kind: 'call', args: [body, 400] }]);
      } else {
        const { user, caller, lang } = recorded[t.recording_line]!;
        const body = { user, caller, reply: `You said: ${t.input}`, ...(lang ? { lang } : {}) };
        expect(t.output).toEqual({ $type: 'Response', value: { status: 201, statusText: '', headers: { 'content-type': 'application/json', 'x-agent': 'hono-app' }, body } });
        // Called as `c.json(body, 201, { 'x-agent': 'hono-app' })`; an absent `lang` is written as undefined.
        const shown = lang ? body : { ...body, lang: { $type: 'undefined' } };
        expect(t.messages).toEqual([{ to: 'HonoContext.json', kind: 'call', args: [shown, 201, { 'x-agent': 'hono-app' }] }]);
      }

      // The run's one observation sees the context the handler got, its body in memory.
      const mine = observations.filter((o) => o.trace_id === t.trace_id);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ name: CHAT, type: 'agent', parent_id: null });
      expect(mine[0].input[0]).toMatchObject({ $type: 'HonoContext', value: { req: { body: { message: t.input } } } });
    }
  });

  it('replays hello as recorded, and with another name at the route parameter', async () => {
    // An input put where `hello` does not look leaves its answer as recorded.
    const same = await replay(dir, 'hello-same', HELLO, 'kwargs.c.var.user', ['someone']);
    expect(same.traces).toHaveLength(1);
    expect(same.traces[0]).toMatchObject({
      status: 'ok',
      override_location: 'args.0.var.user',
      output: { $type: 'Response', value: { status: 200, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: 'hello ann' } },
      messages: [{ to: 'HonoContext.text', kind: 'call', args: ['hello ann'] }],
    });

    const other = await replay(dir, 'hello-name', HELLO, 'kwargs.c.req.params.name', ['zoé']);
    expect(other.traces).toHaveLength(1);
    expect(other.traces[0]).toMatchObject({
      status: 'ok',
      override_location: 'args.0.req.params.name',
      output: { $type: 'Response', value: { status: 200, body: 'hello zoé' } },
      messages: [{ to: 'HonoContext.text', kind: 'call', args: ['hello zoé'] }],
      frames: null,
    });
  });

  it('replays the stream: each chunk of the streamed body is a frame, the output its joined text', async () => {
    const { traces } = await replay(dir, 'stream', STREAM, 'kwargs.c.req.query.n', ['seven']);
    expect(traces).toHaveLength(1);
    const t = traces[0];
    const chunks = ['streamed\n', 'in\n', 'seven\n', 'chunks\n'];
    expect(t).toMatchObject({ status: 'ok', override_location: 'args.0.req.query.n', frames: chunks });
    expect(t.output).toEqual({
      $type: 'Response',
      value: { status: 200, statusText: '', headers: { 'content-type': 'text/plain; charset=utf-8', 'x-agent': 'hono-app' }, body: chunks.join('') },
    });
    // The chunks come 5 ms apart, after the handler has returned: the first within the run, not at its start.
    expect(typeof t.first_frame_ms).toBe('number');
    expect(t.first_frame_ms).toBeGreaterThan(0);
    expect(t.first_frame_ms).toBeLessThan(t.duration_ms);
    expect(t.messages.map((m: { to: string }) => m.to)).toEqual(['HonoContext.body']);
    expect(t.messages[0].args.slice(1)).toEqual([200, { 'content-type': 'text/plain; charset=utf-8', 'x-agent': 'hono-app' }]);
  });
});
