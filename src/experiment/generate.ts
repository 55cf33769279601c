import { ConfigError } from '../config/errors';
import { resolveProjectRoot } from '../config/project';
import { loadSimulationConfig } from '../config/simulation';
import type { GenerationMode, InputEntry, InputGenerationConfig, Persona, SimulationConfig, Strategy } from '../config/types';
import { DEFAULT_MAX_CONSECUTIVE_FAILURES, LlmStopped, clientFor, publicUrl } from './llm-client';
import { parseVariations, variationPrompt } from './llm-variations';
import { chooseSeeds, type Seeds } from './seeds';
import { TRANSFORMS } from './variations';
import { seededRandom } from './variations/random';

/** Options of {@link generateInputs}; each overrides its `input_generation` setting. */
export interface GenerateOptions {
  /** The project root; `FLUXLOOP_PROJECT_DIR` or the current directory by default. */
  projectDir?: string;
  /** The config; read from `configs/simulation.yaml` by default. */
  config?: SimulationConfig;
  mode?: GenerationMode;
  strategies?: Strategy[];
  seed?: number;
  /** At most this many inputs, spread over base inputs and strategies. */
  limit?: number;
  /**
   * Vary the distinct values found at `replay_args.override_param_path` in the recordings, and fail
   * when there are none. By default they are varied when `replay_args.enabled` is true and the
   * recordings hold some, else `base_inputs` are.
   */
  fromRecording?: boolean;
  /** Vary `base_inputs`, whatever the recordings hold. */
  fromConfig?: boolean;
  /** LLM mode: the limit of all prompts together (`input_generation.llm.max_time_ms`, else 600 s). */
  maxTimeMs?: number;
  /** LLM mode: stop after this many prompts in a row failed (`input_generation.llm.max_consecutive_failures`, else 3). */
  maxConsecutiveFailures?: number;
  /** LLM mode: after each prompt, with its failure if it failed. */
  onProgress?: (progress: { done: number; total: number; failure?: PromptFailure }) => void;
}

/** One base input, strategy and persona: the unit that gets `variation_count` variations (and, in LLM mode, one prompt). */
export interface Group {
  base_index: number;
  base: InputEntry;
  /** `base` for the base input itself. */
  strategy: Strategy | 'base';
  persona?: Persona;
}

/**
 * LLM mode: prompts were cut short by the overall time limit (`max_time`) or by failures in a row
 * (`failures`); `message` says which, and for failures the endpoint and the last error.
 */
export interface GenerationStop {
  reason: 'max_time' | 'failures';
  message: string;
  /** Prompts answered or failed before the stop; the others were not sent or were aborted. */
  done: number;
}

/**
 * How long LLM prompts may take together by default: a generation of a hundred prompts takes a
 * few minutes at the default concurrency, and a CI job should learn within ten that an endpoint
 * is too slow, rather than wait for every prompt's timeouts and retries.
 */
export const DEFAULT_MAX_TIME_MS = 600_000;

/** A group that got fewer distinct variations than asked for. */
export interface Shortfall {
  group: Group;
  made: number;
}

/** An LLM prompt that failed for good; its group is skipped. */
export interface PromptFailure {
  group: Group;
  error: string;
}

/** The `stats` of an inputs file. */
export interface GenerationStats {
  total: number;
  base_inputs: number;
  personas: number;
  /** How many inputs each strategy gave; `base` counts the base inputs themselves. */
  strategies: Record<string, number>;
}

/** Everything decided before the first variation is made. */
export interface GenerationPlan {
  root: string;
  config: SimulationConfig;
  settings: InputGenerationConfig;
  seeds: Seeds;
  /** The base inputs, then each strategy across base inputs and personas. */
  groups: Group[];
  /** The `generation_config` written to the file: no secret. */
  generation_config: Record<string, unknown>;
}

export interface GenerationResult {
  plan: GenerationPlan;
  inputs: InputEntry[];
  stats: GenerationStats;
  shortfalls: Shortfall[];
  failures: PromptFailure[];
  /** LLM mode: how many prompts were sent; when every one failed, nothing should be written. */
  prompts: number;
  /** LLM mode: set when the prompts stopped early; `inputs` then holds what the prompts done gave, and `generation_config.incomplete` says so. */
  stopped?: GenerationStop;
}

