// Runs the built CLI (dist/), as users do: `npm test` builds first (pretest), so after changing
// src/ run `npm run build` before `npx vitest run test/cli`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The built command tree: main.ts loads each command's file from dist when it is needed.
import { buildProgram } from '../../dist/cli/main.js';
import { loadEvaluationConfig } from '../../src/config/evaluation.js';
import { loadSimulationConfig } from '../../src/config/simulation.js';
import { DOWNSTREAM_REPLAY_DEFAULTS, EVALUATOR_TYPES, RUNNER_DEFAULTS } from '../../src/config/types.js';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-init-'));

function run(cwd: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('FLUXLOOP_') || key === 'FORCE_COLOR') delete env[key];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `fluxloop WORDS [--options]` is a command of the CLI, each option one of its own. */
function expectCommand(text: string): void {
  const [name, ...words] = text.split(/\s+/);
  expect(name).toBe('fluxloop');
  let command: Command = buildProgram();
  for (const word of words.filter((w) => /^[a-z]/.test(w))) {
    if (command.commands.length === 0) break;
    const next = command.commands.find((c) => c.name() === word);
    expect(next, `"${text}": no command "${word}" under "${command.name()}"`).toBeDefined();
    command = next!;
  }
  expect(command.commands, `"${text}" names no command, only a group`).toHaveLength(0);
  for (const option of words.filter((w) => w.startsWith('--'))) {
    expect(command.options.map((o) => o.long), `"${text}"`).toContain(option);
  }
}

