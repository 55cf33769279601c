// Runs the built CLI (dist/), as users do: `npm test` builds first (pretest), so after changing
// src/ run `npm run build` before `npx vitest run test/cli`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-list-cli-'));

function run(cwd: string, args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('FLUXLOOP_') || key === 'FORCE_COLOR') delete env[key];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A project with an agent that fails on "boom", replayed without recordings: each input goes to it. */
function project(): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'p-'));
  const files: Record<string, string> = {
    'app/agent.js': "exports.reply = async (input) => {\n  if (input === 'boom') throw new Error('the agent fell over');\n  return `hello ${input}`;\n};\n",
    'configs/simulation.yaml': 'name: smoke\nrunner:\n  target: app/agent.js:reply\nbase_inputs: [hi, boom, there]\n',
    'inputs/generated.yaml': '# edited by hand\ninputs:\n  - input: hi\n    metadata: { strategy: base }\n  - boom\n  - there\n',
  };
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('for tools: run experiment --evaluate --json, progress as JSON, list experiments', () => {
  it('prints one object with the evaluation in it, progress lines on stderr, and lists the experiment', () => {
    const dir = project();
    const r = run(dir, ['run', 'experiment', '--evaluate', '--json'], { FLUXLOOP_PROGRESS: 'json' });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const experiment = out.experiment_dir;
    expect(path.dirname(experiment)).toBe(path.join(dir, 'experiments'));
    expect(out).toMatchObject({ name: 'smoke', ended: 'completed', total_runs: 3, planned_runs: 3, counts: { ok: 2, error: 1, timeout: 0 } });
    expect(out.evaluation).toMatchObject({
      experiment_dir: experiment,
      experiment: path.basename(experiment),
      total: 3,
      passed: 2,
      failed: 1,
      files: { summary: path.join(experiment, 'evaluation', 'summary.json'), report: path.join(experiment, 'report.html') },
    });
    // Every line of stderr is progress: the runs', then the evaluation's, each ending at its total.
    const progress = r.stderr.trimEnd().split('\n').map((line) => JSON.parse(line).progress);
    expect(progress.at(-1)).toEqual({ label: 'evaluating', done: 3, total: 3 });
    expect(progress.find((p) => p.label === 'runs' && p.done === 3)).toEqual({ label: 'runs', done: 3, total: 3, detail: 'ok 2  error 1  timeout 0' });

    // A run in progress, or one that stopped short: no summary.json, listed with nulls.
    const running = path.join(dir, 'experiments', 'smoke_running');
    fs.mkdirSync(running);
    fs.writeFileSync(path.join(running, 'traces.jsonl'), '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(running, 'traces.jsonl'), old, old);

    const listed = run(dir, ['list', 'experiments', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const { output_directory, experiments } = JSON.parse(listed.stdout);
    expect(output_directory).toBe(path.join(dir, 'experiments'));
    expect(experiments.map((e: { name: string }) => e.name)).toEqual([path.basename(experiment), 'smoke_running']);
    expect(experiments[0]).toMatchObject({ dir: experiment, experiment: 'smoke', ended: 'completed', total_runs: 3, planned_runs: 3, pass_rate: 2 / 3, report: path.join(experiment, 'report.html') });
    expect(experiments[0].success_rate).toBeCloseTo(2 / 3);
    expect(experiments[0].files).toContain(path.join(experiment, 'evaluation', 'per_trace.jsonl'));
    expect(experiments[1]).toMatchObject({ experiment: null, total_runs: null, success_rate: null, pass_rate: null, report: null, files: [path.join(running, 'traces.jsonl')] });

    const table = run(dir, ['list', 'experiments', '--limit', '1']);
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/))).toEqual([
      ['name', 'when', 'runs', 'success', 'pass'],
      [path.basename(experiment), expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/), '3/3', '66.7%', '66.7%'],
    ]);
  });
});

describe('fluxloop list inputs', () => {
  it('lists the inputs file with each line, as JSON and as a table', () => {
    const dir = project();
    const json = run(dir, ['list', 'inputs', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      file: path.join(dir, 'inputs', 'generated.yaml'),
      exists: true,
      inputs: [
        { index: 0, line: 3, input: 'hi', metadata: { strategy: 'base' } },
        { index: 1, line: 5, input: 'boom', metadata: null },
        { index: 2, line: 6, input: 'there', metadata: null },
      ],
    });
    const text = run(dir, ['list', 'inputs']);
    expect(text.stdout).toBe('inputs/generated.yaml: 3 inputs\n  line  input    metadata\n  3     "hi"     {"strategy":"base"}\n  5     "boom"\n  6     "there"\n');
  });
});
