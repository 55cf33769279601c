import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { project, readExperiment, readRecords, recordingPath, runApp, runCli } from '../e2e/helpers';
import { STACK, byTrace, experiment, replayConfig, withRecording, withRecordingReady, writeConfig } from '../e2e/replay-project';

beforeAll(withRecordingReady);

describe('collectors and stand-ins', () => {
  let dir: string;
  beforeAll(async () => {
    dir = project('socket-app');
    const run = await runApp(dir, 'app/main.js');
    expect(run.stderr).toBe('');
  });
  const targets = ['app/handlers.js:handleMessage', 'app/handlers.js:handleHttp'];

  it('makes what a send callback got the output', async () => {
    fs.rmSync(path.join(dir, 'experiments'), { recursive: true, force: true });
    writeConfig(dir, { ...replayConfig(targets[0]!, 'args.1.text', { base_inputs: ['ping'] }), recording: { targets } });
    await experiment(dir);
    const { traces } = readExperiment(dir);
    expect(traces).toHaveLength(2);
    for (const t of traces) {
      expect(t).toMatchObject({ status: 'ok', override_location: 'args.1.text', output: 'ack:ping' });
      expect(t.messages).toEqual([{ to: 'args.2', kind: 'send', args: ['ack:ping'] }]);
      expect(t.args[2]).toBe('<callable:send>');
    }
  });

  it('answers through a response stand-in and lists its calls', async () => {
    fs.rmSync(path.join(dir, 'experiments'), { recursive: true, force: true });
    writeConfig(dir, { ...replayConfig(targets[1]!, 'args.0.body.message', { base_inputs: ['over http'] }), recording: { targets } });
    await experiment(dir);
    const [t] = readExperiment(dir).traces;
    const body = JSON.stringify({ got: { message: 'over http' }, path: '/chat?lang=en' });
    expect(t).toMatchObject({ status: 'ok', override_location: 'args.0.body.message', output: body });
    expect(t.messages).toEqual([
      { to: 'ServerResponse.writeHead', kind: 'call', args: [200, { 'content-type': 'application/json' }] },
      { to: 'ServerResponse.end', kind: 'call', args: [body] },
    ]);
  });

  it('chains the methods of a stand-in and falls back to what json() sent', async () => {
    const app = project('replay-app');
    const req = { $type: 'Emitter', class: 'IncomingMessage', methods: ['on', 'pipe'], value: { method: 'POST', body: { message: 'hi' }, query: { lang: 'en' } } };
    const res = { $type: 'Emitter', class: 'ServerResponse', methods: ['status', 'json', 'setHeader', 'on'], value: { statusCode: 200 } };
    fs.mkdirSync(path.join(app, 'recordings'));
    fs.writeFileSync(recordingPath(app), JSON.stringify({ function: 'reply', target: 'app/http.js:reply', args: [req, res], kwargs: {}, params: ['req', 'res'] }) + '\n');
    writeConfig(app, replayConfig('app/http.js:reply', 'args.0.body.message', { base_inputs: ['chained'] }));
    await experiment(app);
    const [t] = readExperiment(app).traces;
    expect(t).toMatchObject({ status: 'ok', output: { echo: 'chained', lang: 'en' } });
    expect(t.messages).toEqual([
      { to: 'ServerResponse.status', kind: 'call', args: [201] },
      { to: 'ServerResponse.json', kind: 'call', args: [{ echo: 'chained', lang: 'en' }] },
    ]);
  });

  // The arguments as invoked are to read as recorded: the request and response by their class and methods.
  it('writes the stand-ins in the arguments as invoked under their recorded class', async () => {
    fs.rmSync(path.join(dir, 'experiments'), { recursive: true, force: true });
    writeConfig(dir, { ...replayConfig(targets[1]!, 'args.0.body.message', { base_inputs: ['over http'] }), recording: { targets } });
    await experiment(dir);
    const [t] = readExperiment(dir).traces;
    const recordedHttp = readRecords(dir).find((r) => r.target === targets[1])!;
    expect(t.args.map((a: any) => a.class)).toEqual(['IncomingMessage', 'ServerResponse']);
    expect(t.args[1].methods).toEqual(expect.arrayContaining(['writeHead', 'end']));
    expect(t.args[1].methods).toEqual((recordedHttp.args[1] as any).methods);
  });
});