function newDir(): string {
  return fs.mkdtempSync(path.join(tmp, 'p-'));
}

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fluxloop init', () => {
  it('scaffolds .env, the config and the folders, and says what comes next', () => {
    const dir = newDir();
    const r = run(dir, 'init');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['.env', 'configs/simulation.yaml', 'configs/evaluation.yaml', 'recordings/', 'inputs/']) {
      expect(r.stdout).toMatch(new RegExp(`created\\s+${name.replace('.', '\\.')}`));
    }
    expect(r.stdout).toMatch(/created\s+\.gitignore\s+ignores \.env, recordings\/, \.fluxloop\/, experiments\//);
    expect(fs.statSync(path.join(dir, 'recordings')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(dir, 'inputs')).isDirectory()).toBe(true);

    const env = fs.readFileSync(path.join(dir, '.env'), 'utf8');
    expect(env).toMatch(/^FLUXLOOP_RECORD_ARGS=false$/m);
    expect(env).toMatch(/^# FLUXLOOP_RECORDING_FILE=/m);
    expect(env).toMatch(/^# OPENAI_API_KEY=/m);
    if (process.platform !== 'win32') expect(fs.statSync(path.join(dir, '.env')).mode & 0o077).toBe(0);
  });

  it('writes a config that loads, with every section', () => {
    const dir = newDir();
    run(dir, 'init');
    const text = fs.readFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'utf8');
    expect(text).toMatch(/^ {2}# targets:\n {2}# {3}- app\/agent\.js:Agent\.reply$/m);
    for (const key of ['target', 'isolation', 'concurrency', 'timeout_ms', 'callable_providers']) {
      expect(text).toMatch(new RegExp(`^\\s+# ${key}:`, 'm'));
    }
    const config = loadSimulationConfig(dir);
    expect(config.recording.targets).toEqual([]);
    expect(config.recording.file).toBe('recordings/args_recording.jsonl');
    expect(config.recording.redact_keys).toEqual([]);
    expect(config.replay_args).toEqual({
      enabled: false,
      recording_file: 'recordings/args_recording.jsonl',
      override_param_path: 'kwargs.message',
      callable_providers: {},
      providers: {},
      revive: {},
      select: 'all',
      downstream: DOWNSTREAM_REPLAY_DEFAULTS,
    });
    expect(config.runner).toEqual(RUNNER_DEFAULTS);
    expect(config.base_inputs).toHaveLength(2);
    // The downstream settings, shown commented out, load as written once uncommented.
    const open = text.replace(/^( +)# (downstream:\n(?:\1# .*\n)+)/gm, (_, indent: string, block: string) => indent + block.replace(new RegExp(`^${indent}# `, 'gm'), indent));
    fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), open);
    const uncommented = loadSimulationConfig(dir);
    expect(uncommented.recording.downstream).toEqual({ http: true, llm: true, targets: ['app/tools.js:sendEmail'] });
    expect(uncommented.replay_args?.downstream).toEqual(DOWNSTREAM_REPLAY_DEFAULTS);
    const evaluation = loadEvaluationConfig(dir);
    expect(evaluation).toMatchObject({ pass_threshold: 1, source: 'configs/evaluation.yaml' });
    expect(evaluation.evaluators.map((e) => e.type)).toEqual(['success', 'output_not_empty']);
    // Every evaluator type is shown, commented out, for the user to switch on.
    for (const type of EVALUATOR_TYPES) expect(fs.readFileSync(path.join(dir, 'configs', 'evaluation.yaml'), 'utf8')).toContain(`type: ${type}`);
  });

  it('keeps existing files unless --force', () => {
    const dir = newDir();
    run(dir, 'init');
    fs.writeFileSync(path.join(dir, '.env'), 'MINE=1\n');
    fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), '# mine\n');

    const again = run(dir, 'init');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/kept\s+\.env/);
    expect(again.stdout).toMatch(/kept\s+configs\/simulation\.yaml/);
    expect(fs.readFileSync(path.join(dir, '.env'), 'utf8')).toBe('MINE=1\n');
    expect(fs.readFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'utf8')).toBe('# mine\n');

    const forced = run(dir, 'init', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/overwritten\s+\.env/);
    expect(fs.readFileSync(path.join(dir, '.env'), 'utf8')).toContain('FLUXLOOP_RECORD_ARGS=false');
  });

  it('says what comes next, in order, each command with npx', () => {
    const r = run(newDir(), 'init');
    const steps = r.stdout.slice(r.stdout.indexOf('Next steps:')).split('\n').filter((l) => /^\s+\d+\./.test(l)).map((l) => l.replace(/^\s+\d+\.\s+/, ''));
    const expected = [
      'list the functions to record under recording.targets in configs/simulation.yaml',
      'set runner.target there to the function experiments call',
      'check replay_args.override_param_path there',
      'npx fluxloop record enable',
      'node --import fluxloop/register <your app>',
      'npx fluxloop record status',
      'npx fluxloop generate inputs ',
      'npx fluxloop run experiment --evaluate',
    ];
    expect(steps).toHaveLength(expected.length);
    steps.forEach((step, i) => expect(step.startsWith(expected[i]!), step).toBe(true));
    expect(steps[6]).toContain('--from-recording');
    expect(r.stdout).toContain('`npx fluxloop doctor` checks all of this at any time.');
    for (const step of steps.filter((s) => s.startsWith('npx fluxloop '))) expectCommand(step.slice('npx '.length));
  });

  it('names only real commands and options in the files it writes', () => {
    const dir = newDir();
    run(dir, 'init');
    const mentions = ['.env', 'configs/simulation.yaml', 'configs/evaluation.yaml'].flatMap((file) =>
      [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/`(fluxloop [^`]+)`/g)].map((m) => m[1]!),
    );
    expect(mentions).toEqual(expect.arrayContaining(['fluxloop run experiment', 'fluxloop generate inputs --mode llm', 'fluxloop record enable', 'fluxloop evaluate experiment']));
    for (const mention of mentions) expectCommand(mention);
  });

  it('names the app\'s entry module in the step that runs it, under tsx for TypeScript', () => {
    const dir = newDir();
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "main": "src/index.ts" }');
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'index.ts'), '');
    expect(run(dir, 'init').stdout).toMatch(/\d\.\s+node --import tsx --import fluxloop\/register src\/index\.ts /);
  });

  it('adds what it lacks to an existing .gitignore under a comment, never twice and never moving the user\'s lines', () => {
    const dir = newDir();
    const mine = 'node_modules/\n/recordings\n.env*\n# keep this\ndist';
    fs.writeFileSync(path.join(dir, '.gitignore'), mine);
    const r = run(dir, 'init');
    expect(r.stdout).toMatch(/updated\s+\.gitignore\s+added \.fluxloop\/, experiments\//);
    const merged = fs.readFileSync(path.join(dir, '.gitignore'), 'utf8');
    expect(merged).toBe(`${mine}\n\n# fluxloop\n.fluxloop/\nexperiments/\n`);
    // A second run adds nothing.
    const again = run(dir, 'init');
    expect(again.stdout).toMatch(/kept\s+\.gitignore\s+already ignores what fluxloop writes/);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe(merged);
    // A line the user removed comes back under the comment, which is not written twice; --force overwrites nothing of theirs.
    fs.writeFileSync(path.join(dir, '.gitignore'), merged.replace('.fluxloop/\n', '') + 'coverage/\n');
    run(dir, 'init', '--force');
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe(`${mine}\n\n# fluxloop\nexperiments/\ncoverage/\n.fluxloop/\n`);
    // Git itself agrees, where it is installed.
    if (spawnSync('git', ['init', '-q'], { cwd: dir }).status === 0) {
      const checked = spawnSync('git', ['check-ignore', '.env', 'recordings/x.jsonl', '.fluxloop/status', 'experiments/e1/report.html'], { cwd: dir, encoding: 'utf8' });
      expect(checked.stdout.trim().split('\n')).toHaveLength(4);
    }
  });

  it('works on --project-dir, creating it', () => {
    const dir = path.join(newDir(), 'nested', 'project');
    const r = run(tmp, '--project-dir', dir, 'init');
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'configs', 'simulation.yaml'))).toBe(true);
    expect(r.stdout).toContain(`cd "${dir}"`);
  });
});
