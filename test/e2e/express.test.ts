import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, project, readRecords, REPO, runApp, statusTargets, type RecordLine, type Run, type TargetRow } from './helpers';

/**
 * A real Express 5 app, recorded across its layers (entry module, routes, inline handlers,
 * middleware, a service class, internal helpers, a tools object) without a change to its code.
 * It serves nine requests it sends itself; each target's records are checked against what those
 * requests make the app do.
 */

const FIXTURE = 'express-app';

/** The one line (1-based) of a fixture file that contains `text`. */
function lineOf(file: string, text: string): number {
  const lines = fs.readFileSync(path.join(REPO, 'fixtures', FIXTURE, file), 'utf8').split('\n');
  const found = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  if (found.length !== 1) throw new Error(`${file}: ${found.length} lines contain ${JSON.stringify(text)}`);
  return found[0]!;
}

const HEALTH = `app/server.js:${lineOf('app/server.js', "app.get('/health'")}`;
const CHAT = `app/server.js:${lineOf('app/server.js', "app.post('/chat'")}`;
const HISTORY = `app/server.js:${lineOf('app/server.js', "history.get('/:user'")}`;
const ON_ERROR = `app/server.js:${lineOf('app/server.js', 'app.use((err, req, res, next)')}`;

/** The requests app/main.js sends, in order: method, path, body, token; and the id the app gives each. */
const REQUESTS: [string, string, unknown?, string?][] = [
  ['GET', '/health'],
  ['POST', '/chat', { message: 'What is the weather in Paris?' }, 'token-ann'],
  ['POST', '/chat', { message: '  calc   2 + 3 ' }, 'token-ann'],
  ['POST', '/chat', { message: 'refund please' }],
  ['POST', '/chat', { message: 'Where is my refund?' }, 'token-bob'],
  ['POST', '/chat', { message: '   ' }, 'token-bob'],
  ['POST', '/chat', { message: 'calc 2 / 0' }, 'token-bob'],
  ['GET', '/tools/search?q=opening%20hours&limit=1'],
  ['GET', '/history/ann'],
];
/** The chat requests, each with the id the app gives it (`r` and its place among all requests). */
const CHATS = REQUESTS.flatMap((r, i) => (r[1] === '/chat' ? [[r, `r${i + 1}`] as const] : []));

interface Marker {
  $type: string;
  class: string;
  methods: string[];
  value: Record<string, any>;
}

/** What the encoder writes for an Express request: the request's own data, read at the call. */
function request(arg: unknown): Record<string, unknown> {
  const req = arg as Marker;
  expect(req).toMatchObject({ $type: 'Emitter', class: 'IncomingMessage' });
  expect(req.methods).toEqual(expect.arrayContaining(['get', 'header', 'is', 'accepts', 'on']));
  const { method, url, originalUrl, path, params, query, body, id, user, headers } = req.value;
  return { method, url, originalUrl, path, params, query, body, id, user, authorization: headers.authorization };
}

/** A response as the encoder writes it, before the handler answers. */
function response(arg: unknown): void {
  const res = arg as Marker;
  expect(res).toMatchObject({ $type: 'Emitter', class: 'ServerResponse', value: { statusCode: 200, finished: false } });
  expect(res.methods).toEqual(expect.arrayContaining(['status', 'json', 'send', 'setHeader', 'end']));
}

/** The targets of the config, each with the number of calls the nine requests make. */
const CALLS: Record<string, number> = {
  'app/main.js:request': 9,
  'app/server.js:createServer': 1,
  'app/server.js:handleTool': 1,
  [HEALTH]: 1,
  [CHAT]: 5,
  [HISTORY]: 1,
  [ON_ERROR]: 2,
  'app/middleware.js:requestId': 9,
  'app/middleware.js:authenticate': 6,
  'app/middleware.js:tokenOf': 6,
  'app/service.js:normalize': 5,
  'app/service.js:detectIntent': 4,
  'app/service.js:ChatService': 1,
  'app/service.js:ChatService.create': 1,
  'app/service.js:ChatService.reply': 5,
  'app/service.js:ChatService.#remember': 3,
  'app/service.js:ChatService.history': 1,
  'app/store.js:MemoryStore.append': 3,
  'app/store.js:MemoryStore.list': 1,
  'app/tools.js:tools.search': 2,
  'app/tools.js:tools.weather': 1,
  'app/tools.js:tools.calc': 2,
  'app/format.js:default': 3,
};

