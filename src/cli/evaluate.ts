import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError } from '../config/errors';
import { loadEvaluationConfig } from '../config/evaluation';
import { projectRelative } from '../config/project';
import { loadSimulationConfig } from '../config/simulation';
import type { EvaluationConfig } from '../config/types';
import { evaluateExperiment, judgeClient, type EvaluateOptions, type EvaluationResult } from '../experiment/evaluation/evaluate';
import { byInput } from '../experiment/evaluation/compare';
import { experimentFolders } from '../experiment/list';
import { isConversationEvaluation, type ComparedRun } from '../experiment/evaluation/types';
import { defaultEvaluatorsNote, gateVerdict, parseRate, unitOf } from '../experiment/evaluation/verdict';
import { formatDeltaMs, formatDeltaPoints, formatMs, formatPercent } from '../experiment/format';
import { integerAtLeast } from './arguments';
import { EXIT_FAILURE, colors, cut, print, progressBar, projectRootOf, table, warn } from './output';
import { exportFolderOtlp, otlpEndpoint, otlpOption } from './otlp';

interface EvaluateCommandOptions {
  baseline?: string;
  failOnRegression?: boolean;
  junit?: string;
  markdown?: string;
  report: boolean;
  json?: boolean;
  maxTime?: number;
  maxConsecutiveFailures?: number;
  minPassRate?: number;
  otlp?: string;
}

const MAX_SHOWN = 20;

/**
 * `--min-pass-rate R`, shared by `evaluate experiment` and `run experiment --evaluate`: a share
 * (`0.8`) or a percentage (`80%`); anything else exits 2 saying what to write.
 */
