import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { failureMessage, parseJson, type CliResult } from './cli';
import type { Evaluation, Experiment, RunResult } from './cli-json';
import { formatPercent, plural } from './format';
import type { Project } from './projects';
import { reportPlace, showReport } from './report';
import { pickProject, showFailure, withCliProgress, type Services, type Target } from './services';

export const OPEN_REPORT = 'Open Report';

/** An experiment's item, or what the palette gives: nothing. */
export interface ExperimentTarget extends Target {
  experiment?: Experiment;
}

/** What generate varies: the CLI's own choice first, as `fluxloop generate inputs` makes it. */
const SOURCES = [
  { label: 'Recorded messages, else base_inputs', description: 'the recordings when replay is on and there are some', args: [] },
  { label: 'Recorded messages', description: '--from-recording', args: ['--from-recording'] },
  { label: 'base_inputs of the config', description: '--from-config', args: ['--from-config'] },
];

/** `fluxloop generate inputs`, from the source the user picks, asking before it overwrites the inputs file. */
export async function generateInputs(services: Services, target?: Target): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  const source = await vscode.window.showQuickPick(SOURCES, { placeHolder: 'Make variations of' });
  if (!source) return;
  const before = await services.store.inputs(project);
  const args = ['generate', 'inputs', ...source.args];
  if (before.ok && before.value.exists) {
    const overwrite = 'Overwrite';
    const choice = await vscode.window.showWarningMessage(
      `${shown(project, before.value.file)} exists. Overwrite it with new inputs?`,
      { modal: true },
      overwrite,
    );
    if (choice !== overwrite) return;
    args.push('--overwrite');
  }
  const result = await withCliProgress('FluxLoop: Generating inputs', (options) => services.cli.run(project, args, options));
  services.store.invalidate(project, ['inputs']);
  if (result.code !== 0) return showFailure(services, result);
  const after = await services.store.inputs(project);
  const open = 'Open Inputs';
  const message = after.ok
    ? `Generated ${plural(after.value.inputs.length, 'input')} in ${shown(project, after.value.file)}.`
    : (result.stdout.trim().split('\n').at(-1) ?? 'Inputs generated.');
  const choice = await vscode.window.showInformationMessage(message, ...(after.ok ? [open] : []));
  if (choice === open && after.ok) await vscode.window.showTextDocument(vscode.Uri.file(after.value.file));
}

// The projects with an experiment running: a second click on Run Experiment must not start another.
const running = new Set<string>();

/** `fluxloop run experiment --evaluate --json`, then a summary with a button to the report. */
export async function runExperiment(services: Services, target?: Target): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  if (running.has(project.root)) {
    vscode.window.showInformationMessage('An experiment is already running; its notification can cancel it.');
    return;
  }
  running.add(project.root);
  let result: CliResult;
  try {
    result = await withCliProgress('FluxLoop: Running experiment', (options) =>
      services.cli.run(project, ['run', 'experiment', '--evaluate', '--json'], { ...options, json: true }),
    );
  } finally {
    running.delete(project.root);
  }
  services.store.invalidate(project, ['experiments']);
  const run = parseJson<RunResult>(result);
  if (!run?.experiment_dir) return showFailure(services, result);
  // null when the runs were interrupted or none finished.
  const evaluation = run.evaluation ?? undefined;
  const report = reportOf(run.experiment_dir, evaluation);
  const text = runSummary(run, evaluation, result);
  await tell(text, result, report);
}

/** `fluxloop evaluate experiment <dir> --json` of an experiment of the tree, or one picked. */
export async function evaluateExperiment(services: Services, target?: ExperimentTarget): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  const experiment = target?.experiment ?? (await pickExperiment(services, project, () => true));
  if (!experiment) return;
  const result = await withCliProgress(`FluxLoop: Evaluating ${experiment.name}`, (options) =>
    services.cli.run(project, ['evaluate', 'experiment', experiment.dir, '--json'], { ...options, json: true }),
  );
  services.store.invalidate(project, ['experiments']);
  const evaluation = parseJson<Evaluation>(result);
  if (typeof evaluation?.total !== 'number') return showFailure(services, result);
  const text = `Evaluated ${experiment.name}: ${passed(evaluation)}.${gateNote(evaluation)}`;
  await tell(text, result, reportOf(experiment.dir, evaluation));
}

