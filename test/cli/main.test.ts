// Runs the built CLI (dist/), as users do: `npm test` builds first (pretest), so after changing
// src/ run `npm run build` before `npx vitest run test/cli`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-main-'));

function run(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('FLUXLOOP_') || key === 'FORCE_COLOR') delete env[key];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fluxloop', () => {
  it('prints its version and help', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(run('--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--project-dir <dir>');
    expect(help.stdout).toContain('--debug');
    expect(help.stdout).toMatch(/^\s+init\b/m);
    expect(help.stdout).toMatch(/^\s+record\b/m);
    for (const command of [['init'], ['record'], ['record', 'enable'], ['record', 'disable'], ['record', 'status']]) {
      const r = run(...command, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: fluxloop ${command.join(' ')}`);
    }
  });

  it.each([
    [['frobnicate'], /^fluxloop: unknown command 'frobnicate'/],
    [['record', 'stat'], /unknown command 'stat'/],
    [['record', 'status', '--jsn'], /unknown option '--jsn'/],
    [['init', 'extra'], /too many arguments/],
    [['--project-dir'], /option '--project-dir <dir>' argument missing/],
  ])('exits 2 on the usage error %j', (args, message) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('exits 2 with the usage when no command is given', () => {
    const r = run();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: fluxloop');
  });

  it('exits 2 without a stack for a missing project directory', () => {
    const r = run('--project-dir', path.join(tmp, 'missing'), 'record', 'status');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fluxloop: the project directory .* does not exist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 on other errors, with the stack only under --debug', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'p-'));
    // A folder where .env should be makes reading it fail in a way no config check covers.
    fs.mkdirSync(path.join(dir, '.env'));
    const plain = run('--project-dir', dir, 'record', 'enable');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^fluxloop: EISDIR/);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = run('--project-dir', dir, 'record', 'enable', '--debug');
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
