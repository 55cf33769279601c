import { tracingChannel } from 'node:diagnostics_channel';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/config/targets';
import { trace } from '../../src/manual';
import { callChannel, type TargetReport } from '../../src/instrument/transform/channels';
import { transformCached } from '../../src/instrument/transform/cache';
import { transformModule } from '../../src/instrument/transform/transform';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-transform-'));
let counter = 0;

/** Transforms `source` for the targets, then loads both versions as modules of their own. */
async function load(source: string, targets: string[], format: 'esm' | 'cjs' = 'cjs') {
  const ext = format === 'esm' ? 'mjs' : 'cjs';
  const file = path.join(dir, `m${counter++}.${ext}`);
  const out = transformModule(source, file, format, targets.map((t) => parseTarget(t)));
  const plainFile = file.replace(`.${ext}`, `.plain.${ext}`);
  fs.writeFileSync(plainFile, source);
  fs.writeFileSync(file, out.code ?? source);
  const get = async (f: string) => (format === 'esm' ? import(pathToFileURL(f).href) : createRequire(__filename)(f));
  return { out, plain: await get(plainFile), traced: await get(file) };
}

/** Every call published on a target's channel while `fn` runs. */
async function calls(target: string, fn: () => unknown): Promise<{ arguments: unknown[]; self: unknown }[]> {
  const seen: { arguments: unknown[]; self: unknown }[] = [];
  const channel = tracingChannel(callChannel(target));
  const onStart = (message: unknown) => {
    const { arguments: args, self } = message as { arguments: unknown[]; self: unknown };
    seen.push({ arguments: args, self });
  };
  channel.start.subscribe(onStart);
  try {
    await fn();
  } finally {
    channel.start.unsubscribe(onStart);
  }
  return seen;
}

const reported = (reports: TargetReport[]) => Object.fromEntries(reports.map((r) => [r.target, r.ok ? { name: r.name, line: r.line, params: r.params } : r.reason]));

const FORMS = `'use strict';
function route(msg, { user } = {}, ...rest) { return [msg, user, rest.length, typeof this]; }
async function later(x) { await null; return x * 2; }
function old(opts) { var opts = opts || { fallback: true }; return opts; }
const arrow = async (q, k = 2) => q + k;
const tools = {
  search(q) { return 'found ' + q; },
  pick: (a, b) => a ?? b,
  get count() { return this.n; },
  set count(v) { this.n = v * 10; },
  n: 1,
};
class Base { constructor(name) { this.base = name; } }
class Agent extends Base {
  static #instance;
  static getInstance() { return this.#instance ??= new this('single'); }
  constructor(name) { super(name); this.name = name; this.made = new.target === Agent; }
  reply(m) { return this.#secret(m); }
  #secret(m) { return this.name + ':' + m; }
  *gen(n) { yield n; yield n + 1; }
  async *stream(n) { yield n; }
  handle = (x) => [this.name, x];
}
function Legacy(v) { if (!new.target) return new Legacy(v); this.v = v; }
module.exports = { route, later, old, arrow, tools, Agent, Legacy, onMessage: route };
`;

