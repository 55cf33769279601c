import { Option, type Command } from 'commander';
import { ConfigError } from '../config/errors';
import { projectRelative } from '../config/project';
import type { ExperimentSetup, MultiTurnOverrides } from '../experiment/plan';
import { planExperiment, runExperiment, type ConversationsPlan, type ExperimentOptions, type ExperimentPlanReport, type ExperimentSummary } from '../experiment/runner';
import { createRedactor } from '../record/redact';
import { redactJson, redactRules, type RedactRules } from '../record/redact-json';
import type { FinishedSummary } from '../experiment/finished';
import { formatMs, formatPercent, formatUsd } from '../experiment/format';
import { downstreamMode, integerAtLeast, integerUpTo, positiveNumber, shardArgument } from './arguments';
import type { Shard } from '../experiment/share';
import type { DownstreamReplayConfig, SimulatedUserConfig } from '../config/types';
import { divergenceLine, estimateLine, liveLine, usageLine } from './usage-lines';
import { runDetails } from './run-details';
import { checkEvaluation, evaluationJson, minPassRateOption, runEvaluation } from './evaluate';
import type { EvaluationResult } from '../experiment/evaluation/evaluate';
import { EXIT_FAILURE, colors, print, progressBar, projectRootOf, table, warn } from './output';
import { closeOtlpExport, exportFolderOtlp, otlpEndpoint, otlpOption, startOtlpExport } from './otlp';
import type { OtlpExport } from '../experiment/otlp';

interface RunOptions {
  limit?: number;
  iterations?: number;
  output?: string;
  dryRun?: boolean;
  json?: boolean;
  failOnError?: boolean;
  evaluate?: boolean;
  verbose?: boolean;
  minPassRate?: number;
  target?: string;
  config?: string;
  downstream?: Partial<DownstreamReplayConfig>;
  maxCost?: number;
  multiTurn?: boolean;
  maxTurns?: number;
  resumeAt?: number;
  supervisorProvider?: SimulatedUserConfig['provider'];
  supervisorModel?: string;
  resume?: string;
  shard?: Shard;
  otlp?: string;
  queue?: string;
}

/** The runs' progress, with the tally of outcomes. */
function progress(unit: string): { update: ExperimentOptions['onProgress']; end: () => void } {
  const bar = progressBar(unit);
  const counts = { ok: 0, error: 0, timeout: 0 };
  return {
    update: ({ done, total, result }: { done: number; total: number; result: FinishedSummary }) => {
      counts[result.status]++;
      bar.update(done, total, `ok ${counts.ok}  error ${counts.error}  timeout ${counts.timeout}`);
    },
    end: bar.end,
  };
}