describe('isolation', () => {
  it.each([
    ['fresh', 'app/agent.js:handle', [1, 1, 1]],
    ['shared', 'app/agent.js:handle', [1, 2, 3]],
    ['fresh', 'app/counter.cjs:bump', [1, 1, 1]],
    ['shared', 'app/counter.cjs:bump', [1, 2, 3]],
  ] as const)('%s: module state of %s', async (isolation, target, counts) => {
    const dir = withRecording(
      replayConfig(target, 'kwargs.message', { runner: { isolation, concurrency: 1 }, replay_args: { select: 'first' }, base_inputs: ['a', 'b', 'c'] }),
    );
    await experiment(dir);
    const { traces } = readExperiment(dir);
    expect(traces.map((t) => t.input)).toEqual(['a', 'b', 'c']);
    expect(traces.map((t) => t.output.count)).toEqual(counts);
  });

  it('ends the command when a timed-out run leaves work pending', async () => {
    const dir = withRecording(replayConfig('app/hang.js:stall', 'kwargs.message', { runner: { timeout_ms: 500 }, base_inputs: ['a', 'stall'] }));
    const started = Date.now();
    // The stalled run's timer has 30 s to go; the command must not wait for it.
    const run = await runCli(dir, ['run', 'experiment'], {}, 25_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.code, run.stderr).toBe(0);
    const status = Object.fromEntries(readExperiment(dir).traces.map((t) => [t.input, t.status]));
    expect(status).toEqual({ a: 'ok', stall: 'timeout' });
  });

  // With one thread, the run after the stuck one needs the thread the pool starts in its place.
  it('worker: ends a synchronous endless loop at timeout_ms and runs the rest', async () => {
    const timeout = 1500;
    const dir = withRecording(
      replayConfig('app/hang.js:hang', 'kwargs.message', { runner: { isolation: 'worker', timeout_ms: timeout, concurrency: 1 }, base_inputs: ['a', 'spin', 'b'] }),
    );
    const started = Date.now();
    await experiment(dir, ['--fail-on-error'], 1);
    expect(Date.now() - started).toBeLessThan(timeout + 8000);
    const exp = readExperiment(dir);
    const status = Object.fromEntries(exp.traces.map((t) => [t.input, [t.status, t.output]]));
    expect(status).toEqual({ a: ['ok', 'done:a'], b: ['ok', 'done:b'], spin: ['timeout', null] });
    const spin = exp.traces.find((t) => t.input === 'spin');
    expect(spin.duration_ms).toBeGreaterThanOrEqual(timeout - 50);
    expect(spin.duration_ms).toBeLessThan(timeout + 3000);
    expect(spin.error.message).toMatch(/1500 ms/);
    expect(exp.errors).toEqual([expect.objectContaining({ input: 'spin', status: 'timeout' })]);
    expect(exp.summary.counts).toEqual({ ok: 2, error: 0, timeout: 1 });
  });
});

it('keeps the observations of 50 concurrent runs apart', async () => {
  const inputs = Array.from({ length: 50 }, (_, i) => `q${i}`);
  const dir = withRecording(replayConfig('app/pipeline.js:pipeline', 'kwargs.message', { runner: { isolation: 'shared', concurrency: 50 }, base_inputs: inputs }));
  await experiment(dir);
  const exp = readExperiment(dir);
  expect(exp.traces.map((t) => t.input).sort()).toEqual([...inputs].sort());
  const groups = byTrace(exp.observations);
  expect(groups.size).toBe(50);
  // The runs overlapped: together they took far less than one after the other.
  const sequential = exp.traces.reduce((sum, t) => sum + t.duration_ms, 0);
  expect(exp.summary.total_time_ms).toBeLessThan(sequential / 3);
  for (const t of exp.traces) {
    expect(t).toMatchObject({ status: 'ok', output: `${t.input}:2`, observation_count: 5 });
    const mine = groups.get(t.trace_id)!;
    expect(mine.map((o) => o.name).sort()).toEqual(['answer', 'app/pipeline.js:pipeline', 'fetchDoc', 'fetchDoc', 'plan']);
    const ids = new Map(mine.map((o) => [o.id, o]));
    expect(ids.size).toBe(5);
    const [root, ...rest] = [mine.find((o) => o.parent_id === null), ...mine.filter((o) => o.parent_id !== null)];
    expect(root).toMatchObject({ type: 'agent', name: 'app/pipeline.js:pipeline' });
    expect(rest).toHaveLength(4);
    // Each observation's first argument is its own run's input: nothing crossed from another run.
    for (const o of mine) expect(o.input[0]).toBe(t.input);
    for (const o of rest) {
      const parent = ids.get(o.parent_id);
      expect(parent, `${o.name} has its parent in its own run`).toBeDefined();
      expect(parent.name).toBe(o.name === 'fetchDoc' ? 'plan' : 'app/pipeline.js:pipeline');
      expect(o.start_time >= parent.start_time).toBe(true);
    }
  }
});

