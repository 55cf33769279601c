import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, REPO, runNode } from './lib/project.mjs';
import { redisServerBinary, startRedis } from './lib/redis.mjs';
import { interleave, number, verdict } from './lib/stats.mjs';

const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const AGENT = fileURLToPath(new URL('./scaleout/agent.mjs', import.meta.url));

const WORKERS = [1, 2, 3];
const CONCURRENCY = 10;
const WAIT_MS = 50;
const INPUTS = 100;
/** What one worker can make at most: its lanes, each a run of WAIT_MS after the other. */
const PER_WORKER = (CONCURRENCY * 1000) / WAIT_MS;
/** The goal: three workers at 0.9 of linear. */
const TARGET_RATIO = 0.9;

// The benchmark's own FLUXLOOP_* variables, if any, must not reach the processes it measures.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXLOOP_')));

/**
 * Benchmark: an experiment through the queue (`run experiment --queue`) on a Redis of its own,
 * made by 1, 2 and 3 `fluxloop worker`s at concurrency 10 on a target that waits 50 ms: runs a
 * second, against what that many workers could make at most. Skipped, with a note, when
 * redis-server is not installed.
 */
export async function scaleout({ quick }) {
  const title = 'Scale-out through the queue';
  const columns = ['workers (concurrency 10, 50 ms runs)', 'runs', 'runs/s (summary)', 'linear runs/s', '× linear', 'wall s'];
  const binary = redisServerBinary();
  if (binary === undefined) {
    return { title, columns, rows: [], checks: ['– skipped: redis-server not found (apt-get install redis-server)'] };
  }
  const runs = quick ? 300 : 3000;
  const trials = quick ? 1 : 3;
  const dir = makeProject('scaleout', { 'agent.mjs': fs.readFileSync(AGENT, 'utf8') });
  writeConfig(dir, runs / INPUTS);
  const redis = await startRedis(binary);
  const rows = [];
  const checks = [];
  try {
    const samples = new Map(WORKERS.map((n) => [n, []]));
    await interleave(WORKERS, trials, async (n) => {
      const sample = await experiment(dir, redis.url, n, runs);
      samples.get(n).push(sample);
      return sample.perSecond;
    });
    for (const n of WORKERS) {
      const sorted = samples.get(n).sort((a, b) => a.perSecond - b.perSecond);
      const m = sorted[sorted.length >> 1];
      const linear = n * PER_WORKER;
      rows.push([`${n} worker${n === 1 ? '' : 's'}`, number(runs), number(m.perSecond), number(linear), (m.perSecond / linear).toFixed(2), number(m.ms / 1000, 1)]);
      // --quick runs too few for the start of the runs to be out of the figure.
      if (n === WORKERS[WORKERS.length - 1] && !quick) {
        checks.push(verdict(m.perSecond >= TARGET_RATIO * linear, `${n} workers: ${number(m.perSecond)} runs/s, ${(m.perSecond / linear).toFixed(2)} of linear (target ≥ ${number(TARGET_RATIO * linear)} runs/s, ${TARGET_RATIO})`));
      }
    }
  } finally {
    await redis.stop();
    removeProject(dir);
  }
  return { title, columns, rows, checks };
}

function writeConfig(dir, iterations) {
  const yaml = [
    'name: bench-scaleout',
    `iterations: ${iterations}`,
    'runner:',
    '  target: agent.mjs:handleMessage',
    // One thread a worker, its runs sharing the target's module as the app does: the runs wait,
    // and what is measured is the queue around them.
    '  isolation: shared',
    `  concurrency: ${CONCURRENCY}`,
    'base_inputs:',
    ...Array.from({ length: INPUTS }, (_, i) => `  - "input number ${i}"`),
  ];
  fs.mkdirSync(path.join(dir, 'configs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), `${yaml.join('\n')}\n`);
}

/**
 * `fluxloop worker --verbose` in the project, resolved once it says it is ready; `made()` counts
 * the runs it says it made (a line each), without keeping the lines.
 */
function startWorker(dir, url) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--concurrency', String(CONCURRENCY), '--verbose'], { cwd: dir, env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let start = '';
    // After its ready line, a line a run, then "worker stopped".
    let lines = 0;
    let tail = '';
    let ready = false;
    const exited = new Promise((done) => child.once('exit', (code) => done(code)));
    const made = () => (tail.endsWith('worker stopped\n') ? lines - 1 : NaN);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      if (ready) {
        for (let i = d.indexOf('\n'); i !== -1; i = d.indexOf('\n', i + 1)) lines++;
        tail = (tail + d).slice(-100);
        return;
      }
      start += d;
      const end = start.indexOf('\n', start.indexOf('worker ready'));
      if (start.includes('worker ready') && end !== -1) {
        ready = true;
        const rest = start.slice(end + 1);
        for (let i = rest.indexOf('\n'); i !== -1; i = rest.indexOf('\n', i + 1)) lines++;
        tail = rest;
        resolve({ child, exited, made });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (start += d));
    child.once('exit', (code) => reject(new Error(`fluxloop worker exited with ${code} before it was ready:\n${start.slice(-2000)}`)));
  });
}

/**
 * One experiment through the queue with `workers` workers, started (and ready) before it and
 * drained after it: runs a second over the summary's own time (the runs, not the start-up), and
 * the wall time. Every run must have ended ok, so that a broken setup cannot pass for a fast one.
 */
async function experiment(dir, url, workers, runs) {
  const out = path.join(dir, 'experiments');
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(dir, url)));
  try {
    const { stdout, ms } = await runNode(dir, [BIN, 'run', 'experiment', '--json', '--output', out, '--queue', url], { timeoutMs: 300_000 });
    const summary = JSON.parse(stdout);
    if (summary.total_runs !== runs || summary.counts.ok !== runs) {
      throw new Error(`expected ${runs} runs ok, got ${summary.total_runs} runs: ${JSON.stringify(summary.counts)}`);
    }
    return { perSecond: runs / (summary.total_time_ms / 1000), ms };
  } finally {
    for (const { child } of procs) child.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => p.exited));
    fs.rmSync(out, { recursive: true, force: true });
    if (codes.some((code) => code !== 0)) throw new Error(`a worker exited with ${codes.join(', ')} on SIGTERM`);
    // Each worker took its share, and no run was made twice.
    const made = procs.map((p) => p.made());
    if (made.some((n) => !(n > 0)) || made.reduce((a, b) => a + b, 0) !== runs) {
      throw new Error(`the workers made ${made.join(' + ')} runs, for ${runs}`);
    }
  }
}
