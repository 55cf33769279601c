import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../config/errors';
import { loadEvaluationConfig } from '../config/evaluation';
import { projectRelative } from '../config/project';
import { loadSimulationConfig } from '../config/simulation';
import type { EvaluationConfig } from '../config/types';
import { evaluateExperiment, judgeClient, type EvaluateOptions, type EvaluationResult } from '../experiment/evaluation/evaluate';
import { integerAtLeast } from './arguments';
import { EXIT_FAILURE, colors, print, progressBar, projectRootOf, table, warn } from './output';

interface EvaluateCommandOptions {
  baseline?: string;
  failOnRegression?: boolean;
  junit?: string;
  markdown?: string;
  report: boolean;
  json?: boolean;
  maxTime?: number;
  maxConsecutiveFailures?: number;
}

const MAX_SHOWN = 20;
const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const ms = (n: number) => `${n < 10 ? n.toFixed(2) : Math.round(n)} ms`;
const signed = (n: number, unit = '') => `${n > 0 ? '+' : ''}${Number.isInteger(n) ? n : n.toFixed(1)}${unit}`;
const short = (text: string) => JSON.stringify(text.length > 70 ? `${text.slice(0, 70)}…` : text);

/** The experiment folder written last under the config's output_directory. */
function latestExperiment(root: string): string {
  const base = path.resolve(root, loadSimulationConfig(root).output_directory);
  const folders = (fs.existsSync(base) ? fs.readdirSync(base) : [])
    .map((name) => path.join(base, name, 'traces.jsonl'))
    .filter((file) => fs.existsSync(file))
    .map((file) => ({ dir: path.dirname(file), at: fs.statSync(file).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  if (folders.length === 0) throw new ConfigError(`no experiment in ${projectRelative(root, base)}: run \`fluxloop run experiment\` first, or name the folder`);
  return folders[0]!.dir;
}

/** The evaluation's result on stdout: totals, each evaluator, and with a baseline what changed. */
function printEvaluation(root: string, { summary, files }: EvaluationResult): void {
  const pass = summary.failed === 0 ? colors.green(`${summary.passed} passed`) : `${colors.green(`${summary.passed} passed`)}  ${colors.red(`${summary.failed} failed`)}`;
  print(
    colors.bold(`Evaluation of ${summary.experiment}: ${summary.total} runs`),
    ...table([
      ['Result', `${pass}  (${percent(summary.pass_rate)} pass, threshold ${summary.pass_threshold})`],
      ['Latency', `p50 ${ms(summary.latency_ms.p50)}  p95 ${ms(summary.latency_ms.p95)}`],
      ...summary.evaluators.map((e) => [
        `  ${e.name}`,
        `${e.passed} passed  ${e.failed ? colors.red(`${e.failed} failed`) : '0 failed'}${e.skipped ? colors.yellow(`  ${e.skipped} skipped`) : ''}${e.mean_score === null ? '' : colors.dim(`  mean ${e.mean_score}`)}`,
      ]),
    ]),
  );
  const c = summary.comparison;
  if (c) {
    const regressions = c.counts.regressions ? colors.red(`${c.counts.regressions} regressions`) : '0 regressions';
    print(
      colors.bold(`Compared with ${c.baseline}`),
      ...table([
        ['Runs', `${regressions}  ${c.counts.fixes} fixes  ${c.counts.new_runs} new  ${c.counts.missing_runs} missing`],
        ['Pass rate', `${percent(c.pass_rate.baseline)} → ${percent(c.pass_rate.current)} (${signed(c.pass_rate.delta * 100, ' pts')})`],
        ['Success rate', `${percent(c.success_rate.baseline)} → ${percent(c.success_rate.current)} (${signed(c.success_rate.delta * 100, ' pts')})`],
        ['Latency', `p50 ${signed(c.latency_ms.p50.delta, ' ms')}  p95 ${signed(c.latency_ms.p95.delta, ' ms')}`],
      ]),
    );
    for (const r of c.regressions.slice(0, MAX_SHOWN)) {
      print(colors.red(`  regressed: ${short(r.input)} (iteration ${r.iteration}, trace ${r.trace_id})`), ...r.reasons.map((reason) => `    ${reason}`));
    }
    if (c.regressions.length > MAX_SHOWN) print(colors.dim(`  … ${c.regressions.length - MAX_SHOWN} more in evaluation/summary.json`));
  }
  print(...table(Object.entries(files).map(([kind, file]) => [colors.dim(kind), projectRelative(root, file)])));
}

/** One warning for an evaluator that could not judge some runs, such as an unreachable judge. */
function warnSkips({ summary, traces }: EvaluationResult): void {
  summary.evaluators.forEach((e, i) => {
    if (e.skipped === 0 || e.type === 'similarity') return;
    const first = traces.find((t) => t.evaluators[i]!.skipped)!.evaluators[i]!;
    warn(`${e.name} could not judge ${e.skipped} of ${summary.total} runs, left out of their scores; the first: ${first.reason}`);
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

/** Runs an evaluation with a progress line, warnings on stderr, and the result printed. */
export async function runEvaluation(root: string, options: EvaluateOptions, json = false): Promise<EvaluationResult> {
  const bars = { current: progressBar('evaluating'), baseline: progressBar('evaluating the baseline') };
  const result = await evaluateExperiment({
    ...options,
    projectDir: root,
    onProgress: ({ done, total, experiment }) => bars[experiment].update(done, total),
  }).finally(() => bars.current.end());
  for (const w of result.warnings) warn(w);
  warnSkips(result);
  if (json) print(JSON.stringify({ experiment_dir: result.dir, files: result.files, ...result.summary }, null, 2));
  else printEvaluation(root, result);
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
    .option('--junit <path>', 'also write JUnit XML, one test case per run')
    .option('--markdown <path>', 'also write a short Markdown summary, e.g. to $GITHUB_STEP_SUMMARY')
    .option('--no-report', 'do not write report.html')
    .option('--json', 'print the evaluation summary as JSON on stdout')
    .option('--max-time <seconds>', "stop the judge's requests after this long, writing nothing (default: evaluation.llm.max_time_ms, else no limit)", integerAtLeast(1))
    .option('--max-consecutive-failures <n>', 'stop after n judge requests in a row failed (default: evaluation.llm.max_consecutive_failures, else 3)', integerAtLeast(1))
    .action(async (dir: string | undefined, options: EvaluateCommandOptions, command: Command) => {
      const root = projectRootOf(command);
      if (options.failOnRegression && options.baseline === undefined) {
        throw new ConfigError('--fail-on-regression needs --baseline <dir>: regressions are runs that passed there and fail now');
      }
      const { summary } = await runEvaluation(
        root,
        { experimentDir: dir ?? latestExperiment(root), baselineDir: options.baseline, junit: options.junit, markdown: options.markdown, report: options.report, config: judgeLimits(root, options) },
        options.json,
      );
      if (options.failOnRegression && summary.comparison!.counts.regressions > 0) process.exitCode = EXIT_FAILURE;
    });
}
