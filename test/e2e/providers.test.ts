import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatReply, lastContent, startFakeLlm, type FakeLlm, type FakeRequest } from '../fake-llm';
import { expectSameRun, project, readExperiment, readRecords, recordTwice, recordingPath, runCli, type CliRun, type Experiment, type RecordLine, type Run } from './helpers';

/**
 * An agent handed a live openai SDK client and an object of callbacks in its arguments
 * (`answer(message, { client, hooks })`), recorded by the preload against the fake OpenAI-compatible
 * server. The client is recorded as its data, so a replay needs `replay_args.providers` to put a
 * live one back; `app/deps.js` holds the providers.
 */

const FIXTURE = 'client-agent';
const TARGET = 'app/agent.js:answer';
const KEY = 'sk-test-abcdefghijklmnopqrstuv';
const QUESTIONS = ['What is the capital of France?', 'How many legs does a spider have?'];
const INPUT = 'replayed question';


let llm: FakeLlm;
let env: Record<string, string>;
let dir: string;
let plain: Run;
let recorded: Run;
let records: RecordLine[];

/** configs/simulation.yaml for a replay of the agent's records with `replayArgs` and `runner` added; returns its text. */
function writeConfig(replayArgs: Record<string, unknown>, runner: Record<string, unknown> = {}): string {
  const config = {
    recording: { targets: [TARGET] },
    runner: { target: TARGET, ...runner },
    replay_args: { enabled: true, override_param_path: 'kwargs.message', ...replayArgs },
    base_inputs: [INPUT],
  };
  const text = JSON.stringify(config, null, 2) + '\n';
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), text);
  return text;
}

/** `fluxloop run experiment` into `name`: the command's outcome, the experiment (when written) and what the fake server got meanwhile. */
async function experiment(name: string, replayArgs: Record<string, unknown>, runner?: Record<string, unknown>): Promise<{ run: CliRun; exp?: Experiment; sent: FakeRequest[] }> {
  writeConfig(replayArgs, runner);
  const before = llm.requests.length;
  const run = await runCli(dir, ['run', 'experiment', '--output', name], env);
  const exp = fs.existsSync(path.join(dir, name)) ? readExperiment(dir, name) : undefined;
  return { run, exp, sent: llm.requests.slice(before) };
}

beforeAll(async () => {
  llm = await startFakeLlm((req) => chatReply(`echo: ${lastContent(req)}`));
  env = { OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: KEY };
  dir = project(FIXTURE, ['openai']);
  ({ plain, recorded } = await recordTwice(dir, 'app/main.js', env));
  records = readRecords(dir);
});

afterAll(async () => {
  await llm?.close();
});

