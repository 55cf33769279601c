import fs from 'node:fs';
import path from 'node:path';
import {
  Document,
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  Scalar,
  stringify,
  type Node,
} from 'yaml';
import { configPath, projectRelative } from './project.js';
import { parseTarget } from './targets.js';
import { formatParamPath, parseParamPath } from './param-path.js';
import { readLlmConfig } from './llm.js';
import type { LlmConfig } from './types.js';
import { parseYaml, Validator } from './validator.js';
import { ConfigError, type SourceLocation } from './errors.js';
import { configLocation, setKeyLocations } from './locations.js';
import {
  INPUT_GENERATION_DEFAULTS,
  LLM_DEFAULTS,
  RECORDING_DEFAULTS,
  RUNNER_DEFAULTS,
  STRATEGIES,
  type GenerationMode,
  type InputEntry,
  type InputGenerationConfig,
  type Isolation,
  type Persona,
  type DownstreamCaptureConfig,
  type DownstreamReplayConfig,
  DOWNSTREAM_MODES,
  DOWNSTREAM_REPLAY_DEFAULTS,
  type ModelPrice,
  type ConversationConfig,
  type MultiTurnConfig,
  MULTI_TURN_DEFAULTS,
  type SimulatedUserConfig,
  type RecordingConfig,
  type ReplayArgsConfig,
  type RunnerConfig,
  type SimulationConfig,
} from './types.js';

/** Where `fluxloop generate inputs` writes, and experiments read, input variations. */
export const DEFAULT_INPUTS_FILE = 'inputs/generated.yaml';