/** Reads the config and the base inputs, and lays out the groups; nothing is generated yet. */
export async function planGeneration(options: GenerateOptions = {}): Promise<GenerationPlan> {
  const root = resolveProjectRoot(options.projectDir);
  const config = options.config ?? loadSimulationConfig(root);
  const settings: InputGenerationConfig = {
    ...config.input_generation,
    mode: options.mode ?? config.input_generation.mode,
    strategies: options.strategies?.length ? [...new Set(options.strategies)] : config.input_generation.strategies,
    seed: options.seed ?? config.input_generation.seed,
    llm: {
      ...config.input_generation.llm,
      max_time_ms: options.maxTimeMs ?? config.input_generation.llm.max_time_ms ?? DEFAULT_MAX_TIME_MS,
      max_consecutive_failures: options.maxConsecutiveFailures ?? config.input_generation.llm.max_consecutive_failures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES,
    },
  };
  if (settings.strategies.includes('persona_based') && config.personas.length === 0) {
    throw new ConfigError('the persona_based strategy needs personas: add some under personas (name, description, goals…)', {
      file: 'configs/simulation.yaml',
      field: 'personas',
    });
  }
  if (options.fromRecording && options.fromConfig) throw new ConfigError('--from-recording and --from-config exclude each other: give one');
  const seeds = await chooseSeeds(root, config, options.fromRecording ? 'recording' : options.fromConfig ? 'config' : 'default');
  // Every prompt to a model describes the persona, but of the deterministic transforms only
  // persona_based reads it: a typo made "for" each persona would only repeat the others.
  const personasOf = (strategy: Strategy): Array<Persona | undefined> =>
    config.personas.length > 0 && (settings.mode === 'llm' || strategy === 'persona_based') ? config.personas : [undefined];
  const bases = seeds.inputs.map((base, base_index) => ({ base, base_index }));
  const groups: Group[] = [
    ...(settings.include_base_inputs ? bases.map((b): Group => ({ ...b, strategy: 'base' })) : []),
    ...settings.strategies.flatMap((strategy) => bases.flatMap((b) => personasOf(strategy).map((persona): Group => ({ ...b, strategy, persona })))),
  ];
  const { llm, ...rest } = settings;
  const generation_config = {
    ...rest,
    source: seeds.source,
    personas: config.personas.map((p) => p.name),
    ...(settings.mode === 'llm' ? { llm: { provider: llm.provider, base_url: publicUrl(llm.base_url), model: llm.model, temperature: llm.temperature, api_key_env: llm.api_key_env } } : {}),
  };
  return { root, config, settings, seeds, groups, generation_config };
}

/**
 * Makes the variations: `variation_count` distinct ones per base input, strategy and persona, each
 * unlike every base input and every input before it. The same config and seed give the same
 * inputs in deterministic mode.
 */
export async function generateInputs(options: GenerateOptions = {}): Promise<GenerationResult> {
  const plan = await planGeneration(options);
  return generate(plan, options);
}

