import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEvaluation } from '../../src/cli/evaluate.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseParamPath } from '../../src/config/param-path.js';
import { decode, isBinary } from '../../src/record/decode.js';
import { bindArguments, decodeCall, finishCall, missMessage, override } from '../../src/replay/binding.js';
import { Collectors } from '../../src/replay/collectors.js';
import { executeRun, type RunPlan } from '../../src/replay/execute.js';
import type { LoadedTarget } from '../../src/replay/loader.js';

const DEPTH = 10_000;

/**
 * A record's JSON nested `depth` deep, parsed as the reader parses a line; written as text, since
 * JSON.stringify itself overflows the stack at this depth. `leaf` is the JSON at the bottom.
 */
function deepJson(depth: number, leaf = '{"leaf":true}'): unknown {
  return JSON.parse('{"next":'.repeat(depth) + leaf + '}'.repeat(depth));
}

/** How many `next` links down the chain from `tree`, and what is at the bottom. */
function depthOf(tree: unknown): { depth: number; bottom: Record<string, unknown> } {
  let depth = 0;
  let node = tree as Record<string, unknown>;
  while (node.next !== undefined) {
    node = node.next as Record<string, unknown>;
    depth++;
  }
  return { depth, bottom: node };
}

describe('a record nested 10,000 deep', () => {
  it('decodes, binds and takes the input at its path', () => {
    const params = ['message', 'tree'];
    const recorded = { args: ['hello', deepJson(DEPTH)], kwargs: {} };
    const collectors = new Collectors();
    const call = decodeCall(recorded, collectors, new Map(), params);
    const at = override(call, parseParamPath('kwargs.message'), 'hi', params);
    expect(at).toEqual({ root: 'args', segments: [0] });
    finishCall(call, collectors);
    const [message, tree] = bindArguments(call, params);
    expect(message).toBe('hi');
    expect(depthOf(tree)).toEqual({ depth: DEPTH, bottom: { leaf: true } });
  });

  it('puts a collector in place of a callable at the bottom, named by its whole path', () => {
    const collectors = new Collectors();
    const call = decodeCall({ args: [deepJson(DEPTH, '{"onDone":"<callable:onDone>"}')], kwargs: {} }, collectors, new Map());
    const { depth, bottom } = depthOf(call.args[0]);
    expect(depth).toBe(DEPTH);
    expect(typeof bottom.onDone).toBe('function');
    (bottom.onDone as (x: string) => void)('done');
    expect(collectors.messages).toEqual([{ to: `args.0${'.next'.repeat(DEPTH)}.onDone`, kind: 'send', args: ['done'] }]);
  });

  it('swaps framework objects in beside it, and puts an input at the bottom of it', () => {
    const collectors = new Collectors();
    const recorded = { args: [], kwargs: { headers: { $type: 'Headers', value: { accept: 'text/plain' } }, tree: deepJson(DEPTH) } };
    const call = decodeCall(recorded, collectors, new Map());
    const path = parseParamPath(`kwargs.tree${'.next'.repeat(DEPTH)}.leaf`);
    expect(override(call, path, 'put', [])).not.toBeTypeOf('string');
    finishCall(call, collectors);
    expect(call.kwargs.headers).toBeInstanceOf(Headers);
    expect((call.kwargs.headers as Headers).get('accept')).toBe('text/plain');
    expect(depthOf(call.kwargs.tree)).toEqual({ depth: DEPTH, bottom: { leaf: 'put' } });
  });

  it('decodes references and cycles at the bottom as a recursive walk did', () => {
    // `next` at the bottom points back to the root object: a cycle 10,000 long.
    const cyclic = deepJson(DEPTH, '{"back":{"$type":"ref","path":[]},"list":[1,{"$type":"Date","value":"2026-01-02T00:00:00.000Z"}]}');
    const out = decode(cyclic) as Record<string, unknown>;
    let node = out;
    for (let i = 0; i < DEPTH; i++) node = node.next as Record<string, unknown>;
    expect(node.back).toBe(out);
    expect((node.list as unknown[])[1]).toEqual(new Date('2026-01-02T00:00:00.000Z'));
  });
});