const REPLAY_KEYS = ['enabled', 'recording_file', 'override_param_path', 'callable_providers', 'providers', 'revive', 'select', 'function', 'downstream', 'conversation'] as const;
const CONVERSATION_KEYS = ['key', 'history_path'] as const;
const MULTI_TURN_KEYS = ['enabled', 'max_turns', 'auto_approve_tools', 'persona_override', 'service_context', 'resume_from', 'supervisor'] as const;
const MOCK_KEYS = ['scripted_questions', 'mock_decision', 'mock_next_user_message', 'mock_closing', 'mock_reason'] as const;
const SIMULATED_USER_KEYS = ['provider', 'system_prompt', 'metadata', ...MOCK_KEYS] as const;
/** The simulated user's model is asked for a decision, not for variety. */
const SIMULATED_USER_TEMPERATURE = 0.2;
const CAPTURE_KEYS = ['http', 'llm', 'targets'] as const;
const DOWNSTREAM_KEYS = ['llm', 'http', 'tools', 'unmatched'] as const;
const PRICE_KEYS = ['input', 'output', 'cached_input'] as const;
const RUNNER_KEYS = ['target', 'factory', 'isolation', 'concurrency', 'timeout_ms', 'retries', 'queue'] as const;
const ISOLATIONS: readonly Isolation[] = ['shared', 'fresh', 'worker'];
const GENERATION_KEYS = ['mode', 'strategies', 'variation_count', 'seed', 'typo_rate', 'include_base_inputs', 'llm'] as const;
const PERSONA_KEYS = ['name', 'description', 'characteristics', 'language', 'expertise_level', 'goals', 'constraints'] as const;
const MODES: readonly GenerationMode[] = ['deterministic', 'llm'];
const PROVIDER_RE = /^(builtin:collector\.(send|error)|[^:\s]+:[^:\s]+)$/;
// `module:Export`: the module may be a package specifier (`@langchain/core/messages`) or a project path.
const REVIVE_RE = /^[^:\s]+:[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;
const CLASS_NAME_RE = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u;

const RECORDING_KEYS = [
  'targets',
  'file',
  'redact_keys',
  'redact_patterns',
  'max_depth',
  'max_array_length',
  'max_string_length',
  'max_record_bytes',
  'max_file_mb',
  'downstream',
] as const;

type Limit = 'max_depth' | 'max_array_length' | 'max_string_length' | 'max_record_bytes';

/** Fresh defaults, so that callers may change the lists. */
function defaultRecording(): RecordingConfig {
  return { targets: [], ...RECORDING_DEFAULTS, redact_keys: [], redact_patterns: [], downstream: { ...RECORDING_DEFAULTS.downstream, targets: [] } };
}

/** The sections of `configs/simulation.yaml`, each checked node by node. */
class SimulationValidator extends Validator {
  recording(node: Node | null, keyNode: Node | null): RecordingConfig {
    const config = defaultRecording();
    if (this.isEmpty(node)) return config;
    for (const { key, keyNode: k, value } of this.mapping(node, 'recording', keyNode)) {
      const field = `recording.${key}`;
      switch (key) {
        case 'targets':
          config.targets = this.stringList(value, field, (spec, item, f) => parseTarget(spec, this.location(item, f)));
          break;
        case 'file':
          config.file = this.string(value, field);
          if (config.file === '') this.fail('must not be empty', value, field);
          break;
        case 'redact_keys':
          config.redact_keys = this.stringList(value, field);
          break;
        case 'redact_patterns':
          config.redact_patterns = this.stringList(value, field, (source, item, f) => {
            try {
              new RegExp(source, 'g');
            } catch (err) {
              this.fail(`invalid regular expression: ${(err as Error).message}`, item, f);
            }
          });
          break;
        case 'max_depth':
        case 'max_array_length':
        case 'max_string_length':
        case 'max_record_bytes':
          config[key as Limit] = this.positiveInteger(value, field) ?? RECORDING_DEFAULTS[key as Limit];
          break;
        case 'max_file_mb': {
          const mb = this.positiveNumber(value, field);
          if (mb !== undefined) config.max_file_mb = mb;
          break;
        }
        case 'downstream':
          this.downstreamCapture(value, k, config.downstream);
          break;
        default:
          this.unknownKey(key, k, 'recording', RECORDING_KEYS);
      }
    }
    return config;
  }

  downstreamCapture(node: Node | null, keyNode: Node | null, config: DownstreamCaptureConfig): void {
    if (this.isEmpty(node)) return;
    for (const { key, keyNode: k, value } of this.mapping(node, 'recording.downstream', keyNode)) {
      const field = `recording.downstream.${key}`;
      switch (key) {
        case 'http':
        case 'llm':
          config[key] = this.boolean(value, field) ?? true;
          break;
        case 'targets':
          config.targets = this.stringList(value, field, (spec, item, f) => parseTarget(spec, this.location(item, f)));
          break;
        default:
          this.unknownKey(key, k, 'recording.downstream', CAPTURE_KEYS);
      }
    }
  }

  downstreamReplay(node: Node | null, keyNode: Node | null): DownstreamReplayConfig {
    const config: DownstreamReplayConfig = { ...DOWNSTREAM_REPLAY_DEFAULTS };
    if (this.isEmpty(node)) return config;
    for (const { key, keyNode: k, value } of this.mapping(node, 'replay_args.downstream', keyNode)) {
      const field = `replay_args.downstream.${key}`;
      switch (key) {
        case 'llm':
        case 'http':
        case 'tools':
          (config as unknown as Record<string, string>)[key] = this.oneOf(value, field, DOWNSTREAM_MODES[key]) ?? config[key];
          break;
        case 'unmatched':
          config.unmatched = this.oneOf(value, field, ['error', 'live'] as const) ?? config.unmatched;
          break;
        default:
          this.unknownKey(key, k, 'replay_args.downstream', DOWNSTREAM_KEYS);
      }
    }
    return config;
  }

  conversation(node: Node | null, keyNode: Node | null): ConversationConfig | undefined {
    if (this.isEmpty(node)) return undefined;
    const config: ConversationConfig = {};
    for (const { key, keyNode: k, value } of this.mapping(node, 'replay_args.conversation', keyNode)) {
      const field = `replay_args.conversation.${key}`;
      if (!(CONVERSATION_KEYS as readonly string[]).includes(key)) this.unknownKey(key, k, 'replay_args.conversation', CONVERSATION_KEYS);
      const text = this.nonEmpty(value, field);
      if (text !== undefined) config[key as keyof ConversationConfig] = parseParamPath(text, this.location(value, field)).text;
    }
    return config;
  }

  multiTurn(node: Node | null, keyNode: Node | null, llm: LlmConfig, personas: readonly Persona[]): MultiTurnConfig {
    const supervisor: SimulatedUserConfig = { provider: 'openai', llm: { ...llm, temperature: SIMULATED_USER_TEMPERATURE }, mock_decision: 'terminate' };
    const config: MultiTurnConfig = { ...MULTI_TURN_DEFAULTS, supervisor };
    if (this.isEmpty(node)) return config;
    let resumeNode: Node | null = null;
    for (const { key, keyNode: k, value } of this.mapping(node, 'multi_turn', keyNode)) {
      const field = `multi_turn.${key}`;
      switch (key) {
        case 'enabled':
        case 'auto_approve_tools':
          config[key] = this.boolean(value, field) ?? MULTI_TURN_DEFAULTS[key];
          break;
        case 'max_turns':
          config.max_turns = this.integerIn(value, field, 1, 100) ?? MULTI_TURN_DEFAULTS.max_turns;
          break;
        case 'resume_from': {
          const turn = this.integerIn(value, field, 1, 100);
          if (turn !== undefined) config.resume_from = turn;
          resumeNode = value;
          break;
        }
        case 'persona_override': {
          const name = this.nonEmpty(value, field);
          if (name === undefined) break;
          if (!personas.some((p) => p.name === name)) this.unknownValue('persona', name, value, field, personas.map((p) => p.name));
          config.persona_override = name;
          break;
        }
        case 'service_context':
          config.service_context = this.nonEmpty(value, field);
          break;
        case 'supervisor':
          this.simulatedUser(value, k, supervisor);
          break;
        default:
          this.unknownKey(key, k, 'multi_turn', MULTI_TURN_KEYS);
      }
    }
    if (config.resume_from !== undefined && config.resume_from > config.max_turns) {
      this.fail(`is turn ${config.resume_from}, past max_turns (${config.max_turns}): the conversation would end before it`, resumeNode, 'multi_turn.resume_from');
    }
    return config;
  }

  /** `multi_turn.supervisor`: the endpoint's keys, the provider, and the mock's keys, also under `metadata` as FluxLoop writes them. */
  simulatedUser(node: Node | null, keyNode: Node | null, config: SimulatedUserConfig): void {
    const section = 'multi_turn.supervisor';
    const mock = (key: string, k: Node | null, value: Node | null, field: string): boolean => {
      switch (key) {
        case 'scripted_questions':
          config.scripted_questions = this.stringList(value, field);
          return true;
        case 'mock_decision':
          config.mock_decision = this.oneOf(value, field, ['continue', 'terminate'] as const) ?? config.mock_decision;
          return true;
        case 'mock_next_user_message':
        case 'mock_closing':
        case 'mock_reason':
          config[key] = this.nonEmpty(value, field);
          return true;
        default:
          return false;
      }
    };
    let systemPrompt: string | undefined;
    const llm = readLlmConfig(this, node, keyNode, section, config.llm, false, (key, k, value, field) => {
      switch (key) {
        case 'provider':
          config.provider = this.oneOf(value, field, ['openai', 'openai-compatible', 'mock'] as const) ?? config.provider;
          return true;
        case 'system_prompt':
          systemPrompt = this.nonEmpty(value, field);
          return true;
        case 'metadata':
          if (this.isEmpty(value)) return true;
          for (const entry of this.mapping(value, field, k)) {
            // FluxLoop keeps the mock's keys, and others of its own, here; only the mock's mean anything to fluxloop.
            mock(entry.key, entry.keyNode, entry.value, `${field}.${entry.key}`);
          }
          return true;
        default:
          return mock(key, k, value, field);
      }
    }, SIMULATED_USER_KEYS);
    config.llm = systemPrompt === undefined ? llm : { ...llm, system_prompt: systemPrompt };
  }

  /** `pricing`: a model's name to its prices in US dollars per million tokens. */
  pricing(node: Node | null, keyNode: Node | null): Record<string, ModelPrice> {
    const prices: Record<string, ModelPrice> = {};
    if (this.isEmpty(node)) return prices;
    for (const model of this.mapping(node, 'pricing', keyNode)) {
      const field = `pricing.${model.key}`;
      const price: Partial<ModelPrice> = {};
      for (const { key, keyNode: k, value } of this.mapping(model.value, field, model.keyNode)) {
        if (!(PRICE_KEYS as readonly string[]).includes(key)) this.unknownKey(key, k, field, PRICE_KEYS);
        const usd = this.number(value, `${field}.${key}`, 0, 1e6);
        if (usd !== undefined) price[key as keyof ModelPrice] = usd;
      }
      for (const needed of ['input', 'output'] as const) {
        if (price[needed] === undefined) this.fail(`has no "${needed}" (US dollars per million ${needed} tokens)`, model.value ?? model.keyNode, field);
      }
      prices[model.key] = price as ModelPrice;
    }
    return prices;
  }

  replayArgs(node: Node | null, keyNode: Node | null): ReplayArgsConfig | undefined {
    if (this.isEmpty(node)) return undefined;
    const providers: Record<string, string> = {};
    const revive: Record<string, string> = {};
    const config: ReplayArgsConfig = { enabled: false, callable_providers: {}, providers, revive, select: 'all', downstream: { ...DOWNSTREAM_REPLAY_DEFAULTS } };
    for (const { key, keyNode: k, value } of this.mapping(node, 'replay_args', keyNode)) {
      const field = `replay_args.${key}`;
      switch (key) {
        case 'enabled':
          config.enabled = this.boolean(value, field) ?? false;
          break;
        case 'recording_file':
        case 'function':
          config[key] = this.nonEmpty(value, field);
          break;
        case 'override_param_path': {
          const text = this.string(value, field);
          if (text !== undefined) config.override_param_path = parseParamPath(text, this.location(value, field)).text;
          break;
        }
        case 'callable_providers':
          this.specs(value, k, field, config.callable_providers, (provider, entry, entryField) => {
            parseParamPath(entry.key, this.location(entry.keyNode, entryField));
            if (!PROVIDER_RE.test(provider)) {
              this.fail(`must be builtin:collector.send, builtin:collector.error or module:function, found ${JSON.stringify(provider)}`, entry.value, entryField);
            }
          });
          break;
        case 'providers':
          this.specs(value, k, field, providers, (provider, entry, entryField) => {
            parseParamPath(entry.key, this.location(entry.keyNode, entryField));
            if (provider.startsWith('builtin:')) this.fail('the built-in collectors go in callable_providers; a provider is module:function', entry.value, entryField);
            this.loadable(provider, entry.value, entryField, 'a provider');
          });
          break;
        case 'revive':
          this.specs(value, k, field, revive, (spec, entry, entryField) => {
            if (!CLASS_NAME_RE.test(entry.key)) this.fail(`${JSON.stringify(entry.key)} is not a class name`, entry.keyNode, entryField);
            if (!REVIVE_RE.test(spec)) this.fail(`must be module:Export (a package or a project path, then the class's export), found ${JSON.stringify(spec)}`, entry.value, entryField);
          }, 'must name the class as module:Export');
          break;
        case 'select':
          config.select = this.select(value, field);
          break;
        case 'downstream':
          config.downstream = this.downstreamReplay(value, k);
          break;
        case 'conversation':
          config.conversation = this.conversation(value, k);
          break;
        default:
          this.unknownKey(key, k, 'replay_args', REPLAY_KEYS);
      }
    }
    // `message` and `kwargs.message` are one path.
    const canonical = (text: string) => {
      const path = parseParamPath(text);
      return formatParamPath(path.root, path.segments);
    };
    const callables = new Set(Object.keys(config.callable_providers).map(canonical));
    const both = Object.keys(providers).find((p) => callables.has(canonical(p)));
    if (both !== undefined) {
      const at = configLocation(providers, both);
      throw new ConfigError(`${JSON.stringify(both)} is in both providers and callable_providers; keep one`, at);
    }
    return config;
  }

  /** A mapping of keys to non-empty strings, each checked by `check`, into `out`; where each key was written is kept for later messages. */
  specs(
    node: Node | null,
    keyNode: Node | null,
    field: string,
    out: Record<string, string>,
    check: (spec: string, entry: { key: string; keyNode: Node | null; value: Node | null }, field: string) => void,
    missing = 'must name a provider',
  ): void {
    if (this.isEmpty(node)) return;
    const locations = new Map<string, SourceLocation>();
    for (const entry of this.mapping(node, field, keyNode)) {
      const entryField = `${field}.${entry.key}`;
      const spec = this.nonEmpty(entry.value, entryField);
      if (spec === undefined) this.fail(missing, entry.value ?? entry.keyNode, entryField);
      check(spec, entry, entryField);
      out[entry.key] = spec;
      locations.set(entry.key, this.location(entry.keyNode, entryField));
    }
    setKeyLocations(out, locations);
  }

  /** A `module:function` a replay loads through the module's exports, as `runner.target`. */
  loadable(spec: string, node: Node | null, field: string, what: string): void {
    const target = parseTarget(spec, this.location(node, field));
    if (target.line !== undefined || target.member?.startsWith('#')) {
      this.fail(`${JSON.stringify(spec)} names ${what} by ${target.line !== undefined ? 'its line' : 'a private name'}, which a replay cannot load: name an export, exportName.method or ClassName.method`, node, field);
    }
  }

  select(node: Node | null, field: string): ReplayArgsConfig['select'] {
    if (this.isEmpty(node)) return 'all';
    const v = isScalar(node) ? node.value : undefined;
    if (v === 'all' || v === 'first' || v === 'last') return v;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
    this.fail(`must be all, first, last or a positive number, found ${this.describe(node)}`, node, field);
  }

  runner(node: Node | null, keyNode: Node | null): RunnerConfig {
    const config: RunnerConfig = { ...RUNNER_DEFAULTS };
    if (this.isEmpty(node)) return config;
    for (const { key, keyNode: k, value } of this.mapping(node, 'runner', keyNode)) {
      const field = `runner.${key}`;
      switch (key) {
        case 'target':
        case 'factory': {
          const spec = this.nonEmpty(value, field);
          if (spec === undefined) break;
          this.loadable(spec, value, field, 'a function');
          config[key] = spec;
          break;
        }
        case 'isolation':
          config.isolation = this.oneOf(value, field, ISOLATIONS) ?? RUNNER_DEFAULTS.isolation;
          break;
        case 'concurrency':
        case 'timeout_ms':
          config[key] = this.positiveInteger(value, field) ?? RUNNER_DEFAULTS[key];
          break;
        case 'retries':
          config.retries = this.count(value, field) ?? RUNNER_DEFAULTS.retries;
          break;
        case 'queue': {
          const url = this.nonEmpty(value, field);
          if (url === undefined) break;
          // Not echoed: a URL may hold a password.
          if (!isRedisUrl(url)) this.fail('must be a Redis URL: redis://host:port, redis://:password@host:port/db or rediss://… for TLS', value, field);
          config.queue = url;
          break;
        }
        default:
          this.unknownKey(key, k, 'runner', RUNNER_KEYS);
      }
    }
    return config;
  }

  personas(node: Node | null): Persona[] {
    if (this.isEmpty(node)) return [];
    if (!isSeq(node)) this.fail(`must be a list of personas, found ${this.describe(node)}`, node, 'personas');
    const names = new Set<string>();
    return node.items.map((raw, i) => {
      const item = this.resolve(raw);
      const field = `personas[${i}]`;
      const persona: Persona = { name: '', characteristics: [], goals: [], constraints: [] };
      for (const { key, keyNode, value } of this.mapping(item, field, item ?? node)) {
        const f = `${field}.${key}`;
        switch (key) {
          case 'name':
            persona.name = this.nonEmpty(value, f) ?? '';
            if (names.has(persona.name)) this.fail(`duplicate persona name ${JSON.stringify(persona.name)}`, value, f);
            names.add(persona.name);
            break;
          case 'description':
          case 'language':
          case 'expertise_level':
            persona[key] = this.string(value, f);
            break;
          case 'characteristics':
          case 'goals':
          case 'constraints':
            persona[key] = this.stringList(value, f);
            break;
          default:
            this.unknownKey(key, keyNode, field, PERSONA_KEYS);
        }
      }
      if (persona.name === '') this.fail('has no "name"', item, field);
      return persona;
    });
  }

  inputGeneration(node: Node | null, keyNode: Node | null): InputGenerationConfig {
    const config: InputGenerationConfig = { ...INPUT_GENERATION_DEFAULTS, strategies: [...INPUT_GENERATION_DEFAULTS.strategies], llm: { ...LLM_DEFAULTS } };
    if (this.isEmpty(node)) return config;
    for (const { key, keyNode: k, value } of this.mapping(node, 'input_generation', keyNode)) {
      const field = `input_generation.${key}`;
      switch (key) {
        case 'mode':
          config.mode = this.oneOf(value, field, MODES) ?? config.mode;
          break;
        case 'strategies': {
          const strategies = this.stringList(value, field, (name, item, f) => {
            if (!(STRATEGIES as readonly string[]).includes(name)) this.unknownValue('strategy', name, item, f, STRATEGIES);
          });
          if (strategies.length > 0) config.strategies = [...new Set(strategies)] as InputGenerationConfig['strategies'];
          break;
        }
        case 'variation_count':
          config.variation_count = this.positiveInteger(value, field) ?? config.variation_count;
          break;
        case 'seed':
          config.seed = this.count(value, field) ?? config.seed;
          break;
        case 'typo_rate':
          config.typo_rate = this.number(value, field, 0.001, 1) ?? config.typo_rate;
          break;
        case 'include_base_inputs':
          config.include_base_inputs = this.boolean(value, field) ?? config.include_base_inputs;
          break;
        case 'llm':
          config.llm = readLlmConfig(this, value, k, 'input_generation.llm', LLM_DEFAULTS);
          break;
        default:
          this.unknownKey(key, k, 'input_generation', GENERATION_KEYS);
      }
    }
    return config;
  }

  /** `base_inputs`: strings, or `{input, metadata}`. */
  inputs(node: Node | null, field: string): InputEntry[] {
    if (this.isEmpty(node)) return [];
    if (!isSeq(node)) this.fail(`must be a list of inputs, found ${this.describe(node)}`, node, field);
    return node.items.map((raw, i) => {
      const item = this.resolve(raw);
      const itemField = `${field}[${i}]`;
      if (isScalar(item) && typeof item.value === 'string') return { input: item.value, metadata: {} };
      if (!isMap(item)) this.fail(`must be a string or a mapping with "input", found ${this.describe(item)}`, item ?? node, itemField);
      const entry: InputEntry = { input: '', metadata: {} };
      let hasInput = false;
      for (const { key, keyNode, value } of this.mapping(item, itemField, item)) {
        if (key === 'input') {
          entry.input = this.string(value, `${itemField}.input`) ?? '';
          hasInput = true;
        } else if (key === 'metadata') {
          if (!this.isEmpty(value)) this.mapping(value, `${itemField}.metadata`, keyNode);
          entry.metadata = (value === null ? {} : (value.toJSON() ?? {})) as Record<string, unknown>;
        } else {
          this.unknownKey(key, keyNode, itemField, ['input', 'metadata']);
        }
      }
      if (!hasInput) this.fail('has no "input"', item, itemField);
      return entry;
    });
  }

  config(): SimulationConfig {
    const root = this.resolve(this.doc.contents);
    let raw: Record<string, unknown>;
    try {
      raw = (this.doc.toJS() ?? {}) as Record<string, unknown>;
    } catch (err) {
      // yaml refuses documents whose aliases expand exponentially.
      this.fail((err as Error).message, root);
    }
    const top = this.isEmpty(root) ? [] : this.mapping(root, undefined, root);
    const section = (name: string) => top.find((e) => e.key === name) ?? { value: null, keyNode: null };
    const field = (name: string) => section(name).value;
    const replay = section('replay_args');
    const runner = section('runner');
    const personas = this.personas(field('personas'));
    const inputGeneration = this.inputGeneration(section('input_generation').value, section('input_generation').keyNode);
    return {
      name: this.nonEmpty(field('name'), 'name') ?? 'experiment',
      recording: this.recording(section('recording').value, section('recording').keyNode),
      replay_args: this.replayArgs(replay.value, replay.keyNode),
      runner: this.runner(runner.value, runner.keyNode),
      iterations: this.positiveInteger(field('iterations'), 'iterations') ?? 1,
      output_directory: this.nonEmpty(field('output_directory'), 'output_directory') ?? 'experiments',
      inputs_file: this.nonEmpty(field('inputs_file'), 'inputs_file') ?? DEFAULT_INPUTS_FILE,
      base_inputs: this.inputs(field('base_inputs'), 'base_inputs'),
      personas,
      input_generation: inputGeneration,
      pricing: this.pricing(field('pricing'), section('pricing').keyNode),
      multi_turn: this.multiTurn(field('multi_turn'), section('multi_turn').keyNode, inputGeneration.llm, personas),
      raw,
    };
  }
}

/**
 * Reads and checks `configs/simulation.yaml` under `root`, or `file` (relative to the project) when
 * given. A missing default file gives the defaults, a missing given one is an error; a syntax or
 * validation error throws a ConfigError at the offending line and column.
 */
export function loadSimulationConfig(root: string, file?: string): SimulationConfig {
  const absolute = file === undefined ? configPath(root) : path.resolve(root, file);
  const display = projectRelative(root, absolute);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (file !== undefined) throw new ConfigError(`config file cannot be read (${code === 'ENOENT' ? 'not found' : code})`, { file: display });
    if (code !== 'ENOENT') throw err;
    text = '';
  }
  return parseSimulationConfig(text, display);
}

