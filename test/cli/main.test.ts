// Runs the built CLI (dist/), as users do: `npm test` builds first (pretest), so after changing
// src/ run `npm run build` before `npx vitest run test/cli`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The built command tree: main.ts loads each command's file from dist when it is needed.
import { buildProgram } from '../../dist/cli/main.js';
import { commandPath, examplesOf } from '../../src/cli/examples';

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

  it('prints its version for -v, -V, --version and the version command', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    for (const args of [['-v'], ['-V'], ['--version'], ['version']]) expect(run(...args)).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    // --verbose is run experiment's own option, not -v: its help is shown, not the version.
    const verbose = run('run', 'experiment', '--verbose', '--help');
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toContain('Usage: fluxloop run experiment');
  });

  it('ends every help screen with examples', () => {
    for (const command of [[], ['record', 'status'], ['env']]) {
      const r = run(...command, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\nExamples:\n(  .+\n)+$/);
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

/** The program and every command under it. */
function walk(command: Command): Command[] {
  return [command, ...command.commands.flatMap(walk)];
}

/**
 * The command an example's words lead to, checking on the way that each command and option
 * exists there (an option of the command or of the program), and that an argument is taken.
 */
function resolveExample(program: Command, words: string[]): Command {
  let command = program;
  let operands = 0;
  const optionOf = (flag: string): Option | undefined => {
    for (let c: Command | null = command; c; c = c.parent) {
      const found = c.options.find((o) => o.short === flag || o.long === flag);
      if (found) return found;
    }
    return undefined;
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('-')) {
      const option = optionOf(word);
      expect(option, `${word} in "${words.join(' ')}"`).toBeDefined();
      if (option!.required || option!.optional) i++;
      continue;
    }
    const sub = operands === 0 ? command.commands.find((c) => c.name() === word) : undefined;
    if (sub) {
      command = sub;
      continue;
    }
    // A variadic last argument takes every operand from its place on.
    const taken = command.registeredArguments.at(-1)?.variadic ? Math.min(operands++, command.registeredArguments.length - 1) : operands++;
    expect(taken, `"${word}" in "${words.join(' ')}": ${commandPath(command) || 'fluxloop'} takes no such argument`).toBeLessThan(command.registeredArguments.length);
  }
  return command;
}

describe('help examples', () => {
  const program = buildProgram();
  const commands = walk(program);

  it.each(commands.map((c) => [commandPath(c) || 'fluxloop', c] as const))('%s has examples of real commands that reach it', (_, command) => {
    const examples = examplesOf(command);
    expect(examples.length).toBeGreaterThan(0);
    const reached = examples
      .filter((line) => line.startsWith('npx fluxloop '))
      .map((line) => resolveExample(program, line.split('#')[0]!.trim().split(/\s+/).slice(2)));
    // At least one example runs this command or one under it; -v stands for the version command.
    const path = commandPath(command);
    expect(reached.some((c) => commandPath(c).startsWith(path) || (path === 'version' && c === program))).toBe(true);
    for (const c of reached) if (c !== program) expect(c.commands, `an example stops at ${commandPath(c)}, which needs a subcommand`).toHaveLength(0);
  });

  it('leaves -v and -V to the program: a program option is taken wherever it stands', () => {
    for (const command of commands.slice(1)) {
      for (const option of command.options) expect([option.short, option.long], `${commandPath(command)} ${option.flags}`).not.toContain('-v');
      for (const option of command.options) expect(option.short, `${commandPath(command)} ${option.flags}`).not.toBe('-V');
    }
  });
});
