// The extension in a real VS Code (code-server, in Chromium), on a copy of the support-agent
// example: the view and its labels, recording switched from the tree and the palette, every
// palette command, an experiment run and listed, a function added to the targets, the report.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { openEditor, requiredEnvironment, waitFor, type Editor } from './code-server';

const repo = path.resolve(__dirname, '..', '..', '..');
const example = path.join(repo, 'examples', 'support-agent');
const SCREENSHOT = path.join(repo, 'vscode', 'media', 'experiments-view.png');

let runDir: string;
let project: string;
let editor: Editor;
let page: Page;

/** The example, as a user's project with fluxloop installed, and one recorded target fewer. */
function makeProject(dir: string): void {
  for (const entry of ['app', 'configs', 'package.json']) fs.cpSync(path.join(example, entry), path.join(dir, entry), { recursive: true });
  const bin = path.join(dir, 'node_modules', '.bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(repo, path.join(dir, 'node_modules', 'fluxloop'), 'dir');
  fs.symlinkSync(path.join('..', 'fluxloop', 'bin', 'fluxloop.js'), path.join(bin, 'fluxloop'));
  const config = path.join(dir, 'configs', 'simulation.yaml');
  const text = fs.readFileSync(config, 'utf8');
  expect(text).toContain('    - app/llm.js:complete\n');
  fs.writeFileSync(config, text.replace('    - app/llm.js:complete\n', ''));
}

const read = (file: string) => (fs.existsSync(path.join(project, file)) ? fs.readFileSync(path.join(project, file), 'utf8') : '');
const recordingSwitch = () => /^FLUXLOOP_RECORD_ARGS=(\w+)/m.exec(read('.env'))?.[1];

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(check, timeoutMs, () => `timed out waiting for ${what}\n--- code-server ---\n${editor.log().slice(-3000)}`);
}

/** A row of a tree (or list) by its text. */
function row(text: string | RegExp): Locator {
  return page.locator('.monaco-list-row', { hasText: text }).first();
}

/** Runs a command from the palette by its full title, as a user picks it. */
async function palette(title: string): Promise<void> {
  await openPalette();
  await page.locator('.quick-input-widget input').fill(`>${title}`);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${title}"]`).first().click();
}

/**
 * F1, as a user presses it. A webview that has the focus (the report) keeps the key to itself,
 * so the focus goes back to the workbench first: the side bar's title, where a click does nothing.
 */
async function openPalette(): Promise<void> {
  await page.locator('.part.sidebar .composite.title').click();
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor();
}

/** A notification's text, once one holding `text` shows. */
async function notification(text: string | RegExp): Promise<Locator> {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  await toast.waitFor({ timeout: 60_000 });
  return toast;
}

beforeAll(async () => {
  requiredEnvironment();
  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-vscode-'));
  project = path.join(runDir, 'project');
  makeProject(project);
  editor = await openEditor(path.join(runDir, 'editor'), project);
  page = editor.page;
  await page.locator('.activitybar [aria-label^="FluxLoop"]').first().click({ timeout: 60_000 });
});

afterAll(async () => {
  await editor?.close();
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
});