/** Checks simulation config text; `file` is the path shown in messages. */
export function parseSimulationConfig(text: string, file: string = 'configs/simulation.yaml'): SimulationConfig {
  const lineCounter = new LineCounter();
  const doc = parseYaml(text, file, lineCounter);
  return new SimulationValidator(doc, lineCounter, file).config();
}

// Quoted and plain scalars sit on one line and can be rewritten in place; block scalars cannot.
const INLINE_TYPES = new Set(['PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE']);

/** Rewrites an existing one-line scalar in place, or returns undefined when that is not possible. */
function replaceScalar(text: string, doc: Document.Parsed, keys: (string | number)[], value: unknown): string | undefined {
  const node = doc.getIn(keys, true);
  const parent = keys.length > 1 ? doc.getIn(keys.slice(0, -1), true) : doc.contents;
  if (!isScalar(node) || !node.range || node.tag || node.anchor || !INLINE_TYPES.has(node.type ?? '')) return undefined;
  // In a flow collection a string may need quotes that a block context would not.
  if ((isMap(parent) || isSeq(parent)) && parent.flow && typeof value === 'string') return undefined;
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) return undefined;
  if (node.value === value) return text;
  const scalar = new Scalar(value);
  if (typeof value === 'string' && node.type !== 'PLAIN') scalar.type = node.type;
  const rendered = new Document(scalar).toString({ lineWidth: 0 }).replace(/\n$/, '');
  if (rendered.includes('\n')) return undefined;
  const [start, end] = node.range;
  // An empty value (`key:`) has no blank before it yet.
  const gap = start === end && !/\s/.test(text[start - 1] ?? ' ') ? ' ' : '';
  return text.slice(0, start) + gap + rendered + text.slice(end);
}