describe('an Express 5 app recorded across its layers', () => {
  let dir: string;
  let plain: Run;
  let recorded: Run;
  let records: RecordLine[];
  let status: TargetRow[];
  const args = (target: string) => byTarget(records, target).map((r) => r.args);

  beforeAll(async () => {
    dir = project(FIXTURE, ['express']);
    plain = await runApp(dir, 'app/main.js', { preload: false, env: { FLUXLOOP_RECORD_ARGS: undefined } });
    recorded = await runApp(dir, 'app/main.js');
    records = readRecords(dir);
    status = statusTargets(dir);
  });

  it('serves its requests without fluxloop', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' -> ')[0])).toEqual(REQUESTS.map(([method, p]) => `${method} ${p}`));
    expect(lines.map((l) => Number(l.split(' -> ')[1]!.split(' ')[0]))).toEqual([200, 201, 201, 401, 201, 400, 500, 200, 200]);
    // The error handler tells where each error was thrown: file and line as written.
    const at = lines.map((l) => /"at":"([^"]+)"/.exec(l)?.[1]).filter(Boolean);
    expect(at).toEqual([`service.js:${lineOf('app/service.js', 'throw new ValidationError')}`, `tools.js:${lineOf('app/tools.js', 'throw new RangeError')}`]);
  });

  it('answers every request as it does without fluxloop, and warns about nothing', () => {
    expect(recorded.stderr).toBe('');
    expect(recorded.code).toBe(plain.code);
    expect(recorded.stdout).toBe(plain.stdout);
  });

  it('has 20 or more targets, every one hooked by the transform with its calls counted', () => {
    const config = fs.readFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'utf8');
    const listed = [...config.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(CALLS).sort());
    expect(listed.length).toBeGreaterThanOrEqual(20);
    expect(Object.fromEntries(status.map((t) => [t.target, [t.state, t.calls, t.mechanism]]))).toEqual(
      Object.fromEntries(Object.entries(CALLS).map(([t, n]) => [t, ['hooked', n, 'transform']])),
    );
  });

  it('records each call once: as many records as calls, numbered 0 to n-1 per target, and nothing else', () => {
    const counts = Object.fromEntries(Object.keys(CALLS).map((t) => [t, byTarget(records, t).map((r) => r.iteration)]));
    expect(counts).toEqual(Object.fromEntries(Object.entries(CALLS).map(([t, n]) => [t, Array.from({ length: n }, (_, i) => i)])));
    expect(records).toHaveLength(Object.values(CALLS).reduce((a, b) => a + b, 0));
    // Each request reaches each middleware and handler once: no request id twice in one target's records.
    for (const target of [CHAT, ON_ERROR, 'app/middleware.js:authenticate', 'app/server.js:handleTool', HISTORY, HEALTH]) {
      const ids = byTarget(records, target).map((r) => request(r.args[target === ON_ERROR ? 1 : 0]).id);
      expect(new Set(ids).size, target).toBe(ids.length);
    }
  });

  it("records the entry module's own function with its arguments", () => {
    const calls = args('app/main.js:request');
    for (const call of calls) expect(call[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new Set(calls.map((c) => c[0])).size).toBe(1);
    expect(calls.map((c) => c.slice(1))).toEqual(REQUESTS.map((r) => r.slice()));
    expect(byTarget(records, 'app/main.js:request')[0]!.params).toEqual(['base', 'method', 'path', 'body', 'token']);
  });

  it('records the app being put together: the service and its store, the server', () => {
    const store = { $type: 'Object', class: 'MemoryStore', value: {} };
    expect(args('app/service.js:ChatService.create')).toEqual([[store]]);
    expect(args('app/service.js:ChatService')).toEqual([[store, { model: 'support-v1' }]]);
    expect(byTarget(records, 'app/service.js:ChatService')[0]!.params).toEqual(['store', { destructured: ['model'] }]);
    expect(args('app/server.js:createServer')).toEqual([[{ $type: 'Object', class: 'ChatService', value: {} }]]);
  });

  it('records the middleware with each request as it was when the middleware ran', () => {
    const ids = byTarget(records, 'app/middleware.js:requestId');
    expect(ids.map((r) => r.function)).toEqual(Array(9).fill('requestId'));
    expect(ids[0]!.params).toEqual(['req', 'res', 'next']);
    expect(
      ids.map((r) => {
        response(r.args[1]);
        expect(r.args[2]).toBe('<callable:next>');
        const { method, originalUrl, body, id } = request(r.args[0]);
        return [method, originalUrl, body, id];
      }),
    ).toEqual(REQUESTS.map(([method, p, body]) => [method, p, body, undefined]));

    const auth = byTarget(records, 'app/middleware.js:authenticate');
    expect(auth[0]!.params).toEqual(['req', 'res', 'next']);
    expect(auth.map((r) => r.function)).toEqual(Array(6).fill('authenticate'));
    expect(
      auth.map((r) => {
        response(r.args[1]);
        expect(r.args[2]).toBe('<callable:next>');
        const { method, path: p, body, id, user, authorization } = request(r.args[0]);
        return [method, p, body, id, user, authorization];
      }),
    ).toEqual(CHATS.map(([[method, p, body, token], id]) => [method, p, body, id, undefined, token ? '***' : undefined]));
    // The header reaches the internal helper; its token is masked as a bearer credential.
    expect(args('app/middleware.js:tokenOf')).toEqual(CHATS.map(([[, , , token]]) => [token ? 'Bearer ***' : { $type: 'undefined' }]));
  });

  it('records the inline route handlers found by line, with req.body, the user and the route', () => {
    const chat = byTarget(records, CHAT);
    expect(chat.map((r) => r.function)).toEqual(Array(5).fill(CHAT));
    expect(chat[0]!.params).toEqual(['req', 'res']);
    // The request without a token stops at authenticate.
    const served = CHATS.filter(([[, , , token]]) => token !== undefined);
    expect(
      chat.map((r) => {
        response(r.args[1]);
        expect(r.args[2]).toBe('<callable:next>');
        const { method, path: p, body, id, user, authorization } = request(r.args[0]);
        return [method, p, body, id, user, authorization];
      }),
    ).toEqual(served.map(([[method, p, body, token], id]) => [method, p, body, id, token!.replace('token-', ''), '***']));

    const [health] = byTarget(records, HEALTH);
    expect(health!.function).toBe(HEALTH);
    expect(request(health!.args[0])).toMatchObject({ method: 'GET', path: '/health', id: 'r1' });
    response(health!.args[1]);

    const [history] = byTarget(records, HISTORY);
    expect(request(history!.args[0])).toMatchObject({ method: 'GET', url: '/ann', originalUrl: '/history/ann', params: { user: 'ann' }, id: 'r9' });
    response(history!.args[1]);

    const [tool] = byTarget(records, 'app/server.js:handleTool');
    expect(tool!.function).toBe('handleTool');
    expect(request(tool!.args[0])).toMatchObject({ method: 'GET', path: '/tools/search', params: { name: 'search' }, query: { q: 'opening hours', limit: '1' }, id: 'r8' });
  });

  it("records the error handler, whose four parameters Express still sees, with the errors it got", () => {
    const errors = byTarget(records, ON_ERROR);
    expect(errors[0]!.params).toEqual(['err', 'req', 'res', 'next']);
    expect(
      errors.map((r) => {
        const [err, req, res, next] = r.args as [Record<string, unknown>, unknown, unknown, unknown];
        response(res);
        expect(next).toBe('<callable:next>');
        return [err.$type, err.class, err.message, err.props, request(req).id];
      }),
    ).toEqual([
      ['Error', 'ValidationError', 'message is empty', { status: 400 }, 'r6'],
      ['Error', 'RangeError', 'cannot compute "2 / 0"', undefined, 'r7'],
    ]);
  });

  it("records the service class's methods, its private method and the module's internal helpers", () => {
    expect(args('app/service.js:ChatService.reply')).toEqual([
      ['ann', 'What is the weather in Paris?'],
      ['ann', '  calc   2 + 3 '],
      ['bob', 'Where is my refund?'],
      ['bob', '   '],
      ['bob', 'calc 2 / 0'],
    ]);
    expect(args('app/service.js:normalize')).toEqual([['What is the weather in Paris?'], ['  calc   2 + 3 '], ['Where is my refund?'], ['   '], ['calc 2 / 0']]);
    // The empty message is refused before its intent is looked for.
    expect(args('app/service.js:detectIntent')).toEqual([['What is the weather in Paris?'], ['calc 2 + 3'], ['Where is my refund?'], ['calc 2 / 0']]);
    const entries = [
      ['ann', { message: 'What is the weather in Paris?', answer: 'sunny, 21°C' }],
      ['ann', { message: 'calc 2 + 3', answer: '5' }],
      ['bob', { message: 'Where is my refund?', answer: 'refund policy' }],
    ];
    expect(args('app/service.js:ChatService.#remember')).toEqual(entries);
    expect(byTarget(records, 'app/service.js:ChatService.#remember').map((r) => r.function)).toEqual(Array(3).fill('#remember'));
    expect(args('app/store.js:MemoryStore.append')).toEqual(entries);
    expect(args('app/service.js:ChatService.history')).toEqual([['ann']]);
    expect(args('app/store.js:MemoryStore.list')).toEqual([['ann']]);
    expect(args('app/format.js:default')).toEqual([
      ['weather', 'sunny, 21°C', { model: 'support-v1' }],
      ['calc', '5', { model: 'support-v1' }],
      ['search', 'refund policy', { model: 'support-v1' }],
    ]);
    expect(byTarget(records, 'app/format.js:default')[0]!.function).toBe('formatReply');
  });

  it('records the tools object: a method using `this`, an async arrow, a method that throws', () => {
    expect(args('app/tools.js:tools.search')).toEqual([['Where is my refund?'], ['opening hours', 1]]);
    expect(byTarget(records, 'app/tools.js:tools.search')[0]!.params).toEqual(['query', 'limit']);
    expect(args('app/tools.js:tools.weather')).toEqual([['Paris']]);
    expect(args('app/tools.js:tools.calc')).toEqual([['2 + 3'], ['2 / 0']]);
  });

  it('shows each line target with its line as written in `record status`', () => {
    const lines = fs.readFileSync(path.join(dir, 'app', 'server.js'), 'utf8').split('\n');
    for (const target of [HEALTH, CHAT, HISTORY, ON_ERROR]) {
      const line = Number(target.split(':')[1]);
      expect(status.find((t) => t.target === target)).toMatchObject({ line, source: lines[line - 1]!.trim() });
    }
  });
});

