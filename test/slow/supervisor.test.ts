import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { project, readExperiment, recordTwice, expectSameRun, REPO, runCli } from '../e2e/helpers';

// Targets that spin, exit, throw from timers and leave rejections unhandled: the experiment must
// keep control in every isolation mode, end each such run as what it was, and always leave a
// valid summary.json.

let dir: string;

beforeAll(async () => {
  dir = project('hostile-agent');
  const { plain, recorded } = await recordTwice(dir);
  expectSameRun(plain, recorded);
  expect(plain.code).toBe(0);
}, 60_000);

const STACK = /\n\s+at /;

function writeConfig(options: { target: string; isolation: string; inputs: string[]; concurrency?: number; timeoutMs?: number; iterations?: number }): void {
  const config = {
    name: 'hostile',
    iterations: options.iterations ?? 1,
    recording: { targets: ['app/agent.js:handle', 'app/heavy.js:handle'] },
    runner: { target: options.target, isolation: options.isolation, concurrency: options.concurrency ?? 2, timeout_ms: options.timeoutMs ?? 1000, retries: 0 },
    replay_args: { enabled: true, override_param_path: 'args.0' },
    base_inputs: options.inputs,
  };
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), JSON.stringify(config, null, 2) + '\n');
}

const byInput = (traces: any[], input: string) => traces.filter((t) => t.input === input);

