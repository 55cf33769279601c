import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { fake } from './fake-vscode';
import { ExperimentsTree, NO_RECORDINGS, rates } from '../src/experiments-tree';
import { Store } from '../src/store';
import { env, experiment, FakeCli, find, outline, status, tempProject } from './helpers';

beforeEach(() => fake.reset());

describe('the Experiments view', () => {
  it('shows Configuration, Run Experiment and Experiments, with the labels of the Python extension', async () => {
    const project = tempProject();
    const cli = new FakeCli()
      .on('record status --json', { stdout: status(project, { on: true, current: 4, rotated: [10, 20] }) })
      .on('env --json', { stdout: env({ runner: 'app/agent.js:handle', iterations: 3 }) })
      .on('list experiments --limit 10 --json', { stdout: { output_directory: 'experiments', experiments: [experiment(project, 'app_20260102_090000', { evaluated: true })] } });
    const tree = new ExperimentsTree(new Store(cli), () => [project]);

    expect(await outline(tree, 4)).toEqual([
      {
        Configuration: [
          'Open configuration',
          'Runner: app/agent.js:handle',
          'Iterations: 3',
          'Record Mode: Enabled',
          { 'Recording (Advanced)': ['Enable Recording', 'Disable Recording', 'args_recording.jsonl', 'args_recording.jsonl.2', 'args_recording.jsonl.1'] },
        ],
      },
      'Run Experiment',
      {
        Experiments: [
          {
            app_20260102_090000: ['Open Report', 'errors.json', 'evaluation/summary.json', 'report.html', 'summary.json', 'traces.jsonl'],
          },
        ],
      },
    ]);
    // Each source of data is asked once, however many items show it.
    expect(cli.commands().sort()).toEqual(['env --json', 'list experiments --limit 10 --json', 'record status --json']);
  });

  it('gives each item the contextValue its menus and the end-to-end test select it by', async () => {
    const project = tempProject();
    const cli = new FakeCli()
      .on('record status --json', { stdout: status(project, { on: false }) })
      .on('env --json', { stdout: env() })
      .on('list experiments', { stdout: { output_directory: 'experiments', experiments: [experiment(project, 'b', { evaluated: true }), experiment(project, 'a')] } });
    const tree = new ExperimentsTree(new Store(cli), () => [project]);
    const contextOf = async (label: string) => (await find(tree, label)).contextValue;

    expect(await contextOf('Configuration')).toBe('configuration');
    expect(await contextOf('Record Mode: Disabled')).toBe('recordModeDisabled');
    expect(await contextOf('Recording (Advanced)')).toBe('recordingSection');
    expect(await contextOf('Enable Recording')).toBe('enableRecording');
    expect(await contextOf('Disable Recording')).toBe('disableRecording');
    expect(await contextOf(NO_RECORDINGS)).toBe('noRecordings');
    expect(await contextOf('Run Experiment')).toBe('runExperiment');
    expect(await contextOf('b')).toBe('experimentWithReport');
    expect(await contextOf('a')).toBe('experiment');
    expect(await contextOf('Open Report')).toBe('openReport');
    expect(await contextOf('Evaluate')).toBe('evaluate');
    // Expanded where the user starts, collapsed where the guide says "expand".
    expect((await find(tree, 'Configuration')).collapsibleState).toBe(vscode.TreeItemCollapsibleState.Expanded);
    expect((await find(tree, 'Recording (Advanced)')).collapsibleState).toBe(vscode.TreeItemCollapsibleState.Collapsed);
  });

  it('puts the project and what an item stands for in the arguments of its command', async () => {
    const project = tempProject();
    const exp = experiment(project, 'app_1', { evaluated: true });
    const cli = new FakeCli()
      .on('record status --json', { stdout: status(project, { on: true, current: 2 }) })
      .on('env --json', { stdout: env() })
      .on('list experiments', { stdout: { output_directory: 'experiments', experiments: [exp] } });
    const tree = new ExperimentsTree(new Store(cli), () => [project]);
    const commandOf = async (label: string) => {
      const item = await find(tree, label);
      return { command: item.command?.command, target: item.command?.arguments?.[0] };
    };

    expect(await commandOf('Open configuration')).toMatchObject({ command: 'fluxloop.openFile', target: { file: path.join(project.root, 'configs', 'simulation.yaml') } });
    expect(await commandOf('Enable Recording')).toMatchObject({ command: 'fluxloop.enableRecording', target: { project } });
    expect(await commandOf('Disable Recording')).toMatchObject({ command: 'fluxloop.disableRecording', target: { project } });
    expect(await commandOf('args_recording.jsonl')).toMatchObject({ command: 'fluxloop.openFile', target: { file: path.join(project.root, 'recordings', 'args_recording.jsonl') } });
    expect(await commandOf('Run Experiment')).toMatchObject({ command: 'fluxloop.runExperiment', target: { project } });
    expect(await commandOf('Open Report')).toMatchObject({ command: 'fluxloop.openReport', target: { project, experiment: exp } });
    expect(await commandOf('summary.json')).toMatchObject({ command: 'fluxloop.openFile', target: { file: path.join(exp.dir, 'summary.json') } });
    expect((await find(tree, 'args_recording.jsonl')).description).toBe('2 records, 200 B');
    expect((await find(tree, 'app_1')).description).toBe('75% success, 66.7% pass');
    // What screen readers say, and what an end-to-end test finds the row by: not the tooltip.
    expect((await find(tree, 'Recording (Advanced)')).accessibilityInformation).toEqual({ label: 'Recording (Advanced)' });
    expect((await find(tree, 'app_1')).accessibilityInformation).toEqual({ label: 'app_1, 75% success, 66.7% pass' });
  });

  it('lists at most 5 recording files, the newest first', async () => {
    const project = tempProject();
    const cli = new FakeCli()
      .on('record status --json', { stdout: status(project, { current: 1, rotated: [1, 2, 3, 4, 5, 6] }) })
      .on('env --json', { stdout: env() })
      .on('list experiments', { stdout: { output_directory: 'experiments', experiments: [] } });
    const tree = new ExperimentsTree(new Store(cli), () => [project]);
    const children = await tree.getChildren(await find(tree, 'Recording (Advanced)'));

    expect(children.map((c) => c.label)).toEqual([
      'Enable Recording',
      'Disable Recording',
      'args_recording.jsonl',
      'args_recording.jsonl.6',
      'args_recording.jsonl.5',
      'args_recording.jsonl.4',
      'args_recording.jsonl.3',
    ]);
    expect((await find(tree, 'Experiments')).label).toBe('Experiments');
    expect((await tree.getChildren(await find(tree, 'Experiments'))).map((c) => c.label)).toEqual(['No experiments yet — Run Experiment to make one']);
  });

  it('says what the CLI said where it could not list, and keeps Open configuration', async () => {
    const project = tempProject();
    const cli = new FakeCli()
      .on('record status --json', { code: 2, stderr: 'fluxloop: configs/simulation.yaml:3: runner.target: must be a string\n' })
      .on('env --json', { stdout: env() });
    const tree = new ExperimentsTree(new Store(cli), () => [project]);

    expect(await outline(tree, 2)).toEqual([
      { Configuration: ['Open configuration', 'Runner: unknown', 'Iterations: unknown', 'fluxloop: configs/simulation.yaml:3: runner.target: must be a string'] },
      'Run Experiment',
      { Experiments: ["fluxloop: unknown command 'list experiments --limit 10 --json'"] },
    ]);
    const error = await find(tree, /^fluxloop: configs/);
    expect(error.contextValue).toBe('error');
    // A config that does not load: the items say where to find out why.
    expect((await find(tree, 'Runner: unknown')).tooltip).toMatch(/Run Doctor/);
  });

  it('shows a node for each project when the workspace has several', async () => {
    const [one, two] = [tempProject('one'), tempProject('two')];
    const cli = new FakeCli().on('record status --json', { stdout: status(one) }).on('env --json', { stdout: env() });
    const tree = new ExperimentsTree(new Store(cli), () => [one, two]);
    const roots = await tree.getChildren();

    expect(roots.map((r) => [r.label, r.contextValue])).toEqual([
      ['one', 'project'],
      ['two', 'project'],
    ]);
    expect((await tree.getChildren(roots[1])).map((i) => [i.label, i.command?.arguments?.[0]])).toEqual([
      ['Configuration', undefined],
      ['Run Experiment', expect.objectContaining({ project: two })],
      ['Experiments', undefined],
    ]);
    // Ids stay unique across projects, or VS Code refuses the tree.
    const ids = [...roots, ...(await tree.getChildren(roots[0])), ...(await tree.getChildren(roots[1]))].map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes an experiment by its rates, or as one without a summary', () => {
    const project = tempProject();
    expect(rates(experiment(project, 'a'))).toBe('75% success');
    expect(rates(experiment(project, 'a', { evaluated: true }))).toBe('75% success, 66.7% pass');
    expect(rates(experiment(project, 'a', { finished: false }))).toBe('no summary (running or stopped)');
  });
});
