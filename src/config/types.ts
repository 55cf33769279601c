/** The parts of `configs/simulation.yaml` that the recorder reads. Other sections are kept in `raw`. */
export interface RecordingConfig {
  /** `path/to/module.js:exportName`, `path:export.method`, `path:Class.method` or `path:default`. */
  targets: string[];
  /** Where records go; relative to the project root. `FLUXLOOP_RECORDING_FILE` wins over it. */
  file?: string;
  /** Extra key words whose values are masked, on top of the built-in ones. */
  redact_keys: string[];
  /** Extra regular expressions (source text) whose matches in string values are masked. */
  redact_patterns: string[];
  max_depth: number;
  max_array_length: number;
  max_string_length: number;
  max_record_bytes: number;
  /** Past this many MB (1,048,576 bytes each) the file is rotated to a timestamped file beside it; unset, it only grows. */
  max_file_mb?: number;
  /** What a recorded call calls downstream, recorded as children of its record. */
  downstream: DownstreamCaptureConfig;
}

/** `recording.downstream`: the kinds of downstream call recorded under a recorded call. */
export interface DownstreamCaptureConfig {
  /** Outbound HTTP: fetch (undici) and http/https requests. */
  http: boolean;
  /** LLM API calls (OpenAI chat completions and responses, Anthropic messages), kept as LLM calls. */
  llm: boolean;
  /** Functions recorded as tool calls when a recorded call calls them; any target form. */
  targets: string[];
}

/** How a replay answers one kind of downstream call. */
export type DownstreamMode = 'live' | 'stub' | 'deny';
export type DownstreamKind = 'llm' | 'http' | 'tools';

/** `replay_args.downstream`: how a replay answers what the target calls downstream. */
export interface DownstreamReplayConfig {
  llm: Exclude<DownstreamMode, 'deny'>;
  http: DownstreamMode;
  tools: Exclude<DownstreamMode, 'deny'>;
  /** A call that the recording cannot answer: fail the run, or let it through live. */
  unmatched: 'error' | 'live';
}

/** The model meets the new input; nothing else leaves the process. */
export const DOWNSTREAM_REPLAY_DEFAULTS: DownstreamReplayConfig = { llm: 'live', http: 'stub', tools: 'stub', unmatched: 'error' };

/** The modes each kind takes. */
export const DOWNSTREAM_MODES: Readonly<Record<DownstreamKind, readonly DownstreamMode[]>> = {
  llm: ['live', 'stub'],
  http: ['live', 'stub', 'deny'],
  tools: ['live', 'stub'],
};

/** One model's price, in US dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Input tokens read from the provider's cache; `input` when absent. */
  cached_input?: number;
}

/** `replay_args`: which recordings an experiment replays, and where each input goes in them. */
export interface ReplayArgsConfig {
  enabled: boolean;
  /** Relative to the project root; the recording file by default. */
  recording_file?: string;
  /** `args.N[.rest]`, `kwargs.NAME[.rest]` or a bare `NAME[.rest]` (meaning `kwargs.NAME`). */
  override_param_path?: string;
  /** A path in the arguments to `builtin:collector.send`, `builtin:collector.error` or `module:function`. */
  callable_providers: Record<string, string>;
  /**
   * A path in the arguments to the `module:function` whose return value (awaited) is put there for
   * each run: a live client, a database handle, an object of callbacks.
   */
  providers: Record<string, string>;
  /** A recorded class name to the `module:Export` its instances are made from in a replay. */
  revive: Record<string, string>;
  /** `all` recordings, the `first`, the `last`, or the first N. */
  select: 'all' | 'first' | 'last' | number;
  /** Only the recordings of this function name or target. */
  function?: string;
  /** How the target's downstream calls are answered. */
  downstream: DownstreamReplayConfig;
  /** Which recorded calls form one conversation, and where the agent reads its history. */
  conversation?: ConversationConfig;
}

/** `replay_args.conversation`. */
export interface ConversationConfig {
  /** A path in the arguments (`kwargs.sessionId`, `args.0.conversationId`) whose value the calls of one conversation share. */
  key?: string;
  /** A path in the arguments (`kwargs.history`) where the agent gets the conversation so far, rebuilt from the transcript in the recording's shape. */
  history_path?: string;
}

/** `multi_turn.supervisor`: the simulated user who carries a conversation on (FluxLoop calls it the supervisor). */
export interface SimulatedUserConfig {
  /** `mock` plays back `scripted_questions` with no network; `openai` (or `openai-compatible`) asks `llm`'s endpoint. */
  provider: 'openai' | 'openai-compatible' | 'mock';
  /** The endpoint and its limits: `input_generation.llm`'s, with the section's own keys over them. */
  llm: LlmConfig;
  /** `mock`: the simulated user's messages, in order; once they run out, the conversation ends (`mock_reason`, default `script_complete`). */
  scripted_questions?: string[];
  /** `mock` without a script: `terminate` (the default) or `continue` with `mock_next_user_message`. */
  mock_decision: 'continue' | 'terminate';
  mock_next_user_message?: string;
  /** `mock`: the closing user message when it ends the conversation. */
  mock_closing?: string;
  /** `mock`: the termination reason when it ends the conversation. */
  mock_reason?: string;
}

