import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, project, readRecords, REPO, runApp, statusTargets, type RecordLine, type Run, type TargetRow } from './helpers';

/**
 * Every form of target that the source transform records, in an ES module app, a CommonJS app
 * and TypeScript under tsx: each app runs once without fluxloop and once recorded, and must print
 * the same thing; then each target's records and status are checked against the calls the app
 * makes. Line numbers and columns are read from the fixtures' sources, not written here.
 */

type Param = string | { destructured: string[] } | { rest: string } | null;

interface Expected {
  /** The record's `function`. */
  fn: string;
  /** The parameters of every call, or of each call by its arguments (a getter and a setter). */
  params: Param[] | ((args: unknown[]) => Param[]);
  /** The arguments of each call, in order. */
  calls: unknown[][];
  /** Text of the line the function begins on, for `record status`; a line target's is its line. */
  begins: string;
}

interface Fixture {
  name: string;
  entry: string;
  nodeArgs: string[];
  ext: 'js' | 'ts';
  /** The lines that `show()` prints, by label. */
  sections: string[];
  targets: Record<string, Expected>;
  /** Targets that must be refused, each with what its one warning must say. */
  refused: Record<string, RegExp[]>;
}

const ACCESSOR = (setter: string) => (args: unknown[]) => (args.length === 0 ? [] : [setter]);

/** The fixture's file as written. */
function source(fixture: string, file: string): string[] {
  return fs.readFileSync(path.join(REPO, 'fixtures', fixture, file), 'utf8').split('\n');
}

/** The one line (1-based) of the file that contains `text`. */
function lineOf(fixture: string, file: string, text: string): number {
  const lines = source(fixture, file);
  const found = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  if (found.length !== 1) throw new Error(`${fixture}/${file}: ${found.length} lines contain ${JSON.stringify(text)}`);
  return found[0]!;
}

/** The column (1-based) where `text` begins on a line of the file. */
function columnOf(fixture: string, file: string, line: number, text: string): number {
  const at = source(fixture, file)[line - 1]!.indexOf(text);
  if (at === -1) throw new Error(`${fixture}/${file}:${line} has no ${JSON.stringify(text)}`);
  return at + 1;
}

