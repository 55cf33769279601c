import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { fake } from './fake-vscode';
import { registerCommands } from '../src/commands';
import { experiment, FakeCli, services, tempProject } from './helpers';

beforeEach(() => fake.reset());

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 1));
}

/** A project with an evaluated experiment, its report written. */
function evaluatedProject() {
  const project = tempProject();
  const exp = experiment(project, 'app_20260102_090000', { evaluated: true });
  fs.mkdirSync(exp.dir, { recursive: true });
  fs.writeFileSync(exp.report!, '<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src \'unsafe-inline\'"><p>report</p>');
  return { project, exp };
}

const evaluation = (dir: string) => ({
  experiment_dir: dir,
  files: { report: path.join(dir, 'report.html') },
  total: 36,
  passed: 24,
  failed: 12,
  pass_rate: 2 / 3,
  gate: { min_pass_rate: 0.6, source: 'configs/evaluation.yaml (pass_rate_threshold)', passed: true },
});

describe('Run Experiment', () => {
  it('runs `run experiment --evaluate --json` under a cancellable progress fed by the CLI, then sums it up with Open Report', async () => {
    const { project, exp } = evaluatedProject();
    const cli = new FakeCli().on('run experiment --evaluate --json', {
      stdout: { experiment_dir: exp.dir, name: 'app', ended: 'completed', total_runs: 36, planned_runs: 36, success_rate: 0.75, evaluation: evaluation(exp.dir) },
      progress: [
        { label: 'runs', done: 9, total: 36, detail: '9 ok' },
        { label: 'runs', done: 36, total: 36 },
        { label: 'evaluating', done: 18, total: 36 },
      ],
    });
    registerCommands(services([project], cli), () => undefined);
    fake.answer = () => 'Open Report';

    await vscode.commands.executeCommand('fluxloop.runExperiment');

    expect(cli.calls[0]!.options).toMatchObject({ json: true });
    expect(fake.progress).toEqual([
      expect.objectContaining({
        title: 'FluxLoop: Running experiment',
        cancellable: true,
        reports: [
          { message: 'runs 9/36 (9 ok)', increment: 25 },
          { message: 'runs 36/36', increment: 75 },
          { message: 'evaluating 18/36', increment: 50 },
        ],
      }),
    ]);
    expect(fake.messages).toEqual([
      { level: 'info', text: 'Experiment app_20260102_090000: 36 runs, 75% succeeded, 24 of 36 passed (66.7%).', items: ['Open Report'], modal: false },
    ]);
    expect(fake.webviews.map((w) => [w.viewType, w.title, w.webview.html])).toEqual([['fluxloop.report', 'Report: app_20260102_090000', fs.readFileSync(exp.report!, 'utf8')]]);
  });

  it('passes the cancellation on to the CLI, and says the run stopped with what it ran', async () => {
    const { project, exp } = evaluatedProject();
    const cli = new FakeCli().on('run experiment', { untilCancelled: true, stdout: { experiment_dir: exp.dir, total_runs: 12, planned_runs: 36, success_rate: 1 } });
    registerCommands(services([project], cli), () => undefined);
    fake.onProgress = (token) => token.cancel();

    await vscode.commands.executeCommand('fluxloop.runExperiment');

    expect(fake.messages).toEqual([
      { level: 'warning', text: 'Experiment app_20260102_090000 stopped: 12 runs of 36, 100% succeeded.', items: ['Open Report'], modal: false },
    ]);
  });

  it('warns when the pass rate is below the minimum', async () => {
    const { project, exp } = evaluatedProject();
    const below = { ...evaluation(exp.dir), passed: 12, pass_rate: 1 / 3, gate: { min_pass_rate: 0.6, source: 'configs/evaluation.yaml (pass_rate_threshold)', passed: false } };
    const cli = new FakeCli().on('run experiment', { code: 1, stdout: { experiment_dir: exp.dir, total_runs: 36, planned_runs: 36, success_rate: 1, evaluation: below } });
    registerCommands(services([project], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.runExperiment');

    expect(fake.messages).toEqual([
      {
        level: 'warning',
        text: 'Experiment app_20260102_090000: 36 runs, 100% succeeded, 12 of 36 passed (33.3%). Below the minimum pass rate of 60% (configs/evaluation.yaml (pass_rate_threshold)).',
        items: ['Open Report'],
        modal: false,
      },
    ]);
  });

  it('starts no second run of a project while one runs', async () => {
    const { project, exp } = evaluatedProject();
    const cli = new FakeCli().on('run experiment', { untilCancelled: true, stdout: { experiment_dir: exp.dir, total_runs: 1, success_rate: 1 } });
    registerCommands(services([project], cli), () => undefined);

    const first = vscode.commands.executeCommand('fluxloop.runExperiment');
    await until(() => cli.calls.length === 1);
    await vscode.commands.executeCommand('fluxloop.runExperiment');
    expect([cli.calls.length, fake.texts()]).toEqual([1, ['An experiment is already running; its notification can cancel it.']]);
    fake.progress[0]!.token.cancel();
    await first;
    const second = vscode.commands.executeCommand('fluxloop.runExperiment');
    await until(() => cli.calls.length === 2);
    fake.progress[1]!.token.cancel();
    await second;
  });

  it("shows the CLI's error when there is no experiment", async () => {
    const project = tempProject();
    const cli = new FakeCli().on('run experiment', { code: 2, stderr: 'fluxloop: recordings/args_recording.jsonl: recording file not found\n' });
    registerCommands(services([project], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.runExperiment');

    expect(fake.messages).toEqual([{ level: 'error', text: 'fluxloop: recordings/args_recording.jsonl: recording file not found', items: ['Show Output'], modal: false }]);
  });
});

describe('Evaluate Experiment', () => {
  it("evaluates the tree's experiment, or the one picked from the palette", async () => {
    const { project, exp } = evaluatedProject();
    const older = experiment(project, 'app_20260101_090000');
    const cli = new FakeCli()
      .on('list experiments', { stdout: { output_directory: 'experiments', experiments: [exp, older] } })
      .on('evaluate experiment', { stdout: evaluation(exp.dir), progress: [{ label: 'evaluating', done: 36, total: 36 }] });
    registerCommands(services([project], cli), () => undefined);
    fake.pick = (items) => items[1];

    await vscode.commands.executeCommand('fluxloop.evaluateExperiment', { project, experiment: exp });
    await vscode.commands.executeCommand('fluxloop.evaluateExperiment');

    expect(cli.commands()).toEqual([
      `evaluate experiment ${exp.dir} --json`,
      'list experiments --limit 10 --json',
      `evaluate experiment ${older.dir} --json`,
    ]);
    expect(fake.quickPicks[0]).toEqual([
      expect.objectContaining({ label: 'app_20260102_090000', description: '75% success' }),
      expect.objectContaining({ label: 'app_20260101_090000' }),
    ]);
    expect(fake.progress.map((p) => [p.title, p.reports])).toEqual([
      ['FluxLoop: Evaluating app_20260102_090000', [{ message: 'evaluating 36/36', increment: 100 }]],
      ['FluxLoop: Evaluating app_20260101_090000', [{ message: 'evaluating 36/36', increment: 100 }]],
    ]);
    expect(fake.texts()[0]).toBe('Evaluated app_20260102_090000: 24 of 36 passed (66.7%).');
  });
});

describe('Open Report', () => {
  it("shows the report as it is, in a webview with scripts and no local resources, once per report", async () => {
    const { project, exp } = evaluatedProject();
    registerCommands(services([project], new FakeCli()), () => undefined);

    await vscode.commands.executeCommand('fluxloop.openReport', { project, experiment: exp });
    await vscode.commands.executeCommand('fluxloop.openReport', { project, experiment: exp });

    expect(fake.webviews).toHaveLength(1);
    const [panel] = fake.webviews;
    expect(panel!.options).toEqual({ enableScripts: true, enableFindWidget: true, localResourceRoots: [] });
    expect(panel!.webview.html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'"`);
    expect(panel!.revealed).toBe(1);
    panel!.dispose();
  });

  it('opens it in the browser when the setting says so, and picks among the reports from the palette', async () => {
    const { project, exp } = evaluatedProject();
    const cli = new FakeCli().on('list experiments', { stdout: { output_directory: 'experiments', experiments: [experiment(project, 'not_evaluated'), exp] } });
    registerCommands(services([project], cli), () => undefined);
    fake.config.set('fluxloop.openReportIn', 'browser');

    await vscode.commands.executeCommand('fluxloop.openReport');

    expect(fake.quickPicks[0]).toEqual([expect.objectContaining({ label: 'app_20260102_090000' })]);
    expect(fake.external).toEqual([`file://${exp.report}`]);
    expect(fake.webviews).toEqual([]);
  });

  it('says so when no experiment has a report', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('list experiments', { stdout: { output_directory: 'experiments', experiments: [experiment(project, 'a')] } });
    registerCommands(services([project], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.openReport');

    expect(fake.texts()).toEqual(['No experiment has a report yet: evaluate one with FluxLoop: Evaluate Experiment.']);
  });
});

describe('Generate Inputs', () => {
  const inputs = (project: { root: string }, exists: boolean, count: number) => ({
    stdout: {
      file: path.join(project.root, 'inputs', 'generated.yaml'),
      exists,
      inputs: Array.from({ length: count }, (_, index) => ({ index, line: 6 + index * 9, input: `input ${index}`, metadata: null })),
    },
  });

  it('writes the inputs file under a progress, and says how many it holds', async () => {
    const project = tempProject();
    let generated = false;
    const cli = new FakeCli()
      .on('list inputs --json', () => inputs(project, generated, generated ? 12 : 0))
      .on('generate inputs', () => {
        generated = true;
        return { progress: [{ label: 'prompts', done: 1, total: 4 }] };
      });
    registerCommands(services([project], cli), () => undefined);
    fake.answer = () => 'Open Inputs';

    await vscode.commands.executeCommand('fluxloop.generateInputs');

    expect(cli.commands()).toEqual(['list inputs --json', 'generate inputs', 'list inputs --json']);
    expect(fake.progress.map((p) => [p.title, p.cancellable, p.reports])).toEqual([['FluxLoop: Generating inputs', true, [{ message: 'prompts 1/4', increment: 25 }]]]);
    expect(fake.messages).toEqual([{ level: 'info', text: 'Generated 12 inputs in inputs/generated.yaml.', items: ['Open Inputs'], modal: false }]);
    expect(fake.opened.map((o) => o.file)).toEqual([path.join(project.root, 'inputs', 'generated.yaml')]);
  });

  it('asks before overwriting the inputs file: --overwrite when the user agrees, nothing when not', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('list inputs --json', inputs(project, true, 3)).on('generate inputs', {});
    registerCommands(services([project], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.generateInputs');
    fake.answer = (m) => (m.modal ? 'Overwrite' : undefined);
    await vscode.commands.executeCommand('fluxloop.generateInputs');

    expect(fake.messages[0]).toEqual({ level: 'warning', text: 'inputs/generated.yaml exists. Overwrite it with new inputs?', items: ['Overwrite'], modal: true });
    expect(cli.commands().filter((c) => c.startsWith('generate'))).toEqual(['generate inputs --overwrite']);
  });

  it('varies what the user picks: the recordings, the config, or what the CLI chooses; nothing when the pick is dismissed', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('list inputs --json', inputs(project, false, 0)).on('generate inputs', {});
    registerCommands(services([project], cli), () => undefined);

    for (const choice of [1, 2, 0, undefined]) {
      fake.pick = <T>(items: T[]) => (choice === undefined ? undefined : items[choice]);
      await vscode.commands.executeCommand('fluxloop.generateInputs');
    }

    expect(fake.quickPicks[0]).toMatchObject([{ label: 'Recorded messages, else base_inputs' }, { label: 'Recorded messages' }, { label: 'base_inputs of the config' }]);
    expect(cli.commands().filter((c) => c.startsWith('generate'))).toEqual(['generate inputs --from-recording', 'generate inputs --from-config', 'generate inputs']);
  });
});
