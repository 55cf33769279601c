import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { project, readExperiment, readRecords, recordingPath, runApp, runCli, type CliRun } from './helpers';

// The fixture's recording targets; the replay traces those it does not replay as spans.
const TARGETS = ['app/agent.js:handle', 'app/agent.js:handleObj', 'app/tools.js:respond', 'app/counter.cjs:bump', 'app/hang.js:hang', 'app/hang.js:stall', 'app/pipeline.js:pipeline'];
const STACK = /\n\s+at /;

/** Writes configs/simulation.yaml; JSON is YAML, and keeps the test's config readable as an object. */
function writeConfig(dir: string, config: Record<string, unknown>): void {
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), JSON.stringify({ recording: { targets: TARGETS }, ...config }, null, 2) + '\n');
}

/** A replay config for `target` with `path`, and more top-level keys. */
function replayConfig(target: string, overridePath: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  const { runner, replay_args, ...rest } = more as { runner?: object; replay_args?: object };
  return {
    runner: { target, ...runner },
    replay_args: { enabled: true, override_param_path: overridePath, ...replay_args },
    ...rest,
  };
}

/** `fluxloop run experiment`; the exit code must be `code`. */
async function experiment(dir: string, args: string[] = [], code = 0, env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(dir, ['run', 'experiment', ...args], env);
  expect(run.code, run.stderr).toBe(code);
  if (code !== 2) expect(run.stderr).not.toMatch(STACK);
  return run;
}

const byTrace = (observations: any[]) => {
  const groups = new Map<string, any[]>();
  for (const o of observations) groups.set(o.trace_id, [...(groups.get(o.trace_id) ?? []), o]);
  return groups;
};

let recorded: string;

/** A new project holding the fixture's recording, made once by running the app. */
function withRecording(config: Record<string, unknown>): string {
  const dir = project('replay-app');
  fs.mkdirSync(path.dirname(recordingPath(dir)));
  fs.copyFileSync(recordingPath(recorded), recordingPath(dir));
  writeConfig(dir, config);
  return dir;
}

/** 1-based lines of the recording's records of `target`. */
function linesOf(target: string): number[] {
  return readRecords(recorded).flatMap((r, i) => (r.target === target ? [i + 1] : []));
}

beforeAll(async () => {
  recorded = project('replay-app');
  const run = await runApp(recorded, 'app/main.js');
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)[0]).toEqual({ userId: 'u1', reply: 're:hello!', count: 1 });
  expect(linesOf('app/agent.js:handle')).toHaveLength(3);
});