/** The targets every fixture has, in its own files. */
function commonTargets(name: string, ext: 'js' | 'ts'): Record<string, Expected> {
  const f = (file: string) => `app/${file}.${ext}`;
  return {
    [`${f('main')}:route`]: { fn: 'route', params: ['name', 'body'], calls: [['/chat', { q: 1 }], ['/health']], begins: 'function route(' },
    [`${f('handlers')}:handle`]: { fn: 'handle', params: ['req'], calls: [[{ text: 'hello there' }], [{ text: 'hey' }]], begins: 'const handle = (' },
    [`${f('handlers')}:shorten`]: { fn: 'shorten', params: ['text', 'max'], calls: [['HELLO THERE']], begins: 'function shorten(' },
    [`${f('handlers')}:onMessage`]: { fn: 'reply', params: ['message', 'meta'], calls: [['hello there', { channel: 'sms' }]], begins: 'function reply(' },
    [`${f('handlers')}:shout`]: { fn: 'shout', params: ['text'], calls: [['hey']], begins: 'shout' },
    [`${f('tools')}:tools.search`]: {
      fn: 'search',
      params: ['query', { destructured: ['limit'] }],
      calls: [['refund'], ['hours', { limit: 1 }]],
      begins: ext === 'ts' ? 'search(this' : 'search(query',
    },
    [`${f('tools')}:tools.lookup`]: { fn: 'lookup', params: ['id'], calls: [[7]], begins: 'lookup: (id' },
    // `tools.size = 4`, then one read.
    [`${f('tools')}:tools.size`]: { fn: 'size', params: ACCESSOR('value'), calls: [[4], []], begins: 'get size()' },
    [`${f('agent')}:Agent`]: { fn: 'Agent', params: ['name', 'options'], calls: [['ann', { via: 'create' }], ['bob']], begins: 'constructor(' },
    [`${f('agent')}:Agent.reply`]: {
      fn: 'reply',
      params: ['message', 'history'],
      calls: [['hi'], ['hello', [{ role: 'user' }]], ['again']],
      begins: 'async reply(',
    },
    [`${f('agent')}:Agent.create`]: { fn: 'create', params: ['name'], calls: [['ann']], begins: 'static create(' },
    [`${f('agent')}:Agent.#secret`]: { fn: '#secret', params: ['message'], calls: [['hi'], ['hello'], ['again']], begins: ext === 'ts' ? '#secret(message: string)' : '#secret(message) {' },
    // Two writes (a.value = 2, b.value = 3), then two reads.
    [`${f('agent')}:Agent.value`]: { fn: 'value', params: ACCESSOR('v'), calls: [[2], [3], [], []], begins: 'get value()' },
    [`${f('agent')}:Agent.handle`]: { fn: 'handle', params: ['text'], calls: [['task']], begins: 'handle = async (text' },
    // getInstance's `new this()`, Gadget's super('gadget'), then `new Widget()`.
    [`${f('agent')}:Widget`]: { fn: 'Widget', params: ['label'], calls: [[], ['gadget'], []], begins: "constructor(" },
    // Twice on Widget, once on Gadget (which throws the engine's TypeError).
    [`${f('agent')}:Widget.getInstance`]: { fn: 'getInstance', params: [], calls: [[], [], []], begins: 'static getInstance()' },
    [`${f('agent')}:Gadget`]: { fn: 'Gadget', params: [], calls: [[]], begins: 'constructor() {' },
    // `words('never started')` and `words('unstarted')` are never iterated: no call.
    [`${f('gen')}:words`]: { fn: 'words', params: ['text'], calls: [['a b'], ['x y'], ['p q']], begins: 'words(text' },
    [`${f('gen')}:chunks`]: { fn: 'chunks', params: ['total', 'size'], calls: [[5]], begins: 'async function* chunks(' },
    [`${f('misc')}:configure`]: { fn: 'configure', params: ['opts'], calls: [[], [{ retries: 3 }]], begins: 'function configure(' },
    [`${f('misc')}:double`]: { fn: 'double', params: ['x'], calls: [[21]], begins: 'function double(' },
    [`${f('misc')}:fail`]: { fn: 'fail', params: ['reason'], calls: [['boom']], begins: 'function fail(' },
    [`${f('misc')}:failLater`]: { fn: 'failLater', params: ['reason'], calls: [['late']], begins: 'async function failLater(' },
    ...lineTargets(name, ext),
  };
}

/** The inline handlers of app/server, by line; the pair's second arrow (first in CommonJS) by line and column. */
function lineTargets(name: string, ext: 'js' | 'ts'): Record<string, Expected> {
  const file = `app/server.${ext}`;
  const chat = lineOf(name, file, "app.post('/chat'");
  const ping = lineOf(name, file, "app.post('/ping'");
  const pair = lineOf(name, file, 'const pair');
  const greet = lineOf(name, file, 'async greet(');
  const res = { statusCode: 200, body: { $type: 'undefined' }, status: '<callable:status>', json: '<callable:json>' };
  const [picked, param, calls] = name === 'forms-cjs' ? ['(a', 'a', [[1]]] : ['(b', 'b', [[5]]];
  const pick = `${file}:${pair}:${columnOf(name, file, pair, picked)}`;
  return {
    // An anonymous arrow is named by its spec.
    [`${file}:${chat}`]: {
      fn: `${file}:${chat}`,
      params: ['req', 'res'],
      calls: [[{ method: 'POST', path: '/chat', body: { message: 'hi' } }, res]],
      begins: "app.post('/chat'",
    },
    [`${file}:${ping}`]: { fn: 'ping', params: ['req', 'res'], calls: [[{ method: 'POST', path: '/ping', body: { n: 41 } }, res]], begins: "app.post('/ping'" },
    [pick]: { fn: pick, params: [param], calls, begins: 'pair' },
    [`${file}:${greet}`]: { fn: 'greet', params: ['req'], calls: [[{ name: 'eve' }]], begins: 'async greet(' },
  };
}