describe('Express itself, through the export patcher', () => {
  const EXPRESS = [
    'node_modules/express/lib/response.js:default.json', // a method of the response prototype
    'node_modules/express/lib/response.js:default.set', // one function under two names
    'node_modules/express/lib/response.js:default.header',
    'node_modules/express/lib/request.js:default.protocol', // a getter that needs a request
  ];

  it('records Express’s own methods beside the app’s, and a getter that needs an instance breaks nothing', async () => {
    const dir = project(FIXTURE, ['express']);
    const config = path.join(dir, 'configs', 'simulation.yaml');
    fs.appendFileSync(config, EXPRESS.map((t) => `    - ${t}\n`).join(''));
    const plain = await runApp(dir, 'app/main.js', { preload: false, env: { FLUXLOOP_RECORD_ARGS: undefined } });
    const recorded = await runApp(dir, 'app/main.js');
    expect(recorded.stderr).toBe('');
    expect(recorded.code).toBe(plain.code);
    expect(recorded.stdout).toBe(plain.stdout);

    const records = readRecords(dir);
    const status = Object.fromEntries(statusTargets(dir).map((t) => [t.target, t]));
    for (const target of EXPRESS) expect(status[target], target).toMatchObject({ state: 'hooked', mechanism: 'patch' });
    // Every response the app sends goes through res.json, which sets its Content-Type through
    // `this.set`, and res.send sets it again with a charset: each call is counted under the name
    // it came through, once.
    const json = byTarget(records, EXPRESS[0]!);
    expect(json).toHaveLength(REQUESTS.length);
    expect(json.map((r) => r.function)).toEqual(Array(REQUESTS.length).fill('json'));
    const set = byTarget(records, EXPRESS[1]!);
    expect(set.length).toBeGreaterThanOrEqual(REQUESTS.length);
    expect(set.filter((r) => r.args[0] === 'Content-Type')).toHaveLength(2 * REQUESTS.length);
    expect(byTarget(records, EXPRESS[2]!)).toHaveLength(status[EXPRESS[2]!]!.calls!);
    expect(status[EXPRESS[1]!]!.calls).toBe(set.length);
    // `req.protocol` hands out a string, not a function: there is nothing to record, and nothing breaks.
    expect(byTarget(records, EXPRESS[3]!)).toHaveLength(0);
  });
});