describe('replaying recorded calls', () => {
  it('puts each input at the named parameter of an ESM function, traces what it calls, and records nothing', async () => {
    const dir = recorded;
    fs.writeFileSync(path.join(dir, '.env'), 'FLUXLOOP_RECORD_ARGS=true\n');
    const before = fs.readFileSync(recordingPath(dir), 'utf8');
    writeConfig(
      dir,
      replayConfig('app/agent.js:handle', 'kwargs.message', {
        replay_args: { select: 2 },
        base_inputs: ['what is up', { input: 'refund please', metadata: { persona: 'angry' } }],
        // A section the replay does not read, kept in the summary with its secret masked.
        evaluation: { openai_api_key: 'sk-proj-abcdefghijklmnop1234', model: 'judge-1' },
      }),
    );
    const run = await experiment(dir, ['--json'], 0, { FLUXLOOP_RECORD_ARGS: 'true' });
    // Progress on stderr, the summary alone on stdout.
    expect(run.stderr).toMatch(/runs 4\/4 .*ok 4 +error 0 +timeout 0/);
    const printed = JSON.parse(run.stdout);

    const exp = readExperiment(dir);
    expect(printed.experiment_dir).toBe(exp.dir);
    expect(path.basename(exp.dir)).toMatch(/^experiment_\d{8}_\d{6}(_\d+)?$/);
    expect(exp.summary).toMatchObject({ total_runs: 4, counts: { ok: 4, error: 0, timeout: 0 }, success_rate: 1, recordings: 2, inputs: 2 });
    expect(printed).toMatchObject({ total_runs: 4, counts: exp.summary.counts });
    const { p50, p95, max, mean } = exp.summary.duration_ms;
    expect(0 < p50 && p50 <= p95 && p95 <= max && mean > 0 && mean <= max).toBe(true);
    expect(exp.errors).toEqual([]);
    expect(exp.summary.config.evaluation).toEqual({ openai_api_key: '***', model: 'judge-1' });
    expect(fs.readFileSync(path.join(exp.dir, 'summary.json'), 'utf8')).not.toContain('abcdefghijklmnop');

    const [first, second] = linesOf('app/agent.js:handle');
    const users: Record<number, string> = { [first!]: 'u1', [second!]: 'u2' };
    expect(exp.traces.map((t) => [t.recording_line, t.input]).sort()).toEqual(
      [
        [first, 'what is up'],
        [first, 'refund please'],
        [second, 'what is up'],
        [second, 'refund please'],
      ].sort(),
    );
    const fields = 'trace_id iteration recording_index recording_line recording_file target input input_index metadata override_param_path override_location args output frames first_frame_ms status error duration_ms attempts messages warnings observation_count';
    for (const t of exp.traces) {
      expect(Object.keys(t).sort()).toEqual(fields.split(' ').sort());
      const user = users[t.recording_line]!;
      expect(t).toMatchObject({
        status: 'ok',
        override_param_path: 'kwargs.message',
        override_location: 'args.1',
        recording_file: 'recordings/args_recording.jsonl',
        args: [user, t.input],
        output: { userId: user, reply: `re:${t.input}!`, count: 1 },
        metadata: t.input === 'refund please' ? { persona: 'angry' } : {},
        error: null,
        attempts: 1,
        observation_count: 3,
      });

      const mine = exp.observations.filter((o) => o.trace_id === t.trace_id);
      expect(mine).toHaveLength(3);
      const root = mine.find((o) => o.parent_id === null);
      expect(root).toMatchObject({ type: 'agent', name: 'app/agent.js:handle', input: [user, t.input], output: t.output });
      const respond = mine.find((o) => o.name === 'app/tools.js:respond');
      expect(respond).toMatchObject({ type: 'span', parent_id: root.id, input: [t.input], output: `re:${t.input}!` });
      const polish = mine.find((o) => o.name === 'polish');
      expect(polish).toMatchObject({ type: 'span', parent_id: respond.id, input: [`re:${t.input}`], output: `re:${t.input}!` });
    }

    // Nothing the replay called was recorded again, though .env and the shell asked for recording.
    expect(fs.readFileSync(recordingPath(dir), 'utf8')).toBe(before);
    expect(fs.readdirSync(path.dirname(recordingPath(dir)))).toEqual(['args_recording.jsonl']);
  });
});

describe('override paths', () => {
  it.each([
    ['a position', 'app/agent.js:handle', 'args.1', 'args.1'],
    ['a position from the end', 'app/agent.js:handle', 'args.-1', 'args.1'],
    ['a bare parameter name', 'app/agent.js:handle', 'message', 'args.1'],
    ['a key of a destructured parameter', 'app/agent.js:handleObj', 'kwargs.message', 'args.0.message'],
    ['a nested path with a negative index', 'app/agent.js:handleObj', 'args.0.meta.tags.-1', 'args.0.meta.tags.1'],
  ])('finds %s', async (_, target, overridePath, location) => {
    const dir = withRecording(replayConfig(target, overridePath, { replay_args: { select: 'first' }, base_inputs: ['new input'] }));
    await experiment(dir);
    const { traces } = readExperiment(dir);
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatchObject({ status: 'ok', override_location: location, recording_line: linesOf(target)[0] });
    const output = traces[0].output;
    if (overridePath.startsWith('args.0.meta')) {
      expect(output).toEqual({ userId: 'u3', reply: 'obj:object hi', lastTag: 'new input' });
      expect(traces[0].args).toEqual([{ userId: 'u3', message: 'object hi', meta: { tags: ['a', 'new input'] } }]);
    } else {
      expect(output.reply).toMatch(/:new input!?$/);
    }
  });

  it('stops with exit 2 before any run when the path points nowhere, naming the paths that exist', async () => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.nothing', { base_inputs: ['x'] }));
    const run = await experiment(dir, [], 2);
    expect(run.stderr).toContain('kwargs.nothing');
    expect(run.stderr).toMatch(/recording #\d+ \(recordings\/args_recording\.jsonl:\d+/);
    expect(run.stderr).toMatch(/paths that exist: .*kwargs\.message/);
    expect(run.stderr).toContain('args.0');
    expect(run.stderr).not.toMatch(STACK);
    expect(fs.existsSync(path.join(dir, 'experiments'))).toBe(false);
  });

  it('ends as errors the runs of recordings the path points nowhere in, and runs the others', async () => {
    const dir = withRecording(replayConfig('app/agent.js:handleObj', 'args.0.meta.tags.-1', { base_inputs: ['x'] }));
    const run = await experiment(dir, ['--fail-on-error', '--verbose'], 1);
    expect(run.stdout).toMatch(/1 ok +1 error/);
    // --verbose shows the failed run's error, and that the function was not called.
    expect(run.stdout).toMatch(/^run [12]\/2 error [\d.]+ ms  recording \d+ \(line \d+\)\n  input +"x"\n  arguments +none: the function was not called\n  output +null\n  error +OverridePathError: .*args\.0\.meta\.tags\.-1/m);
    const exp = readExperiment(dir);
    const [withMeta, withoutMeta] = linesOf('app/agent.js:handleObj');
    const ok = exp.traces.find((t) => t.recording_line === withMeta);
    const failed = exp.traces.find((t) => t.recording_line === withoutMeta);
    expect(ok).toMatchObject({ status: 'ok', output: { lastTag: 'x' } });
    expect(failed).toMatchObject({ status: 'error', output: null });
    expect(failed.error.message).toContain('args.0.meta.tags.-1');
    expect(failed.error.message).toMatch(/paths that exist: .*args\.0\.message/);
    expect(exp.errors).toEqual([expect.objectContaining({ trace_id: failed.trace_id, status: 'error', recording_line: withoutMeta })]);
    expect(exp.summary).toMatchObject({ counts: { ok: 1, error: 1, timeout: 0 }, success_rate: 0.5 });
  });
});