/** `multi_turn`: conversations instead of single calls, carried on by a simulated user. */
export interface MultiTurnConfig {
  enabled: boolean;
  /** 1 to 100; a conversation that reaches it ends with `max_turns_reached`. */
  max_turns: number;
  /** Given to the agent as its `auto_approve` (or `autoApprove`) argument, where it takes one. */
  auto_approve_tools: boolean;
  /** The name of a persona (`personas`) the simulated user plays, over the input's `metadata.persona`. */
  persona_override?: string;
  /** What the service is, for the simulated user; an input's `metadata.service_context` wins over it. */
  service_context?: string;
  /** Replays a recorded conversation's first k−1 turns as recorded and puts the input at turn k. */
  resume_from?: number;
  supervisor: SimulatedUserConfig;
}

export const MULTI_TURN_DEFAULTS: Omit<MultiTurnConfig, 'supervisor'> = { enabled: false, max_turns: 8, auto_approve_tools: true };

export type Isolation = 'shared' | 'fresh' | 'worker';

/** `runner`: how an experiment loads and calls the agent. */
export interface RunnerConfig {
  /** `module:export` or `module:Class.method`; a recording target by default. */
  target?: string;
  /** `module:function` that makes the instance whose method `target` names. */
  factory?: string;
  isolation: Isolation;
  concurrency: number;
  /** Per run. */
  timeout_ms: number;
  retries: number;
  /** A Redis URL: the experiment's runs go through a queue there, to `fluxloop worker`s (`--queue`). */
  queue?: string;
}

/** One entry of `base_inputs` or of an inputs file. */
export interface InputEntry {
  input: string;
  metadata: Record<string, unknown>;
}

/** A simulated user, with FluxLoop's fields. */
export interface Persona {
  name: string;
  description?: string;
  characteristics: string[];
  /** A language code or name, e.g. `en`, `es`. */
  language?: string;
  /** Free text; `novice`, `intermediate` and `expert` are the usual values. */
  expertise_level?: string;
  goals: string[];
  constraints: string[];
}

