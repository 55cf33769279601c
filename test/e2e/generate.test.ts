import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chatReply, lastContent, startFakeLlm, type FakeLlm, type FakeReply, type FakeRequest } from '../fake-llm';
import { project, readExperiment, runApp, runCli, type CliRun } from './helpers';

const STACK = /\n\s+at /;
const BASES = ['Can I get a refund?', 'Is the shop open on Sunday?', 'My order arrived broken, what should I do?'];
const KEY = 'sk-test-4f9a2c1b7e';

/** `fluxloop generate inputs`; the exit code must be `code`, and no stack trace is shown. */
async function generate(dir: string, args: string[] = [], code = 0, env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(dir, ['generate', 'inputs', ...args], env);
  expect(run.code, run.stderr).toBe(code);
  expect(run.stderr).not.toMatch(STACK);
  return run;
}

const generatedPath = (dir: string) => path.join(dir, 'inputs', 'generated.yaml');
const readGenerated = (dir: string) => parse(fs.readFileSync(generatedPath(dir), 'utf8'));

/** Changes configs/simulation.yaml by text replacement, so that the rest of the fixture's config stays. */
function editConfig(dir: string, edit: (text: string) => string): void {
  const file = path.join(dir, 'configs', 'simulation.yaml');
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
}

describe('deterministic generation', () => {
  it('writes every base input and its distinct variations, with metadata, stats and config', async () => {
    const dir = project('chat-app');
    const run = await generate(dir);
    // Replay is on in the fixture, but nothing is recorded yet: base_inputs, and the reason.
    expect(run.stdout).toContain('Base inputs: 3 base_inputs from configs/simulation.yaml\n');
    expect(run.stdout).toContain('base_inputs, not the recordings: recordings/args_recording.jsonl: recording file not found; record some calls first');
    expect(run.stdout).toContain('Generated 27 inputs from 3 base inputs, seed 7');
    expect(run.stdout).toContain('Wrote inputs/generated.yaml');
    const text = fs.readFileSync(generatedPath(dir), 'utf8');
    expect(text).toMatch(/^# Inputs for fluxloop experiments, made by `fluxloop generate inputs` at \d{4}-\d\d-\d\dT/);
    const file = parse(text);
    expect(file.inputs).toHaveLength(3 + 3 * 4 * 2);
    expect(file.stats).toEqual({ total: 27, base_inputs: 3, personas: 0, strategies: { base: 3, rephrase: 6, typo: 6, verbose: 6, concise: 6 } });
    expect(file.generation_config).toMatchObject({ mode: 'deterministic', strategies: ['rephrase', 'typo', 'verbose', 'concise'], variation_count: 2, seed: 7, source: 'base_inputs' });
    // Base inputs first, each followed by its variations; each variation unlike its base and every other input.
    expect(file.inputs[0]).toEqual({ input: BASES[0], metadata: { strategy: 'base', base_index: 0, persona: null, seed: 7 } });
    expect(file.inputs.filter((e: any) => e.metadata.base_index === 1).every((e: any) => e.metadata.topic === 'hours')).toBe(true);
    expect(new Set(file.inputs.map((e: any) => e.input)).size).toBe(27);
    for (const entry of file.inputs.filter((e: any) => e.metadata.strategy !== 'base')) {
      expect(entry.input).not.toBe(BASES[entry.metadata.base_index]);
      expect(entry.metadata).toMatchObject({ persona: null, seed: 7 });
    }
    const concise = file.inputs.filter((e: any) => e.metadata.strategy === 'concise');
    for (const entry of concise) expect(entry.input.length).toBeLessThan(BASES[entry.metadata.base_index]!.length);
  });

  it('gives the same inputs for the same seed, and others for another seed', async () => {
    const dir = project('chat-app');
    await generate(dir);
    const first = readGenerated(dir).inputs;
    await generate(dir, ['--overwrite']);
    expect(readGenerated(dir).inputs).toEqual(first);
    await generate(dir, ['--overwrite', '--seed', '8']);
    const other = readGenerated(dir).inputs;
    expect(other.map((e: any) => e.input)).not.toEqual(first.map((e: any) => e.input));
    expect(other[3].metadata.seed).toBe(8);
  });

  it('keeps an existing file unless --overwrite is given, and writes nothing on --dry-run', async () => {
    const dir = project('chat-app');
    fs.mkdirSync(path.join(dir, 'inputs'));
    fs.writeFileSync(generatedPath(dir), 'inputs: [mine]\n');
    const refused = await generate(dir, [], 2);
    expect(refused.stderr).toContain('inputs/generated.yaml: the file exists already; pass --overwrite to replace it');
    const dry = await generate(dir, ['--dry-run', '--strategy', 'typo']);
    expect(dry.stdout).toContain('Input generation plan (dry run: nothing is sent or written)');
    expect(dry.stdout).toMatch(/Strategies\s+typo/);
    expect(dry.stdout).toContain('Preview: 9 inputs');
    expect(fs.readFileSync(generatedPath(dir), 'utf8')).toBe('inputs: [mine]\n');
  });

  it('spreads a limit over base inputs and strategies, and takes strategies from the command line', async () => {
    const dir = project('chat-app');
    await generate(dir, ['--limit', '7', '--strategy', 'noise', '--strategy', 'adversarial']);
    const { inputs, stats } = readGenerated(dir);
    expect(inputs).toHaveLength(7);
    expect(stats.strategies).toEqual({ base: 3, noise: 2, adversarial: 2 });
    expect(inputs.filter((e: any) => e.metadata.strategy === 'adversarial').every((e: any) => typeof e.metadata.probe === 'string')).toBe(true);
  });

  it('makes persona_based variations once per persona, in the persona’s voice', async () => {
    const dir = project('chat-app');
    editConfig(dir, (text) =>
      text.replace('input_generation:', 'personas:\n  - { name: impatient, description: in a hurry, goals: [get my money back] }\n  - { name: novice, expertise_level: novice }\ninput_generation:'),
    );
    await generate(dir, ['--strategy', 'persona_based', '--strategy', 'typo']);
    const { inputs, stats } = readGenerated(dir);
    // A typo is no one's in particular: only persona_based is made per persona.
    expect(stats).toMatchObject({ personas: 2, strategies: { base: 3, persona_based: 12, typo: 6 } });
    const impatient = inputs.filter((e: any) => e.metadata.strategy === 'persona_based' && e.metadata.persona === 'impatient');
    expect(impatient).toHaveLength(6);
    expect(inputs.filter((e: any) => e.metadata.strategy === 'typo').every((e: any) => e.metadata.persona === null)).toBe(true);
  });

  it('reports a bad setting at its line, and persona_based without personas, with exit code 2', async () => {
    const dir = project('chat-app');
    editConfig(dir, (text) => text.replace('strategies: [rephrase, typo, verbose, concise]', 'strategies: [rephrase, typos]'));
    const bad = await generate(dir, [], 2);
    expect(bad.stderr).toContain('configs/simulation.yaml:17:26 (input_generation.strategies[1]): unknown strategy "typos"; did you mean "typo"?');
    const fresh = project('chat-app');
    const noPersonas = await generate(fresh, ['--strategy', 'persona_based'], 2);
    expect(noPersonas.stderr).toContain('configs/simulation.yaml (personas): the persona_based strategy needs personas');
    const usage = await generate(fresh, ['--strategy', 'shout'], 2);
    expect(usage.stderr).toContain("option '--strategy <name>' argument 'shout' is invalid");
    expect(fs.existsSync(generatedPath(fresh))).toBe(false);
  });
});

describe('base inputs from the recordings', () => {
  // One recorded project: the tests below write nothing into it but inputs/generated.yaml, which the first test replaces.
  let recorded: string;
  beforeAll(async () => {
    recorded = project('chat-app');
    const app = await runApp(recorded, 'app/main.js');
    expect(app.code, app.stderr).toBe(0);
  });

  /** A fresh chat-app project holding the recorded project's recordings. */
  function withRecordings(): string {
    const dir = project('chat-app');
    fs.cpSync(path.join(recorded, 'recordings'), path.join(dir, 'recordings'), { recursive: true });
    return dir;
  }

  it('varies the distinct strings recorded at the override path by default when replay is on, and the experiment runs them', async () => {
    const dir = recorded;
    const run = await generate(dir, ['--strategy', 'typo']);
    expect(run.stdout).toContain('Base inputs: 2 recorded messages from recordings/args_recording.jsonl at kwargs.message (1 non-string value skipped)\n');
    expect(run.stdout).not.toContain('not the recordings');
    const { inputs, generation_config } = readGenerated(dir);
    expect(generation_config.source).toBe('recordings/args_recording.jsonl');
    expect(inputs.slice(0, 3)).toEqual([
      { input: 'Can I get a refund?', metadata: { source: 'recording', recording: 'recordings/args_recording.jsonl:1', occurrences: 2, strategy: 'base', base_index: 0, persona: null, seed: 7 } },
      expect.objectContaining({ metadata: expect.objectContaining({ strategy: 'typo', base_index: 0 }) }),
      expect.objectContaining({ metadata: expect.objectContaining({ strategy: 'typo', base_index: 0 }) }),
    ]);
    expect(inputs).toHaveLength(6);
    const dry = await generate(dir, ['--from-recording', '--strategy', 'typo', '--dry-run']);
    expect(dry.stdout).toMatch(/Base inputs\s+2 recorded messages from recordings\/args_recording\.jsonl at kwargs\.message \(1 non-string value skipped\)/);
    const experiment = await runCli(dir, ['run', 'experiment']);
    expect(experiment.code, experiment.stderr).toBe(0);
    const { summary, traces } = readExperiment(dir);
    expect(summary).toMatchObject({ inputs: 6, inputs_source: 'inputs/generated.yaml', recordings: 4 });
    const typo = inputs[1].input;
    expect(traces.some((t: any) => t.status === 'ok' && t.output?.reply === `You asked: ${typo}`)).toBe(true);
  });

  it('takes base_inputs with --from-config, and refuses both flags at once', async () => {
    const run = await generate(recorded, ['--from-config', '--strategy', 'typo', '--dry-run']);
    expect(run.stdout).toMatch(/Base inputs\s+3 base_inputs from configs\/simulation\.yaml\n/);
    expect(run.stdout).not.toContain('not the recordings');
    expect(run.stdout).toContain('Preview: 9 inputs');
    const both = await generate(recorded, ['--from-config', '--from-recording', '--dry-run'], 2);
    expect(both.stderr).toContain("option '--from-recording' cannot be used with option '--from-config'");
  });

  it('falls back to base_inputs when replay is off, saying so and how to take the recordings', async () => {
    const dir = withRecordings();
    editConfig(dir, (text) => text.replace('  enabled: true\n', '  enabled: false\n'));
    const run = await generate(dir, ['--strategy', 'typo']);
    expect(run.stdout).toContain('Base inputs: 3 base_inputs from configs/simulation.yaml\n');
    expect(run.stdout).toContain('base_inputs, not the recordings: replay_args.enabled is not true; --from-recording takes the recorded messages all the same');
    expect(run.stderr).toBe('');
    expect(readGenerated(dir).generation_config.source).toBe('base_inputs');
    const forced = await generate(dir, ['--from-recording', '--strategy', 'typo', '--overwrite']);
    expect(forced.stdout).toContain('Base inputs: 2 recorded messages from recordings/args_recording.jsonl at kwargs.message');
  });

  it('falls back when nothing of the target is recorded, and --from-recording then fails with the reason', async () => {
    const dir = project('chat-app');
    fs.mkdirSync(path.join(dir, 'recordings'));
    fs.writeFileSync(path.join(dir, 'recordings', 'args_recording.jsonl'), '');
    const run = await generate(dir, ['--dry-run']);
    expect(run.stdout).toMatch(/Base inputs\s+3 base_inputs from configs\/simulation\.yaml\n/);
    expect(run.stdout).toMatch(/base_inputs, not the recordings: nothing recorded in recordings\/args_recording\.jsonl for \S*app\/agent\.js:handleMessage yet; record some calls first \(npx fluxloop record enable/);
    const forced = await generate(dir, ['--from-recording'], 2);
    expect(forced.stderr).toMatch(/^fluxloop: recordings\/args_recording\.jsonl: no recordings of \S*app\/agent\.js:handleMessage to take inputs from; record some calls first/);
    fs.rmSync(path.join(dir, 'recordings'), { recursive: true });
    const missing = await generate(dir, ['--from-recording'], 2);
    expect(missing.stderr).toContain('recordings/args_recording.jsonl: recording file not found; record some calls first');
  });

  it('warns when the override path is not set or finds no string, and needs it for --from-recording', async () => {
    const dir = withRecordings();
    editConfig(dir, (text) => text.replace('  override_param_path: kwargs.message\n', ''));
    const unset = await generate(dir, ['--dry-run']);
    expect(unset.stderr).toContain('warning: base_inputs, not the recordings: replay_args.override_param_path is not set');
    const run = await generate(dir, ['--from-recording'], 2);
    expect(run.stderr).toContain('(replay_args.override_param_path): --from-recording needs replay_args.override_param_path');
    editConfig(dir, (text) => text.replace('  enabled: true\n', '  enabled: true\n  override_param_path: kwargs.text\n'));
    const miss = await generate(dir, ['--dry-run']);
    expect(miss.stdout).toMatch(/Base inputs\s+3 base_inputs/);
    expect(miss.stderr).toMatch(/warning: base_inputs, not the recordings: no inputs found at kwargs\.text in 4 recordings: recordings\/args_recording\.jsonl:1: .*; fix replay_args\.override_param_path/);
  });
});

describe('LLM generation against an OpenAI-compatible server', () => {
  let server: FakeLlm | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** The chat-app project in llm mode against a fake server answering with `reply`, and the key in .env. */
  async function llmProject(reply: (req: FakeRequest) => FakeReply | Promise<FakeReply>, llm: Record<string, number> = {}): Promise<string> {
    server = await startFakeLlm(reply);
    const dir = project('chat-app');
    const settings = { base_url: server.url, model: 'test-model', api_key_env: 'TEST_LLM_KEY', max_retries: 2, timeout_ms: 1000, ...llm };
    editConfig(dir, (text) =>
      text
        .replace('mode: deterministic', 'mode: llm')
        .replace('strategies: [rephrase, typo, verbose, concise]', 'strategies: [rephrase, verbose]')
        .concat(`  llm:\n${Object.entries(settings).map(([k, v]) => `    ${k}: ${v}\n`).join('')}`),
    );
    fs.writeFileSync(path.join(dir, '.env'), `TEST_LLM_KEY=${KEY}\n`);
    return dir;
  }

  /** Two variations of the base input in the prompt, as a JSON array. */
  const vary = (req: FakeRequest): FakeReply => {
    const message = /Message: (.*)/.exec(req.body.messages[1].content)![1]!;
    const strategy = /Strategy: (\w+)/.exec(req.body.messages[1].content)![1]!;
    return chatReply(JSON.stringify([`${message} (${strategy} one)`, `${message} (${strategy} two)`]));
  };

  it('asks once per base input and strategy, and writes the variations without the key', async () => {
    const dir = await llmProject(vary);
    const run = await generate(dir);
    expect(server!.requests).toHaveLength(6);
    const request = server!.requests[0]!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.body).toMatchObject({ model: 'test-model', seed: 7 });
    expect(request.body.messages[1].content).toContain('Message: Can I get a refund?');
    expect(request.body.messages[1].content).toContain('Write 2 different variations');
    const text = fs.readFileSync(generatedPath(dir), 'utf8');
    const { inputs, stats, generation_config } = parse(text);
    expect(stats).toMatchObject({ total: 15, strategies: { base: 3, rephrase: 6, verbose: 6 } });
    expect(inputs[1]).toEqual({ input: 'Can I get a refund? (rephrase one)', metadata: { strategy: 'rephrase', base_index: 0, persona: null, seed: 7 } });
    expect(generation_config.llm).toEqual({ provider: 'openai', base_url: server!.url, model: 'test-model', temperature: 0.8, api_key_env: 'TEST_LLM_KEY' });
    for (const out of [text, run.stdout, run.stderr]) expect(out).not.toContain(KEY);
  });

  it('retries a 429 after Retry-After, and drops duplicates and copies of the base input', async () => {
    const dir = await llmProject((req) => {
      if (req.count === 1) return { status: 429, headers: { 'retry-after': '0' }, json: { error: { message: 'slow down' } } };
      const message = /Message: (.*)/.exec(req.body.messages[1].content)![1]!;
      return chatReply(`Here are two variations:\n1. ${message}\n2. "${message.toUpperCase()}  "\n3. Another way: ${message}`);
    }, { concurrency: 1 });
    const run = await generate(dir, ['--strategy', 'rephrase']);
    expect(server!.requests).toHaveLength(4);
    const { inputs } = readGenerated(dir);
    // The copy of the base input and its upper-case twin are dropped; the third line is kept.
    expect(inputs.filter((e: any) => e.metadata.strategy === 'rephrase').map((e: any) => e.input)).toEqual(BASES.map((b) => `Another way: ${b}`));
    expect(run.stderr).toContain('warning: rephrase made fewer than 2 distinct variations 3 times, e.g. for base_inputs[0] "Can I get a refund?": 1 (copies of an input and repeats are dropped)');
  });

  it('reports a malformed reply and a timeout, skips those prompts and keeps the rest', async () => {
    const dir = await llmProject((req) => {
      const content = req.body.messages[1].content as string;
      if (content.includes('Message: Is the shop open')) return { body: '<html>bad gateway</html>' };
      if (content.includes('Message: My order') && content.includes('Strategy: verbose')) return { ...vary(req), delayMs: 3000 };
      return vary(req);
    }, { max_retries: 0, timeout_ms: 300, concurrency: 6 });
    const run = await generate(dir);
    expect(run.stderr).toContain('prompt rephrase for base_inputs[1] "Is the shop open on Sunday?" failed: malformed response: body is not JSON');
    expect(run.stderr).toContain('prompt verbose for base_inputs[2] "My order arrived broken, what should I d…" failed: timed out after 300 ms (1 attempt)');
    const { stats } = readGenerated(dir);
    expect(stats).toMatchObject({ total: 9, strategies: { base: 3, rephrase: 4, verbose: 2 } });
  });

  it('exits 1 and writes no file when every prompt fails after its retries', async () => {
    const dir = await llmProject(() => ({ status: 500, headers: { 'retry-after': '0' }, body: `upstream broke for key ${KEY}` }));
    // Failures in a row would stop it after 3 prompts: here every prompt is to be tried.
    const run = await generate(dir, ['--max-consecutive-failures', '10'], 1);
    expect(server!.requests).toHaveLength(6 * 3);
    expect(run.stderr).toContain('failed: HTTP 500 after 3 attempts: upstream broke for key ***');
    expect(run.stderr).toContain('every one of the 6 prompts failed; inputs/generated.yaml was not written');
    expect(run.stderr).not.toContain(KEY);
    expect(fs.existsSync(generatedPath(dir))).toBe(false);
  });

  /** 48 prompts: three base inputs, four strategies and four personas. */
  const manyPrompts = ['--strategy', 'rephrase', '--strategy', 'typo', '--strategy', 'verbose', '--strategy', 'concise'];
  const withPersonas = (dir: string) =>
    editConfig(dir, (text) => text.replace('input_generation:', `personas:\n${['a', 'b', 'c', 'd'].map((p) => `  - { name: ${p} }\n`).join('')}input_generation:`));

  it('stops every prompt when --max-time passes against a hung endpoint, and writes nothing', async () => {
    // timeout_ms 30 s and 2 retries: without an overall limit, each prompt would take minutes.
    const dir = await llmProject(() => ({ hang: true }), { timeout_ms: 30_000 });
    withPersonas(dir);
    const started = Date.now();
    const run = await generate(dir, [...manyPrompts, '--max-time', '2'], 1);
    // Far below one per-request timeout: the limit ended the requests in flight and sent no more.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(server!.requests.length).toBeLessThanOrEqual(4);
    expect(run.stderr).toContain(
      'fluxloop: stopped: the overall time limit of 2 s for LLM requests passed. 0 of 48 prompts done; inputs/generated.yaml was not written. ' +
        'Raise the limit with --max-time <seconds> or input_generation.llm.max_time_ms.',
    );
    expect(fs.existsSync(generatedPath(dir))).toBe(false);
  });

  it('keeps what the prompts done gave when the limit passes, in a file marked incomplete', async () => {
    // The limit from the config this time; the refund prompts answer, the others hang.
    const dir = await llmProject((req) => (lastContent(req).includes('Message: Can I get a refund?') ? vary(req) : { hang: true }), { timeout_ms: 30_000, max_time_ms: 2_000, concurrency: 6 });
    const run = await generate(dir, [], 1);
    expect(run.stderr).toContain('fluxloop: stopped: the overall time limit of 2 s for LLM requests passed. 2 of 6 prompts done; the 7 inputs made so far were written to inputs/generated.yaml, marked incomplete.');
    const text = fs.readFileSync(generatedPath(dir), 'utf8');
    expect(text.split('\n')[0]).toBe('# INCOMPLETE: stopped after 2 of 6 prompts: the overall time limit of 2 s passed.');
    const { inputs, stats, generation_config } = parse(text);
    expect(generation_config.incomplete).toBe('stopped after 2 of 6 prompts: the overall time limit of 2 s passed');
    expect(stats).toMatchObject({ total: 7, strategies: { base: 3, rephrase: 2, verbose: 2 } });
    expect(inputs.filter((e: any) => e.metadata.strategy !== 'base').map((e: any) => e.input)).toEqual([
      'Can I get a refund? (rephrase one)',
      'Can I get a refund? (rephrase two)',
      'Can I get a refund? (verbose one)',
      'Can I get a refund? (verbose two)',
    ]);
    // Prompts that were never answered are not reported as short of variations.
    expect(run.stderr).not.toContain('fewer than');
  });

  it('stops after failures in a row, naming the endpoint and the last error', async () => {
    const dir = await llmProject(({ count }) => ({ status: 500, body: `upstream broke (${count}) for key ${KEY}` }), { max_retries: 0, concurrency: 1 });
    withPersonas(dir);
    const run = await generate(dir, manyPrompts, 1);
    expect(server!.requests).toHaveLength(3);
    expect(run.stderr).toContain(
      `fluxloop: stopped: 3 requests in a row failed at ${server!.url}; the last: HTTP 500 after 1 attempt: upstream broke (3) for key ***. 3 of 48 prompts done; inputs/generated.yaml was not written. ` +
        'Check the endpoint; --max-consecutive-failures <n> or input_generation.llm.max_consecutive_failures sets how many failures in a row stop it.',
    );
    expect(run.stderr).not.toContain(KEY);
    expect(fs.existsSync(generatedPath(dir))).toBe(false);
    const fewer = await generate(dir, [...manyPrompts, '--max-consecutive-failures', '1'], 1);
    expect(server!.requests).toHaveLength(4);
    expect(fewer.stderr).toContain('stopped: 1 request in a row failed at');
  });

  it('refuses a limit that is not a positive integer, in the config and on the command line', async () => {
    const dir = await llmProject(vary, { max_consecutive_failures: 0 });
    const bad = await generate(dir, [], 2);
    expect(bad.stderr).toMatch(/configs\/simulation\.yaml:\d+:\d+ \(input_generation\.llm\.max_consecutive_failures\): must be a positive integer/);
    const usage = await generate(dir, ['--max-time', '0'], 2);
    expect(usage.stderr).toContain("option '--max-time <seconds>' argument '0' is invalid");
    expect(server!.requests).toHaveLength(0);
  });

  it('shows the first prompt on --dry-run and sends nothing', async () => {
    const dir = await llmProject(vary);
    const run = await generate(dir, ['--dry-run']);
    expect(run.stdout).toMatch(/Prompts\s+6/);
    expect(run.stdout).toMatch(/Limits\s+600 s for all prompts, stop after 3 failures in a row/);
    expect(run.stdout).toMatch(/API key\s+TEST_LLM_KEY \(found\)/);
    expect(run.stdout).toContain('Message: Can I get a refund?');
    expect(server!.requests).toHaveLength(0);
  });
});