describe('records written by other tools', () => {
  const PYTHON = '{"_version":"1","iteration":0,"target":"pkg.module:handle","kwargs":{"userId":"py1","message":"from python"},"timestamp":"2025-11-11T10:30:00Z"}';
  // Keys in another order than the parameters: bound by name, not by position.
  const MINIMAL = '{"function":"handle","args":[],"kwargs":{"message":"minimal","userId":"m1"},"timestamp":"2025-11-11T10:31:00Z"}';
  const MINIMAL_OBJ = '{"function":"handleObj","args":[],"kwargs":{"userId":"m2","message":"for an object"},"timestamp":"2025-11-11T10:32:00Z"}';
  const OTHER_NAME = '{"_version":"1","iteration":0,"target":"pkg.agents:handler","kwargs":{"userId":"py2","message":"renamed"},"timestamp":"2025-11-11T10:33:00Z"}';

  function handWritten(target: string, overridePath: string, replayArgs: object = {}): string {
    const dir = project('replay-app');
    fs.mkdirSync(path.join(dir, 'recordings'));
    fs.writeFileSync(path.join(dir, 'recordings', 'calls.jsonl'), [PYTHON, '{"function":"handle", "args": [oops', MINIMAL, MINIMAL_OBJ, OTHER_NAME, ''].join('\n'));
    writeConfig(dir, replayConfig(target, overridePath, { replay_args: { recording_file: 'recordings/calls.jsonl', ...replayArgs }, base_inputs: ['swapped'] }));
    return dir;
  }

  it('binds kwargs-only records to a function of positional parameters by name, warning of a malformed line', async () => {
    const dir = handWritten('app/agent.js:handle', 'message');
    const run = await experiment(dir);
    expect(run.stderr).toMatch(/recordings\/calls\.jsonl:2: not valid JSON/);
    const { traces } = readExperiment(dir);
    // Sorted: runs end in any order at the default concurrency.
    const byLine = traces.map((t) => [t.recording_line, t.status, t.override_location, t.args, t.output]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(byLine).toEqual([
      [1, 'ok', 'kwargs.message', ['py1', 'swapped'], { userId: 'py1', reply: 're:swapped!', count: 1 }],
      [3, 'ok', 'kwargs.message', ['m1', 'swapped'], { userId: 'm1', reply: 're:swapped!', count: 1 }],
    ]);
  });

  it('gives a function with one destructured parameter the kwargs as one object', async () => {
    const dir = handWritten('app/agent.js:handleObj', 'kwargs.message');
    await experiment(dir);
    const { traces } = readExperiment(dir);
    expect(traces.map((t) => [t.recording_line, t.status, t.args, t.output])).toEqual([
      [4, 'ok', [{ userId: 'm2', message: 'swapped' }], { userId: 'm2', reply: 'obj:swapped', lastTag: null }],
    ]);
  });

  it('replays the records of another name given by replay_args.function', async () => {
    const dir = handWritten('app/agent.js:handle', 'kwargs.message', { function: 'pkg.agents:handler' });
    await experiment(dir);
    const { traces } = readExperiment(dir);
    expect(traces.map((t) => [t.recording_line, t.target, t.args, t.output])).toEqual([
      [5, 'pkg.agents:handler', ['py2', 'swapped'], { userId: 'py2', reply: 're:swapped!', count: 1 }],
    ]);
  });
});

describe('choosing the runs', () => {
  it.each([
    ['first', [0]],
    ['last', [2]],
    [2, [0, 1]],
  ] as const)('select: %s', async (select, which) => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.message', { replay_args: { select }, base_inputs: ['a'] }));
    await experiment(dir);
    const lines = linesOf('app/agent.js:handle');
    expect(readExperiment(dir).traces.map((t) => t.recording_line).sort()).toEqual(which.map((i) => lines[i]));
  });

  it('--limit caps the runs, --iterations repeats them, and --output moves the folder', async () => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.message', { name: 'sel test', iterations: 3, base_inputs: ['a', 'b'] }));
    await experiment(dir, ['--limit', '5', '--output', 'out/runs']);
    const limited = readExperiment(dir, 'out/runs');
    expect(path.basename(limited.dir)).toMatch(/^sel-test_\d{8}_\d{6}(_\d+)?$/);
    expect(limited.traces).toHaveLength(5);
    expect(limited.summary.total_runs).toBe(5);
    expect(fs.existsSync(path.join(dir, 'experiments'))).toBe(false);

    writeConfig(dir, replayConfig('app/agent.js:handle', 'kwargs.message', { iterations: 3, replay_args: { select: 'first' }, base_inputs: ['a', 'b'] }));
    await experiment(dir, ['--iterations', '2']);
    const repeated = readExperiment(dir);
    expect(repeated.traces.map((t) => [t.iteration, t.input]).sort()).toEqual([
      [0, 'a'],
      [0, 'b'],
      [1, 'a'],
      [1, 'b'],
    ]);
    expect(repeated.summary).toMatchObject({ iterations: 2, total_runs: 4 });
  });

  it('takes the inputs file over base_inputs', async () => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.message', { replay_args: { select: 'first' }, base_inputs: ['from base'] }));
    fs.mkdirSync(path.join(dir, 'inputs'));
    fs.writeFileSync(path.join(dir, 'inputs', 'generated.yaml'), 'inputs:\n  - input: from file\n    metadata: { source: generated }\n  - input: also from file\n');
    await experiment(dir);
    const exp = readExperiment(dir);
    // Runs end in any order at the default concurrency; traces.jsonl lists them as they end.
    const byInput = exp.traces.map((t) => [t.input, t.metadata, t.output.reply]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(byInput).toEqual([
      ['also from file', {}, 're:also from file!'],
      ['from file', { source: 'generated' }, 're:from file!'],
    ]);
    expect(exp.summary.inputs_source).toBe('inputs/generated.yaml');
  });

  it('says once, in the plan and in the run, that it replays without the recordings while replay_args.enabled is false', async () => {
    const dir = withRecording({ runner: { target: 'app/agent.js:handle' }, replay_args: { enabled: false, override_param_path: 'kwargs.message' }, base_inputs: ['plain'] });
    const records = readRecords(dir).length;
    const notice =
      `warning: replaying without the ${records} records in recordings/args_recording.jsonl: replay_args.enabled is not true, so each input goes to the function alone, ` +
      'with no recorded arguments; set replay_args.enabled: true in configs/simulation.yaml (with override_param_path) to replay them';
    const noticed = (run: CliRun) => run.stderr.split('\n').filter((l) => l.includes('replaying without'));

    const plan = await experiment(dir, ['--dry-run']);
    expect(noticed(plan)).toEqual([notice]);
    expect(plan.stdout).toMatch(new RegExp(`^Recordings\\s+none: replay_args\\.enabled is not true, so the ${records} records in recordings/args_recording\\.jsonl are left out; each input goes to the input parameter$`, 'm'));
    const json = JSON.parse((await experiment(dir, ['--dry-run', '--json'])).stdout);
    expect(json.setup.unreplayed).toEqual({ file: 'recordings/args_recording.jsonl', records, files: 1, config: 'configs/simulation.yaml' });

    const run = await experiment(dir, ['--json']);
    expect(noticed(run)).toEqual([notice]);
    expect(JSON.parse(run.stdout)).toMatchObject({ total_runs: 1, recordings: 0, recording_file: null });

    // With replay on, or nothing recorded, there is nothing to say.
    writeConfig(dir, replayConfig('app/agent.js:handle', 'kwargs.message', { base_inputs: ['plain'] }));
    expect(noticed(await experiment(dir, ['--dry-run']))).toEqual([]);
    writeConfig(dir, { runner: { target: 'app/agent.js:handle' }, base_inputs: ['plain'] });
    fs.rmSync(recordingPath(dir));
    expect(noticed(await experiment(dir, ['--dry-run']))).toEqual([]);
  });

  it('--dry-run prints the plan and the first call before and after, and writes nothing', async () => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.message', { base_inputs: ['dry input'] }));
    const before = fs.readFileSync(recordingPath(dir), 'utf8');
    const run = await experiment(dir, ['--dry-run']);
    expect(run.stdout).toContain('app/agent.js:handle');
    expect(run.stdout).toMatch(/^- +"hello",?$/m);
    expect(run.stdout).toMatch(/^\+ +"dry input",?$/m);
    expect(run.stdout).toMatch(/at args\.1/);
    const json = JSON.parse((await experiment(dir, ['--dry-run', '--json'])).stdout);
    expect(json.first).toMatchObject({ input: 'dry input', location: 'args.1', before: { args: ['u1', 'hello'] }, after: { args: ['u1', 'dry input'] } });
    expect(json.setup.total).toBe(3);
    expect(fs.existsSync(path.join(dir, 'experiments'))).toBe(false);
    expect(fs.readFileSync(recordingPath(dir), 'utf8')).toBe(before);
  });
});

