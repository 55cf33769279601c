import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeProject, removeProject, REPO, runNode } from './lib/project.mjs';
import { median, number, verdict } from './lib/stats.mjs';
import { writeRecording } from './replay/recording.mjs';

const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const AGENT = fileURLToPath(new URL('./replay/agent.mjs', import.meta.url));

const MODES = ['shared', 'fresh', 'worker'];
// runner.concurrency's default, written out so that the table says what it measured.
const CONCURRENCY = 4;
const INPUTS = 10;
// Peak RSS of the big recording: checked through --dry-run, and replayed in full (issue 22: memory
// independent of the run count).
const DRY_RUN_RSS_TARGET_MB = 200;
const FULL_RSS_TARGET_MB = 150;
// Runs a second over the summary's own time, for a trivial target: the cost of running every run
// in a worker thread, under a supervisor, must stay this low.
const RUNS_PER_S_TARGET = { shared: 10_000, fresh: 2_000 };

/**
 * Benchmark: replay throughput in each isolation mode, and a recording of two million lines
 * streamed through `--dry-run` and through a full run, in flat memory.
 */
export async function replay({ quick }) {
  const runs = quick ? 1_000 : 10_000;
  const bigLines = quick ? 50_000 : 2_000_000;
  const trials = quick ? 1 : 3;
  // recordings × inputs × iterations = runs.
  const recordings = 100;
  const iterations = runs / (recordings * INPUTS);
  const dir = makeProject('replay', { 'agent.mjs': fs.readFileSync(AGENT, 'utf8') });
  const rows = [];
  const checks = [];
  try {
    await writeRecording(path.join(dir, 'recordings', 'small.jsonl'), recordings);
    const samples = new Map(MODES.map((mode) => [mode, []]));
    for (let t = 0; t < trials; t++) {
      // In a different order each trial, so that drift on a noisy machine falls on every mode alike.
      for (const mode of t % 2 === 0 ? MODES : [...MODES].reverse()) {
        writeConfig(dir, { isolation: mode, recording: 'recordings/small.jsonl', inputs: INPUTS, iterations });
        samples.get(mode).push(await experiment(dir, runs));
      }
    }
    for (const [mode, s] of samples) {
      const m = medians(s);
      const perSecond = runs / (m.totalMs / 1000);
      rows.push([`${mode} (concurrency ${CONCURRENCY})`, number(runs), number(m.ms / 1000, 1), number(runs / (m.ms / 1000)), number(perSecond), number(m.rssMb, 1)]);
      // --quick runs too few for start-up to be out of the figure.
      if (RUNS_PER_S_TARGET[mode] !== undefined && !quick) {
        checks.push(verdict(perSecond >= RUNS_PER_S_TARGET[mode], `${mode}: ${number(perSecond)} runs/s (target ≥ ${number(RUNS_PER_S_TARGET[mode])})`));
      }
    }

    const label = `${number(bigLines)}-line recording`;
    const big = path.join(dir, 'recordings', 'big.jsonl');
    await writeRecording(big, bigLines);
    const sizeMb = fs.statSync(big).size / 1e6;
    // A single input, so that every line is one run. Shared isolation: what is measured is the
    // stream of plans, not the import of millions of copies of the target.
    writeConfig(dir, { isolation: 'shared', recording: 'recordings/big.jsonl', inputs: 1, iterations: 1 });

    const dry = await runNode(dir, [BIN, 'run', 'experiment', '--dry-run', '--json'], { rss: true });
    const plan = JSON.parse(dry.stdout);
    if (plan.setup.replay?.count !== bigLines || plan.setup.replay.resolved !== bigLines || plan.setup.total !== bigLines) {
      throw new Error(`--dry-run saw ${plan.setup.replay?.count} recordings (${plan.setup.replay?.resolved} resolved), ${plan.setup.total} runs; expected ${bigLines}`);
    }
    // Its runs/s is lines checked a second: --dry-run reads and checks every line, and runs none.
    rows.push([`${label} (${number(sizeMb)} MB): --dry-run`, number(bigLines), number(dry.ms / 1000, 1), number(bigLines / (dry.ms / 1000)), '—', number(dry.rssMb, 1)]);
    checks.push(verdict(dry.rssMb < DRY_RUN_RSS_TARGET_MB, `${label} through --dry-run: peak RSS ${number(dry.rssMb)} MB (target < ${DRY_RUN_RSS_TARGET_MB} MB)`));

    const full = await experiment(dir, bigLines, 30 * 60_000);
    rows.push([`${label}: trivial target, shared`, number(bigLines), number(full.ms / 1000, 1), number(bigLines / (full.ms / 1000)), number(bigLines / (full.totalMs / 1000)), number(full.rssMb, 1)]);
    checks.push(verdict(full.rssMb < FULL_RSS_TARGET_MB, `${label} replayed in full: peak RSS ${number(full.rssMb)} MB (target < ${FULL_RSS_TARGET_MB} MB)`));
  } finally {
    removeProject(dir);
  }
  return {
    title: 'Replay throughput',
    columns: ['replay', 'runs', 'wall s', 'runs/s (wall)', 'runs/s (summary)', 'peak RSS MB'],
    rows,
    checks,
  };
}

function writeConfig(dir, { isolation, recording, inputs, iterations }) {
  const yaml = [
    'name: bench',
    `iterations: ${iterations}`,
    'runner:',
    '  target: agent.mjs:handleMessage',
    `  isolation: ${isolation}`,
    `  concurrency: ${CONCURRENCY}`,
    'replay_args:',
    '  enabled: true',
    `  recording_file: ${recording}`,
    '  override_param_path: kwargs.message',
    'base_inputs:',
    ...Array.from({ length: inputs }, (_, i) => `  - "input number ${i}"`),
  ];
  fs.mkdirSync(path.join(dir, 'configs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), `${yaml.join('\n')}\n`);
}

/**
 * One `fluxloop run experiment`, as a user runs it: wall time, the summary's own total time (the
 * runs alone, without start-up and the check of the recordings) and peak RSS. Every run must
 * have ended ok, so that a broken setup cannot pass for a fast one.
 */
async function experiment(dir, expected, timeoutMs) {
  const out = path.join(dir, 'experiments');
  try {
    const { stdout, ms, rssMb } = await runNode(dir, [BIN, 'run', 'experiment', '--json', '--output', out], { rss: true, timeoutMs });
    const summary = JSON.parse(stdout);
    if (summary.total_runs !== expected || summary.counts.ok !== expected) {
      throw new Error(`expected ${expected} runs ok, got ${summary.total_runs} runs: ${JSON.stringify(summary.counts)}`);
    }
    return { ms, totalMs: summary.total_time_ms, rssMb };
  } finally {
    // traces.jsonl of millions of runs is large; nothing reads it.
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function medians(samples) {
  return Object.fromEntries(Object.keys(samples[0]).map((key) => [key, median(samples.map((s) => s[key]))]));
}