/** The report of an experiment of the tree, or of one picked among those that have one. */
export async function openReport(services: Services, target?: ExperimentTarget): Promise<void> {
  const project = await pickProject(services, target);
  if (!project) return;
  const experiment = target?.experiment?.report ? target.experiment : await pickExperiment(services, project, (e) => e.report !== null);
  if (!experiment?.report) return;
  await showReport(experiment.report, reportPlace());
}

/** The experiment the user picks, newest first; undefined when none fits or the pick is dismissed. */
async function pickExperiment(services: Services, project: Project, fits: (e: Experiment) => boolean): Promise<Experiment | undefined> {
  services.store.invalidate(project, ['experiments']);
  const list = await services.store.experiments(project);
  if (!list.ok) {
    vscode.window.showErrorMessage(list.error);
    return undefined;
  }
  const experiments = list.value.experiments.filter(fits);
  if (experiments.length === 0) {
    vscode.window.showInformationMessage(
      list.value.experiments.length === 0 ? 'No experiments yet: run one with FluxLoop: Run Experiment.' : 'No experiment has a report yet: evaluate one with FluxLoop: Evaluate Experiment.',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    experiments.map((e) => ({ label: e.name, description: e.success_rate === null ? undefined : `${formatPercent(e.success_rate)} success`, experiment: e })),
    { placeHolder: 'The experiment' },
  );
  return picked?.experiment;
}

/** The message: information when all went well, a warning when the gate failed or the run stopped. */
async function tell(text: string, result: CliResult, report: string | undefined): Promise<void> {
  const show = result.code === 0 ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
  const choice = await show(text, ...(report ? [OPEN_REPORT] : []));
  if (choice === OPEN_REPORT && report) await showReport(report, reportPlace());
}

function reportOf(dir: string, evaluation: Evaluation | undefined): string | undefined {
  const report = evaluation?.files?.report ?? path.join(dir, 'report.html');
  return fs.existsSync(report) ? report : undefined;
}

/** "Experiment x: 36 runs, 100% succeeded, 24 of 36 passed (67%)." */
export function runSummary(run: RunResult, evaluation: Evaluation | undefined, result: CliResult): string {
  const name = path.basename(run.experiment_dir);
  const runs = run.total_runs ?? evaluation?.total;
  const planned = run.planned_runs !== undefined && run.planned_runs !== runs ? ` of ${run.planned_runs}` : '';
  const parts = [runs === undefined ? undefined : `${plural(runs, 'run')}${planned}`];
  if (typeof run.success_rate === 'number') parts.push(`${formatPercent(run.success_rate)} succeeded`);
  if (evaluation) parts.push(passed(evaluation));
  const stopped = result.cancelled || result.code === 130 ? ' stopped' : '';
  let text = `Experiment ${name}${stopped}: ${parts.filter(Boolean).join(', ')}.`;
  if (evaluation) text += gateNote(evaluation);
  else if (result.code !== 0 && !stopped) text += ` ${failureMessage(result)}`;
  return text;
}

function passed(evaluation: Evaluation): string {
  return `${evaluation.passed} of ${evaluation.total} passed (${formatPercent(evaluation.pass_rate)})`;
}

function gateNote(evaluation: Evaluation): string {
  const gate = evaluation.gate;
  return gate && !gate.passed ? ` Below the minimum pass rate of ${formatPercent(gate.min_pass_rate)} (${gate.source}).` : '';
}

function shown(project: Project, file: string): string {
  return path.relative(project.root, file).split(path.sep).join('/');
}
