import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { configLocation } from '../../src/config/locations.js';
import { loadSimulationConfig, parseSimulationConfig, setConfigValue } from '../../src/config/simulation.js';
import { INPUT_GENERATION_DEFAULTS, LLM_DEFAULTS, MULTI_TURN_DEFAULTS, RECORDING_DEFAULTS, RUNNER_DEFAULTS } from '../../src/config/types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-sim-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function project(yaml?: string): string {
  const root = fs.mkdtempSync(path.join(tmp, 'p-'));
  if (yaml !== undefined) {
    fs.mkdirSync(path.join(root, 'configs'));
    fs.writeFileSync(path.join(root, 'configs', 'simulation.yaml'), yaml);
  }
  return root;
}

function errorOf(yaml: string): ConfigError {
  try {
    loadSimulationConfig(project(yaml));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const DEFAULTS = { targets: [], ...RECORDING_DEFAULTS };
const EMPTY = {
  name: 'experiment',
  recording: DEFAULTS,
  replay_args: undefined,
  runner: RUNNER_DEFAULTS,
  iterations: 1,
  output_directory: 'experiments',
  inputs_file: 'inputs/generated.yaml',
  base_inputs: [],
  personas: [],
  input_generation: { ...INPUT_GENERATION_DEFAULTS, llm: LLM_DEFAULTS },
  pricing: {},
  multi_turn: { ...MULTI_TURN_DEFAULTS, supervisor: { provider: 'openai', llm: { ...LLM_DEFAULTS, temperature: 0.2 }, mock_decision: 'terminate' } },
  raw: {},
};

describe('loadSimulationConfig', () => {
  it('gives the defaults when the file is missing', () => {
    expect(loadSimulationConfig(project())).toEqual(EMPTY);
  });

  it('gives the defaults for an empty file or one with only comments', () => {
    expect(loadSimulationConfig(project(''))).toEqual(EMPTY);
    expect(loadSimulationConfig(project('# nothing yet\n'))).toEqual(EMPTY);
  });

  it('reads every recording setting and keeps other sections in raw', () => {
    const config = loadSimulationConfig(
      project(`recording:
  targets:
    - app/agent.js:Agent.reply
    - app/tools.js:default
  file: out/rec.jsonl
  redact_keys: [session_id]
  redact_patterns: ['\\d{16}']
  max_depth: 5
  max_array_length: 10
  max_string_length: 100
  max_record_bytes: 2048
  downstream: { http: false, targets: [app/tools.js:search] }
replay_args:
  enabled: true
  recording_file: out/rec.jsonl
  override_param_path: kwargs.message
  callable_providers:
    kwargs.send: app/providers.js:send
  downstream: { llm: stub, http: deny, unmatched: live }
pricing:
  my-model: { input: 0.5, output: 1.5 }
runner:
  target: app/agent.js:Agent.reply
base_inputs:
  - input: hi
`),
    );
    expect(config.recording).toEqual({
      targets: ['app/agent.js:Agent.reply', 'app/tools.js:default'],
      file: 'out/rec.jsonl',
      redact_keys: ['session_id'],
      redact_patterns: ['\\d{16}'],
      max_depth: 5,
      max_array_length: 10,
      max_string_length: 100,
      max_record_bytes: 2048,
      downstream: { http: false, llm: true, targets: ['app/tools.js:search'] },
    });
    expect(config.pricing).toEqual({ 'my-model': { input: 0.5, output: 1.5 } });
    expect(config.replay_args).toEqual({
      enabled: true,
      recording_file: 'out/rec.jsonl',
      override_param_path: 'kwargs.message',
      callable_providers: { 'kwargs.send': 'app/providers.js:send' },
      providers: {},
      revive: {},
      select: 'all',
      downstream: { llm: 'stub', http: 'deny', tools: 'stub', unmatched: 'live' },
    });
    expect(config.runner).toEqual({ ...RUNNER_DEFAULTS, target: 'app/agent.js:Agent.reply' });
    expect(config.base_inputs).toEqual([{ input: 'hi', metadata: {} }]);
    expect(config.raw.base_inputs).toEqual([{ input: 'hi' }]);
  });

  it('reads the experiment settings', () => {
    const config = loadSimulationConfig(
      project(`name: support
iterations: 3
output_directory: out/exp
inputs_file: inputs/mine.yaml
replay_args:
  select: 2
  function: handle
runner:
  factory: app/make.js:makeAgent
  target: app/agent.js:Agent.reply
  isolation: worker
  concurrency: 8
  timeout_ms: 500
  retries: 2
base_inputs:
  - plain
  - { input: tagged, metadata: { topic: billing } }
evaluation: { kept: true }
`),
    );
    expect(config).toMatchObject({ name: 'support', iterations: 3, output_directory: 'out/exp', inputs_file: 'inputs/mine.yaml' });
    expect(config.replay_args).toMatchObject({ enabled: false, select: 2, function: 'handle' });
    expect(config.runner).toEqual({
      target: 'app/agent.js:Agent.reply',
      factory: 'app/make.js:makeAgent',
      isolation: 'worker',
      concurrency: 8,
      timeout_ms: 500,
      retries: 2,
    });
    expect(config.base_inputs).toEqual([
      { input: 'plain', metadata: {} },
      { input: 'tagged', metadata: { topic: 'billing' } },
    ]);
    expect(config.raw.evaluation).toEqual({ kept: true });
    expect(loadSimulationConfig(project('replay_args:\n  select: last\n')).replay_args?.select).toBe('last');
  });

  it('reads providers and revive, keeping where each path was written', () => {
    const config = parseSimulationConfig(`replay_args:
  providers:
    args.1.client: app/deps.js:makeClient
    kwargs.hooks: app/deps.js:hooks.make
  revive:
    HumanMessage: '@langchain/core/messages:HumanMessage'
    Order: app/models/order.js:Order
`);
    expect(config.replay_args).toMatchObject({
      providers: { 'args.1.client': 'app/deps.js:makeClient', 'kwargs.hooks': 'app/deps.js:hooks.make' },
      revive: { HumanMessage: '@langchain/core/messages:HumanMessage', Order: 'app/models/order.js:Order' },
      callable_providers: {},
    });
    const providers = config.replay_args!.providers!;
    expect(configLocation(providers, 'kwargs.hooks')).toEqual({ file: 'configs/simulation.yaml', line: 4, column: 5, field: 'replay_args.providers.kwargs.hooks' });
    expect(configLocation(providers, 'args.9')).toBeUndefined();
    expect(configLocation({ 'args.1.client': 'x:y' }, 'args.1.client')).toBeUndefined();
  });

  it('gives empty providers and revive when replay_args has neither, or they are empty', () => {
    expect(parseSimulationConfig('replay_args:\n  enabled: true\n').replay_args).toMatchObject({ providers: {}, revive: {} });
    expect(parseSimulationConfig('replay_args:\n  providers:\n  revive:\n').replay_args).toMatchObject({ providers: {}, revive: {} });
  });

  it('treats empty keys (all their lines commented out) as absent', () => {
    const config = loadSimulationConfig(
      project('recording:\n  targets:\n  #  - a.js:f\n  max_depth:\nrunner:\n  # target: x\nreplay_args:\n'),
    );
    expect(config.recording).toEqual(DEFAULTS);
    expect(config.runner).toEqual(RUNNER_DEFAULTS);
    expect(config.replay_args).toBeUndefined();
  });

  it('follows aliases', () => {
    const config = loadSimulationConfig(project('common: &t app/a.js:run\nrecording:\n  targets: [*t]\n'));
    expect(config.recording.targets).toEqual(['app/a.js:run']);
  });

  it.each([
    // [yaml, line, column, field, message]
    ['recording:\n  targets: [a.js:f\n', 3, 1, undefined, 'invalid YAML'],
    ['a: 1\na: 2\n', 2, 1, undefined, 'invalid YAML: Map keys must be unique'],
    ['- just\n- a list\n', 1, 1, undefined, 'the top level must be a mapping'],
    ['recording: [a.js:f]\n', 1, 12, 'recording', 'must be a mapping'],
    ['recording:\n  targets: app/a.js:f\n', 2, 12, 'recording.targets', 'must be a list of strings'],
    ['recording:\n  targets:\n    - app/a.js:f\n    - 42\n', 4, 7, 'recording.targets[1]', 'must be a string, found 42'],
    ['recording:\n  targets:\n    - app/a.js:f\n    - app/b.js\n', 4, 7, 'recording.targets[1]', 'invalid target "app/b.js"'],
    ['recording:\n  targets:\n    - app/a.js:a.b.c\n', 3, 7, 'recording.targets[0]', 'only one "."'],
    ['recording:\n  file: 12\n', 2, 9, 'recording.file', 'must be a string'],
    ['recording:\n  redact_keys: [ok, [nested]]\n', 2, 21, 'recording.redact_keys[1]', 'must be a string, found a list'],
    ['recording:\n  redact_patterns:\n    - ok\n    - "(unclosed"\n', 4, 7, 'recording.redact_patterns[1]', 'invalid regular expression: Invalid regular expression: /(unclosed/g: Unterminated group'],
    ['recording:\n  max_depth: 0\n', 2, 14, 'recording.max_depth', 'must be a positive integer, found 0'],
    ['recording:\n  max_array_length: "10"\n', 2, 21, 'recording.max_array_length', 'must be a positive integer, found the string "10"'],
    ['recording:\n  max_string_length: 1.5\n', 2, 22, 'recording.max_string_length', 'must be a positive integer'],
    ['recording:\n  max_record_bytes: -1\n', 2, 21, 'recording.max_record_bytes', 'must be a positive integer'],
    ['recording:\n  file: a.jsonl\n  target:\n    - a.js:f\n', 3, 3, 'recording.target', 'unknown key "target" under recording; did you mean "targets"?'],
    ['recording:\n  redact_pattern: []\n', 2, 3, 'recording.redact_pattern', 'did you mean "redact_patterns"?'],
    ['recording:\n  colour: red\n', 2, 3, 'recording.colour', 'unknown key "colour" under recording (known keys: targets,'],
    ['replay_args: true\n', 1, 14, 'replay_args', 'must be a mapping'],
    ['replay_args:\n  enabled: yes\n', 2, 12, 'replay_args.enabled', 'must be true or false, found the string "yes"'],
    ['replay_args:\n  recording_file: [a]\n', 2, 19, 'replay_args.recording_file', 'must be a string'],
    ['replay_args:\n  override_param_path: 3\n', 2, 24, 'replay_args.override_param_path', 'must be a string'],
    ['replay_args:\n  callable_providers: [a]\n', 2, 23, 'replay_args.callable_providers', 'must be a mapping'],
    ['replay_args:\n  callable_providers:\n    kwargs.cb: 1\n', 3, 16, 'replay_args.callable_providers.kwargs.cb', 'must be a string'],
    ['runner: fast\n', 1, 9, 'runner', 'must be a mapping'],
    ['replay_args:\n  override_param_path: args\n', 2, 24, 'replay_args.override_param_path', 'invalid override_param_path "args": "args" must be followed by an argument index'],
    ['replay_args:\n  override_param_path: kwargs..x\n', 2, 24, 'replay_args.override_param_path', 'a segment between dots is empty'],
    ['replay_args:\n  override_param_path: 0.x\n', 2, 24, 'replay_args.override_param_path', 'use args.N for a position'],
    ['replay_args:\n  callable_providers:\n    args.x: builtin:collector.send\n', 3, 5, 'replay_args.callable_providers.args.x', 'argument index'],
    ['replay_args:\n  callable_providers:\n    kwargs.cb: nothing\n', 3, 16, 'replay_args.callable_providers.kwargs.cb', 'must be builtin:collector.send'],
    ['replay_args:\n  providers: app/deps.js:make\n', 2, 14, 'replay_args.providers', 'must be a mapping'],
    ['replay_args:\n  providers:\n    args.1.client:\n', 3, 19, 'replay_args.providers.args.1.client', 'must name a provider'],
    ['replay_args:\n  providers:\n    args.1.client: [a]\n', 3, 20, 'replay_args.providers.args.1.client', 'must be a string'],
    ['replay_args:\n  providers:\n    args.x.client: app/deps.js:make\n', 3, 5, 'replay_args.providers.args.x.client', 'argument index'],
    ['replay_args:\n  providers:\n    args.1.client: makeClient\n', 3, 20, 'replay_args.providers.args.1.client', 'invalid target "makeClient"'],
    ['replay_args:\n  providers:\n    args.1.client: app/deps.js:12\n', 3, 20, 'replay_args.providers.args.1.client', 'names a provider by its line'],
    ['replay_args:\n  providers:\n    args.1.client: app/deps.js:Deps.#make\n', 3, 20, 'replay_args.providers.args.1.client', 'names a provider by a private name'],
    ['replay_args:\n  providers:\n    args.1.client: builtin:collector.send\n', 3, 20, 'replay_args.providers.args.1.client', 'the built-in collectors go in callable_providers; a provider is module:function'],
    ['replay_args:\n  callable_providers:\n    kwargs.send: builtin:collector.send\n  providers:\n    send: app/deps.js:make\n', 5, 5, 'replay_args.providers.send', '"send" is in both providers and callable_providers; keep one'],
    ['replay_args:\n  revive: [HumanMessage]\n', 2, 11, 'replay_args.revive', 'must be a mapping'],
    ['replay_args:\n  revive:\n    HumanMessage:\n', 3, 18, 'replay_args.revive.HumanMessage', 'must name the class as module:Export'],
    ['replay_args:\n  revive:\n    HumanMessage: 3\n', 3, 19, 'replay_args.revive.HumanMessage', 'must be a string'],
    ['replay_args:\n  revive:\n    HumanMessage: "@langchain/core/messages"\n', 3, 19, 'replay_args.revive.HumanMessage', 'must be module:Export'],
    ['replay_args:\n  revive:\n    HumanMessage: "pkg:Human Message"\n', 3, 19, 'replay_args.revive.HumanMessage', 'must be module:Export'],
    ['replay_args:\n  revive:\n    Human Message: pkg:HumanMessage\n', 3, 5, 'replay_args.revive.Human Message', '"Human Message" is not a class name'],
    ['replay_args:\n  revive:\n    messages.Human: pkg:HumanMessage\n', 3, 5, 'replay_args.revive.messages.Human', 'is not a class name'],
    ['replay_args:\n  provider:\n    args.1: a.js:f\n', 2, 3, 'replay_args.provider', 'did you mean "providers"?'],
    ['replay_args:\n  select: some\n', 2, 11, 'replay_args.select', 'must be all, first, last or a positive number'],
    ['replay_args:\n  overide_param_path: x\n', 2, 3, 'replay_args.overide_param_path', 'did you mean "override_param_path"?'],
    ['recording:\n  downstream:\n    http: yes\n', 3, 11, 'recording.downstream.http', 'must be true or false, found the string "yes"'],
    ['recording:\n  downstream:\n    tool: []\n', 3, 5, 'recording.downstream.tool', 'unknown key "tool" under recording.downstream'],
    ['recording:\n  downstream:\n    targets: [app/tools.js]\n', 3, 15, 'recording.downstream.targets[0]', 'invalid target "app/tools.js"'],
    ['replay_args:\n  downstream:\n    llm: deny\n', 3, 10, 'replay_args.downstream.llm', 'must be one of live, stub, found "deny"'],
    ['replay_args:\n  downstream:\n    unmatched: stub\n', 3, 16, 'replay_args.downstream.unmatched', 'must be one of error, live'],
    ['replay_args:\n  downstream:\n    tool: stub\n', 3, 5, 'replay_args.downstream.tool', 'did you mean "tools"?'],
    ['pricing:\n  gpt-x: 3\n', 2, 10, 'pricing.gpt-x', 'must be a mapping'],
    ['pricing:\n  gpt-x: { input: 1 }\n', 2, 10, 'pricing.gpt-x', 'has no "output"'],
    ['pricing:\n  gpt-x: { input: 1, output: -2 }\n', 2, 30, 'pricing.gpt-x.output', 'must be a number from 0 to 1000000'],
    ['pricing:\n  gpt-x: { inptu: 1, output: 2 }\n', 2, 12, 'pricing.gpt-x.inptu', 'did you mean "input"?'],
    ['runner:\n  isolation: thread\n', 2, 14, 'runner.isolation', 'must be one of shared, fresh, worker, found "thread"'],
    ['runner:\n  target: app/agent.js\n', 2, 11, 'runner.target', 'invalid target "app/agent.js"'],
    // A URL is not echoed: it may hold a password.
    ['runner:\n  queue: http://:hunter2@host\n', 2, 10, 'runner.queue', 'must be a Redis URL: redis://host:port, redis://:password@host:port/db or rediss://… for TLS'],
    ['runner:\n  target: app/server.js:42\n', 2, 11, 'runner.target', 'names a function by its line, which a replay cannot load'],
    ['runner:\n  factory: app/agent.js:Agent.#make\n', 2, 12, 'runner.factory', 'names a function by a private name'],
    ['runner:\n  concurrency: 0\n', 2, 16, 'runner.concurrency', 'must be a positive integer'],
    ['runner:\n  retries: -1\n', 2, 12, 'runner.retries', 'must be 0 or a positive integer'],
    ['runner:\n  timeout: 5\n', 2, 3, 'runner.timeout', 'did you mean "timeout_ms"?'],
    ['iterations: 0\n', 1, 13, 'iterations', 'must be a positive integer'],
    ['base_inputs: hello\n', 1, 14, 'base_inputs', 'must be a list of inputs'],
    ['base_inputs:\n  - 42\n', 2, 5, 'base_inputs[0]', 'must be a string or a mapping'],
    ['base_inputs:\n  - { metadata: {} }\n', 2, 5, 'base_inputs[0]', 'has no "input"'],
    ['base_inputs:\n  - { input: a, tags: [] }\n', 2, 17, 'base_inputs[0].tags', 'unknown key "tags"'],
    ['multi_turn:\n  max_turns: 101\n', 2, 14, 'multi_turn.max_turns', 'must be an integer from 1 to 100, found 101'],
    ['multi_turn:\n  max_turn: 3\n', 2, 3, 'multi_turn.max_turn', 'did you mean "max_turns"?'],
    ['multi_turn:\n  persona_override: tourist\n', 2, 21, 'multi_turn.persona_override', 'unknown persona "tourist"'],
    ['multi_turn:\n  max_turns: 3\n  resume_from: 4\n', 3, 16, 'multi_turn.resume_from', 'is turn 4, past max_turns (3)'],
    ['multi_turn:\n  supervisor:\n    provider: anthropic\n', 3, 15, 'multi_turn.supervisor.provider', 'must be one of openai, openai-compatible, mock'],
    ['multi_turn:\n  supervisor:\n    api_key: sk-123\n', 3, 5, 'multi_turn.supervisor.api_key', 'does not belong in the config file'],
    ['multi_turn:\n  supervisor:\n    scripted_question: [a]\n', 3, 5, 'multi_turn.supervisor.scripted_question', 'did you mean "scripted_questions"?'],
    ['multi_turn:\n  supervisor:\n    mock_decision: maybe\n', 3, 20, 'multi_turn.supervisor.mock_decision', 'must be one of continue, terminate'],
    ['replay_args:\n  conversation:\n    key: kwargs.\n', 3, 10, 'replay_args.conversation.key', ''],
    ['replay_args:\n  conversation:\n    keys: kwargs.id\n', 3, 5, 'replay_args.conversation.keys', 'did you mean "key"?'],
  ])('rejects %j at %i:%i', (yaml, line, column, field, message) => {
    const error = errorOf(yaml);
    expect(error.location).toEqual({ file: 'configs/simulation.yaml', line, column, field });
    const where = `configs/simulation.yaml:${line}:${column}${field ? ` (${field})` : ''}: `;
    expect(error.message.startsWith(where)).toBe(true);
    expect(error.message).toContain(message);
  });

  it('reads multi_turn over its defaults, the simulated user over input_generation.llm, and the mock keys also under metadata as FluxLoop writes them', () => {
    const config = parseSimulationConfig(`
personas:
  - { name: hurried, description: In a rush }
input_generation:
  llm: { base_url: "http://127.0.0.1:9/v1", model: base-model, timeout_ms: 1234 }
replay_args:
  conversation: { key: sessionId, history_path: kwargs.history }
multi_turn:
  enabled: true
  resume_from: 2
  persona_override: hurried
  supervisor:
    provider: mock
    system_prompt: Play the user.
    metadata: { scripted_questions: [one, two], mock_closing: bye, team: support }
`);
    expect(config.replay_args?.conversation).toEqual({ key: 'sessionId', history_path: 'kwargs.history' });
    const { supervisor, ...rest } = config.multi_turn!;
    expect(rest).toEqual({ enabled: true, max_turns: 8, auto_approve_tools: true, resume_from: 2, persona_override: 'hurried' });
    expect(supervisor).toMatchObject({ provider: 'mock', scripted_questions: ['one', 'two'], mock_closing: 'bye', mock_decision: 'terminate' });
    expect(supervisor.llm).toMatchObject({ base_url: 'http://127.0.0.1:9/v1', model: 'base-model', timeout_ms: 1234, temperature: 0.2, system_prompt: 'Play the user.' });
    expect(parseSimulationConfig('').multi_turn).toMatchObject({ enabled: false, max_turns: 8, supervisor: { provider: 'openai', llm: { model: LLM_DEFAULTS.model } } });
  });

  it('names the path relative to the project root in messages', () => {
    expect(errorOf('x: 1\n\nrecording:\n  targets:\n    - good.js:f\n\n    - bad\n').message).toMatch(
      /^configs\/simulation\.yaml:7:7 \(recording\.targets\[1\]\): invalid target "bad"/,
    );
  });

  it('parses text without a file', () => {
    expect(parseSimulationConfig('recording:\n  max_depth: 3\n').recording.max_depth).toBe(3);
  });
});

describe('personas and input_generation', () => {
  it("reads FluxLoop's persona fields and every generation setting", () => {
    const config = parseSimulationConfig(`personas:
  - name: impatient
    description: in a hurry
    characteristics: [busy, terse]
    language: es
    expertise_level: novice
    goals: [get a refund]
    constraints: [on mobile]
input_generation:
  mode: llm
  strategies: [typo, adversarial, typo]
  variation_count: 3
  seed: 0
  typo_rate: 0.2
  include_base_inputs: false
  llm:
    provider: openai
    base_url: http://127.0.0.1:8080/v1
    model: local-model
    api_key_env: MY_KEY
    temperature: 0.3
    timeout_ms: 500
    max_retries: 0
    concurrency: 2
    system_prompt: be brief
    user_prompt_template: "Vary {input} as {strategy}"
`);
    expect(config.personas).toEqual([
      { name: 'impatient', description: 'in a hurry', characteristics: ['busy', 'terse'], language: 'es', expertise_level: 'novice', goals: ['get a refund'], constraints: ['on mobile'] },
    ]);
    expect(config.input_generation).toEqual({
      mode: 'llm',
      strategies: ['typo', 'adversarial'],
      variation_count: 3,
      seed: 0,
      typo_rate: 0.2,
      include_base_inputs: false,
      llm: {
        provider: 'openai',
        base_url: 'http://127.0.0.1:8080/v1',
        model: 'local-model',
        api_key_env: 'MY_KEY',
        temperature: 0.3,
        timeout_ms: 500,
        max_retries: 0,
        concurrency: 2,
        system_prompt: 'be brief',
        user_prompt_template: 'Vary {input} as {strategy}',
      },
    });
  });

  it.each([
    ['input_generation:\n  strategies: [rephrase, tpyo]\n', 2, 'input_generation.strategies[1]', 'unknown strategy "tpyo"; did you mean "typo"?'],
    ['input_generation:\n  mode: random\n', 2, 'input_generation.mode', 'must be one of deterministic, llm'],
    ['input_generation:\n  variation_count: 0\n', 2, 'input_generation.variation_count', 'must be a positive integer'],
    ['input_generation:\n  typo_rate: 2\n', 2, 'input_generation.typo_rate', 'must be a number from 0.001 to 1'],
    ['input_generation:\n  varation_count: 2\n', 2, 'input_generation.varation_count', 'did you mean "variation_count"?'],
    ['input_generation:\n  llm:\n    api_key: sk-secret\n', 3, 'input_generation.llm.api_key', 'an API key does not belong in the config file'],
    ['input_generation:\n  llm:\n    base_url: ftp://x\n', 3, 'input_generation.llm.base_url', 'must be an http or https URL'],
    ['input_generation:\n  llm:\n    api_key_env: sk-abc-123\n', 3, 'input_generation.llm.api_key_env', 'must be the name of an environment variable'],
    ['input_generation:\n  llm:\n    user_prompt_template: "Vary it"\n', 3, 'input_generation.llm.user_prompt_template', 'must contain {input}'],
    ['input_generation:\n  llm:\n    timeout: 5\n', 3, 'input_generation.llm.timeout', 'did you mean "timeout_ms"?'],
    ['personas:\n  - description: no name\n', 2, 'personas[0]', 'has no "name"'],
    ['personas:\n  - name: a\n  - name: a\n', 3, 'personas[1].name', 'duplicate persona name "a"'],
    ['personas:\n  - name: a\n    goal: [x]\n', 3, 'personas[0].goal', 'did you mean "goals"?'],
    ['personas:\n  - name: a\n    goals: x\n', 3, 'personas[0].goals', 'must be a list of strings'],
  ])('points at the line of a bad generation setting: %j', (yaml, line, field, message) => {
    const error = errorOf(yaml);
    expect(error.location).toMatchObject({ line, field });
    expect(error.message).toContain(message);
  });

  it('does not echo an API key written in the config', () => {
    expect(errorOf('input_generation:\n  llm:\n    api_key: sk-secret-123\n').message).not.toContain('sk-secret-123');
  });
});

describe('setConfigValue', () => {
  const text = `# FluxLoop config
recording:
  targets:
    - app/agent.js:Agent.reply    # the entry point

  file:   recordings/out.jsonl  # odd spacing is kept
  redact_keys: [ssn,  card]

# Replay section
replay_args:
  enabled: false   # switched by fluxloop record
  recording_file: 'recordings/out.jsonl'
  # callable_providers:
  #   kwargs.cb: app/p.js:cb

runner:
  # target: app/agent.js:Agent.reply
  timeout_ms: 1000
base_inputs:
- input: "hi"
`;

  it('rewrites one value in place, every other byte kept', () => {
    const out = setConfigValue(text, ['replay_args', 'enabled'], true);
    expect(out).toBe(text.replace('enabled: false', 'enabled: true'));
    expect(setConfigValue(out, ['replay_args', 'enabled'], false)).toBe(text);
  });

  it('keeps the quoting style of a string', () => {
    const out = setConfigValue(text, ['replay_args', 'recording_file'], 'other.jsonl');
    expect(out).toBe(text.replace("'recordings/out.jsonl'", "'other.jsonl'"));
  });

  it('quotes a string that needs it', () => {
    const out = setConfigValue(text, ['recording', 'file'], 'a: b');
    expect(out).toBe(text.replace('recordings/out.jsonl  #', '"a: b"  #'));
  });

  it('leaves the text alone when the value is already set', () => {
    expect(setConfigValue(text, ['runner', 'timeout_ms'], 1000)).toBe(text);
  });

  it('adds a missing key at the end of its mapping', () => {
    const out = setConfigValue(text, ['replay_args', 'override_param_path'], 'kwargs.message');
    expect(out).toBe(
      text.replace(
        "  recording_file: 'recordings/out.jsonl'\n",
        "  recording_file: 'recordings/out.jsonl'\n  override_param_path: kwargs.message\n",
      ),
    );
  });

  it('creates missing mappings', () => {
    const out = setConfigValue(text, ['evaluation', 'judge', 'model'], 'gpt-4o');
    expect(out).toBe(`${text}evaluation:\n  judge:\n    model: gpt-4o\n`);
    expect(parseDocument(out).toJS().evaluation).toEqual({ judge: { model: 'gpt-4o' } });
  });

  it('fills an empty key', () => {
    const src = 'replay_args:\n  # enabled: later\nrunner: {}\n';
    expect(setConfigValue(src, ['replay_args', 'enabled'], true)).toBe(
      'replay_args:\n  enabled: true\n  # enabled: later\nrunner: {}\n',
    );
    expect(setConfigValue('replay_args:\n  enabled:\n', ['replay_args', 'enabled'], true)).toBe(
      'replay_args:\n  enabled: true\n',
    );
  });

  it('works on empty text, text without a final newline and CRLF text', () => {
    expect(setConfigValue('', ['replay_args', 'enabled'], true)).toBe('replay_args:\n  enabled: true\n');
    expect(setConfigValue('# only a comment', ['a'], 1)).toBe('# only a comment\na: 1\n');
    expect(setConfigValue('x: 1', ['replay_args', 'enabled'], true)).toBe('x: 1\nreplay_args:\n  enabled: true\n');
    expect(setConfigValue('x: 1\r\nreplay_args:\r\n  y: 2\r\n', ['replay_args', 'enabled'], true)).toBe(
      'x: 1\r\nreplay_args:\r\n  y: 2\r\n  enabled: true\r\n',
    );
  });

  it('edits flow mappings', () => {
    expect(setConfigValue('replay_args: {enabled: false}  # note\n', ['replay_args', 'enabled'], true)).toBe(
      'replay_args: {enabled: true}  # note\n',
    );
  });

  it('falls back to the Document API, keeping comments and key order', () => {
    const src = '# head\nb: 1 # one\na:\n  - x\n';
    const out = setConfigValue(src, ['a', 0], { nested: true });
    expect(out).toContain('# head');
    expect(out).toContain('# one');
    expect(out.indexOf('b:')).toBeLessThan(out.indexOf('a:'));
    expect(parseDocument(out).toJS()).toEqual({ b: 1, a: [{ nested: true }] });
  });

  it('throws a ConfigError on broken YAML', () => {
    expect(() => setConfigValue('a: [1\n', ['a'], 1)).toThrow(ConfigError);
  });
});
