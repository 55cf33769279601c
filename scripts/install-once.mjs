// Before `npm test` and `npm run demo`: installs the clone's dependencies when they are not there
// yet, so that each quick-start command works on a fresh clone and the two together install once.
// Only Node's own modules are used here: nothing else exists before the install.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// npm writes this file at the end of every install; its absence means no complete install.
if (!fs.existsSync(path.join(repo, 'node_modules', '.package-lock.json'))) {
  console.log('Installing the dependencies first (npm ci)…');
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, 'ci', '--no-audit', '--no-fund'], { cwd: repo, stdio: 'inherit' })
    : spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: repo, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
