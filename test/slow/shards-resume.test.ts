import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runKey } from '../../src/experiment/identity';
import { REPO, runCli, type Experiment } from '../e2e/helpers';
import { experiment, replayConfig, STACK, withRecording, withRecordingReady } from '../e2e/replay-project';

beforeAll(withRecordingReady, 60_000);

/** An experiment folder read back, by path. */
function readFolder(folder: string): Experiment {
  const lines = (file: string) => fs.readFileSync(path.join(folder, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const json = (file: string) => JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8'));
  return { dir: folder, summary: json('summary.json'), traces: lines('traces.jsonl'), observations: lines('observations.jsonl'), errors: json('errors.json') };
}

/** Each run by its place in the plan, with what it did; a run twice fails the test. */
function runsOf(e: Experiment): Map<string, { status: string; output: unknown; input: string }> {
  const runs = new Map<string, { status: string; output: unknown; input: string }>();
  for (const t of e.traces) {
    const key = runKey(t);
    expect(runs.has(key), `run ${key} twice`).toBe(false);
    runs.set(key, { status: t.status, output: t.output, input: t.input });
  }
  return runs;
}

const onlyFolder = (dir: string, base: string) => path.join(dir, base, fs.readdirSync(path.join(dir, base))[0]!);

describe('shards and merge experiments', () => {
  it('makes shards 1/3, 2/3 and 3/3 that merge into the experiment one process makes, run for run', async () => {
    const dir = withRecording(replayConfig('app/agent.js:handle', 'kwargs.message', { base_inputs: ['one', 'two', 'three'], iterations: 2 }));
    await experiment(dir, ['--output', 'whole']);
    const whole = readFolder(onlyFolder(dir, 'whole'));
    expect(whole.summary.total_runs).toBe(18);
    const sizes: number[] = [];
    for (const i of [1, 2, 3]) {
      await experiment(dir, ['--shard', `${i}/3`, '--output', `shard-${i}`]);
      const shard = readFolder(onlyFolder(dir, `shard-${i}`));
      expect(shard.summary.shard).toEqual({ index: i, count: 3 });
      expect(shard.summary.plan_hash).toBe(whole.summary.plan_hash);
      sizes.push(shard.summary.total_runs);
    }
    expect(sizes).toEqual([6, 6, 6]);
    const shards = [1, 2, 3].map((i) => onlyFolder(dir, `shard-${i}`));
    const merged = await runCli(dir, ['merge', 'experiments', ...shards.reverse(), '--output', 'merged']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/Merged 3 shards into .*merged: 18 of 18 runs \(ok 18, error 0, timeout 0\), completed/);
    const m = readFolder(path.join(dir, 'merged'));
    expect(runsOf(m)).toEqual(runsOf(whole));
    expect(m.observations).toHaveLength(whole.observations.length);
    const { started_at: _s, finished_at: _f, total_time_ms: _t, duration_ms: _d, merged_from, ...summary } = m.summary;
    const { started_at: _s2, finished_at: _f2, total_time_ms: _t2, duration_ms: _d2, ...local } = whole.summary;
    expect(summary).toEqual(local);
    expect(merged_from).toHaveLength(3);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'merged', 'plan.json'), 'utf8'))).toMatchObject({ hash: whole.summary.plan_hash, shard: null });
    // The merged folder is an experiment as any other: evaluate reads it.
    const evaluated = await runCli(dir, ['evaluate', 'experiment', path.join(dir, 'merged'), '--no-report']);
    expect(evaluated.code, evaluated.stderr).toBe(0);

    // Refused, each with a message naming what is wrong and exit 2: a missing shard, a shard twice, another plan.
    const refuse = async (args: string[], message: RegExp) => {
      const run = await runCli(dir, ['merge', 'experiments', ...args]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(STACK);
    };
    await refuse([shards[0]!, shards[1]!, '--output', 'm2'], /shard 1\/3 missing/);
    await refuse([shards[0]!, shards[0]!, shards[1]!, '--output', 'm3'], /are both shard/);
    await experiment(dir, ['--shard', '1/3', '--output', 'other', '--iterations', '1']);
    await refuse([onlyFolder(dir, 'other'), shards[0]!, shards[1]!, '--output', 'm4'], /another plan .*iterations, limit or replay options/);
    await refuse([...shards, '--output', 'merged'], /--output merged is not empty/);
    const bad = await runCli(dir, ['run', 'experiment', '--shard', '4/3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shard.*1 ≤ i ≤ n/);
  }, 120_000);
});

describe('run experiment --resume', () => {
  it('after SIGINT, makes only the runs the folder lacks and appends them: every run once', async () => {
    const dir = withRecording({ runner: { target: 'app/slow.js:slow', concurrency: 2 }, base_inputs: Array.from({ length: 24 }, (_, i) => `m${i}`) });
    fs.writeFileSync(path.join(dir, 'app', 'slow.js'), 'export async function slow(message) {\n  await new Promise((r) => setTimeout(r, 400));\n  return `done:${message}`;\n}\n');
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'fluxloop.js'), 'run', 'experiment', '--project-dir', dir], { cwd: dir, env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLUXLOOP_'))), NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Interrupted once a few runs are written.
    const experiments = path.join(dir, 'experiments');
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const folder = fs.existsSync(experiments) ? fs.readdirSync(experiments)[0] : undefined;
      if (folder !== undefined && fs.readFileSync(path.join(experiments, folder, 'traces.jsonl'), 'utf8').split('\n').length > 4) break;
    }
    child.kill('SIGINT');
    expect(await code).toBe(130);
    const folder = onlyFolder(dir, 'experiments');
    const first = readFolder(folder);
    expect(first.summary.ended).toBe('interrupted');
    expect(first.summary.total_runs).toBeGreaterThan(2);
    expect(first.summary.total_runs).toBeLessThan(24);
    expect(stderr).toContain(`--resume experiments/${path.basename(folder)}`);

    const resumed = await experiment(dir, ['--resume', folder, '--json']);
    const summary = JSON.parse(resumed.stdout);
    expect(summary).toMatchObject({ ended: 'completed', total_runs: 24, planned_runs: 24, resumes: 1, counts: { ok: 24 } });
    const again = readFolder(folder);
    const runs = runsOf(again);
    expect(runs.size).toBe(24);
    for (const [, run] of runs) expect(run.output).toBe(`done:${run.input}`);
    // The runs of the first process are kept as they were, the new ones after them.
    expect(again.traces.slice(0, first.traces.length)).toEqual(first.traces);
    expect(fs.readdirSync(path.join(dir, 'experiments'))).toHaveLength(1);

    // A complete folder has nothing left to make; another plan is refused, naming what differs.
    const nothing = JSON.parse((await experiment(dir, ['--resume', folder, '--json'])).stdout);
    expect(nothing).toMatchObject({ total_runs: 24, resumes: 2 });
    expect(readFolder(folder).traces).toHaveLength(24);
    const other = await experiment(dir, ['--resume', folder, '--limit', '3'], 2);
    expect(other.stderr).toMatch(/holds another plan .*iterations, limit or replay options differ/);
  }, 120_000);
});
