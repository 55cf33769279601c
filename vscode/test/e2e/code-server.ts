// A real VS Code for the end-to-end test: code-server on 127.0.0.1, with its own user and
// extension folders, and the packed extension installed into it, driven in Debian's Chromium.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** What scripts/vscode-e2e.mjs found or made; the test cannot run without them. */
export function requiredEnvironment(): { codeServer: string; nodeBin: string; vsix: string } {
  const { FLUXLOOP_CODE_SERVER: codeServer, FLUXLOOP_NODE24_BIN: nodeBin, FLUXLOOP_VSIX: vsix } = process.env;
  if (!codeServer || !nodeBin || !vsix) throw new Error('run this test with `npm run test:vscode`, which installs code-server and packs the extension first');
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium`);
  return { codeServer, nodeBin, vsix };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Editor {
  page: Page;
  /** The output of code-server, for a failure's message. */
  log: () => string;
  close: () => Promise<void>;
}

/** The settings that keep a first start quiet: no trust prompt, welcome page, telemetry or chat. */
const USER_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  // Type acquisition downloads from the registry while the TypeScript server starts, slowing it.
  'typescript.disableAutomaticTypeAcquisition': true,
};

/** Starts code-server on `workspace` with the .vsix installed, and opens it in Chromium. */
export async function openEditor(runDir: string, workspace: string): Promise<Editor> {
  const { codeServer, nodeBin, vsix } = requiredEnvironment();
  const dirs = Object.fromEntries(['user', 'extensions', 'config', 'data'].map((name) => [name, path.join(runDir, name)]));
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.join(dirs.user!, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.user!, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  // code-server runs only on Node.js 24; XDG_* keep its config out of the user's home.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${nodeBin}${path.delimiter}${process.env.PATH}`, XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data };
  for (const key of Object.keys(env)) if (key.startsWith('FLUXLOOP_') || key.startsWith('VSCODE_')) delete env[key];
  const common = ['--user-data-dir', dirs.user!, '--extensions-dir', dirs.extensions!];
  // Installing the .vsix, as a user would, is also the test that it was packed whole.
  const install = spawnSync(codeServer, [...common, '--install-extension', vsix], { env, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`code-server --install-extension failed:\n${install.stdout}${install.stderr}`);

  const port = await freePort();
  let output = '';
  // Its own process group, so that the file watcher it starts ends with it.
  const server: ChildProcess = spawn(
    codeServer,
    [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', workspace],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stopServer = () => {
    try {
      process.kill(-server.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
  };

  let browser: Browser | undefined;
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true, 30_000, () => `code-server did not answer:\n${output}`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const opened = browser;
    return {
      page,
      log: () => output,
      close: async () => {
        await opened.close();
        stopServer();
      },
    };
  } catch (error) {
    await browser?.close();
    stopServer();
    throw error;
  }
}

/** Polls `check` until it holds, else fails with `why()`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, why: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(why());
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