describe('a recording with large bytes', () => {
  const BYTES = 700 * 1024;
  const originals = { keys: Object.keys, entries: Object.entries };
  afterEach(() => Object.assign(Object, originals));

  /** Counts the calls of Object.keys and Object.entries that list the indexes of bytes: a walk over every byte. */
  function countByteWalks(): { count: number } {
    const walks = { count: 0 };
    const seen = (o: unknown) => typeof o === 'object' && o !== null && isBinary(o) && walks.count++;
    Object.keys = ((o: object) => (seen(o), originals.keys(o))) as typeof Object.keys;
    Object.entries = ((o: object) => (seen(o), originals.entries(o))) as typeof Object.entries;
    return walks;
  }

  it('decodes and binds a 700 KB Buffer and typed arrays without walking their bytes', () => {
    const bytes = Buffer.alloc(BYTES, 7);
    bytes[BYTES - 1] = 9;
    const floats = new Float64Array([1.5, -2, 3]);
    const recorded = {
      args: ['hello', { $type: 'Buffer', base64: bytes.toString('base64') }],
      kwargs: {
        floats: { $type: 'Float64Array', base64: Buffer.from(floats.buffer).toString('base64') },
        raw: { $type: 'ArrayBuffer', base64: Buffer.alloc(BYTES, 1).toString('base64') },
        view: { $type: 'DataView', base64: Buffer.alloc(16, 2).toString('base64') },
        // Beside a framework object, so that finishCall walks the arguments to swap it in.
        headers: { $type: 'Headers', value: { accept: 'text/plain' } },
        onChunk: '<callable:onChunk>',
      },
    };
    const params = ['message', 'blob'];
    const walks = countByteWalks();
    const collectors = new Collectors();
    const call = decodeCall(recorded, collectors, new Map(), params);
    const blob = call.args[1];
    override(call, parseParamPath('kwargs.message'), 'hi', params);
    finishCall(call, collectors);
    const bound = bindArguments(call, params);
    // A path that points nowhere lists what exists, which must not be every byte.
    const miss = missMessage(parseParamPath('kwargs.nothing'), call, params);
    Object.assign(Object, originals);

    expect(walks.count).toBe(0);
    expect(bound[1]).toBe(blob);
    expect(Buffer.isBuffer(blob)).toBe(true);
    expect((blob as Buffer).length).toBe(BYTES);
    expect([(blob as Buffer)[0], (blob as Buffer)[BYTES - 1]]).toEqual([7, 9]);
    const kwargs = bound[2] as Record<string, unknown>;
    expect([...(kwargs.floats as Float64Array)]).toEqual([1.5, -2, 3]);
    expect((kwargs.raw as ArrayBuffer).byteLength).toBe(BYTES);
    expect((kwargs.view as DataView).getUint8(15)).toBe(2);
    expect(kwargs.headers).toBeInstanceOf(Headers);
    expect(typeof kwargs.onChunk).toBe('function');
    expect(miss).toContain('kwargs.floats');
    expect(miss).not.toMatch(/floats\.0|args\.1\.0/);
  });

  it('the byte counter sees a walk over bytes', () => {
    // The check above can fail: a walk like the one replay once made is counted.
    const walks = countByteWalks();
    Object.entries(Buffer.alloc(4));
    Object.assign(Object, originals);
    expect(walks.count).toBe(1);
  });

  it('isBinary tells bytes from other objects', () => {
    for (const bytes of [Buffer.alloc(1), new Uint8Array(1), new Float32Array(1), new DataView(new ArrayBuffer(1)), new ArrayBuffer(1), new SharedArrayBuffer(1)]) {
      expect(isBinary(bytes)).toBe(true);
    }
    for (const other of [{}, [1, 2], new Map(), { 0: 1, length: 1 }]) expect(isBinary(other)).toBe(false);
  });
});