/** The column where a node starts. */
function columnOf(text: string, node: Node): number | undefined {
  if (!node.range) return undefined;
  return node.range[0] - (text.lastIndexOf('\n', node.range[0] - 1) + 1);
}

/**
 * Adds missing keys as new lines in the deepest block mapping that exists, indented like its other
 * keys (or under an empty `key:`), so that the rest of the file is untouched. Undefined when that
 * is not possible.
 */
function insertKeys(text: string, doc: Document.Parsed, keys: (string | number)[], value: unknown): string | undefined {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  let depth = 0;
  while (depth < keys.length && isMap(node) && !node.flow && node.has(keys[depth])) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === keys[depth]);
    keyNode = pair?.key as Node | undefined;
    node = node.get(keys[depth++], true);
  }
  if (depth === keys.length || keys.slice(depth).some((k) => typeof k !== 'string')) return undefined;
  let block: unknown = value;
  for (let i = keys.length - 1; i >= depth; i--) block = { [keys[i] as string]: block };
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let at: number;
  let indent: number | undefined = 0;
  if (doc.contents === null) {
    at = text.length;
  } else if (isMap(node) && !node.flow && node.items.length > 0 && node.range) {
    indent = columnOf(text, node.items[0]!.key as Node);
    at = node.range[1];
  } else if (isScalar(node) && node.value === null && node.range && node.range[0] === node.range[1] && keyNode) {
    // An empty `key:` becomes the mapping; its new lines go right below it.
    const keyColumn = columnOf(text, keyNode);
    indent = keyColumn === undefined ? undefined : keyColumn + 2;
    at = node.range[0];
  } else {
    return undefined;
  }
  if (indent === undefined) return undefined;
  // The spot may be inside a line (a trailing comment, no final newline): go past that line.
  if (at > 0 && text[at - 1] !== '\n') {
    const nl = text.indexOf('\n', at);
    at = nl === -1 ? text.length : nl + 1;
  }
  const lines = stringify(block, { lineWidth: 0 }).replace(/\n$/, '').split('\n');
  const added = lines.map((line) => ' '.repeat(indent) + line).join(eol) + eol;
  const lead = at > 0 && text[at - 1] !== '\n' ? eol : '';
  return text.slice(0, at) + lead + added + text.slice(at);
}