export function minPassRateOption(): Option {
  return new Option('--min-pass-rate <rate>', 'exit 1 when fewer runs pass: a share (0.8) or a percentage (80%) (default: pass_rate_threshold in the evaluation config, else none)').argParser(
    (value: string) => {
      try {
        return parseRate(value);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    },
  );
}

/** The experiment folder written last under the config's output_directory, as `fluxloop list experiments` lists them. */
function latestExperiment(root: string): string {
  const base = path.resolve(root, loadSimulationConfig(root).output_directory);
  const [latest] = experimentFolders(base);
  if (latest === undefined) throw new ConfigError(`no experiment in ${projectRelative(root, base)}: run \`fluxloop run experiment\` first, or name the folder`);
  return latest;
}

/** Regressions as a table, one line each: which recording, iteration, input and what failed. */
function regressionTable(regressions: ComparedRun[]): string[] {
  const rows = byInput(regressions).slice(0, MAX_SHOWN).map((r) => [
    r.recording_index === null ? '–' : r.recording_line === null || r.recording_line === undefined ? `#${r.recording_index}` : `#${r.recording_index}:${r.recording_line}`,
    String(r.iteration),
    JSON.stringify(cut(r.input, 40)),
    // The evaluator's name and why, as in per_trace.jsonl; skipped ones did not make it fail.
    cut(r.reasons.filter((reason) => !/^[^:]+: skipped, /.test(reason)).join('; ') || '–', 90),
  ]);
  const lines = table([[colors.dim('recording:line'), colors.dim('iter'), colors.dim('input'), colors.dim('what failed')], ...rows], '  ');
  if (regressions.length > MAX_SHOWN) lines.push(colors.dim(`  … ${regressions.length - MAX_SHOWN} more in evaluation/summary.json and the report`));
  return lines;
}

/** The evaluation's result on stdout: totals, each evaluator, with a baseline what changed, the verdict, and the files last. */
function printEvaluation(root: string, { summary, files }: EvaluationResult): void {
  const pass = summary.failed === 0 ? colors.green(`${summary.passed} passed`) : `${colors.green(`${summary.passed} passed`)}  ${colors.red(`${summary.failed} failed`)}`;
  print(
    colors.bold(`Evaluation of ${summary.experiment}: ${summary.total} ${unitOf(summary)[1]}`),
    ...table([
      ['Result', `${pass}  (pass rate ${formatPercent(summary.pass_rate)}; a run passes at a score of ${formatPercent(summary.pass_threshold)})`],
      ['Latency', `p50 ${formatMs(summary.latency_ms.p50)}  p95 ${formatMs(summary.latency_ms.p95)}`],
      ...summary.evaluators.map((e) => [
        `  ${e.name}${e.scope === 'turn' ? ' (per turn)' : ''}`,
        `${e.passed} passed  ${e.failed ? colors.red(`${e.failed} failed`) : '0 failed'}${e.skipped ? colors.yellow(`  ${e.skipped} skipped`) : ''}${e.mean_score === null ? '' : colors.dim(`  mean score ${formatPercent(e.mean_score)}`)}`,
      ]),
    ]),
  );
  const note = defaultEvaluatorsNote(summary);
  if (note) print(...note.map((line) => colors.yellow(line)));
  const c = summary.comparison;
  if (c) {
    const regressions = c.counts.regressions ? colors.red(`${c.counts.regressions} regressions`) : '0 regressions';
    print(
      colors.bold(`Compared with ${c.baseline}`),
      ...table([
        ['Runs', `${regressions}  ${c.counts.fixes} fixes  ${c.counts.new_runs} new  ${c.counts.missing_runs} missing`],
        ['Pass rate', `${formatPercent(c.pass_rate.baseline)} → ${formatPercent(c.pass_rate.current)} (${formatDeltaPoints(c.pass_rate.delta)})`],
        ['Success rate', `${formatPercent(c.success_rate.baseline)} → ${formatPercent(c.success_rate.current)} (${formatDeltaPoints(c.success_rate.delta)})`],
        ['Latency', `p50 ${formatDeltaMs(c.latency_ms.p50.delta)}  p95 ${formatDeltaMs(c.latency_ms.p95.delta)}`],
      ]),
    );
    if (c.regressions.length > 0) print(colors.red(`Regressions (${c.regressions.length}): passed in the baseline, fail now`), ...regressionTable(c.regressions));
  }
  const verdict = gateVerdict(summary);
  if (verdict) print(colors.bold(summary.gate!.passed ? colors.green(verdict) : colors.red(verdict)));
  else print(colors.dim('No minimum pass rate set (--min-pass-rate 0.8, or pass_rate_threshold in the evaluation config): the exit code ignores the pass rate.'));
  print(...table(Object.entries(files).map(([kind, file]) => [colors.dim(kind), projectRelative(root, file)])));
}

/** One warning for an evaluator that could not judge some runs (or turns), such as an unreachable judge. */
function warnSkips({ summary, traces }: EvaluationResult): void {
  summary.evaluators.forEach((e, i) => {
    if (e.skipped === 0 || e.type === 'similarity') return;
    // A turn evaluator on conversations is counted per turn: its skips are in the turns.
    const results = traces.flatMap((t) => (e.scope === 'turn' && isConversationEvaluation(t) ? t.turns.map((turn) => turn.evaluators.find((r) => r.name === e.name)!) : [t.evaluators[i]!]));
    const first = results.find((r) => r.skipped);
    const what = e.scope === 'turn' ? 'turns' : unitOf(summary)[1];
    warn(`${e.name} could not judge ${e.skipped} of ${results.length} ${what}, left out of their scores${first ? `; the first: ${first.reason}` : ''}`);
  });
}

/**
 * The project's evaluation config, checked as an evaluation will read it, with the judge's API key
 * when an evaluator needs one: a ConfigError (exit 2, naming file, line and field) when it is broken.
 * `run experiment --evaluate` calls it before the first run, so that nothing runs for an evaluation
 * that cannot happen.
 */
export function checkEvaluation(root: string): EvaluationConfig {
  const config = loadEvaluationConfig(root);
  judgeClient(root, config);
  return config;
}

/** What `evaluate experiment --json` prints, and `run experiment --evaluate --json` holds as `evaluation`. */
export function evaluationJson(result: EvaluationResult): Record<string, unknown> {
  return { experiment_dir: result.dir, files: result.files, ...result.summary };
}

/**
 * Runs an evaluation with a progress line, warnings on stderr, and the result printed as `output`
 * says (`none`: the caller prints it); sets the exit code to 1 when the pass rate is below the
 * minimum (`options.minPassRate` or the config's `pass_rate_threshold`), once everything is written.
 */
export async function runEvaluation(root: string, options: EvaluateOptions, output: 'text' | 'json' | 'none' = 'text'): Promise<EvaluationResult> {
  const bars = { current: progressBar('evaluating'), baseline: progressBar('evaluating the baseline') };
  const result = await evaluateExperiment({
    ...options,
    projectDir: root,
    onProgress: ({ done, total, experiment }) => bars[experiment].update(done, total),
  }).finally(() => bars.current.end());
  for (const w of result.warnings) warn(w);
  warnSkips(result);
  if (output === 'json') print(JSON.stringify(evaluationJson(result), null, 2));
  else if (output === 'text') printEvaluation(root, result);
  if (result.summary.gate?.passed === false) process.exitCode = EXIT_FAILURE;
  return result;
}

/** The config with the judge's limits from the command line; undefined (read as usual) without them. */
function judgeLimits(root: string, { maxTime, maxConsecutiveFailures }: EvaluateCommandOptions): EvaluateOptions['config'] {
  if (maxTime === undefined && maxConsecutiveFailures === undefined) return undefined;
  const config = loadEvaluationConfig(root);
  const llm = { ...config.llm };
  if (maxTime !== undefined) llm.max_time_ms = maxTime * 1000;
  if (maxConsecutiveFailures !== undefined) llm.max_consecutive_failures = maxConsecutiveFailures;
  return { ...config, llm };
}

/** Registers `fluxloop evaluate experiment`. */
export function registerEvaluate(program: Command): void {
  const evaluate = program.command('evaluate').description('score experiment runs, compare them with a baseline, and write a report');
  evaluate
    .command('experiment')
    .argument('[dir]', 'the experiment folder (default: the latest under output_directory)')
    .description('score each run with the evaluators of configs/evaluation.yaml; write evaluation/ and report.html into the experiment folder')
    .option('--baseline <dir>', 'an earlier experiment folder to compare with: regressions, fixes, new and missing runs')
    .option('--fail-on-regression', 'exit 1 when a run that passed in the baseline fails now (needs --baseline)')
    .addOption(minPassRateOption())
    .option('--junit <path>', 'also write JUnit XML, one test case per run')
    .option('--markdown <path>', 'also write a short Markdown summary, e.g. to $GITHUB_STEP_SUMMARY')
    .option('--no-report', 'do not write report.html')
    .option('--json', 'print the evaluation summary as JSON on stdout')
    .option('--max-time <seconds>', "stop the judge's requests after this long, writing nothing (default: evaluation.llm.max_time_ms, else no limit)", integerAtLeast(1))
    .option('--max-consecutive-failures <n>', 'stop after n judge requests in a row failed (default: evaluation.llm.max_consecutive_failures, else 3)', integerAtLeast(1))
    .addOption(otlpOption())
    .action(async (dir: string | undefined, options: EvaluateCommandOptions, command: Command) => {
      const root = projectRootOf(command);
      if (options.failOnRegression && options.baseline === undefined) {
        throw new ConfigError('--fail-on-regression needs --baseline <dir>: regressions are runs that passed there and fail now');
      }
      const otlpUrl = otlpEndpoint(options.otlp);
      const { summary, dir: evaluated, traces } = await runEvaluation(
        root,
        {
          experimentDir: dir ?? latestExperiment(root),
          baselineDir: options.baseline,
          junit: options.junit,
          markdown: options.markdown,
          report: options.report,
          config: judgeLimits(root, options),
          minPassRate: options.minPassRate,
        },
        options.json ? 'json' : 'text',
      );
      if (otlpUrl !== undefined) await exportFolderOtlp(otlpUrl, evaluated, traces);
      if (options.failOnRegression && summary.comparison!.counts.regressions > 0) process.exitCode = EXIT_FAILURE;
    });
}