describe('an agent given a live SDK client, recorded', () => {
  it('answers as it does without fluxloop', () => {
    expect(plain.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(QUESTIONS.map((q) => ({ message: q, answer: `ECHO: ${q.toUpperCase()}` })));
    expectSameRun(plain, recorded);
  });

  it('records the client as the data of an OpenAI instance and the callback as a marker, without the key', () => {
    expect(records.map((r) => [r.target, r.args[0]])).toEqual(QUESTIONS.map((q) => [TARGET, q]));
    for (const record of records) {
      expect(record.params).toEqual(['message', 'deps']);
      const deps = record.args[1] as { client: { $type: string; class: string; value: Record<string, unknown> }; hooks: unknown };
      expect(deps.client).toMatchObject({ $type: 'Object', class: 'OpenAI' });
      expect(deps.client.value).toHaveProperty('chat');
      expect(deps.hooks).toEqual({ format: '<callable:format>' });
    }
    expect(fs.readFileSync(recordingPath(dir), 'utf8')).not.toContain(KEY);
  });
});

describe('an agent given a live SDK client, replayed', () => {
  it('fails every run without a provider: the recorded client is data, its methods are gone', async () => {
    const { run, exp, sent } = await experiment('bare', {});
    expect(run.code, run.stderr).toBe(0);
    expect(exp!.summary).toMatchObject({ total_runs: 2, counts: { ok: 0, error: 2, timeout: 0 } });
    for (const t of exp!.traces) {
      expect(t.status).toBe('error');
      expect(t.error).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/create is not a function/) });
    }
    expect(sent).toEqual([]);
  });

  it('puts a live client from the provider in each run: the fake server gets the replayed input', async () => {
    const { run, exp, sent } = await experiment('client', {
      providers: { 'args.1.client': 'app/deps.js:makeClient' },
      callable_providers: { 'args.1.onToken': 'builtin:collector.send' },
    });
    expect(run.code, run.stderr).toBe(0);
    // A callable provider whose path is in no recording is reported, and the experiment goes on.
    expect(run.stderr).toMatch(/replay_args\.callable_providers\.args\.1\.onToken\): args\.1\.onToken points nowhere in any of the 2 selected recordings; .*args\.1\.client.*; this callable provider is never used/);
    expect(exp!.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    expect(sent.map(lastContent)).toEqual([INPUT, INPUT]);
    for (const r of sent) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    for (const t of exp!.traces) {
      expect(t).toMatchObject({ status: 'ok', error: null, input: INPUT, override_location: 'args.0' });
      // The recorded callback is still a collector: it got the reply, and gave back nothing.
      expect(t.messages).toEqual([{ to: 'args.1.hooks.format', kind: 'send', args: [`echo: ${INPUT}`] }]);
      // The arguments as invoked show a live client, made for the run.
      expect(t.args[1].client).toMatchObject({ $type: 'Object', class: 'OpenAI' });
    }
  });

  it('puts an object of callbacks at a path by parameter name, its provider told which run it is for', async () => {
    const { run, exp, sent } = await experiment('callbacks', {
      providers: { 'args.1.client': 'app/deps.js:makeClient', 'kwargs.deps.hooks': 'app/deps.js:makeHooks' },
    });
    expect(run.code, run.stderr).toBe(0);
    // Every path is in the recordings: no warning among the progress lines.
    expect(run.stderr).not.toContain('fluxloop:');
    expect(sent.map(lastContent)).toEqual([INPUT, INPUT]);
    const outputs = exp!.traces.map((t) => [t.status, t.recording_index, t.output.answer, t.messages]).sort();
    expect(outputs).toEqual([
      ['ok', 0, `kwargs.deps.hooks #0 (${INPUT.length} chars): echo: ${INPUT}`, []],
      ['ok', 1, `kwargs.deps.hooks #1 (${INPUT.length} chars): echo: ${INPUT}`, []],
    ]);
  });

  it('puts the live values in place in worker threads too', async () => {
    const { run, exp, sent } = await experiment('worker', { providers: { 'args.1.client': 'app/deps.js:makeClient', 'args.1.hooks': 'app/deps.js:makeHooks' } }, { isolation: 'worker', concurrency: 2 });
    expect(run.code, run.stderr).toBe(0);
    expect(exp!.summary).toMatchObject({ total_runs: 2, counts: { ok: 2, error: 0, timeout: 0 } });
    expect(sent.map(lastContent)).toEqual([INPUT, INPUT]);
    expect(exp!.traces.map((t) => t.output.answer).sort()).toEqual([0, 1].map((i) => `args.1.hooks #${i} (${INPUT.length} chars): echo: ${INPUT}`));
  });

  it('refuses, before any run, a provider path that is in no recording, at its line, with the paths there are', async () => {
    const { run, exp, sent } = await experiment('missing', { providers: { 'args.1.client': 'app/deps.js:makeClient', 'args.1.database': 'app/deps.js:makeClient' } });
    const text = fs.readFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'utf8');
    const line = text.split('\n').findIndex((l) => l.includes('"args.1.database"')) + 1;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`configs/simulation.yaml:${line}:7 (replay_args.providers.args.1.database): args.1.database points nowhere in any of the 2 selected recordings`);
    // Level by level: the recorded client's many fields do not hide the arguments' other keys.
    expect(run.stderr).toMatch(/paths that exist in recording #0 \(recordings\/args_recording\.jsonl:1, app\/agent\.js:answer\): kwargs\.message, kwargs\.deps, args\.0, args\.1, args\.1\.client, args\.1\.hooks/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(exp).toBeUndefined();
    expect(sent).toEqual([]);
  });

  it('makes each run whose provider throws an error naming the provider', async () => {
    const { run, exp, sent } = await experiment('broken', { providers: { 'args.1.client': 'app/deps.js:broken' } });
    expect(run.code, run.stderr).toBe(0);
    expect(exp!.summary).toMatchObject({ total_runs: 2, counts: { ok: 0, error: 2, timeout: 0 } });
    for (const t of exp!.traces) {
      expect(t.status).toBe('error');
      expect(t.error).toMatchObject({
        name: 'ProviderError',
        message: 'provider app/deps.js:broken (replay_args.providers.args.1.client) failed: Error: no credentials in this environment',
        stack: expect.stringContaining('deps.js'),
      });
    }
    expect(exp!.errors).toHaveLength(2);
    expect(sent).toEqual([]);
  });
});