describe('the FluxLoop extension in VS Code', () => {
  it('shows the Experiments view with its sections', async () => {
    for (const label of ['Configuration', 'Run Experiment', 'Experiments']) await row(label).waitFor({ timeout: 60_000 });
    // Configuration opens expanded; Recording (Advanced) closed.
    await row('Record Mode: Disabled').waitFor();
    await row('Iterations: 1').waitFor();
    await row('Runner: app/agent.js:handleMessage').waitFor();
    await row('Recording (Advanced)').click();
    await row('No recordings found').waitFor();
    for (const label of ['Enable Recording', 'Disable Recording']) await row(label).waitFor();
  });

  it('turns recording on with the inline button, and lists the file the app records', async () => {
    await row('Recording (Advanced)').hover();
    await page.locator('.monaco-list-row a.action-label[aria-label="Enable Recording"]').first().click();
    await until(() => recordingSwitch() === 'true', '.env to turn recording on');
    await row('Record Mode: Enabled').waitFor();
    await page.locator('.statusbar-item', { hasText: /Recording on/ }).waitFor();

    const app = spawnSync(process.execPath, ['--import', 'fluxloop/register', 'app/main.js'], { cwd: project, encoding: 'utf8', env: { ...process.env, FLUXLOOP_PROJECT_DIR: project } });
    expect(app.status, app.stderr).toBe(0);
    await row('args_recording.jsonl').waitFor({ timeout: 30_000 });
  });

  it('turns recording off from the tree item, and back on and off from the palette', async () => {
    await row(/^Disable Recording$/).click();
    await until(() => recordingSwitch() === 'false', '.env to turn recording off');
    await row('Record Mode: Disabled').waitFor();
    await palette('FluxLoop: Enable Recording');
    await until(() => recordingSwitch() === 'true', 'the palette to turn recording on');
    await palette('FluxLoop: Disable Recording');
    await until(() => recordingSwitch() === 'false', 'the palette to turn recording off');
  });

  it('shows the recording status', async () => {
    await palette('FluxLoop: Show Recording Status');
    await notification('Recording is off (.env): 3 records in 1 file; 1 target.');
  });

  it('generates inputs and lists them in the Inputs view', async () => {
    await palette('FluxLoop: Generate Inputs');
    // What to vary: the CLI's own choice, the recorded messages here.
    await pickFirst();
    await until(() => read('inputs/generated.yaml').includes('inputs:'), 'inputs/generated.yaml', 60_000);
    await row('Hi, can I get a refund for order 42?').waitFor({ timeout: 30_000 });
  });

  it('runs an experiment, lists it, and opens its report', async () => {
    await palette('FluxLoop: Run Experiment');
    const done = await notification(/runs/);
    const experiments = fs.readdirSync(path.join(project, 'experiments'));
    expect(experiments).toHaveLength(1);
    await row(experiments[0]!).waitFor({ timeout: 30_000 });
    await done.locator('a.monaco-button', { hasText: 'Open Report' }).click();
    // The report's own script fills its summary cards: its CSP let it run in the webview.
    const report = page.frameLocator('iframe.webview').last().frameLocator('#active-frame');
    await report.locator('#summary-cards .card').first().waitFor({ timeout: 30_000 });
  });

  it('evaluates the experiment and opens the report from the palette', async () => {
    await palette('FluxLoop: Evaluate Experiment');
    await pickFirst();
    await notification(/passed/);
    await page.locator('.tab', { hasText: 'Report: ' }).first().waitFor();
    await palette('FluxLoop: Open Report');
    await pickFirst();
    await page.locator('.tab', { hasText: 'Report: ' }).first().waitFor();
  });

  it('takes a screenshot of the view and the report for the README', async () => {
    await row(/^support-agent_/).click();
    await row('Open Report').waitFor();
    await palette('Notifications: Clear All Notifications');
    const shot = path.join(runDir, 'experiments-view.png');
    await page.screenshot({ path: shot });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    if (process.env.FLUXLOOP_UPDATE_SCREENSHOT === '1') fs.copyFileSync(shot, SCREENSHOT);
  });

  it('runs the doctor and shows the environment', async () => {
    await palette('FluxLoop: Run Doctor');
    await notification(/Doctor/);
    await palette('FluxLoop: Show Environment Info');
    await notification(/FluxLoop \d+\.\d+\.\d+ on Node\.js/);
  });

  it('records a function from its CodeLens, the palette and the context menu, keeping the config\'s comments', async () => {
    const config = () => read('configs/simulation.yaml');
    const comments = () => config().split('\n').filter((line) => line.trim().startsWith('#')).length;
    const before = comments();

    await openAt('app/llm.js', 1);
    await page.locator('.codelens-decoration a', { hasText: 'Record This Function' }).first().click({ timeout: 60_000 });
    await until(() => config().includes('- app/llm.js:complete'), 'app/llm.js:complete in the targets');

    // The user takes handleMessage out of the targets, then puts it back from inside its body.
    fs.writeFileSync(path.join(project, 'configs', 'simulation.yaml'), config().replace('    - app/agent.js:handleMessage\n', ''));
    await openAt('app/agent.js', lineOf('app/agent.js', 'turns.push(message)'));
    await palette('FluxLoop: Record This Function');
    await until(() => config().includes('- app/agent.js:handleMessage'), 'app/agent.js:handleMessage in the targets');

    // The inline `send` handler has no name a target can use: it is recorded by its line.
    const line = lineOf('app/main.js', 'send: (text)');
    await openAt('app/main.js', line);
    await page.locator('.monaco-editor .view-line', { hasText: 'send: (text)' }).click({ button: 'right' });
    await page.locator('.context-view .action-item', { hasText: 'Record This Function' }).first().click();
    await until(() => config().includes(`- app/main.js:${line}`), `app/main.js:${line} in the targets`);
    expect(comments()).toBe(before);
  });
});

/** Takes the first item of the quick pick a command shows. */
async function pickFirst(): Promise<void> {
  await page.locator('.quick-input-list .monaco-list-row').first().click();
}

function lineOf(file: string, text: string): number {
  const index = read(file).split('\n').findIndex((line) => line.includes(text));
  expect(index, `${text} in ${file}`).toBeGreaterThanOrEqual(0);
  return index + 1;
}

/** Opens a file of the project with the cursor on `line`, through Quick Open's `file:line`. */
async function openAt(file: string, line: number): Promise<void> {
  // The palette without its `>` is Quick Open; Ctrl+P is the browser's own in a page.
  await openPalette();
  await page.locator('.quick-input-widget input').fill(`${file}:${line}`);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: path.basename(file) }).waitFor();
}
