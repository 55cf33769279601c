// Runs the built CLI (dist/), as users do: `npm test` builds first (pretest), so after changing
// src/ run `npm run build` before `npx vitest run test/cli`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEvaluationConfig } from '../../src/config/evaluation.js';
import { loadSimulationConfig } from '../../src/config/simulation.js';
import { EVALUATOR_TYPES, RUNNER_DEFAULTS } from '../../src/config/types.js';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-init-'));

function run(cwd: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('FLUXLOOP_') || key === 'FORCE_COLOR') delete env[key];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
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
    expect(r.stdout).toContain('fluxloop record enable');
    expect(r.stdout).toContain('node --import fluxloop/register your/app.js');
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
    });
    expect(config.runner).toEqual(RUNNER_DEFAULTS);
    expect(config.base_inputs).toHaveLength(2);
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

  it('works on --project-dir, creating it', () => {
    const dir = path.join(newDir(), 'nested', 'project');
    const r = run(tmp, '--project-dir', dir, 'init');
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'configs', 'simulation.yaml'))).toBe(true);
    expect(r.stdout).toContain(`cd "${dir}"`);
  });
});
