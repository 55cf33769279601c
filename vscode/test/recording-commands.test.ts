import { beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { fake } from './fake-vscode';
import { registerCommands } from '../src/commands';
import { statusLine } from '../src/recording-commands';
import { FakeCli, services, status, tempProject } from './helpers';

beforeEach(() => fake.reset());

describe('Enable Recording and Disable Recording', () => {
  it('run `fluxloop record enable|disable` in the project, say so, and refresh what shows the mode', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('record enable', { stdout: 'Recording enabled.\n' }).on('record disable', { stdout: 'Recording disabled.\n' });
    const s = services([project], cli);
    const changed: unknown[] = [];
    s.store.onDidChange((p) => changed.push(p));
    registerCommands(s, () => undefined);

    await vscode.commands.executeCommand('fluxloop.enableRecording');
    await vscode.commands.executeCommand('fluxloop.disableRecording', { project });

    expect(cli.calls.map((c) => [c.project, c.args])).toEqual([
      [project, ['record', 'enable']],
      [project, ['record', 'disable']],
    ]);
    expect(fake.texts()).toEqual([
      'Recording enabled. Run your app with: node --import fluxloop/register <your app>',
      'Recording disabled. Experiments go on replaying what was recorded.',
    ]);
    expect(changed).toEqual([project, project]);
  });

  it("show the CLI's error, with a button that shows the output channel", async () => {
    const project = tempProject();
    const cli = new FakeCli().on('record enable', { code: 2, stderr: 'fluxloop: .env:3: cannot parse the line\n' });
    const s = services([project], cli);
    registerCommands(s, () => undefined);
    fake.answer = () => 'Show Output';

    await vscode.commands.executeCommand('fluxloop.enableRecording');

    expect(fake.messages).toEqual([{ level: 'error', text: 'fluxloop: .env:3: cannot parse the line', items: ['Show Output'], modal: false }]);
    expect(fake.outputShown).toBe(1);
  });

  it('toggle (the status bar) switches to the opposite of the mode the CLI reports', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('record status --json', { stdout: status(project, { on: true }) }).on('record disable', {});
    registerCommands(services([project], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.toggleRecording', { project });

    expect(cli.commands()).toEqual(['record status --json', 'record disable']);
  });

  it('act on the project the user picks when the workspace has several and no editor is open', async () => {
    const [one, two] = [tempProject('one'), tempProject('two')];
    const cli = new FakeCli().on('record enable', {});
    registerCommands(services([one, two], cli), () => undefined);
    fake.pick = (items) => items[1];

    await vscode.commands.executeCommand('fluxloop.enableRecording');

    expect(fake.quickPicks[0]).toEqual([expect.objectContaining({ label: 'one' }), expect.objectContaining({ label: 'two' })]);
    expect(cli.calls[0]!.project).toBe(two);
    expect(fake.texts()[0]).toMatch(/^Recording enabled in two\./);
  });

  it('offer to initialize a project where there is none', async () => {
    const cli = new FakeCli();
    registerCommands(services([], cli), () => undefined);

    await vscode.commands.executeCommand('fluxloop.enableRecording');

    expect(fake.messages[0]).toMatchObject({ level: 'error', items: ['Initialize Project'] });
    expect(cli.calls).toEqual([]);
  });
});

describe('Show Recording Status', () => {
  it('writes the status out readably, and says it in one line with a button to switch it', async () => {
    const project = tempProject();
    const cli = new FakeCli().on('record status --json', { stdout: status(project, { on: true, current: 4, rotated: [10] }) }).on('record disable', {});
    registerCommands(services([project], cli), () => undefined);
    fake.answer = (m) => (m.text.startsWith('Recording is on') ? 'Disable Recording' : undefined);

    await vscode.commands.executeCommand('fluxloop.showRecordingStatus');

    expect(fake.messages[0]).toEqual({
      level: 'info',
      text: 'Recording is on (.env): 14 records in 2 files; 1 target.',
      items: ['Show Output', 'Disable Recording'],
      modal: false,
    });
    expect(cli.commands()).toEqual(['record status --json', 'record disable']);
    const written = fake.output.join('');
    expect(written).toContain(`Recording status of ${project.root}:\n  project_root: ${project.root}\n  mode: enabled\n`);
    expect(written).toContain('  rotated_files:\n    - path: ');
  });

  it('says when nothing was recorded yet', () => {
    const project = tempProject();
    expect(statusLine(status(project) as never)).toBe('Recording is off (default): nothing recorded yet; 1 target.');
  });
});
