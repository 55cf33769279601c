import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readExperiment, readRecords, recordTwice, replayTarget, runApp, runCli, writeReplayConfig, type Experiment, type ReplayConfig } from './helpers';

/**
 * Targets that stream their answer: an async generator, a Node Readable and a streamed Response,
 * each calling a tool while it streams. Recorded by the preload, replayed with `fluxloop run
 * experiment`: the run's own observation lasts until the stream has ended, holds the joined output
 * and the chunks, and the tool calls made while it streamed are nested under it.
 */

const FIXTURE = 'stream-agent';
const AGENT = 'app/agent.js';
const LOOKUP = 'app/tools.js:lookup';
const TARGETS = ['chat', 'readableReply', 'responseReply', 'brokenChat', 'stalledChat'].map((name) => `${AGENT}:${name}`).concat(LOOKUP);
const INPUT = 'alpha beta';
const WORDS = ['alpha', 'beta'];

let dir: string;

beforeAll(async () => {
  dir = project(FIXTURE);
  const { plain, recorded } = await recordTwice(dir);
  expect(plain.stderr).toBe('');
  expect(plain.stdout).toBe(
    [
      'chat: 1. HELLO=5 THERE=5 ',
      'chat: 2. WHAT=4 IS=2 STREAMING=9 ',
      'readable: read→4 me→2 slowly→6 ',
      'response: 200 stream->6\na->1\nresponse->8\n',
      'broken after 1: the model went away after "this"',
      'stalled: wait for it ',
      '',
    ].join('\n'),
  );
  expectSameRun(plain, recorded);
  const records = readRecords(dir);
  expect(TARGETS.slice(0, -1).map((target) => byTarget(records, target).length)).toEqual([2, 1, 1, 1, 1]);
}, 30_000);

/** Replays `name` of app/agent.js on its own records with INPUT as the message, with more `runner` keys. */
async function replay(name: string, runner: Record<string, unknown> = {}): Promise<Experiment> {
  const config: ReplayConfig = { targets: TARGETS, target: `${AGENT}:${name}`, path: 'kwargs.message', inputs: [INPUT] };
  const output = `${name}-${Object.values(runner).join('-') || 'default'}`;
  if (Object.keys(runner).length === 0) return replayTarget(dir, { ...config, name: output });
  writeReplayConfig(dir, config);
  const file = path.join(dir, 'configs', 'simulation.yaml');
  const simulation = JSON.parse(fs.readFileSync(file, 'utf8'));
  simulation.runner = { ...simulation.runner, ...runner };
  fs.writeFileSync(file, JSON.stringify(simulation, null, 2));
  const run = await runCli(dir, ['run', 'experiment', '--output', output]);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  return readExperiment(dir, output);
}

/** A run's own observation and the others of its trace. */
function observationsOf(exp: Experiment, traceId: string): { root: any; nested: any[] } {
  const mine = exp.observations.filter((o) => o.trace_id === traceId);
  const roots = mine.filter((o) => o.parent_id === null);
  expect(roots).toHaveLength(1);
  return { root: roots[0], nested: mine.filter((o) => o !== roots[0]) };
}

const endOf = (o: any) => Date.parse(o.end_time);

/**
 * The root lasted until the stream ended: every call under it ended before it did, and its
 * duration holds theirs, made one after another while it streamed. Durations are compared with
 * durations, times with times: the two come from different clocks.
 */
function expectRootSpans(root: any, nested: any[]): void {
  expect(nested.length).toBeGreaterThan(0);
  for (const o of nested) {
    expect(o.parent_id, `${o.name} is nested under the run`).toBe(root.id);
    expect(endOf(root)).toBeGreaterThanOrEqual(endOf(o));
  }
  const spent = nested.reduce((sum, o) => sum + o.duration_ms, 0);
  expect(root.duration_ms).toBeGreaterThanOrEqual(spent);
}

/** The root keeps what traces.jsonl has: the joined output, the chunks, and a time to the first chunk within its duration. */
function expectStreamedOutput(root: any, t: any): void {
  expect(root).toMatchObject({ type: 'agent', error: null, output: t.output, frames: t.frames });
  expect(typeof root.first_frame_ms).toBe('number');
  expect(root.first_frame_ms).toBeGreaterThanOrEqual(0);
  expect(root.first_frame_ms).toBeLessThanOrEqual(root.duration_ms);
  expect(typeof t.first_frame_ms).toBe('number');
  expect(t.first_frame_ms).toBeLessThanOrEqual(t.duration_ms);
}

/** The look-ups of WORDS, in order, as the observations under `root`. */
function expectLookups(nested: any[], root: any): void {
  expect(nested.filter((o) => o.name === LOOKUP).map((o) => [o.type, o.parent_id, o.input, o.output])).toEqual(WORDS.map((w) => ['span', root.id, [w], w.length]));
}