describe.each(['shared', 'fresh', 'worker'])('%s isolation', (isolation) => {
  it('ends a spinning, exiting or crashing run as what it was, and goes on', async () => {
    const output = `out-${isolation}`;
    writeConfig({ target: 'app/agent.js:handle', isolation, inputs: ['spin', 'exit', 'timer', 'reject', 'hello'] });
    const started = Date.now();
    const run = await runCli(dir, ['run', 'experiment', '--output', output], {}, 60_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(STACK);
    // Two recordings × five inputs, the spinning runs stopped at their 1 s timeout.
    expect(Date.now() - started).toBeLessThan(30_000);
    const { summary, traces, errors } = readExperiment(dir, output);
    expect(summary.ended).toBe('completed');
    expect(summary.total_runs).toBe(10);
    expect(traces).toHaveLength(10);
    expect(summary.counts).toEqual({ ok: 2, error: 6, timeout: 2 });
    for (const t of byInput(traces, 'spin')) expect(t.status).toBe('timeout');
    for (const t of byInput(traces, 'exit')) {
      expect(t.status).toBe('error');
      expect(t.error.message).toContain('process.exit(0)');
    }
    for (const t of byInput(traces, 'timer')) {
      expect(t.status).toBe('error');
      expect(t.error.message).toBe('uncaught exception: thrown from a timer');
    }
    for (const t of byInput(traces, 'reject')) {
      expect(t.status).toBe('error');
      expect(t.error.message).toBe('unhandled rejection: nobody caught this');
    }
    for (const t of byInput(traces, 'hello')) {
      expect(t.status).toBe('ok');
      expect(t.output).toBe('handled hello');
    }
    expect(errors).toHaveLength(8);
    expect(run.stdout).toContain('2 ok');
  }, 90_000);
});

it('reports an error that comes after its run ended, without turning the run red', async () => {
  // One run at a time: each late rejection comes while the slow run after it is in flight.
  writeConfig({ target: 'app/agent.js:handle', isolation: 'shared', inputs: ['late', 'slow'], concurrency: 1 });
  const run = await runCli(dir, ['run', 'experiment', '--output', 'out-late'], {}, 60_000);
  expect(run.code, run.stderr).toBe(0);
  const { summary, traces, errors } = readExperiment(dir, 'out-late');
  expect(traces.map((t) => t.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
  expect(summary.stray_errors).toBe(2);
  expect(errors).toHaveLength(2);
  for (const entry of errors) {
    expect(entry.stray).toBe('unhandledRejection');
    expect(byInput(traces, 'late').map((t) => t.trace_id)).toContain(entry.trace_id);
    expect(entry.error.message).toBe('rejected after the run');
  }
}, 60_000);

/** The CLI's peak resident set, threads included, for one experiment. */
async function peakRss(output: string): Promise<number> {
  const file = path.join(os.tmpdir(), `fluxloop-rss-${process.pid}-${output}`);
  const probe = path.join(REPO, 'bench', 'lib', 'maxrss.mjs');
  const run = await runCli(dir, ['run', 'experiment', '--output', output], { NODE_OPTIONS: `--import ${probe}`, FLUXLOOP_BENCH_RSS_FILE: file }, 120_000);
  expect(run.code, run.stderr).toBe(0);
  const { summary } = readExperiment(dir, output);
  expect(summary.counts.ok).toBe(summary.planned_runs);
  const kb = Number(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file);
  return kb / 1024;
}

it('keeps memory flat in fresh isolation when every fresh copy of the module holds 20 MB', async () => {
  // One recording of heavy.js; each run imports a new copy of it, and with it 20 MB.
  writeConfig({ target: 'app/heavy.js:handle', isolation: 'fresh', inputs: ['hi'], concurrency: 4, iterations: 24, timeoutMs: 10_000 });
  const few = await peakRss('out-heavy-24');
  writeConfig({ target: 'app/heavy.js:handle', isolation: 'fresh', inputs: ['hi'], concurrency: 4, iterations: 72, timeoutMs: 10_000 });
  const many = await peakRss('out-heavy-72');
  // Kept, the copies would be 1.4 GB at 72 runs, three times what 24 runs hold; recycled threads
  // keep the peak near where 24 runs put it.
  expect(many).toBeLessThan(few * 1.8);
  expect(many).toBeLessThan(1000);
}, 240_000);

describe('interrupted', () => {
  // The last, as the VS Code extension's Cancel sends it: stdout is still one JSON object.
  for (const [signal, code, extra] of [
    ['SIGINT', 130, []],
    ['SIGTERM', 143, []],
    ['SIGINT', 130, ['--evaluate', '--json']],
  ] as const) {
    it(`${signal} stops taking runs, and writes a valid summary.json marked interrupted (exit ${code}) ${extra.join(' ')}`, async () => {
      const output = `out-${signal}${extra.length}`;
      writeConfig({ target: 'app/agent.js:handle', isolation: 'shared', inputs: Array.from({ length: 40 }, () => 'slow') });
      const child = spawn(process.execPath, [path.join(REPO, 'bin', 'fluxloop.js'), 'run', 'experiment', '--output', output, '--project-dir', dir, ...extra], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1', FLUXLOOP_RECORD_ARGS: undefined },
      });
      let stderr = '';
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
      const sent = new Promise<void>((resolve) => {
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          // Some runs have finished: each line of progress is `done/total`.
          if (/\b[2-9]\/80\b/.test(stderr) && !child.killed) {
            child.kill(signal);
            resolve();
          }
        });
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      await sent;
      expect(await exited, stderr).toBe(code);
      expect(stderr).not.toMatch(STACK);
      expect(stderr).toContain(`interrupted by ${signal}`);
      const { summary, traces, errors } = readExperiment(dir, output);
      expect(summary.ended).toBe('interrupted');
      expect(summary.interrupted_by).toBe(signal);
      expect(summary.planned_runs).toBe(80);
      expect(summary.total_runs).toBeGreaterThanOrEqual(2);
      expect(summary.total_runs).toBeLessThan(80);
      // Runs in flight got their grace and finished: what the summary counts is what traces.jsonl holds.
      expect(traces).toHaveLength(summary.total_runs);
      expect(traces.every((t) => t.status === 'ok')).toBe(true);
      expect(errors).toEqual([]);
      if (extra.length === 0) expect(stdout).toContain(`${summary.total_runs} runs`);
      else expect(JSON.parse(stdout)).toMatchObject({ ended: 'interrupted', total_runs: summary.total_runs, evaluation: null });
    }, 60_000);
  }
});