/**
 * Sets `keys` to `value` in YAML text, creating missing mappings, and keeps every comment, blank
 * line and key order. A one-line scalar is rewritten in place and missing keys are added as new
 * lines, so that the rest of the file stays byte for byte; anything else goes through the
 * Document API (`setIn`), which may reformat other lines.
 */
export function setConfigValue(text: string, keys: (string | number)[], value: unknown, file: string = 'configs/simulation.yaml'): string {
  const doc = parseYaml(text, file);
  const edited = doc.clone();
  // An empty `key:` on the way holds null, which setIn cannot descend into.
  for (let i = 1; i < keys.length; i++) {
    const step = edited.getIn(keys.slice(0, i), true);
    if (isScalar(step) && step.value === null) edited.setIn(keys.slice(0, i), edited.createNode({}));
  }
  edited.setIn(keys, value);
  const expected = JSON.stringify(edited.toJS());
  for (const edit of [replaceScalar, insertKeys]) {
    const result = edit(text, doc, keys, value);
    // Read back and compared with the Document API's result, so that an in-place edit never means something else.
    if (result === undefined) continue;
    const check = parseDocument(result);
    if (check.errors.length === 0 && JSON.stringify(check.toJS()) === expected) return result;
  }
  return edited.toString({ lineWidth: 0 });
}