function printPlan(root: string, report: ExperimentPlanReport): void {
  const { setup } = report;
  const { runner } = setup.config;
  const replay = setup.replay;
  const rotated = replay?.rotated ? ` and ${replay.rotated} file${replay.rotated === 1 ? '' : 's'} it was rotated to` : '';
  const recordings = replay
    ? `${replay.count} of ${replay.match.label} from ${replay.display}${rotated} (select: ${replay.select})` +
      (replay.resolved < replay.count ? colors.yellow(`; the path points nowhere in ${replay.count - replay.resolved}, which will end as errors`) : '')
    : setup.unreplayed
      ? colors.yellow(`none: replay_args.enabled is not true, so the ${records(setup.unreplayed.records)} in ${setup.unreplayed.file} are left out; each input goes to the input parameter`)
      : colors.dim('none (replay_args.enabled is not true): each input goes to the input parameter');
  print(
    colors.bold('Experiment plan (dry run: nothing is called or written)'),
    ...table([
      ['Target', report.target],
      ['Runner', `isolation ${runner.isolation}, concurrency ${runner.concurrency}, timeout ${runner.timeout_ms} ms, retries ${runner.retries}`],
      ['Recordings', recordings],
      ['Override path', replay?.path.text ?? colors.dim('none')],
      ...(runner.factory !== undefined ? [['Instance', `made by runner.factory ${runner.factory} for each run`]] : []),
      ...(replay?.instanceClass !== undefined && runner.factory === undefined ? [['Instance', instanceRow(replay.instanceClass, replay.withoutInstance, replay.count)]] : []),
      ['Inputs', `${setup.inputs.inputs.length} from ${projectRelative(root, setup.inputs.source)}`],
      ['Iterations', String(setup.iterations)],
      ...(report.conversations === undefined ? [['Runs', String(setup.total)]] : conversationRows(report.conversations, setup.total)),
    ]),
    // A conversation's later turns are the simulated user's, not known before: its recorded turns are what is counted.
    estimateLine(report.estimate, report.conversations === undefined ? 'run' : 'recorded turn'),
  );
  const first = report.first;
  if (first === undefined) return;
  // The project's redaction rules hold on the console as in the files.
  const { keys, patterns } = redactRules(setup.config);
  const redactor = createRedactor(keys, patterns);
  const mask = (value: unknown) => redactJson(value, redactor);
  print('', colors.bold(`First run: input ${JSON.stringify(mask(first.input))}${first.location ? ` at ${first.location}` : ''}`));
  if (first.error) print(colors.red(`  ${mask(first.error)}`));
  const before = JSON.stringify(mask(first.before), null, 2).split('\n');
  const after = JSON.stringify(mask(first.after), null, 2).split('\n');
  // The two differ only at the override path, so a line-by-line comparison is the diff.
  const lines: string[] = [];
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    if (before[i] === after[i]) lines.push(`  ${after[i]}`);
    else {
      if (before[i] !== undefined) lines.push(colors.red(`- ${before[i]}`));
      if (after[i] !== undefined) lines.push(colors.green(`+ ${after[i]}`));
    }
  }
  print(...lines);
}

/** A multi-turn plan's rows: its conversations and who carries them on. */
function conversationRows(c: ConversationsPlan, total: number): string[][] {
  const recorded =
    c.recorded === null
      ? 'none recorded: each input starts one'
      : `${c.recorded} conversations, ${c.recorded_turns} turns recorded` +
        (c.skipped_short > 0 ? colors.yellow(`; ${c.skipped_short} shorter than turn ${c.resumed_from} left out`) : '') +
        (c.unkeyed > 0 ? colors.yellow(`; ${c.unkeyed} calls without replay_args.conversation.key, each one alone`) : '');
  const resumed = c.resumed_from === null ? 'the input is the first message' : `turns 1–${c.resumed_from - 1} replayed as recorded, the input at turn ${c.resumed_from}`;
  return [
    ['Conversations', recorded],
    ['Turns', `${resumed}; then the simulated user (${c.simulated_user}), at most ${c.max_turns} turns`],
    ['Runs', `${total} conversations`],
  ];
}

