import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { project, readExperiment, readRecords, recordingPath, type CliRun } from './helpers';
import { STACK, TARGETS, experiment, linesOf, recordReplayApp, replayConfig, withRecording, withRecordingReady, writeConfig } from './replay-project';

beforeAll(withRecordingReady);

describe('replaying recorded calls', () => {
  it('puts each input at the named parameter of an ESM function, traces what it calls, and records nothing', async () => {
    const dir = await recordReplayApp();
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
    const fields = 'trace_id iteration recording_index recording_line recording_file target input input_index metadata override_param_path override_location args output frames first_frame_ms status error duration_ms attempts messages warnings observation_count downstream divergence usage cost_usd recorded_downstream';
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
    // The runs, without the summary that follows the last of them (which counts errors).
    const runs = run.stdout.slice(0, run.stdout.search(/^Experiment /m)).split(/^(?=run \d\/2 )/m).filter((text) => text.startsWith('run '));
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
