// `npm run test:vscode`: the extension's end-to-end test in a real VS Code. The @vscode/test-*
// runners download a VS Code build when they start, which a machine that reaches only the npm
// registry cannot do; code-server is VS Code from the npm registry, with a real extension host,
// so the test drives it in Debian's Chromium through playwright-core.
//
// First it makes sure of what the test needs, each step skipped when done before:
//   1. Node.js 24 (code-server installs and runs only on it), from scripts/node-version.sh;
//   2. code-server, installed once into a cache folder outside the clone, so that a new clone
//      does not pay for it again (its native modules compile for minutes);
//   3. the extension, type-checked with its tests, built and packed into a .vsix with
//      @vscode/vsce, which the test installs.
// Then it runs vitest on vscode/test/e2e with where those are in the environment.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CODE_SERVER_VERSION = '4.139.1';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extension = path.join(repo, 'vscode');

function fail(message) {
  console.error(`test:vscode: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) fail(`\`${[command, ...args].join(' ')}\` failed (exit ${result.status ?? result.signal})`);
  return result;
}

function node24Bin() {
  const result = spawnSync(path.join(repo, 'scripts', 'node-version.sh'), ['24'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) fail('Node.js 24 could not be installed from the npm registry (scripts/node-version.sh 24)');
  return result.stdout.trim();
}

function cacheDir() {
  if (process.env.FLUXLOOP_CACHE_DIR) return path.resolve(process.env.FLUXLOOP_CACHE_DIR);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'fluxloop');
}

/** code-server in the cache, installed there first when it is not; its executable. */
function codeServer(nodeBin) {
  const home = path.join(cacheDir(), `code-server-${CODE_SERVER_VERSION}`);
  const bin = path.join(home, 'node_modules', '.bin', 'code-server');
  if (fs.existsSync(bin)) return bin;
  // Its VS Code builds the native module kerberos from source, which needs GSSAPI's headers.
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h')) fail('code-server builds kerberos from source and needs its headers: apt-get install libkrb5-dev');
  console.log(`Installing code-server ${CODE_SERVER_VERSION} into ${home} (once; several minutes)…`);
  // Into a folder of its own first, so that an install cut short is never taken for a whole one.
  const partial = `${home}.partial-${process.pid}`;
  fs.mkdirSync(partial, { recursive: true });
  fs.writeFileSync(path.join(partial, 'package.json'), '{"private":true}\n');
  // node-gyp must build against Node 24's headers, which its package carries, not the machine's.
  // npm takes npm_config_* variables for its own settings: the user agent set by the npm that runs
  // this script (`npm run test:vscode`, on the machine's Node) would be this install's too, and
  // code-server's install script reads the Node version from it, and stops on any but 24.
  const { npm_config_user_agent: _agent, ...inherited } = process.env;
  const env = { ...inherited, PATH: `${nodeBin}${path.delimiter}${process.env.PATH}`, npm_config_nodedir: path.dirname(nodeBin) };
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`], { cwd: partial, env });
  fs.rmSync(home, { recursive: true, force: true });
  fs.renameSync(partial, home);
  return bin;
}

/** The extension built and packed; the .vsix. */
function packExtension() {
  // npm writes this file at the end of every install; its absence means no complete install.
  if (!fs.existsSync(path.join(extension, 'node_modules', '.package-lock.json'))) {
    run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: extension });
  }
  // The tests' types too: vitest runs them without checking.
  run('npm', ['run', 'check', '--silent'], { cwd: extension });
  run('npm', ['run', 'package', '--silent'], { cwd: extension });
  return path.join(extension, 'fluxloop-vscode.vsix');
}

const nodeBin = node24Bin();
const env = {
  ...process.env,
  FLUXLOOP_CODE_SERVER: codeServer(nodeBin),
  FLUXLOOP_NODE24_BIN: nodeBin,
  FLUXLOOP_VSIX: packExtension(),
};
const vitest = path.join(repo, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', '--config', path.join(extension, 'test', 'e2e', 'vitest.config.mts')], { cwd: repo, stdio: 'inherit', env });
process.exit(result.status ?? 1);