/** The variations of a plan; with a limit, strategies take turns (see takenInTurn). */
export async function generate(plan: GenerationPlan, options: Pick<GenerateOptions, 'limit' | 'onProgress'> = {}): Promise<GenerationResult> {
  const { settings } = plan;
  const limit = options.limit ?? Infinity;
  const groups = groupsWithin(plan, limit);
  // LLM replies compare without case and spacing, which models vary at will.
  const keyOf = settings.mode === 'llm' ? (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase() : (text: string) => text;
  const seen = new Set(plan.seeds.inputs.map((b) => keyOf(b.input)));
  const shortfalls: Shortfall[] = [];
  const failures: PromptFailure[] = [];
  const llm = settings.mode === 'llm' ? await llmReplies(plan, groups, failures, options.onProgress) : undefined;
  const replies = llm?.replies;
  const made = groups.map((group, g): InputEntry[] => {
    if (group.strategy === 'base') return [entry(group, settings.seed, group.base.input)];
    const texts = replies?.[g];
    if (replies && texts === undefined) return [];
    const entries: InputEntry[] = [];
    const wanted = settings.variation_count;
    for (let attempt = 0; entries.length < wanted && attempt < (texts?.length ?? wanted * 10 + 10); attempt++) {
      const variation = texts
        ? { input: texts[attempt]! }
        : TRANSFORMS[group.strategy](group.base.input, {
            rng: seededRandom(settings.seed, group.base.input, group.strategy, group.persona?.name ?? '', attempt),
            attempt,
            persona: group.persona,
            typoRate: settings.typo_rate,
          });
      if (variation === undefined) break;
      const key = keyOf(variation.input);
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push(entry(group, settings.seed, variation.input, variation.metadata));
    }
    if (entries.length < wanted) shortfalls.push({ group, made: entries.length });
    return entries;
  });
  const taken = takenInTurn(groups, made.map((entries) => entries.length), limit);
  const inputs = groups
    .map((group, g) => ({ group, g }))
    .sort((a, b) => a.group.base_index - b.group.base_index || a.g - b.g)
    .flatMap(({ g }) => made[g]!.slice(0, taken[g]));
  const prompts = replies === undefined ? 0 : groups.filter((g) => g.strategy !== 'base').length;
  const stopped = llm?.stopped;
  if (stopped === undefined) return { plan, inputs, stats: statsOf(plan, inputs), shortfalls, failures, prompts };
  // Whoever reads the file must see that it is not the whole generation, and why; the server's
  // error text stays on the console, out of a file that may be committed.
  const { max_time_ms, max_consecutive_failures } = settings.llm;
  const why = stopped.reason === 'max_time' ? `the overall time limit of ${max_time_ms! / 1000} s passed` : `${max_consecutive_failures} prompts in a row failed`;
  const incomplete = `stopped after ${stopped.done} of ${prompts} prompts: ${why}`;
  const marked = { ...plan, generation_config: { ...plan.generation_config, incomplete } };
  return { plan: marked, inputs, stats: statsOf(plan, inputs), shortfalls, failures, prompts, stopped };
}

/** The groups a limit leaves something of, were each to get all its variations: in LLM mode, the prompts to send. */
export function groupsWithin(plan: GenerationPlan, limit = Infinity): Group[] {
  const sizes = plan.groups.map((g) => (g.strategy === 'base' ? 1 : plan.settings.variation_count));
  const taken = takenInTurn(plan.groups, sizes, limit);
  return plan.groups.filter((_, g) => taken[g]! > 0);
}

function entry(group: Group, seed: number, input: string, extra?: Record<string, unknown>): InputEntry {
  return {
    input,
    metadata: { ...group.base.metadata, strategy: group.strategy, base_index: group.base_index, persona: group.persona?.name ?? null, seed, ...extra },
  };
}

/**
 * How many of its `sizes[g]` entries each group gives to at most `limit` in all. Strategies (the
 * base inputs count as one) take turns, and within a strategy its groups take turns, so that a
 * limited file still holds some of every strategy across the base inputs.
 */
function takenInTurn(groups: Group[], sizes: number[], limit: number): number[] {
  const taken = groups.map(() => 0);
  const byStrategy = new Map<string, number[]>();
  groups.forEach((group, g) => byStrategy.set(group.strategy, [...(byStrategy.get(group.strategy) ?? []), g]));
  // Each strategy's turns: the first entry of each of its groups, then the second of each…
  const turns = [...byStrategy.values()].map((members) => {
    const order: number[] = [];
    for (let k = 0; k < Math.max(...members.map((g) => sizes[g]!)); k++) for (const g of members) if (k < sizes[g]!) order.push(g);
    return order;
  });
  let total = 0;
  for (let round = 0; total < limit && turns.some((order) => round < order.length); round++) {
    for (const order of turns) {
      if (round < order.length && total < limit) {
        taken[order[round]!]!++;
        total++;
      }
    }
  }
  return taken;
}

function statsOf(plan: GenerationPlan, inputs: InputEntry[]): GenerationStats {
  const strategies: Record<string, number> = {};
  for (const input of inputs) {
    const strategy = input.metadata.strategy as string;
    strategies[strategy] = (strategies[strategy] ?? 0) + 1;
  }
  return { total: inputs.length, base_inputs: plan.seeds.inputs.length, personas: plan.config.personas.length, strategies };
}

/**
 * Each group's variations from the model, by group index; failed prompts are reported and left
 * out. When the client stops (time limit, failures in a row), the prompts not done are left out
 * too, and `stopped` says why.
 */
async function llmReplies(
  plan: GenerationPlan,
  groups: Group[],
  failures: PromptFailure[],
  onProgress: GenerateOptions['onProgress'],
): Promise<{ replies: string[][]; stopped?: GenerationStop }> {
  const { llm, variation_count: count, seed } = plan.settings;
  const client = clientFor(plan.root, llm, '--mode llm', { file: 'configs/simulation.yaml', field: 'input_generation.llm.api_key_env' });
  const prompted = groups.flatMap((group, g) => (group.strategy === 'base' ? [] : [{ group, g }]));
  const out: string[][] = [];
  let done = 0;
  let stop: LlmStopped | undefined;
  await Promise.all(
    prompted.map(async ({ group, g }) => {
      let failure: PromptFailure | undefined;
      try {
        const messages = variationPrompt(llm, group.base.input, group.strategy as Strategy, group.persona, count);
        const reply = await client.complete({ messages, temperature: llm.temperature, seed });
        const texts = parseVariations(reply.content);
        if (texts === undefined) failure = { group, error: 'the reply held no variations' };
        else out[g] = texts;
      } catch (error) {
        // A prompt the stop cut short did not fail: it was not done.
        if (error instanceof LlmStopped) {
          stop ??= error;
          return;
        }
        failure = { group, error: (error as Error).message };
      }
      if (failure) failures.push(failure);
      onProgress?.({ done: ++done, total: prompted.length, failure });
    }),
  );
  failures.sort((a, b) => groups.indexOf(a.group) - groups.indexOf(b.group));
  return { replies: out, stopped: stop && { reason: stop.reason, message: stop.message, done } };
}