/** The variation strategies of `fluxloop generate inputs`, in FluxLoop's names. */
export const STRATEGIES = ['rephrase', 'typo', 'verbose', 'concise', 'noise', 'persona_based', 'adversarial'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export type GenerationMode = 'deterministic' | 'llm';

/** `input_generation.llm`: an OpenAI-compatible chat completions endpoint. The key itself is only ever read from the environment. */
export interface LlmConfig {
  provider: string;
  /** Up to the API version, e.g. `https://api.openai.com/v1`; `/chat/completions` is appended. */
  base_url: string;
  model: string;
  /** The environment variable (or `.env` key) that holds the API key. */
  api_key_env: string;
  temperature: number;
  /** Per request attempt. */
  timeout_ms: number;
  /** Retries after the first attempt, on 429, 5xx, timeouts and network errors. */
  max_retries: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** The overall limit of a command's requests together; absent, the command's own (generate inputs: 600 s; the judge: none). */
  max_time_ms?: number;
  /** Stop after this many requests in a row failed for good; 3 when absent. */
  max_consecutive_failures?: number;
  system_prompt?: string;
  /** With `{input}`, `{strategy}`, `{persona}` and `{count}` placeholders. */
  user_prompt_template?: string;
}

/** `input_generation`. */
export interface InputGenerationConfig {
  mode: GenerationMode;
  strategies: Strategy[];
  /** Distinct variations per base input and strategy, and per persona where personas are set (for persona_based, or for every strategy in llm mode). */
  variation_count: number;
  seed: number;
  /** The share of letters the `typo` strategy changes. */
  typo_rate: number;
  /** Whether the generated file starts each base input's entries with the base input itself. */
  include_base_inputs: boolean;
  llm: LlmConfig;
}

export interface SimulationConfig {
  /** The experiment's name, the first part of its folder's name. */
  name: string;
  recording: RecordingConfig;
  /** Absent when the section is absent. */
  replay_args?: ReplayArgsConfig;
  runner: RunnerConfig;
  iterations: number;
  /** Where experiment folders go; relative to the project root. */
  output_directory: string;
  /** The generated inputs; relative to the project root. */
  inputs_file: string;
  base_inputs: InputEntry[];
  personas: Persona[];
  input_generation: InputGenerationConfig;
  /** `pricing`: prices by model, over the table fluxloop ships. */
  pricing: Record<string, ModelPrice>;
  /** `multi_turn`: off unless `enabled`; always set when read from a file. */
  multi_turn?: MultiTurnConfig;
  /** The whole parsed document, for sections a later stage reads. */
  raw: Record<string, unknown>;
}

export const RUNNER_DEFAULTS: RunnerConfig = {
  // Each run gets its own copy of the target module's state at the cost of one module
  // evaluation, so that a first experiment cannot be skewed by runs leaking into each other.
  isolation: 'fresh',
  concurrency: 4,
  timeout_ms: 60_000,
  retries: 0,
};

export const LLM_DEFAULTS: LlmConfig = {
  provider: 'openai',
  base_url: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini',
  api_key_env: 'OPENAI_API_KEY',
  temperature: 0.8,
  timeout_ms: 30_000,
  max_retries: 3,
  concurrency: 4,
};

export const INPUT_GENERATION_DEFAULTS: Omit<InputGenerationConfig, 'llm'> = {
  mode: 'deterministic',
  strategies: ['rephrase', 'typo', 'verbose', 'concise'],
  variation_count: 2,
  // A fixed default, so that two runs without a seed still give the same file.
  seed: 42,
  typo_rate: 0.05,
  include_base_inputs: true,
};

export const RECORDING_DEFAULTS: Omit<RecordingConfig, 'targets'> = {
  redact_keys: [],
  redact_patterns: [],
  max_depth: 12,
  max_array_length: 1000,
  max_string_length: 20_000,
  max_record_bytes: 1_000_000,
  downstream: { http: true, llm: true, targets: [] },
};

/** A configured target, split into its parts. */
export interface TargetSpec {
  /** The text as configured, e.g. `app/agent.js:Agent.reply`. */
  spec: string;
  /** The module path as configured, relative to the project root. */
  file: string;
  /**
   * The name: an export, `default`, or (in the project's own files) any function, class or
   * object declared at the module's top level. For a line target, the line as written.
   */
  exportName: string;
  /** The method of an exported object or class, when the spec has one. */
  member?: string;
  /** A line target (`app/server.js:42`): the function that begins on this line (1-based). */
  line?: number;
  /** With `app/server.js:42:17`, the column (1-based) it begins at, when a line has several. */
  column?: number;
}

/** The evaluators of `configs/evaluation.yaml` (or `evaluation:` in `configs/simulation.yaml`). */
export const EVALUATOR_TYPES = [
  'output_not_empty',
  'contains',
  'not_contains',
  'matches_regex',
  'json_valid',
  'latency_under',
  'success',
  'similarity',
  'llm_judge',
  'same_path',
  'max_turns_under',
  'terminated_by',
] as const;
export type EvaluatorType = (typeof EVALUATOR_TYPES)[number];

/** The evaluators that judge a whole conversation, never one call: skipped on single runs. */
export const CONVERSATION_EVALUATOR_TYPES: readonly EvaluatorType[] = ['max_turns_under', 'terminated_by'];

/**
 * What an evaluator judges in a conversation: each turn as a run (`turn`), or the conversation as
 * a whole (`conversation`). The types of {@link CONVERSATION_EVALUATOR_TYPES} judge conversations;
 * llm_judge does with `scope: conversation`; every other evaluator judges turns.
 */
export type EvaluatorScope = 'turn' | 'conversation';

/** See {@link EvaluatorScope}. */
export function evaluatorScope(config: Pick<EvaluatorConfig, 'type' | 'scope'>): EvaluatorScope {
  return CONVERSATION_EVALUATOR_TYPES.includes(config.type) || config.scope === 'conversation' ? 'conversation' : 'turn';
}

/** One entry of `evaluators`. Which optional fields apply depends on `type`. */
export interface EvaluatorConfig {
  type: EvaluatorType;
  /** Unique within the config; the type by default, `type_2`… for repeats. */
  name: string;
  /** Its share of a run's score; 1 by default. */
  weight: number;
  /** The score at which this evaluator passes: 1 for the rules, 0.8 for similarity, 0.7 for llm_judge by default. */
  threshold: number;
  /** contains / not_contains: the text looked for. */
  value?: string;
  /** contains / not_contains: false to ignore case; true by default. */
  case_sensitive?: boolean;
  /** matches_regex: the pattern's source, checked when the config is read. */
  pattern?: string;
  flags?: string;
  /** latency_under: the bound in milliseconds. */
  max_ms?: number;
  /** llm_judge: what the judge is asked. */
  rubric?: string;
  /** llm_judge: overrides `evaluation.llm.model`. */
  model?: string;
  /**
   * llm_judge: `conversation` to judge a conversation's whole transcript (every user and
   * assistant message) against the rubric, rather than each turn's reply; `turn` by default.
   */
  scope?: EvaluatorScope;
  /** max_turns_under: passes when the conversation took fewer turns than this. */
  max_turns?: number;
  /** terminated_by: passes when the conversation's `termination_reason` is one of these. */
  reasons?: string[];
}

/** The evaluation section, with defaults filled in. */
export interface EvaluationConfig {
  /** The weighted share of passing evaluators a run needs: 1 (all of them) by default. */
  pass_threshold: number;
  /**
   * The share of runs that must pass for the evaluation to pass (exit 0), 0 to 1; null (the
   * default) sets no minimum. `--min-pass-rate` wins over it.
   */
  pass_rate_threshold: number | null;
  evaluators: EvaluatorConfig[];
  /** The judge's endpoint: `evaluation.llm`, else `input_generation.llm`, with temperature 0 unless set. */
  llm: LlmConfig;
  /** Where the config was read, for messages: `configs/evaluation.yaml` or `configs/simulation.yaml`. */
  source: string;
}
