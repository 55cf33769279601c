import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { STRATEGIES, type GenerationMode, type Strategy } from '../config/types';
import { generate, groupsWithin, planGeneration, type GenerationPlan, type GenerationResult, type GenerationStop, type Group } from '../experiment/generate';
import { findApiKey } from '../experiment/llm-client';
import type { Seeds } from '../experiment/seeds';
import { assertWritable, INCOMPLETE_MARK, inputsFileOf, renderInputsFile } from '../experiment/inputs-file';
import { writeFileAtomic } from '../experiment/output';
import { variationPrompt } from '../experiment/llm-variations';
import { integerAtLeast } from './arguments';
import { EXIT_FAILURE, colors, print, progressBar, projectRootOf, table, warn } from './output';

interface GenerateInputsOptions {
  overwrite?: boolean;
  dryRun?: boolean;
  limit?: number;
  strategy?: Strategy[];
  mode?: GenerationMode;
  seed?: number;
  fromRecording?: boolean;
  fromConfig?: boolean;
  output?: string;
  maxTime?: number;
  maxConsecutiveFailures?: number;
}

function collectStrategy(value: string, previous: Strategy[] = []): Strategy[] {
  if (!(STRATEGIES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${STRATEGIES.join(', ')}`);
  return [...previous, value as Strategy];
}

/** `base_inputs[2] "…" (persona impatient)`: a group's base input as the user can find it. */
function describeBase(plan: GenerationPlan, group: Group): string {
  const where = plan.seeds.source === 'base_inputs' ? `base_inputs[${group.base_index}]` : `input ${group.base_index} from ${plan.seeds.source}`;
  const text = group.base.input.length > 40 ? `${group.base.input.slice(0, 40)}…` : group.base.input;
  return `${where} ${JSON.stringify(text)}${group.persona ? ` (persona ${group.persona.name})` : ''}`;
}

/** `5 recorded messages from recordings/args_recording.jsonl at kwargs.message`, or `3 base_inputs from configs/simulation.yaml`. */
function describeSeeds(seeds: Seeds): string {
  const n = seeds.inputs.length;
  if (seeds.path === undefined) return `${n} base_inputs from configs/simulation.yaml`;
  const skipped = seeds.skipped ? colors.dim(` (${seeds.skipped} non-string value${seeds.skipped === 1 ? '' : 's'} skipped)`) : '';
  return `${n} recorded message${n === 1 ? '' : 's'} from ${seeds.source} at ${seeds.path}${skipped}`;
}

/** Why base_inputs were taken where the recordings would have been: a note, or a warning when the config looks wrong. */
function explainFallback(seeds: Seeds): void {
  if (seeds.fallback === undefined) return;
  const text = `base_inputs, not the recordings: ${seeds.fallback.reason}`;
  if (seeds.fallback.mistake) warn(text);
  else print(colors.dim(`  ${text}`));
}

function describePlan(plan: GenerationPlan, display: string, exists: boolean): string[][] {
  const { settings, seeds, config } = plan;
  const llm = settings.llm;
  const groups = plan.groups.filter((g) => g.strategy !== 'base');
  const combination = `base input, strategy${groups.some((g) => g.persona) ? ' and persona' : ''}`;
  return [
    ['Mode', settings.mode === 'llm' ? `llm: ${llm.model} at ${llm.base_url}` : `deterministic, seed ${settings.seed}`],
    ['Base inputs', describeSeeds(seeds)],
    ['Personas', config.personas.length > 0 ? config.personas.map((p) => p.name).join(', ') : colors.dim('none')],
    ['Strategies', settings.strategies.join(', ')],
    ...(settings.mode === 'llm' ? [['Limits', `${llm.max_time_ms! / 1000} s for all prompts, stop after ${llm.max_consecutive_failures} failures in a row`]] : []),
    ['Variations', `up to ${groups.length * settings.variation_count}: ${settings.variation_count} for each of ${groups.length} combinations of ${combination}`],
    ['Output', `${display}${exists ? colors.yellow(' (exists: --overwrite replaces it)') : ''}`],
  ];
}

function printResult(result: GenerationResult, display: string): void {
  const { plan, stats } = result;
  print(
    colors.bold(`Generated ${stats.total} inputs from ${stats.base_inputs} base inputs${plan.seeds.source === 'base_inputs' ? '' : ` (from ${plan.seeds.source})`}${plan.settings.mode === 'llm' ? ` with ${plan.settings.llm.model}` : `, seed ${plan.settings.seed}`}`),
    ...table(Object.entries(stats.strategies).map(([strategy, n]) => [strategy, String(n)]), '  '),
    `Wrote ${display}; \`fluxloop run experiment\` reads it.`,
  );
}

/** One warning a strategy, however many base inputs it fell short on: a long list would bury the rest. */
function warnShortfalls({ plan, shortfalls }: GenerationResult): void {
  const count = plan.settings.variation_count;
  for (const strategy of new Set(shortfalls.map((s) => s.group.strategy))) {
    const short = shortfalls.filter((s) => s.group.strategy === strategy);
    const first = short[0]!;
    const where = describeBase(plan, first.group);
    const why = plan.settings.mode === 'llm' ? 'copies of an input and repeats are dropped' : 'short inputs leave some strategies little to change';
    warn(`${strategy} made fewer than ${count} distinct variations ${short.length === 1 ? `for ${where}` : `${short.length} times, e.g. for ${where}`}: ${first.made} (${why})`);
  }
}

/** What --dry-run shows: the plan, then a preview of the inputs, or in LLM mode the first prompt. */
async function printDryRun(plan: GenerationPlan, display: string, exists: boolean, limit: number | undefined): Promise<void> {
  print(colors.bold('Input generation plan (dry run: nothing is sent or written)'), ...table(describePlan(plan, display, exists), '  '));
  explainFallback(plan.seeds);
  if (plan.settings.mode === 'llm') {
    const { llm, variation_count: count } = plan.settings;
    const prompted = groupsWithin(plan, limit).filter((g) => g.strategy !== 'base');
    print(...table([['Prompts', String(prompted.length)], ['API key', `${llm.api_key_env} (${findApiKey(plan.root, llm.api_key_env) ? 'found' : 'not found in the environment or .env'})`]], '  '));
    const first = prompted[0];
    if (first === undefined) return;
    const messages = variationPrompt(llm, first.base.input, first.strategy as Strategy, first.persona, count);
    print('', colors.bold(`First prompt (${first.strategy} for ${describeBase(plan, first)}):`), ...messages.map((m) => `  ${colors.dim(m.role)}: ${m.content.replace(/\n/g, '\n    ')}`));
    return;
  }
  const result = await generate(plan, { limit });
  print('', colors.bold(`Preview: ${result.stats.total} inputs, the first 10:`));
  for (const entry of result.inputs.slice(0, 10)) print(`  ${colors.dim(String(entry.metadata.strategy).padEnd(13))} ${JSON.stringify(entry.input).slice(0, 100)}`);
}

async function generateAction(options: GenerateInputsOptions, command: Command): Promise<void> {
  const plan = await planGeneration({
    projectDir: projectRootOf(command),
    mode: options.mode,
    strategies: options.strategy,
    seed: options.seed,
    fromRecording: options.fromRecording,
    fromConfig: options.fromConfig,
    maxTimeMs: options.maxTime === undefined ? undefined : options.maxTime * 1000,
    maxConsecutiveFailures: options.maxConsecutiveFailures,
  });
  const { file, display } = inputsFileOf(plan, options.output);
  if (options.dryRun) return printDryRun(plan, display, fs.existsSync(file), options.limit);
  if (!options.overwrite) assertWritable(file, display);
  print(`Base inputs: ${describeSeeds(plan.seeds)}`);
  explainFallback(plan.seeds);
  const bar = progressBar('prompts');
  const result = await generate(plan, {
    limit: options.limit,
    onProgress: ({ done, total }) => bar.update(done, total),
  }).finally(bar.end);
  for (const failure of result.failures) warn(`prompt ${failure.group.strategy} for ${describeBase(plan, failure.group)} failed: ${failure.error}`);
  warnShortfalls(result);
  if (result.stopped) return reportStop(result, result.stopped, file, display);
  if (result.prompts > 0 && result.failures.length === result.prompts) {
    process.stderr.write(colors.red(`fluxloop: every one of the ${result.prompts} prompts failed; ${display} was not written\n`));
    process.exitCode = EXIT_FAILURE;
    return;
  }
  writeFileAtomic(file, renderInputsFile(result));
  printResult(result, display);
}

/**
 * Prompts cut short: what was made from the prompts done is kept, in a file marked incomplete
 * at its top and in generation_config, and the command fails, saying how to go further.
 */
function reportStop(result: GenerationResult, stopped: GenerationStop, file: string, display: string): void {
  const answered = stopped.done - result.failures.length;
  let outcome = `${display} was not written`;
  if (answered > 0) {
    const incomplete = result.plan.generation_config.incomplete as string;
    writeFileAtomic(file, `${INCOMPLETE_MARK}${incomplete}.\n${renderInputsFile(result)}`);
    outcome = `the ${result.stats.total} inputs made so far were written to ${display}, marked incomplete`;
  }
  const how =
    stopped.reason === 'max_time'
      ? 'Raise the limit with --max-time <seconds> or input_generation.llm.max_time_ms'
      : 'Check the endpoint; --max-consecutive-failures <n> or input_generation.llm.max_consecutive_failures sets how many failures in a row stop it';
  process.stderr.write(colors.red(`fluxloop: stopped: ${stopped.message}. ${stopped.done} of ${result.prompts} prompts done; ${outcome}. ${how}.\n`));
  process.exitCode = EXIT_FAILURE;
}

/** Registers `fluxloop generate inputs`. */
export function registerGenerate(program: Command): void {
  const generateCommand = program.command('generate').description('generate what experiments run on');
  generateCommand
    .command('inputs')
    .description('write input variations of the recorded messages (when replay_args.enabled is true and there are some), else of base_inputs, to inputs_file, for fluxloop run experiment')
    .addOption(new Option('--mode <mode>', 'how variations are made (default: input_generation.mode, else deterministic)').choices(['deterministic', 'llm']))
    .option('--strategy <name>', `a variation strategy, repeatable (default: input_generation.strategies): ${STRATEGIES.join(', ')}`, collectStrategy)
    .option('--seed <n>', 'the seed of deterministic variations (default: input_generation.seed, else 42)', integerAtLeast(0))
    .option('--limit <n>', 'write at most n inputs, spread over base inputs and strategies', integerAtLeast(1))
    .addOption(new Option('--from-recording', 'vary the distinct values recorded at replay_args.override_param_path, even with replay off; fail when there are none').conflicts('fromConfig'))
    .option('--from-config', 'vary base_inputs, even when there are recordings')
    .option('--max-time <seconds>', 'llm: stop all prompts after this long, keeping what came back (default: input_generation.llm.max_time_ms, else 600 s)', integerAtLeast(1))
    .option('--max-consecutive-failures <n>', 'llm: stop after n prompts in a row failed (default: input_generation.llm.max_consecutive_failures, else 3)', integerAtLeast(1))
    .option('--output <file>', 'where to write (default: inputs_file, else inputs/generated.yaml)')
    .option('--overwrite', 'replace the file when it exists')
    .option('--dry-run', 'print the plan and a preview (llm: the first prompt), and write nothing')
    .action(generateAction);
}
