import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { fake, Uri } from './fake-vscode';
import { activate } from '../src/extension';
import type { ExperimentsTree } from '../src/experiments-tree';
import { DEBOUNCE_MS } from '../src/watch';
import { click, find, REPO } from './helpers';

// The extension against this repository's own CLI (`npm run build:dev` builds it), on a copy of
// the support-agent example: the JSON the trees and messages read is the CLI's real JSON.

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('the CLI is not built: run `npm run build:dev` first');
});
beforeEach(() => fake.reset());

/** The support-agent example in a new folder, with fluxloop installed as a user has it. */
function supportAgent(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-vscode-real-')), 'support-agent');
  // Its sources only: what the demo left there (recordings, experiments, .env) is not the test's.
  for (const entry of ['app', 'configs', 'package.json']) fs.cpSync(path.join(REPO, 'examples', 'support-agent', entry), path.join(dir, entry), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.symlinkSync(REPO, path.join(dir, 'node_modules', 'fluxloop'), 'dir');
  return dir;
}

/** Activates the extension on a workspace of that one folder, run with this repository's CLI. */
function activateOn(dir: string): ExperimentsTree {
  fake.workspaceFolders = [{ name: path.basename(dir), uri: Uri.file(dir), index: 0 }];
  fake.config.set('fluxloop.cliCommand', [process.execPath, path.join(REPO, 'bin', 'fluxloop.js')]);
  activate({ subscriptions: [] } as unknown as vscode.ExtensionContext);
  expect(fake.context.get('fluxloop.hasProject')).toBe(true);
  return fake.treeProviders.get('fluxloop.experiments') as ExperimentsTree;
}

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the extension with the real CLI', () => {
  it('flips .env from the tree, and follows .env as the user edits it', async () => {
    const dir = supportAgent();
    const tree = activateOn(dir);
    const [bar] = fake.statusBarItems;
    await until('the status bar', () => bar!.text === '$(circle-slash) FluxLoop: Recording off');
    expect((await find(tree, /^Record Mode:/)).label).toBe('Record Mode: Disabled');
    expect((await tree.getChildren(await find(tree, 'Recording (Advanced)'))).map((i) => i.label)).toEqual([
      'Enable Recording',
      'Disable Recording',
      'No recordings found — Enable Record Mode to capture inputs',
    ]);

    await click(await find(tree, 'Enable Recording'));
    expect(fs.readFileSync(path.join(dir, '.env'), 'utf8')).toMatch(/^FLUXLOOP_RECORD_ARGS=true$/m);
    await until('the status bar', () => bar!.text === '$(record) FluxLoop: Recording on');
    expect((await find(tree, /^Record Mode:/)).label).toBe('Record Mode: Enabled');

    // The user edits .env; its watcher refreshes what shows the mode.
    fs.writeFileSync(path.join(dir, '.env'), 'FLUXLOOP_RECORD_ARGS=false\n');
    const dotenv = fake.watchers.find((w) => typeof w.pattern !== 'string' && w.pattern.pattern === '.env' && w.pattern.base.fsPath === dir);
    dotenv!.fireChange(path.join(dir, '.env'));
    await new Promise((r) => setTimeout(r, DEBOUNCE_MS));
    await until('the status bar', () => bar!.text === '$(circle-slash) FluxLoop: Recording off');
    expect((await find(tree, /^Record Mode:/)).label).toBe('Record Mode: Disabled');
  });

  it('runs an experiment on what the app recorded, sums it up, and opens its report', async () => {
    const dir = supportAgent();
    const app = spawnSync(process.execPath, ['--import', 'fluxloop/register', 'app/main.js'], { cwd: dir, env: { PATH: process.env.PATH, FLUXLOOP_RECORD_ARGS: 'true' }, encoding: 'utf8' });
    expect(app.status, app.stderr).toBe(0);
    const tree = activateOn(dir);
    const file = await find(tree, 'args_recording.jsonl');
    expect(file.description).toMatch(/^6 records, \d+(\.\d)? KB$/);

    fake.answer = (m) => (m.text.startsWith('Experiment ') ? 'Open Report' : undefined);
    await click(await find(tree, 'Run Experiment'));

    expect(fake.messages).toEqual([
      { level: 'info', text: expect.stringMatching(/^Experiment support-agent_\d{8}_\d{6}: \d+ runs, 100% succeeded, \d+ of \d+ passed \(\d+%\)\.$/), items: ['Open Report'], modal: false },
    ]);
    const [experimentDir] = fs.readdirSync(path.join(dir, 'experiments'));
    expect(fake.webviews.map((w) => w.webview.html)).toEqual([fs.readFileSync(path.join(dir, 'experiments', experimentDir!, 'report.html'), 'utf8')]);

    await vscode.commands.executeCommand('fluxloop.runDoctor');
    expect(fake.messages.at(-1)!.text).toMatch(/^Doctor: (No problems|\d+ problems? to fix)/);
    expect(fake.output.join('')).toMatch(/^✓ Node\.js +\d+\.\d+\.\d+$/m);
  });
});
