// Runs the built CLI (dist/) on copies of fixtures/doctor-app: after changing src/, run
// `npm run build` before `npx vitest run test/cli/doctor.test.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, project, recordingPath, runCli, type CliRun } from '../e2e/helpers';

const dirs: string[] = [];

/** A fresh copy of the doctor fixture, with `files` written over it. */
function app(files: Record<string, string> = {}): string {
  const dir = project('doctor-app');
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** `fluxloop doctor`, with no API key from the test runner's own environment unless given. */
function doctor(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(dir, ['doctor', ...args], { OPENAI_API_KEY: '', ...env });
}

/** The line of the check titled `title`, split into its mark and the rest. */
function line(stdout: string, title: string): { mark: string; text: string } {
  const found = stdout.split('\n').find((l) => l.slice(1).trimStart().startsWith(`${title} `));
  if (found === undefined) throw new Error(`no line for "${title}" in:\n${stdout}`);
  return { mark: found[0]!, text: found };
}

interface JsonCheck {
  id: string;
  title: string;
  status: string;
  detail: string;
  fix?: string;
}

function json(run: CliRun): { ok: boolean; checks: JsonCheck[] } {
  return JSON.parse(run.stdout);
}

function byId(checks: JsonCheck[], id: string): JsonCheck {
  const found = checks.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no check "${id}" among ${checks.map((c) => c.id).join(', ')}`);
  return found;
}

const RECORD = (message: string) =>
  JSON.stringify({ _version: '1', function: 'handleMessage', target: 'app/agent.js:handleMessage', iteration: 0, args: ['u1', message], kwargs: {}, params: ['userId', 'message'], timestamp: '2025-11-11T10:30:00.000Z', meta: { pid: 1 } });

const HEALTHY_TITLES = [
  'Node.js',
  'fluxloop package',
  '.env',
  'configs/simulation.yaml',
  'recording folder',
  'target app/agent.js:handleMessage',
  'target app/agent.js:Agent.reply',
  'target app/tools.js:tools.search',
  'target app/legacy.cjs:default',
  'runner.target app/agent.js:handleMessage',
  'entry module',
  'recording file',
  'LLM API key',
];

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'doctor', 'probe-child.js'))) throw new Error('dist/ is missing or stale: run `npm run build` first');
});
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('fluxloop doctor', () => {
  it('passes a healthy project, one ✓ line per check, and keeps the modules\' own output out', async () => {
    const dir = app({ 'recordings/args_recording.jsonl': `${RECORD('Can I get a refund?')}\n${RECORD('hello')}\n` });
    const r = await doctor(dir, [], { OPENAI_API_KEY: 'sk-from-the-environment-000' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const title of HEALTHY_TITLES) expect(line(r.stdout, title).mark, line(r.stdout, title).text).toBe('✓');
    expect(line(r.stdout, 'evaluation config').text).toMatch(/✓\s+evaluation config\s+none; `fluxloop evaluate` checks success, output_not_empty/);
    expect(line(r.stdout, 'target app/agent.js:Agent.reply').text).toContain('"Agent.reply" is a prototype method');
    expect(line(r.stdout, 'recording file').text).toContain('recordings/args_recording.jsonl: 2 records, none malformed');
    expect(line(r.stdout, 'entry module').text).toContain('no recording target in app/main.js');
    expect(line(r.stdout, 'LLM API key').text).toContain('OPENAI_API_KEY present (environment)');
    // app/agent.js prints when it loads; app/tools.js keeps its process alive with a timer.
    expect(r.stdout).not.toContain('agent module loaded');
    expect(r.stdout).toContain('No problems.');
    // Record contents and the key are never shown.
    expect(r.stdout).not.toContain('refund');
    expect(r.stdout + r.stderr).not.toContain('sk-from-the-environment');
  });

  it('fails on a config error with its file:line, and still runs the checks that do not need the config', async () => {
    const dir = app({
      'configs/simulation.yaml': 'recording:\n  targets:\n    - app/agent.js:handleMessage\n  max_dept: 3\n',
    });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    const config = line(r.stdout, 'configs/simulation.yaml');
    expect(config.mark).toBe('✗');
    expect(config.text).toContain('configs/simulation.yaml:4:3');
    expect(config.text).toContain('did you mean "max_depth"');
    expect(config.text).toContain('→ edit configs/simulation.yaml:4:3');
    expect(line(r.stdout, 'recording targets').mark).toBe('-');
    expect(line(r.stdout, 'recording file').mark).toBe('-');
    expect(line(r.stdout, '.env').mark).toBe('✓');
    expect(line(r.stdout, 'LLM API key').mark).toBe('!');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails a target whose export is missing and one that is not a function, each on its own line', async () => {
    const dir = app({
      'configs/simulation.yaml': [
        'recording:',
        '  targets:',
        '    - app/agent.js:handleMessage',
        '    - app/agent.js:nope',
        '    - app/agent.js:settings',
        '    - app/agent.js:Agent.nope',
        '    - app/missing.js:handle',
        'runner:',
        '  target: app/agent.js:settings',
        '',
      ].join('\n'),
    });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'target app/agent.js:handleMessage').mark).toBe('✓');
    const missing = line(r.stdout, 'target app/agent.js:nope');
    expect(missing.mark).toBe('✗');
    expect(missing.text).toContain('export "nope" not found in app/agent.js (exports: Agent, handleMessage, settings)');
    expect(missing.text).toContain('recording.targets[1]');
    const notFunction = line(r.stdout, 'target app/agent.js:settings');
    expect(notFunction.mark).toBe('✗');
    expect(notFunction.text).toContain('export "settings" is an object, not a function');
    expect(line(r.stdout, 'target app/agent.js:Agent.nope').text).toContain('has no method "nope"');
    expect(line(r.stdout, 'target app/missing.js:handle').text).toContain('module not found: app/missing.js');
    expect(line(r.stdout, 'runner.target app/agent.js:settings').mark).toBe('✗');
    expect(r.stdout).toContain('5 problems to fix');
  });

  it('counts malformed recording lines without showing what any line holds', async () => {
    const lines = [RECORD('first secret message'), 'not json at all: private-note', RECORD('second'), '{"no":"name"}', RECORD('third'), '{"function":"truncated-zq'];
    const dir = app({ 'recordings/args_recording.jsonl': lines.join('\n') });
    const r = await doctor(dir);
    expect(r.code).toBe(0);
    const file = line(r.stdout, 'recording file');
    expect(file.mark).toBe('!');
    expect(file.text).toContain('3 records, 3 malformed lines (lines 2, 4, 6)');
    for (const secret of ['first secret message', 'private-note', 'second', 'truncated-zq']) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('says the LLM key in .env is present and never prints it', async () => {
    const key = 'sk-doctor-9f8e7d6c5b4a3210';
    const dir = app({ '.env': `FLUXLOOP_RECORD_ARGS=true\nOPENAI_API_KEY=${key}\n` });
    for (const args of [[], ['--json']]) {
      const r = await doctor(dir, args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('OPENAI_API_KEY present (.env)');
      for (const part of [key, key.slice(0, 8), key.slice(-8)]) expect(r.stdout + r.stderr).not.toContain(part);
    }
    // The variable named by input_generation.llm.api_key_env; missing is a warning, not a failure.
    const named = app({ 'configs/simulation.yaml': 'recording:\n  targets: [app/agent.js:handleMessage]\ninput_generation:\n  llm:\n    api_key_env: MY_LLM_KEY\n' });
    const missing = await doctor(named, [], { MY_LLM_KEY: '' });
    expect(missing.code).toBe(0);
    expect(line(missing.stdout, 'LLM API key').mark).toBe('!');
    expect(line(missing.stdout, 'LLM API key').text).toContain('MY_LLM_KEY missing');
    const present = await doctor(named, [], { MY_LLM_KEY: 'abc-123' });
    expect(line(present.stdout, 'LLM API key').text).toContain('MY_LLM_KEY present (environment)');
    expect(present.stdout).not.toContain('abc-123');
  });

  it('prints only JSON with --json, whose ok matches the exit code', async () => {
    const healthy = await doctor(app(), ['--json']);
    expect(healthy.code).toBe(0);
    const report = json(healthy);
    expect(report.ok).toBe(true);
    for (const c of report.checks) {
      expect(Object.keys(c).sort()).toEqual(c.fix === undefined ? ['detail', 'id', 'status', 'title'] : ['detail', 'fix', 'id', 'status', 'title']);
      expect(['ok', 'warn', 'fail', 'skip']).toContain(c.status);
      if (c.status === 'ok') expect(c.fix).toBeUndefined();
    }
    const ids = report.checks.map((c) => c.id);
    for (const id of ['node', 'fluxloop', 'env', 'config', 'evaluation-config', 'recording-folder', 'recording-target:app/agent.js:handleMessage', 'runner-target:app/agent.js:handleMessage', 'entry-module', 'recording-file', 'llm-key']) {
      expect(ids).toContain(id);
    }
    expect(byId(report.checks, 'recording-file')).toMatchObject({ status: 'warn', detail: expect.stringContaining('nothing recorded yet') });
    expect(byId(report.checks, 'recording-file').fix).toContain('node --import fluxloop/register app/main.js');

    const broken = await doctor(app({ 'configs/simulation.yaml': 'recording:\n  targets:\n    - app/agent.js:settings\n' }), ['--json']);
    expect(broken.code).toBe(1);
    const failed = json(broken);
    expect(failed.ok).toBe(false);
    expect(byId(failed.checks, 'recording-target:app/agent.js:settings')).toMatchObject({ status: 'fail', fix: expect.stringContaining('recording.targets[0]') });
  });

  it('warns about a target in the entry module without loading it, and bounds a module that never finishes loading', async () => {
    const dir = app({
      'configs/simulation.yaml': 'recording:\n  targets:\n    - app/main.js:greet\n    - app/hang.js:stuck\n    - app/agent.js:handleMessage\n',
    });
    const started = Date.now();
    const r = await doctor(dir, ['--timeout', '1000']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.code).toBe(1);
    const entry = line(r.stdout, 'entry module');
    expect(entry.mark).toBe('!');
    expect(entry.text).toContain('app/main.js:greet is in app/main.js (package.json main, package.json scripts.start)');
    expect(entry.text).toContain('move greet into its own module');
    expect(line(r.stdout, 'target app/main.js:greet').mark).toBe('-');
    const hang = line(r.stdout, 'target app/hang.js:stuck');
    expect(hang.mark).toBe('✗');
    expect(hang.text).toContain('app/hang.js did not finish loading within 1 s');
    expect(line(r.stdout, 'target app/agent.js:handleMessage').mark).toBe('✓');
    // Nothing of the app ran: app/main.js would have called handleMessage and printed.
    expect(fs.existsSync(recordingPath(dir))).toBe(false);
  });

  it('fails when fluxloop is not installed in the project, and on an evaluation config that does not load', async () => {
    const dir = app({ 'configs/evaluation.yaml': 'evaluators:\n  - [1, 2\n' });
    fs.rmSync(path.join(dir, 'node_modules', 'fluxloop'));
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    const install = line(r.stdout, 'fluxloop package');
    expect(install.mark).toBe('✗');
    expect(install.text).toContain('npm install --save-dev fluxloop');
    const evaluation = line(r.stdout, 'evaluation config');
    expect(evaluation.mark).toBe('✗');
    expect(evaluation.text).toMatch(/configs\/evaluation\.yaml:3:1: invalid YAML/);
    expect(line(r.stdout, 'configs/simulation.yaml').mark).toBe('✓');
  });

  it('checks the evaluators as `fluxloop evaluate` reads them, and the judge\'s key', async () => {
    const dir = app({ 'configs/evaluation.yaml': 'evaluators:\n  - type: succes\n' });
    const bad = line((await doctor(dir)).stdout, 'evaluation config');
    expect(bad.mark).toBe('✗');
    expect(bad.text).toContain('configs/evaluation.yaml:2:11 (evaluators[0].type): unknown evaluator type "succes"; did you mean "success"?');
    fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), 'evaluators:\n  - type: llm_judge\n    rubric: Polite?\nllm:\n  api_key_env: JUDGE_KEY\n');
    const r = await doctor(dir, [], { OPENAI_API_KEY: 'sk-generation-key-000' });
    expect(line(r.stdout, 'evaluation config').text).toContain('configs/evaluation.yaml: llm_judge');
    const key = line(r.stdout, 'LLM API key');
    expect(key.mark).toBe('!');
    expect(key.text).toContain('OPENAI_API_KEY present (environment), JUDGE_KEY missing');
    expect(r.stdout).toContain('add JUDGE_KEY=<your key> to .env');
    expect(r.stdout).not.toContain('sk-generation-key');
  });
});