it('makes the root of a trace()-wrapped replayed function an agent observation', async () => {
  const dir = withRecording(replayConfig('app/steps.js:plan', 'kwargs.query', { runner: { isolation: 'shared' }, base_inputs: ['wrapped'] }));
  await experiment(dir);
  const exp = readExperiment(dir);
  expect(exp.traces).toMatchObject([{ status: 'ok', override_location: 'args.0', output: ['wrapped#1', 'wrapped#2'], observation_count: 3 }]);
  const roots = exp.observations.filter((o) => o.parent_id === null);
  expect(roots).toHaveLength(1);
  expect(roots[0]).toMatchObject({ type: 'agent', input: ['wrapped'] });
  expect(exp.observations.filter((o) => o.name === 'fetchDoc').map((o) => [o.type, o.parent_id])).toEqual([
    ['span', roots[0].id],
    ['span', roots[0].id],
  ]);
});

it.each(['shared', 'fresh', 'worker'])('%s: observes a function that is not exported, nested in the run that calls it', async (isolation) => {
  const dir = project('replay-app');
  fs.writeFileSync(path.join(dir, 'app', 'inner.js'), "function shout(x) { return x.toUpperCase(); }\nexport async function outer(message) { await null; return shout(message) + '!'; }\n");
  fs.writeFileSync(path.join(dir, 'app', 'run-inner.js'), "import { outer } from './inner.js';\nconsole.log(await outer('hello'));\n");
  const targets = ['app/inner.js:outer', 'app/inner.js:shout'];
  const config = { recording: { targets }, ...replayConfig('app/inner.js:outer', 'args.0', { runner: { isolation }, base_inputs: ['hi there'] }) };
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), JSON.stringify(config));
  const run = await runApp(dir, 'app/run-inner.js');
  expect([run.stdout, run.stderr]).toEqual(['HELLO!\n', '']);
  await experiment(dir);
  const exp = readExperiment(dir);
  expect(exp.traces).toMatchObject([{ status: 'ok', input: 'hi there', output: 'HI THERE!', observation_count: 2 }]);
  const root = exp.observations.find((o) => o.parent_id === null);
  expect(root).toMatchObject({ type: 'agent', name: 'app/inner.js:outer' });
  expect(exp.observations.filter((o) => o !== root)).toMatchObject([{ type: 'span', name: 'app/inner.js:shout', parent_id: root.id, input: ['hi there'], output: 'HI THERE' }]);
});

describe('mistakes in the config exit 2 without a stack trace', () => {
  it.each([
    ['an unknown runner key', { runner: { target: 'app/agent.js:handle', isolaton: 'fresh' } }, [/configs\/simulation\.yaml/, /runner\.isolaton/, /did you mean "isolation"/]],
    ['a target export that does not exist', { runner: { target: 'app/agent.js:nope' } }, [/runner\.target/, /export "nope" not found in app\/agent\.js/, /handle/]],
    ['a recording file that does not exist', { replay_args: { recording_file: 'recordings/none.jsonl' } }, [/recordings\/none\.jsonl/, /not found/]],
    ['a target that was never recorded', { runner: { target: 'app/http.js:reply' } }, [/recordings\/args_recording\.jsonl/, /no recordings of app\/http\.js:reply/]],
  ])('%s', async (_, config, messages) => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.message', { base_inputs: ['x'], ...config }));
    const run = await experiment(dir, [], 2);
    for (const message of messages) expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(STACK);
    expect(run.stderr).not.toMatch(/--debug/);
    expect(fs.existsSync(path.join(dir, 'experiments'))).toBe(false);
  });

  it('and so does a bad option', async () => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.message', { base_inputs: ['x'] }));
    const run = await experiment(dir, ['--limit', '0'], 2);
    expect(run.stderr).toMatch(/--limit.*positive integer/);
    expect(fs.existsSync(path.join(dir, 'experiments'))).toBe(false);
  });
});