describe('an async generator agent', () => {
  /** What chat streams for INPUT on the record of turn `turn`. */
  const framesFor = (turn: number) => [`${turn}. `, ...WORDS.map((w) => `${w.toUpperCase()}=${w.length} `)];

  /** Each run of chat: its output, its frames, and the tool calls made while it streamed nested under it. */
  function expectChat(exp: Experiment): void {
    expect(exp.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    for (const t of exp.traces) {
      const turn = t.args[1].length / 2 + 1;
      expect(t).toMatchObject({ status: 'ok', output: framesFor(turn).join(''), frames: framesFor(turn), observation_count: 5 });
      const { root, nested } = observationsOf(exp, t.trace_id);
      expect(root).toMatchObject({ name: `${AGENT}:chat`, input: t.args });
      expectStreamedOutput(root, t);
      expectRootSpans(root, nested);
      expectLookups(nested, root);
      expect(nested.filter((o) => o.name === 'polish').map((o) => [o.type, o.input, o.output])).toEqual(WORDS.map((w) => ['tool', [w], w.toUpperCase()]));
      // Each word's look-up, then its polish, one after the other while the stream was read.
      const order = [...nested].sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time) || endOf(a) - endOf(b));
      expect(order.map((o) => o.name)).toEqual(WORDS.flatMap(() => [LOOKUP, 'polish']));
    }
  }

  it('replays with its observation open until the stream ends, the tool calls nested under it', async () => {
    expectChat(await replay('chat'));
  });

  it('does the same in a worker thread', async () => {
    expectChat(await replay('chat', { isolation: 'worker' }));
  });

  it('does the same through the programmatic replay(), for the function marked with trace()', async () => {
    // app/replay-chat.js imports chat itself and replays its records with INPUT; replay() traces only trace() marks.
    const run = await runApp(dir, 'app/replay-chat.js', { preload: false, env: { FLUXLOOP_RECORD_ARGS: undefined } });
    expect([run.code, run.stderr]).toEqual([0, '']);
    const { runs, observations } = JSON.parse(run.stdout);
    expect(runs).toHaveLength(2);
    for (const t of runs) {
      const turn = t.args[1].length / 2 + 1;
      expect(t).toMatchObject({ status: 'ok', output: framesFor(turn).join(''), frames: framesFor(turn), observation_count: 3 });
      const { root, nested } = observationsOf({ observations } as Experiment, t.trace_id);
      expect(root).toMatchObject({ name: 'chat', input: t.args });
      expectStreamedOutput(root, t);
      expectRootSpans(root, nested);
      expect(nested.map((o) => [o.name, o.type, o.input])).toEqual(WORDS.map((w) => ['polish', 'tool', [w]]));
    }
  });
});

describe('a Node Readable of Buffers', () => {
  it('is read as text to its end, the look-ups made while it is read nested under the run', async () => {
    const exp = await replay('readableReply');
    const frames = WORDS.map((w) => `${w}→${w.length} `);
    expect(exp.traces).toMatchObject([{ status: 'ok', output: frames.join(''), frames }]);
    const { root, nested } = observationsOf(exp, exp.traces[0].trace_id);
    expectStreamedOutput(root, exp.traces[0]);
    expectRootSpans(root, nested);
    expectLookups(nested, root);
  });
});

describe('a streamed Response', () => {
  it('is read to the end of its body, the look-ups its body makes nested under the run', async () => {
    const exp = await replay('responseReply');
    const frames = WORDS.map((w) => `${w}->${w.length}\n`);
    const value = { status: 200, statusText: '', headers: { 'content-type': 'text/plain' }, body: frames.join('') };
    expect(exp.traces).toMatchObject([{ status: 'ok', output: { $type: 'Response', value }, frames }]);
    const { root, nested } = observationsOf(exp, exp.traces[0].trace_id);
    expectStreamedOutput(root, exp.traces[0]);
    expectRootSpans(root, nested);
    expectLookups(nested, root);
  });
});

describe('a stream that does not end well', () => {
  it('throws midway: the run is an error, and so is its observation, ended when the stream threw', async () => {
    const exp = await replay('brokenChat');
    const message = 'the model went away after "alpha"';
    expect(exp.traces).toMatchObject([{ status: 'error', output: null, frames: null, error: { name: 'Error', message } }]);
    const { root, nested } = observationsOf(exp, exp.traces[0].trace_id);
    expect(root).toMatchObject({ type: 'agent', output: null, frames: null, first_frame_ms: null, error: { name: 'Error', message } });
    expectRootSpans(root, nested);
    expect(nested.map((o) => [o.name, o.input])).toEqual([[LOOKUP, ['alpha']]]);
  });

  it('never ends: timeout_ms still bounds it, and its observation ends with the timeout', async () => {
    const exp = await replay('stalledChat', { timeout_ms: 1000 });
    const [t] = exp.traces;
    expect(t).toMatchObject({ status: 'timeout', output: null, error: { name: 'TimeoutError' } });
    expect(t.duration_ms).toBeGreaterThanOrEqual(950);
    expect(t.duration_ms).toBeLessThan(5000);
    const { root, nested } = observationsOf(exp, t.trace_id);
    expect(root).toMatchObject({ type: 'agent', output: null, error: { name: 'TimeoutError', message: t.error.message } });
    expect(root.duration_ms).toBeGreaterThanOrEqual(950);
    expectRootSpans(root, nested);
    expect(nested.map((o) => [o.name, o.input, o.output])).toEqual([[LOOKUP, [INPUT], INPUT.length]]);
  });
});