/** The pair's line, refused with every function on it named by column, and a line with none. */
function refusedLines(name: string, ext: 'js' | 'ts'): Record<string, RegExp[]> {
  const file = `app/server.${ext}`;
  const pair = lineOf(name, file, 'const pair');
  const columns = ['(a', '(b'].map((t) => columnOf(name, file, pair, t));
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    [`${file}:${pair}`]: [new RegExp(`2 functions begin on line ${pair}`), ...columns.map((c) => new RegExp(`${quote(`${file}:${pair}:${c}`)}\\b`))],
    [`${file}:1`]: [/no function begins on line 1\b/],
  };
}

const ESM_SECTIONS = ['route', 'handlers', 'tools', 'agent', 'widget', 'generators', 'generatorProtocol', 'liveBinding', 'kinds', 'accessors', 'sync', 'error', 'asyncError', 'routes', 'pair', 'greet', 'file'];

function esmLike(name: string, ext: 'js' | 'ts', nodeArgs: string[]): Fixture {
  const f = (file: string) => `app/${file}.${ext}`;
  return {
    name,
    entry: f('main'),
    nodeArgs,
    ext,
    sections: ESM_SECTIONS,
    targets: {
      ...commonTargets(name, ext),
      [`${f('handlers')}:default`]: { fn: 'summarize', params: ['text', 'words'], calls: [['one two three'], ['a b c', 3]], begins: 'export default function summarize(' },
      [`${f('state')}:bump`]: { fn: 'bump', params: ['by'], calls: [[2], [], [0]], begins: 'export function bump(' },
    },
    refused: refusedLines(name, ext),
  };
}

function commonJs(): Fixture {
  const name = 'forms-cjs';
  return {
    name,
    entry: 'app/main.js',
    nodeArgs: [],
    ext: 'js',
    sections: ['route', 'handlers', 'exports', 'exportsState', 'tools', 'agent', 'widget', 'generators', 'generatorProtocol', 'kinds', 'accessors', 'sync', 'error', 'asyncError', 'routes', 'pair', 'greet', 'file'],
    targets: {
      ...commonTargets(name, 'js'),
      'app/handlers.js:summarize': { fn: 'summarize', params: ['text', 'words'], calls: [['one two three'], ['a b c', 3]], begins: 'summarize(text' },
      'app/classify.js:default': { fn: 'classify', params: ['text', 'labels'], calls: [['is it open?'], ['thanks', ['q', 's']]], begins: 'function classify(' },
      // An anonymous function is named by the name it is exported as.
      'app/score.js:default': { fn: 'default', params: ['text', 'weight'], calls: [['one two three'], ['a b', 10]], begins: 'module.exports = function (' },
      'app/greet.js:greet': { fn: 'greet', params: ['name', 'punctuation'], calls: [['ann'], ['bob', '?']], begins: 'exports.greet = function (' },
      'app/greet.js:bump': { fn: 'bump', params: ['by'], calls: [[2], [], [0]], begins: 'exports.bump = function bump(' },
      'app/greet.js:farewell': { fn: 'farewell', params: ['name'], calls: [['eve']], begins: 'module.exports.farewell = (' },
      // The arguments as passed, though the body assigns arguments[0] (and so `a`).
      'app/misc.js:legacy': { fn: 'legacy', params: ['a', 'b'], calls: [['a', 'b', 'c']], begins: 'function legacy(' },
    },
    refused: refusedLines(name, 'js'),
  };
}

const FIXTURES: Fixture[] = [esmLike('forms-esm', 'js', []), commonJs(), esmLike('forms-ts', 'ts', ['--import', 'tsx'])];

/** The `label {json}` lines an app printed, by label. */
function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const space = line.indexOf(' ');
    out.set(line.slice(0, space), line.slice(space + 1));
  }
  return out;
}

