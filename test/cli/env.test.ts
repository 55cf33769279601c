// Runs the built CLI (dist/), as users do: after changing src/, run `npm run build` first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-env-')));

// The values of the keys: none may appear in anything `env` prints.
const DOTENV_KEY = 'sk-dotenv-9f3a7c21e5b4';
const JUDGE_KEY = 'judge-environment-4d8e2b61';
const SECRETS = [DOTENV_KEY, JUDGE_KEY];

function env(cwd: string, args: string[], extra: Record<string, string> = {}) {
  // None of the test runner's own settings or keys: only `extra` sets any.
  const vars: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(vars)) if (key.startsWith('FLUXLOOP_') || ['FORCE_COLOR', 'OPENAI_API_KEY', 'MY_LLM_KEY', 'JUDGE_KEY'].includes(key)) delete vars[key];
  Object.assign(vars, { NO_COLOR: '1' }, extra);
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: vars, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A project with LLM keys in .env and configs that name two more, recording on in .env, and a recording. */
function makeProject(): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'p-'));
  fs.mkdirSync(path.join(dir, 'configs'));
  fs.mkdirSync(path.join(dir, 'recordings'));
  fs.writeFileSync(path.join(dir, '.env'), `FLUXLOOP_RECORD_ARGS=true\nOPENAI_API_KEY=${DOTENV_KEY}\n`);
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'recording:\n  targets: [app/agent.js:handle]\ninput_generation:\n  llm:\n    api_key_env: MY_LLM_KEY\n');
  fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), 'llm:\n  api_key_env: JUDGE_KEY\n');
  fs.writeFileSync(path.join(dir, 'recordings', 'args_recording.jsonl'), `${JSON.stringify({ function: 'handle', args: ['hi'] })}\n`);
  return dir;
}

/** A tsx package in the project's node_modules, as `npm i -D tsx` leaves one. */
function installTsx(dir: string, version: string): void {
  fs.mkdirSync(path.join(dir, 'node_modules', 'tsx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'node_modules', 'tsx', 'package.json'), JSON.stringify({ name: 'tsx', version }));
}

function expectNoSecret(run: { stdout: string; stderr: string }): void {
  for (const secret of SECRETS) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'env.js'))) throw new Error('dist/ is missing: run `npm run build` first');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fluxloop env', () => {
  it('prints versions, the project and how it was found, files, the recording, tsx and where each key is set, never a value', () => {
    const dir = makeProject();
    const run = env(dir, ['env', '--project-dir', dir], { JUDGE_KEY });
    expect(run.code, run.stderr).toBe(0);
    expectNoSecret(run);
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const rows = Object.fromEntries(run.stdout.trimEnd().split('\n').map((line) => [line.slice(0, 16).trim(), line.slice(16)]));
    expect(rows).toEqual({
      fluxloop: version,
      'Node.js': `${process.versions.node} (${process.platform} ${process.arch})`,
      Project: `${dir} (from --project-dir)`,
      Config: path.join(dir, 'configs', 'simulation.yaml'),
      Evaluation: path.join(dir, 'configs', 'evaluation.yaml'),
      '.env': path.join(dir, '.env'),
      Runner: 'runner.target not set, 1 iteration',
      Recording: 'enabled (FLUXLOOP_RECORD_ARGS=true in .env)',
      'Recording file': `${path.join(dir, 'recordings', 'args_recording.jsonl')} (${fs.statSync(path.join(dir, 'recordings', 'args_recording.jsonl')).size} B)`,
      tsx: 'not installed in the project (TypeScript apps need it: npm i -D tsx)',
      'LLM keys': 'OPENAI_API_KEY set in .env, MY_LLM_KEY not set, JUDGE_KEY set in the environment',
    });
  });

  it('--json: one object of a fixed shape, tsx with its version when the project has it, and no secret', () => {
    const dir = makeProject();
    installTsx(dir, '4.99.1');
    const run = env(dir, ['env', '--json'], { JUDGE_KEY, FLUXLOOP_RECORD_ARGS: 'false' });
    expect(run.code, run.stderr).toBe(0);
    expectNoSecret(run);
    const info = JSON.parse(run.stdout);
    expect(Object.keys(info)).toEqual(['fluxloop', 'node', 'platform', 'project', 'files', 'recording', 'config', 'tsx', 'llm_keys']);
    expect(info).toMatchObject({
      node: process.versions.node,
      platform: `${process.platform} ${process.arch}`,
      project: { root: dir, found_by: 'current directory' },
      files: {
        simulation: { path: path.join(dir, 'configs', 'simulation.yaml'), exists: true },
        evaluation: { path: path.join(dir, 'configs', 'evaluation.yaml'), exists: true },
        env: { path: path.join(dir, '.env'), exists: true },
      },
      // The shell's value wins over .env's, as it does for the recorder.
      recording: {
        mode: 'disabled',
        source: 'environment',
        environment_value: 'false',
        env_file_value: 'true',
        file: { path: path.join(dir, 'recordings', 'args_recording.jsonl'), exists: true, bytes: fs.statSync(path.join(dir, 'recordings', 'args_recording.jsonl')).size },
      },
      config: { name: 'experiment', runner_target: null, iterations: 1, output_directory: 'experiments', inputs_file: 'inputs/generated.yaml' },
      tsx: { installed: true, version: '4.99.1' },
      llm_keys: [
        { name: 'OPENAI_API_KEY', set: '.env' },
        { name: 'MY_LLM_KEY', set: null },
        { name: 'JUDGE_KEY', set: 'environment' },
      ],
    });
    const text = env(dir, ['env'], { FLUXLOOP_PROJECT_DIR: dir });
    expect(text.stdout).toMatch(/^tsx +4\.99\.1$/m);
    expect(text.stdout).toContain(`${dir} (from FLUXLOOP_PROJECT_DIR)`);
  });

  it('reports files that are missing or do not load, and goes on', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'broken-'));
    fs.mkdirSync(path.join(dir, 'configs'));
    fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), 'runner: [not, a, mapping]\n');
    const run = env(dir, ['env', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const info = JSON.parse(run.stdout);
    expect(info.files.simulation).toEqual({ path: path.join(dir, 'configs', 'simulation.yaml'), exists: true, error: expect.stringContaining('configs/simulation.yaml') });
    expect(info.files.env).toEqual({ path: path.join(dir, '.env'), exists: false });
    expect(info.recording).toMatchObject({ mode: 'disabled', source: 'default', file: null });
    expect(info.config).toBeNull();
    expect(info.llm_keys).toEqual([{ name: 'OPENAI_API_KEY', set: null }]);
    const text = env(dir, ['env']);
    expect(text.stdout).toMatch(/^Config +.*simulation\.yaml \(does not load: configs\/simulation\.yaml/m);
    expect(text.stdout).toMatch(/^\.env +.*\.env \(not found\)$/m);
    expect(text.stdout).toMatch(/^Recording file +unknown: configs\/simulation\.yaml does not load$/m);
    expect(text.stdout).toMatch(/^Runner +unknown: configs\/simulation\.yaml does not load$/m);
  });

  it('exits 2 for a project directory that does not exist', () => {
    const run = env(tmp, ['env', '--project-dir', path.join(tmp, 'missing')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fluxloop: the project directory .* does not exist/);
  });
});