function printSummary(root: string, dir: string, summary: ExperimentSummary, errors: FinishedSummary[]): void {
  const { counts } = summary;
  const d = summary.duration_ms;
  const c = summary.conversations;
  const unit = c === undefined ? 'runs' : 'conversations';
  print(
    colors.bold(`Experiment ${summary.name}: ${summary.total_runs} ${unit} in ${formatMs(summary.total_time_ms)}`),
    ...table([
      ['Results', `${colors.green(`${counts.ok} ok`)}  ${counts.error ? colors.red(`${counts.error} error`) : '0 error'}  ${counts.timeout ? colors.yellow(`${counts.timeout} timeout`) : '0 timeout'}  (${formatPercent(summary.success_rate)} ok)`],
      ['Duration', `p50 ${formatMs(d.p50)}  p95 ${formatMs(d.p95)}  max ${formatMs(d.max)}`],
      ...(c === undefined ? [] : [['Ended', Object.entries(c.by_termination_reason).sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`).join('  ') || colors.dim('none')], ['Turns', `${c.turns} in all`]]),
      ...(summary.shard === undefined ? [] : [['Shard', `${summary.shard.index}/${summary.shard.count} of plan ${summary.plan_hash}: ${summary.total_runs} of its ${summary.planned_runs} runs (merge experiments joins the shards)`]]),
      ...(summary.resumes === undefined ? [] : [['Resumed', `${summary.resumes} time${summary.resumes === 1 ? '' : 's'}: the folder holds ${summary.total_runs} of ${summary.planned_runs} runs`]]),
      ['Output', projectRelative(root, dir)],
    ]),
  );
  for (const line of [usageLine(summary), liveLine(summary), divergenceLine(summary, summary.total_runs)]) if (line !== undefined) print(`  ${line}`);
  if (summary.runs_with_warnings > 0) print(colors.yellow(`  ${summary.runs_with_warnings} run${summary.runs_with_warnings === 1 ? '' : 's'} with warnings (see warnings in traces.jsonl)`));
  for (const run of errors.slice(0, 5)) print(colors.red(`  ${run.status}: ${JSON.stringify(run.input)}: ${run.error?.message ?? ''}`));
  if (errors.length > 5) print(colors.dim(`  … ${errors.length - 5} more in errors.json`));
}

/** How each run gets the instance a `Class.method` target is called on. */
function instanceRow(cls: string, without: number, count: number): string {
  if (without === 0) return `each recording's own ${cls}: its recorded fields on the live class`;
  return colors.yellow(noInstance(cls, without, count));
}

function noInstance(cls: string, without: number, count: number): string {
  return `new ${cls}() with no arguments for ${without} of ${count} recordings, which keep no instance: set runner.factory to make one as the app does`;
}

/** What is said once, before the runs, of recordings a replay cannot reproduce in full. */
function planWarnings(setup: ExperimentSetup): string[] {
  const warnings: string[] = [];
  const { inputs } = setup;
  if (inputs.incomplete !== undefined) warnings.push(`${inputs.source} is incomplete (${inputs.incomplete}): run fluxloop generate inputs again for all of them`);
  const left = setup.unreplayed;
  if (left !== undefined) {
    const where = left.files > 1 ? `${left.file} and the files it was rotated to` : left.file;
    warnings.push(
      `replaying without the ${records(left.records)} in ${where}: replay_args.enabled is not true, so each input goes to the function alone, with no recorded arguments; ` +
        `set replay_args.enabled: true in ${left.config} (with override_param_path) to replay them`,
    );
  }
  const replay = setup.replay;
  if (replay === undefined) return warnings;
  if (replay.byName > 0) warnings.push(byNameNotice(replay.byName, replay.display, replay.match.name));
  if (replay.plainClasses.length > 0) {
    warnings.push(
      `instances of ${replay.plainClasses.join(', ')} are replayed as plain data: name their classes in replay_args.revive (Class: 'module:Export'), or put live ones at their paths with replay_args.providers`,
    );
  }
  if (replay.instanceClass !== undefined && replay.withoutInstance > 0 && setup.config.runner.factory === undefined) {
    warnings.push(noInstance(replay.instanceClass, replay.withoutInstance, replay.count));
  }
  return warnings;
}

function records(count: number): string {
  return count === 1 ? '1 record' : `${count} records`;
}

/** The one line that says some recordings could only be matched by name. */
function byNameNotice(count: number, file: string, name: string): string {
  const records = count === 1 ? '1 recording' : `${count} recordings`;
  return `${records} in ${file} name no module (an older record, or FluxLoop Python's), and are matched by the name "${name}"`;
}

// The shell's codes for a process ended by SIGINT and SIGTERM.
const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

/**
 * SIGINT and SIGTERM stop the experiment as it should stop: no new run, a short grace for those in
 * flight, then summary.json. A second signal ends the process at once.
 */
function interruption(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT);
    warn(`${signal}: stopping after the runs in flight, then writing summary.json (send it again to stop at once)`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The multi-turn flags, over `multi_turn`; a flag past --multi-turn turns conversations on only with it or the config. */
function multiTurnOf(options: RunOptions): MultiTurnOverrides | undefined {
  const overrides: MultiTurnOverrides = {
    ...(options.multiTurn ? { enabled: true } : {}),
    ...(options.maxTurns !== undefined ? { max_turns: options.maxTurns } : {}),
    ...(options.resumeAt !== undefined ? { resume_from: options.resumeAt } : {}),
    ...(options.supervisorProvider !== undefined ? { provider: options.supervisorProvider } : {}),
    ...(options.supervisorModel !== undefined ? { model: options.supervisorModel } : {}),
  };
  return Object.keys(overrides).length > 0 ? overrides : undefined;
}

/** Registers `fluxloop run experiment`. */
export function registerRun(program: Command): void {
  const run = program.command('run').description('run experiments against your agent');
  run
    .command('experiment')
    .description('replay recorded calls with each input at replay_args.override_param_path, and write the results to experiments/')
    .option('--limit <n>', 'run at most n runs', integerAtLeast(1))
    .option('--iterations <n>', 'repeat every run n times (default: iterations in the config, else 1)', integerAtLeast(1))
    .option('--output <dir>', 'the folder experiment folders go in (default: output_directory, else experiments)')
    .option('--dry-run', 'print the plan and the first run\'s arguments, and run nothing')
    .option('--json', 'print the summary (or with --dry-run the plan) as one JSON object on stdout; with --evaluate, the evaluation is in it')
    .option('--fail-on-error', 'exit 1 when any run did not end ok')
    .option('--evaluate', 'evaluate the experiment when it is done, as `fluxloop evaluate experiment` does')
    .option('--verbose', "print each run as it finishes: its input, arguments, output, error and observations (on stderr with --json)")
    .addOption(minPassRateOption())
    .option('--target <module:export>', 'replay this function and its recordings instead of runner.target')
    .option('--config <file>', 'read this config instead of configs/simulation.yaml')
    .option(
      '--downstream <kind=mode>',
      'answer one kind of downstream call this way for this experiment, over replay_args.downstream: llm=live|stub, http=live|stub|deny, tools=live|stub, unmatched=error|live (repeatable)',
      downstreamMode,
    )
    .option('--max-cost <usd>', 'stop starting runs once the live LLM calls have cost this many US dollars, and exit 1', positiveNumber)
    .option('--multi-turn', 'make conversations: each input carried on by the simulated user (multi_turn in the config)')
    .option('--max-turns <n>', 'end each conversation after n turns (default: multi_turn.max_turns, else 8)', integerUpTo(100))
    .option('--resume-at <k>', 'replay the first k-1 turns of each recorded conversation as recorded, and put the input at turn k', integerUpTo(100))
    .addOption(new Option('--supervisor-provider <provider>', 'who plays the user: mock (scripted_questions) or an OpenAI-compatible endpoint (default: multi_turn.supervisor.provider)').choices(['openai', 'openai-compatible', 'mock']))
    .option('--supervisor-model <model>', "the simulated user's model (default: multi_turn.supervisor.model)")
    .option('--resume <dir>', 'go on with this experiment folder: make only the runs of its plan it lacks, and add them to it')
    .option('--shard <i/n>', 'make only the i-th of n shares of the plan, for a CI matrix (see merge experiments)', shardArgument)
    .addOption(otlpOption())
    .option('--queue <url>', 'send the runs through a queue on this Redis (redis://host:port), to `fluxloop worker`s (default: runner.queue)')
    .action(async (options: RunOptions, command: Command) => {
      const root = projectRootOf(command);
      // Calls during a replay are never recorded; this also keeps code that the target runs on
      // import, here and in worker threads, from starting a recording session.
      process.env.FLUXLOOP_RECORD_ARGS = 'false';
      let rules: RedactRules | undefined;
      // Made once the plan says what a run is: a call, or a conversation.
      let bar: ReturnType<typeof progress> | undefined;
      // Runs are exported as they finish; with --evaluate, after the evaluation, with their verdicts.
      const otlpUrl = otlpEndpoint(options.otlp);
      let otlp: OtlpExport | undefined;
      const base: ExperimentOptions = {
        projectDir: root,
        limit: options.limit,
        iterations: options.iterations,
        outputDir: options.output,
        target: options.target,
        configFile: options.config,
        downstream: options.downstream,
        multiTurn: multiTurnOf(options),
        resume: options.resume,
        shard: options.shard,
        queue: options.queue,
        onWarning: (message) => warn(message),
        onPlan: (setup) => {
          rules = redactRules(setup.config);
          planWarnings(setup).forEach((line) => warn(line));
          bar = progress(setup.multiTurn === undefined ? 'runs' : 'conversations');
          if (otlpUrl !== undefined && !options.evaluate && !options.dryRun) otlp = startOtlpExport(otlpUrl, setup.config.name);
        },
      };
      if (options.resume !== undefined && options.output !== undefined) throw new ConfigError('--resume adds to the folder it names: --output does not go with it');
      // A broken evaluation config stops the command now, not after the last run.
      if (options.evaluate) checkEvaluation(root);
      else if (options.minPassRate !== undefined) throw new ConfigError('--min-pass-rate needs --evaluate: the pass rate comes from the evaluation');
      if (options.dryRun) {
        const report = await planExperiment(base);
        if (options.json) print(JSON.stringify({ ...report, setup: { ...report.setup, config: undefined, inputs: undefined, conversations: undefined, input_count: report.setup.inputs.inputs.length } }, null, 2));
        else printPlan(root, report);
        return;
      }
      const failed: FinishedSummary[] = [];
      const stop = interruption();
      // Each run's lines go where the results go, unless stdout carries JSON; the bar's line is cleared first.
      const details = options.verbose
        ? runDetails(() => rules, (lines) => {
            if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
            (options.json ? process.stderr : process.stdout).write(lines.map((l) => `${l}\n`).join(''));
          })
        : undefined;
      const { dir, summary } = await runExperiment({
        ...base,
        signal: stop.signal,
        maxCostUsd: options.maxCost,
        onProgress: (p) => {
          if (p.result.status !== 'ok' && failed.length < 6) failed.push(p.result);
          details?.(p);
          bar?.update!(p);
          otlp?.add(p.trace, p.observations);
        },
      }).finally(() => {
        bar?.end();
        stop.dispose();
      }).finally(() => closeOtlpExport(otlp, otlpUrl));
      if (!options.json) printSummary(root, dir, summary, failed);
      if (options.maxCost !== undefined && summary.unpriced_models.length > 0) {
        warn(`--max-cost counted only the calls with a price: ${summary.unpriced_models.join(', ')} had none (add them under pricing:)`);
      }
      let evaluation: EvaluationResult | undefined;
      try {
        if (summary.ended === 'interrupted') {
          warn(`interrupted by ${summary.interrupted_by}: ${summary.total_runs} of ${summary.planned_runs} runs finished, as summary.json says; go on with: fluxloop run experiment --resume ${projectRelative(root, dir)}`);
          process.exitCode = summary.interrupted_by === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT;
          return;
        }
        if (summary.stopped === 'max_cost') {
          const cost = summary.cost_usd === null ? '' : ` (${formatUsd(summary.cost_usd)})`;
          warn(`the cost reached --max-cost ${formatUsd(options.maxCost!)}${cost}: no new run started, ${summary.total_runs} of ${summary.planned_runs} runs finished, as summary.json says`);
          process.exitCode = EXIT_FAILURE;
          return;
        }
        if (summary.total_runs === 0) {
          warn('no run finished: nothing was replayed');
          process.exitCode = EXIT_FAILURE;
          return;
        }
        if (options.evaluate) {
          if (!options.json) print('');
          // With the rules of the config this experiment ran on, which --config may have named.
          evaluation = await runEvaluation(root, { experimentDir: dir, redact: rules, minPassRate: options.minPassRate }, options.json ? 'none' : 'text');
        }
      } finally {
        // One JSON object, whatever happened after the runs (the experiment is there); with
        // --evaluate, its evaluation in it, null when there was none.
        const evaluated = options.evaluate ? { evaluation: evaluation ? evaluationJson(evaluation) : null } : {};
        if (options.json) print(JSON.stringify({ experiment_dir: dir, ...summary, ...evaluated }, null, 2));
        if (otlpUrl !== undefined && options.evaluate) await exportFolderOtlp(otlpUrl, dir, evaluation?.traces);
      }
      if (options.failOnError && summary.counts.ok < summary.total_runs) process.exitCode = EXIT_FAILURE;
    });
}