describe.each(FIXTURES)('$name: every form of target, recorded in place', (fx) => {
  let dir: string;
  let plain: Run;
  let recorded: Run;
  let records: RecordLine[];
  let status: TargetRow[];

  beforeAll(async () => {
    dir = project(fx.name);
    plain = await runApp(dir, fx.entry, { preload: false, nodeArgs: fx.nodeArgs, env: { FLUXLOOP_RECORD_ARGS: undefined } });
    recorded = await runApp(dir, fx.entry, { nodeArgs: fx.nodeArgs });
    records = readRecords(dir);
    status = statusTargets(dir);
  });

  it('lists every target of the test in its config', () => {
    const config = fs.readFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'utf8');
    const listed = [...config.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...Object.keys(fx.targets), ...Object.keys(fx.refused)].sort());
  });

  it('runs without fluxloop, and shows what it claims', () => {
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const out = sections(plain.stdout);
    expect([...out.keys()]).toEqual(fx.sections);
    const json = (label: string) => JSON.parse(out.get(label)!);
    expect(json('agent')).toMatchObject({ identity: [true, true, true], values: [20, 30], names: ['Agent', 1, 'create', 'reply', 1, 'handle', 1, false] });
    expect(json('widget')).toMatchObject({ same: true, ctor: true, instance: true, gadget: ['Gadget', 'gadget', true, true], subclassSingleton: { class: 'TypeError' } });
    expect(json('generators')).toEqual({ first: { value: 'A', done: false }, rest: ['B'], chunks: [[0, 2], [2, 4], [4, 5]], neverStarted: 'function' });
    expect(json('generatorProtocol')).toMatchObject({
      steps: [{ value: 'X', done: false }, { value: 'Y', done: false }, { value: 'done', done: true }, { done: true }],
      thrown: [{ value: 'P', done: false }, { class: 'RangeError', message: 'stop' }, { done: true }],
      proto: true,
    });
    expect(json(fx.name === 'forms-cjs' ? 'exportsState' : 'liveBinding')).toEqual({ before: 0, after: 3, returned: 3 });
    const kinds = new Map((json('kinds') as [string, string, number, boolean, boolean][]).map(([key, ...rest]) => [key, rest]));
    expect(kinds.get('reply')).toEqual(['reply', 1, true, false, 'undefined']);
    expect(kinds.get('handle')).toEqual(['handle', 1, true, false, 'undefined']);
    expect(kinds.get('words')).toEqual(['words', 1, false, true, 'object']);
    expect(kinds.get('chunks')).toEqual(['chunks', 1, true, true, 'object']);
    expect(kinds.get('double')).toEqual(['double', 1, false, false, 'object']);
    expect(json('sync')).toMatchObject({ value: 42, type: 'number', promise: false });
    // The frames the app finds are the throw's line and the caller's, as written.
    const misc = `app/misc.${fx.ext}`;
    const main = fx.entry;
    expect(json('error')).toMatchObject({
      class: 'AppError',
      message: 'failed: boom',
      code: 'E_FAIL',
      isAppError: true,
      thrownAt: `misc.${fx.ext}:${lineOf(fx.name, misc, 'throw new AppError')}`,
      calledFrom: `main.${fx.ext}:${lineOf(fx.name, main, "fail('boom')")}`,
    });
    expect(json('asyncError')).toMatchObject({
      class: 'TypeError',
      message: 'later: late',
      thrownAt: `misc.${fx.ext}:${lineOf(fx.name, misc, 'throw new TypeError')}`,
      calledFrom: `main.${fx.ext}:${lineOf(fx.name, main, "failLater('late')")}`,
    });
    expect(json('routes')).toEqual([
      { status: 201, body: { reply: 'got hi' } },
      { status: 200, body: { pong: 42 } },
    ]);
  });

  it('exits as it does without fluxloop, printing the same lines', () => {
    expect(recorded.code).toBe(plain.code);
    expect([...sections(recorded.stdout).keys()]).toEqual([...sections(plain.stdout).keys()]);
  });

  it.each(fx.sections)('prints the same "%s" as without fluxloop', (label) => {
    expect(sections(recorded.stdout).get(label)).toBe(sections(plain.stdout).get(label));
  });

  it('warns once for each target it cannot record, and about nothing else', () => {
    const lines = recorded.stderr.split('\n').filter(Boolean);
    const expected = Object.keys(fx.refused).map((t) => `fluxloop: target "${t}" is not recorded: `);
    expect(lines.map((l) => expected.find((e) => l.startsWith(e)) ?? l).sort()).toEqual(expected.sort());
    for (const [target, reasons] of Object.entries(fx.refused)) {
      const line = lines.find((l) => l.includes(`"${target}"`))!;
      for (const reason of reasons) expect(line).toMatch(reason);
    }
  });

  it.each(Object.keys(fx.targets))('records every call of %s, once, with its arguments', (target) => {
    const want = fx.targets[target]!;
    const got = byTarget(records, target).map((r) => ({ function: r.function, iteration: r.iteration, args: r.args, kwargs: r.kwargs, params: r.params }));
    expect(got).toEqual(
      want.calls.map((args, iteration) => ({
        function: want.fn,
        iteration,
        args,
        kwargs: {},
        params: typeof want.params === 'function' ? want.params(args) : want.params,
      })),
    );
  });

  it('records nothing but the calls above', () => {
    const known = new Set(Object.keys(fx.targets));
    expect(records.filter((r) => !known.has(r.target)).map((r) => r.target)).toEqual([]);
    expect(records).toHaveLength(Object.values(fx.targets).reduce((n, t) => n + t.calls.length, 0));
  });

  it('shows each target in `record status`: hooked with its calls, or failed with the reason', () => {
    const rows = Object.fromEntries(status.map((t) => [t.target, [t.state, t.calls, t.mechanism]]));
    const expected = {
      ...Object.fromEntries(Object.entries(fx.targets).map(([t, e]) => [t, ['hooked', e.calls.length, 'transform']])),
      ...Object.fromEntries(Object.keys(fx.refused).map((t) => [t, ['failed', 0, 'transform']])),
    };
    expect(rows).toEqual(expected);
    for (const [target, reasons] of Object.entries(fx.refused)) {
      const row = status.find((t) => t.target === target)!;
      for (const reason of reasons) expect(row.reason).toMatch(reason);
    }
  });

  it("shows where each target's function begins, as the line of its source as written", () => {
    const shown = Object.fromEntries(status.filter((t) => t.state === 'hooked').map((t) => [t.target, { line: t.line, source: t.source }]));
    const expected = Object.fromEntries(
      Object.entries(fx.targets).map(([target, e]) => {
        const file = target.slice(0, target.indexOf(':'));
        const spec = /:(\d+)(?::\d+)?$/.exec(target);
        // A line target begins on its line; a named one on the line of the fixture that holds its text.
        const lines = source(fx.name, file);
        const line = spec ? Number(spec[1]) : beginsAt(lines, e.begins, target);
        return [target, { line, source: lines[line - 1]!.trim() }];
      }),
    );
    expect(shown).toEqual(expected);
    // A line target's source is that line, with the function on it.
    for (const [target, e] of Object.entries(fx.targets)) {
      if (/:\d+(?::\d+)?$/.test(target)) expect(shown[target]?.source).toContain(e.begins);
    }
  });
});

/**
 * The line a named target's function begins on: the one line with `text`, or, where several have
 * it (constructors), the one inside the class the target names.
 */
function beginsAt(lines: string[], text: string, target: string): number {
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  if (hits.length === 1) return hits[0]!;
  const owner = target.slice(target.indexOf(':') + 1).split('.')[0]!;
  const classLine = lines.findIndex((l) => new RegExp(`\\bclass ${owner}\\b`).test(l)) + 1;
  const inside = hits.filter((h) => h > classLine);
  if (classLine === 0 || inside.length === 0) throw new Error(`cannot tell where ${target} begins`);
  return inside[0]!;
}