describe('duration_ms', () => {
  it('counts the call, not the decoding of its arguments', async () => {
    // Decoding is made slow on purpose by the revive hook; the target notes when it is entered.
    let decoded = 0;
    let entered = 0;
    const revive = (name: string) => {
      const until = performance.now() + 30;
      while (performance.now() < until);
      decoded = performance.now();
      return name === 'Slow' ? {} : undefined;
    };
    const target: LoadedTarget = { fn: (message: string) => ((entered = performance.now()), `got ${message}`), thisArg: undefined, name: 'echo', params: ['message', 'slow'], exports: {} };
    const plan: RunPlan = {
      traceId: 't1',
      iteration: 0,
      inputIndex: 0,
      input: { input: 'hi', metadata: {} },
      recording: { index: 0, line: 1, function: 'echo', target: 'app.js:echo', args: ['hello', { $type: 'Object', class: 'Slow', value: { n: 1 } }], kwargs: {}, params: ['message', 'slow'] },
      path: 'kwargs.message',
    };
    const { result } = await executeRun(plan, target, new Map(), undefined, revive);
    const after = performance.now();
    expect(result.status).toBe('ok');
    expect(result.output).toBe('got hi');
    expect(entered).toBeGreaterThan(decoded);
    // The clock starts after decoding ended and stops before executeRun returns.
    expect(result.duration_ms).toBeLessThanOrEqual(after - decoded);
  });
});

describe('a recorded object with a `then` method', () => {
  const NOT_SETTLED = Symbol('not settled');
  /** What `await value` gives, or NOT_SETTLED when it has not settled once the microtasks have run. */
  async function awaited(value: unknown): Promise<unknown> {
    const settled = (async () => await value)();
    return Promise.race([settled, new Promise((resolve) => setImmediate(() => resolve(NOT_SETTLED)))]);
  }

  it('becomes a stand-in that is not a thenable: await gives the stand-in itself', async () => {
    const collectors = new Collectors();
    const methods = ['on', 'emit', 'subscribe', 'then'];
    const recorded = { args: ['hello', { $type: 'Emitter', class: 'Feed', methods, value: { topic: 'news' } }], kwargs: {} };
    const call = decodeCall(recorded, collectors, new Map());
    const feed = call.args[1] as Record<string, unknown> & { subscribe: (t: string) => unknown; on: Function; emit: Function };
    expect(feed.constructor.name).toBe('Feed');
    expect(typeof feed.then).toBe('undefined');
    expect(await awaited(feed)).toBe(feed);
    expect(await awaited(Promise.resolve(feed))).toBe(feed);
    // Its other recorded methods are still collectors that chain, and it is still an emitter.
    expect(feed.subscribe('sports')).toBe(feed);
    expect(collectors.messages).toEqual([{ to: 'Feed.subscribe', kind: 'call', args: ['sports'] }]);
    let heard: unknown;
    feed.on('data', (x: unknown) => (heard = x));
    feed.emit('data', 1);
    expect(heard).toBe(1);
    expect(feed.topic).toBe('news');
  });

  it('as a plain object keeps its `then` as the marker, so that await settles with the object', async () => {
    const collectors = new Collectors();
    const call = decodeCall({ args: [{ table: 'users', then: '<callable:then>', where: '<callable:where>' }], kwargs: {} }, collectors, new Map());
    const query = call.args[0] as Record<string, unknown>;
    expect(query.then).toBe('<callable:then>');
    expect(await awaited(query)).toBe(query);
    expect(typeof query.where).toBe('function');
  });
});

describe('checkEvaluation', () => {
  it('reports a broken evaluation config with its file, line and field', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-robust-'));
    try {
      fs.mkdirSync(path.join(root, 'configs'));
      fs.writeFileSync(path.join(root, 'configs', 'simulation.yaml'), 'runner:\n  target: app.js:run\n');
      fs.writeFileSync(path.join(root, 'configs', 'evaluation.yaml'), 'pass_threshold: 0.5\nevaluators:\n  - type: contains\n    value: ok\n  - type: nonsense\n');
      let error: unknown;
      try {
        checkEvaluation(root);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).location).toMatchObject({ file: path.join('configs', 'evaluation.yaml'), line: 5, field: 'evaluators[1].type' });
      fs.writeFileSync(path.join(root, 'configs', 'evaluation.yaml'), 'evaluators:\n  - type: contains\n    value: ok\n');
      expect(checkEvaluation(root).evaluators.map((e) => e.type)).toEqual(['contains']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
