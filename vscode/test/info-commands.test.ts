import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { fake, Uri } from './fake-vscode';
import { registerCommands } from '../src/commands';
import { renderDoctor, renderObject } from '../src/render';
import { env, FakeCli, services, tempProject } from './helpers';

beforeEach(() => fake.reset());

const doctor = {
  ok: false,
  checks: [
    { id: 'node', title: 'Node.js', status: 'ok', detail: '20.20.2' },
    { id: 'env', title: '.env', status: 'warn', detail: 'recording is off' },
    { id: 'config', title: 'configs/simulation.yaml', status: 'fail', detail: 'runner.target: missing', fix: 'set runner.target' },
    { id: 'llm', title: 'LLM key', status: 'skip', detail: 'not needed' },
  ],
};

describe('Run Doctor', () => {
  it('writes the checks to the output channel, shows it, and says how many failed', async () => {
    const project = tempProject();
    // Exit 1: the checks found problems; the report is still the answer.
    const cli = new FakeCli().on('doctor --json', { code: 1, stdout: doctor });
    registerCommands(services([project], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.runDoctor');

    expect(fake.messages).toEqual([{ level: 'warning', text: 'Doctor: 1 problem to fix, 1 warning.', items: ['Show Output'], modal: false }]);
    expect(fake.outputShown).toBe(1);
    expect(fake.output.join('')).toBe(
      [
        `Doctor of ${project.root}:`,
        '✓ Node.js                  20.20.2',
        '! .env                     recording is off',
        '✗ configs/simulation.yaml  runner.target: missing',
        '                           → set runner.target',
        '- LLM key                  not needed',
        '',
        '1 problem to fix, 1 warning.',
        '',
      ].join('\n'),
    );
  });

  it('is information when nothing failed, and an error when the CLI printed no report', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('doctor --json', { stdout: { ok: true, checks: [doctor.checks[0]] } });
    registerCommands(services([project], cli), () => undefined);
    await vscode.commands.executeCommand('fluxloop.runDoctor');
    cli.on('doctor --json', { code: 2, stderr: 'fluxloop: --project-dir /nowhere: no such folder\n' });
    await vscode.commands.executeCommand('fluxloop.runDoctor');

    expect(fake.messages.map((m) => [m.level, m.text])).toEqual([
      ['info', 'Doctor: No problems.'],
      ['error', 'fluxloop: --project-dir /nowhere: no such folder'],
    ]);
  });
});

describe('Show Environment Info', () => {
  it('writes `env --json` to the output channel readably, and sums it up', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('env --json', { stdout: { ...env({ on: true }), llm_keys: [{ name: 'OPENAI_API_KEY', set: null }], files: { env: { path: '/p/.env', exists: true } } } });
    registerCommands(services([project], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.showEnvironmentInfo');

    expect(fake.texts()).toEqual(['FluxLoop 0.1.0 on Node.js 20.20.2; recording on.']);
    expect(fake.output.join('')).toContain(
      ['  recording:', '    mode: enabled', '    source: default', '  config: —', '  llm_keys:', '    - name: OPENAI_API_KEY', '      set: —', '  files:', '    env:', '      path: /p/.env', '      exists: true'].join('\n'),
    );
  });
});

describe('readable JSON', () => {
  it('indents objects, lists scalars on one line and objects as items', () => {
    expect(renderObject({ a: 1, b: [1, 'x'], c: [], d: { e: null }, f: [{ g: 1, h: 2 }, {}] })).toBe(
      ['  a: 1', '  b: 1, x', '  c: (none)', '  d:', '    e: —', '  f:', '    - g: 1', '      h: 2', '    - (empty)'].join('\n'),
    );
    expect(renderDoctor({ ok: true, checks: [] })).toBe('\nNo problems.');
  });
});

describe('Initialize Project', () => {
  it('runs `fluxloop init` in the workspace folder, then looks for projects again', async () => {
    const project = tempProject();
    fake.workspaceFolders = [{ name: 'app', uri: Uri.file(project.root), index: 0 }];
    const cli = new FakeCli().on('init', { stdout: 'Created .env\n' });
    const s = services([], cli);
    registerCommands(s, () => undefined);
    fake.answer = () => 'Open configuration';

    await vscode.commands.executeCommand('fluxloop.init');

    expect(cli.calls.map((c) => [c.project.root, c.args])).toEqual([[project.root, ['init']]]);
    expect(s.rediscovered).toBe(1);
    expect(fake.opened.map((o) => o.file)).toEqual([path.join(project.root, 'configs', 'simulation.yaml')]);
  });
});

describe('opening a file of the trees', () => {
  it('opens it at the line of an input, else at its top', async () => {
    registerCommands(services([], new FakeCli()), () => undefined);

    await vscode.commands.executeCommand('fluxloop.openFile', { file: '/p/inputs/generated.yaml', line: 15 });
    await vscode.commands.executeCommand('fluxloop.openFile', { file: '/p/configs/simulation.yaml' });

    expect(fake.opened.map((o) => [o.file, o.options?.selection?.start.line])).toEqual([
      ['/p/inputs/generated.yaml', 14],
      ['/p/configs/simulation.yaml', undefined],
    ]);
  });
});