describe('transformModule', () => {
  it('finds every form, and the module behaves exactly as before', async () => {
    const targets = [
      'm.js:route', 'm.js:later', 'm.js:old', 'm.js:arrow', 'm.js:tools.search', 'm.js:tools.pick', 'm.js:tools.count',
      'm.js:Agent', 'm.js:Agent.getInstance', 'm.js:Agent.reply', 'm.js:Agent.#secret', 'm.js:Agent.gen', 'm.js:Agent.stream',
      'm.js:Agent.handle', 'm.js:Legacy',
    ];
    const { out, plain, traced } = await load(FORMS, targets);
    expect(out.report.targets.every((r) => r.ok)).toBe(true);
    // The setter beside the getter has its own parameters.
    expect(out.report.targets.find((r) => r.target === 'm.js:tools.count')).toMatchObject({ params: [], variants: [['v']] });
    expect(reported(out.report.targets)).toMatchObject({
      'm.js:route': { name: 'route', line: 2, params: ['msg', { destructured: ['user'] }, { rest: 'rest' }] },
      'm.js:tools.count': { name: 'count', line: 9, params: [] },
      'm.js:Agent': { name: 'Agent', line: 17, params: ['name'] },
      'm.js:Agent.#secret': { name: '#secret', line: 19, params: ['m'] },
      'm.js:Agent.handle': { name: 'handle', line: 22, params: ['x'] },
    });

    const run = async (m: typeof plain) => {
      const agent = m.Agent.getInstance();
      const tools = Object.create(m.tools);
      tools.count = 4;
      const gen = [...new m.Agent('g').gen(1)];
      const streamed: unknown[] = [];
      for await (const v of new m.Agent('s').stream(5)) streamed.push(v);
      return {
        route: [m.route('a', { user: 'u' }, 1, 2), m.route.call({}, 'b')],
        later: await m.later(4),
        old: [m.old(), m.old({ given: 1 })],
        arrow: await m.arrow(1),
        tools: [tools.search('q'), tools.pick(undefined, 'b'), tools.count, tools.n],
        agent: [agent === m.Agent.getInstance(), agent.reply('hi'), agent.made, agent.base, agent.constructor === m.Agent],
        handle: agent.handle(3),
        generators: [gen, streamed],
        legacy: [m.Legacy(3).v, new m.Legacy(4).v],
        kinds: [m.later, m.arrow, m.route, m.Agent.prototype.gen, m.Agent.prototype.stream].map((f) => Object.prototype.toString.call(f)),
        shape: [m.route.name, m.route.length, m.arrow.length, m.old.length, m.Agent.length, m.Agent.prototype.gen.length],
        sync: m.route('s') instanceof Promise,
      };
    };
    const expected = await run(plain);
    expect(await run(traced)).toEqual(expected);
    expect(expected.kinds).toEqual(['[object AsyncFunction]', '[object AsyncFunction]', '[object Function]', '[object GeneratorFunction]', '[object AsyncGeneratorFunction]']);
  });

  it('publishes every call with its arguments and this, however the function is reached', async () => {
    const { traced } = await load(FORMS, ['m.js:route', 'm.js:arrow', 'm.js:Agent.reply', 'm.js:Agent.#secret', 'm.js:Agent.gen']);
    const self = { who: 'caller' };
    const { onMessage } = traced;
    expect(await calls('m.js:route', () => [traced.route.call(self, 'a', { user: 'u' }), onMessage('b')])).toEqual([
      { arguments: ['a', { user: 'u' }], self },
      { arguments: ['b'], self: undefined },
    ]);
    // An arrow is seen with every argument it is given, past its own parameters.
    expect((await calls('m.js:arrow', () => traced.arrow(1, 2, 3))).map((c) => c.arguments)).toEqual([[1, 2, 3]]);
    const agent = new traced.Agent('n');
    // A private method, called from inside its class, is seen too.
    expect((await calls('m.js:Agent.#secret', () => agent.reply('hi'))).map((c) => [c.arguments, c.self === agent])).toEqual([[['hi'], true]]);
    // A generator's call is seen when its first value is asked for.
    const gen = agent.gen(7);
    expect(await calls('m.js:Agent.gen', () => gen.next())).toEqual([{ arguments: [7], self: agent }]);
  });

  it('leaves a target to the transform when it is also marked with trace(), so that a call is recorded once', async () => {
    const { plain, traced } = await load(FORMS, ['m.js:route']);
    expect(trace(traced.route)).toBe(traced.route);
    expect(trace(plain.route)).not.toBe(plain.route);
  });

  it('throws the same error, by identity, and an async one rejects the same', async () => {
    const source = `const boom = new RangeError('no');
exports.fail = function fail() { throw boom; };
exports.reject = async function reject() { throw boom; };
exports.boom = boom;`;
    const { traced } = await load(source, ['m.js:fail', 'm.js:reject']);
    let caught: unknown;
    const seen = await calls('m.js:fail', () => {
      try {
        traced.fail(1);
      } catch (error) {
        caught = error;
      }
    });
    expect(caught).toBe(traced.boom);
    expect(seen).toHaveLength(1);
    await expect(traced.reject()).rejects.toBe(traced.boom);
  });

  it('keeps an ES module live binding, and reaches an exported name given to another function', async () => {
    const source = `export let count = 0;
function bump(by) { count += by; return count; }
export { bump as increment };
export default (x) => x * 2;`;
    const { traced } = await load(source, ['m.mjs:increment', 'm.mjs:default'], 'esm');
    const seen = await calls('m.mjs:increment', () => traced.increment(2));
    expect(traced.count).toBe(2);
    expect(seen.map((c) => c.arguments)).toEqual([[2]]);
    expect((await calls('m.mjs:default', () => traced.default(4))).map((c) => c.arguments)).toEqual([[4]]);
  });

  it('finds a CommonJS function wrapped by a compiler, and CommonJS export forms', async () => {
    const source = `"use strict";(() => {
var exports_ = {};
function handleRequest(message, options) { return options.channel + ':' + message; }
module.exports.handleRequest = handleRequest;
exports.other = async function () { return 1; };
})();`;
    const { out } = await load(source, ['m.js:handleRequest', 'm.js:other']);
    expect(reported(out.report.targets)).toEqual({
      'm.js:handleRequest': { name: 'handleRequest', line: 3, params: ['message', 'options'] },
      'm.js:other': { name: 'other', line: 5, params: [] },
    });
  });

  it('picks a function by its line, and by line and column when one line holds several', async () => {
    const source = `const app = { post: (path, handler) => handler };
const chat = app.post('/chat', async (req, res) => {
  return req.body;
});
const both = [1, 2].map((n) => n * 2).filter((n) => n > 2);
module.exports = { chat };`;
    const { out, traced } = await load(source, ['m.js:2', 'm.js:5', 'm.js:5:38', 'm.js:5:12', 'm.js:4', 'm.js:1:9']);
    const byTarget = Object.fromEntries(out.report.targets.map((r) => [r.target, r]));
    expect(byTarget['m.js:2']).toMatchObject({ ok: true, name: 'm.js:2', line: 2, column: 32, source: "const chat = app.post('/chat', async (req, res) => {", params: ['req', 'res'] });
    expect(byTarget['m.js:5']).toEqual({ target: 'm.js:5', ok: false, reason: '2 functions begin on line 5; name one with its column: m.js:5:25, m.js:5:46' });
    expect(byTarget['m.js:5:38']).toMatchObject({ ok: false, reason: 'no function begins at line 5, column 38; functions on that line: m.js:5:25, m.js:5:46' });
    expect(byTarget['m.js:5:12']).toMatchObject({ ok: false });
    expect(byTarget['m.js:4']).toEqual({ target: 'm.js:4', ok: false, reason: 'no function begins on line 4' });
    expect(byTarget['m.js:1:9']).toMatchObject({ ok: false });
    const seen = await calls('m.js:2', () => traced.chat({ body: 'hi' }, {}));
    expect(seen.map((c) => c.arguments)).toEqual([[{ body: 'hi' }, {}]]);
  });

  it('says why a target cannot be instrumented, and leaves a module with none untouched', async () => {
    const source = `class A { *walk() { yield super.toString(); } }
const data = { list: [] };
function f() {}
module.exports = { A, data, f, g: f };`;
    const { out } = await load(source, ['m.js:A.walk', 'm.js:data', 'm.js:data.list', 'm.js:A.nope', 'm.js:missing']);
    expect(out.code).toBeUndefined();
    expect(reported(out.report.targets)).toEqual({
      'm.js:A.walk': 'a generator method that uses `super` cannot be traced',
      'm.js:data': '"data" is not a function',
      'm.js:data.list': '"data" has no method "list"',
      'm.js:A.nope': '"A" has no method "nope" (methods: walk)',
      'm.js:missing': 'no function, class or object named "missing" at the top level (there: A, data, f)',
    });
    const twice = await load(source, ['m.js:f', 'm.js:g']);
    expect(reported(twice.out.report.targets)['m.js:g']).toBe('it is the same function as target "m.js:f", whose records it is in');
  });

  it('keeps every line of the code where it was, comments and all', async () => {
    const source = `#!/usr/bin/env node
'use strict'
/* a comment */ function fail(reason) {
  // why
  throw new Error(reason);
}
const arrow = (x) =>
  x.missing.property;
module.exports = { fail, arrow };
`;
    const { out, plain, traced } = await load(source, ['m.js:fail', 'm.js:arrow']);
    expect(out.code!.split('\n').length).toBe(source.split('\n').length);
    expect(out.code).toContain('/* a comment */');
    expect(out.code!.startsWith("#!/usr/bin/env node\n'use strict';")).toBe(true);
    const where = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return /m\d+(?:\.plain)?\.cjs:(\d+):/.exec((error as Error).stack!)![1];
      }
    };
    expect(where(() => traced.fail('x'))).toBe('5');
    expect(where(() => traced.fail('x'))).toBe(where(() => plain.fail('x')));
    expect(where(() => traced.arrow({}))).toBe('8');
    // Strict mode kept: `this` of a plain call stays undefined.
    expect(traced.fail.toString()).toContain('throw new Error(reason);');
  });
});

describe('transformCached', () => {
  it('transforms a file once while its source and targets stay the same', () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-transform-cache-'));
    const targets = [parseTarget('a.js:a')];
    let made = 0;
    const make = (source: string) => () => (made++, transformModule(source, '/app/a.js', 'cjs', targets));
    const source = 'function a(x) { return x; }\nmodule.exports = { a };\n';
    const first = transformCached(cacheDir, source, '/app/a.js', 'cjs', targets, make(source));
    expect(transformCached(cacheDir, source, '/app/a.js', 'cjs', targets, make(source))).toEqual(first);
    expect(made).toBe(1);
    const changed = source.replace('return x', 'return x + 1');
    expect(transformCached(cacheDir, changed, '/app/a.js', 'cjs', targets, make(changed)).code).toContain('return x + 1');
    transformCached(cacheDir, changed, '/app/a.js', 'cjs', [...targets, parseTarget('a.js:1')], make(changed));
    expect(made).toBe(3);
    // One entry per file and set of targets: a changed source replaces its entry.
    expect(fs.readdirSync(cacheDir)).toHaveLength(2);
  });
});