describe('run experiment --verbose', () => {
  it('prints each run as it ends: input, arguments, output and observations, masked by the project\'s rules and cut when long', async () => {
    const long = `long ${'x'.repeat(600)}`;
    const dir = withRecording({
      ...replayConfig('app/agent.js:handle', 'kwargs.message', { replay_args: { select: 'first' }, base_inputs: ['my ticket TICKET-4242', long] }),
      recording: { targets: TARGETS, redact_patterns: ['TICKET-\\d+'] },
    });
    const run = await experiment(dir, ['--verbose']);
    expect(run.stdout).not.toContain('TICKET-4242');
    const [line] = linesOf('app/agent.js:handle');
    const runs = run.stdout.split(/^(?=run \d\/2 )/m).filter((text) => text.startsWith('run '));
    expect(runs).toHaveLength(2);
    const masked = runs.find((text) => text.includes('my ticket'))!;
    expect(masked).toMatch(new RegExp(`^run [12]/2 ok [\\d.]+ ms  recording ${line! - 1} \\(line ${line}\\)\n`));
    expect(masked).toContain('  input         "my ticket ***"\n');
    expect(masked).toContain('  arguments     ["u1","my ticket ***"]  (input at args.1)\n');
    expect(masked).toContain('  output        {"userId":"u1","reply":"re:my ticket ***!","count":1}\n');
    // The observations as a tree: the replayed function, what it called, and what that called.
    expect(masked).toMatch(/\n  observations\n    app\/agent\.js:handle agent [\d.]+ ms\n      app\/tools\.js:respond span [\d.]+ ms\n        polish span [\d.]+ ms\n/);
    expect(masked).not.toContain('error');
    // A long value is cut, saying how much was left out; no line grows with it.
    const cut = runs.find((text) => text.includes('xxxx'))!;
    expect(cut).toMatch(/^  input +"long x+… \(\d+ more characters\)$/m);
    expect(Math.max(...cut.split('\n').map((l) => l.length))).toBeLessThan(350);
    // The summary still follows on stdout; with --json, stdout is the summary alone and the runs go to stderr.
    expect(run.stdout).toMatch(/Experiment experiment: 2 runs/);
    const json = await experiment(dir, ['--verbose', '--json', '--output', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ total_runs: 2 });
    expect(json.stderr).toMatch(/^run 1\/2 ok /m);
    expect(json.stderr).not.toContain('TICKET-4242');
  });
});

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