/**
 * The `inputs` list of an inputs file (`inputs/generated.yaml`), each `{input, metadata}` or a
 * string; other top-level keys (stats, generation_config) are the generator's. `file` is the
 * path shown in messages.
 */
export function parseInputsFile(text: string, file: string): InputEntry[] {
  return parseInputLines(text, file).map(({ input, metadata }) => ({ input, metadata }));
}

/** An entry of an inputs file, with the line (from 1) where it stands. */
export interface InputLine extends InputEntry {
  line: number;
}

/** The `inputs` of an inputs file as {@link parseInputsFile} reads them, each with its line. */
export function parseInputLines(text: string, file: string): InputLine[] {
  const lineCounter = new LineCounter();
  const doc = parseYaml(text, file, lineCounter);
  const validator = new SimulationValidator(doc, lineCounter, file);
  const root = validator.resolve(doc.contents);
  if (validator.isEmpty(root)) return [];
  const inputs = validator.mapping(root, undefined, root).find((e) => e.key === 'inputs');
  if (inputs === undefined) return validator.fail('has no "inputs" list', root);
  const entries = validator.inputs(inputs.value, 'inputs');
  // The item's own node, an alias included: its line is where the entry stands in the list.
  const items = isSeq(inputs.value) ? (inputs.value.items as Node[]) : [];
  return entries.map((entry, i) => ({ ...entry, line: validator.location(items[i]).line ?? 1 }));
}

/** Whether `text` is a URL that ioredis takes: redis:// or rediss://, with a host. */
export function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}
