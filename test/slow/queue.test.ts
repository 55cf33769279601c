import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { project, readExperiment, REPO, runCli } from '../e2e/helpers';
import { startRedis, type RedisServer } from '../redis';

// Experiments through a BullMQ queue on a real redis-server, made by `fluxloop worker` processes
// of the built CLI: every run exactly once whatever happens to the workers, and a clear end when
// Redis goes away or a worker belongs to another project.

const QUEUE = 'fluxloop-queue-app';
const STACK = /\n\s+at /;

let redis: RedisServer;
let dir: string;
/** Every process a test spawned, ended after it. */
const spawned: Proc[] = [];

beforeAll(async () => {
  redis = await startRedis();
  dir = project('queue-app');
});

afterEach(async () => {
  await Promise.all(spawned.splice(0).map((p) => p.kill()));
});

afterAll(async () => {
  await redis?.stop();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `test` holds for the output so far; fails after `timeoutMs`. */
  until(test: (p: Proc) => boolean, what: string, timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

/** `fluxloop <args> --project-dir <project>`, from the built CLI, with none of the runner's FLUXLOOP_* variables. */
function cli(project: string, args: string[], env: Record<string, string> = {}): Proc {
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('FLUXLOOP_'));
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'fluxloop.js'), ...args, '--project-dir', project], {
    cwd: project,
    env: { ...Object.fromEntries(inherited), NO_COLOR: '1', ...env } as NodeJS.ProcessEnv,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const proc: Proc = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    until: async (test, what, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!test(proc)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${what}: not seen (exit ${child.exitCode})\nstdout: ${stdout.slice(-1500)}\nstderr: ${stderr.slice(-1500)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  spawned.push(proc);
  return proc;
}

/** A `fluxloop worker --verbose` on `url`, once it says it is ready. */
async function worker(project: string, url: string, options: { concurrency: number; waitMs?: number }): Promise<Proc> {
  const env: Record<string, string> = options.waitMs === undefined ? {} : { WAIT_MS: String(options.waitMs) };
  const proc = cli(project, ['worker', '--queue', url, '--concurrency', String(options.concurrency), '--verbose'], env);
  await proc.until((p) => p.stdout().includes('worker ready'), 'worker ready');
  expect(proc.stdout()).toContain(`worker ready: queue ${QUEUE} at ${url}, concurrency ${options.concurrency}`);
  return proc;
}

/** The runs a worker's --verbose lines say it finished, by run key. */
const finishedBy = (p: Proc) => [...p.stdout().matchAll(/^run (\S+) of plan \w+: (\w+)/gm)].map((m) => m[1]);

/** How many runs `run experiment` has shown done, from its FLUXLOOP_PROGRESS=json lines. */
function done(p: Proc): number {
  const last = [...p.stderr().matchAll(/^\{"progress":\{[^\n]*"done":(\d+)/gm)].pop();
  return last === undefined ? 0 : Number(last[1]);
}

const keyOf = (t: { iteration: number; recording_index: number | null; input_index: number }) => `${t.iteration}:${t.recording_index ?? '-'}:${t.input_index}`;

/** Each run's output by its key; a key seen twice fails the test. */
function outputs(traces: any[]): Map<string, unknown> {
  const byKey = new Map<string, unknown>();
  for (const t of traces) {
    expect(byKey.has(keyOf(t)), `run ${keyOf(t)} written twice`).toBe(false);
    byKey.set(keyOf(t), t.output);
  }
  return byKey;
}

it('makes every run exactly once over three workers, one of them killed mid-run, as a local experiment would', async () => {
  const local = await runCli(dir, ['run', 'experiment', '--iterations', '10', '--output', 'local'], {}, 60_000);
  expect(local.code, local.stderr).toBe(0);
  const expected = outputs(readExperiment(dir, 'local').traces);
  expect(expected.size).toBe(60);

  // The victim's runs take 5 s: whatever it has taken, it is killed in the middle of.
  const [victim, ...others] = await Promise.all([
    worker(dir, redis.url, { concurrency: 2, waitMs: 5000 }),
    worker(dir, redis.url, { concurrency: 2 }),
    worker(dir, redis.url, { concurrency: 2 }),
  ]);
  const run = cli(dir, ['run', 'experiment', '--iterations', '10', '--output', 'queued', '--queue', redis.url], { FLUXLOOP_PROGRESS: 'json' });
  await run.until((p) => done(p) >= 4, 'four runs done');
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  const end = await run.exited;
  expect(end.code, run.stderr()).toBe(0);
  expect(finishedBy(victim)).toEqual([]);

  const { summary, traces } = readExperiment(dir, 'queued');
  expect(summary.ended).toBe('completed');
  expect(summary.total_runs).toBe(60);
  expect(summary.planned_runs).toBe(60);
  expect(summary.counts).toEqual({ ok: 60, error: 0, timeout: 0 });
  expect(traces).toHaveLength(60);
  expect(outputs(traces)).toEqual(expected);
  // The runs the surviving workers made are all the runs: none lost, none made twice.
  expect(others.flatMap(finishedBy).sort()).toEqual([...expected.keys()].sort());

  // The victim's jobs came back to the queue (BullMQ's "stalled") within 10 s of its death.
  const client = new Redis(redis.url);
  try {
    const events = await client.xrange(`bull:${QUEUE}:events`, '-', '+');
    const stalled = events.filter(([, fields]) => fields[1] === 'stalled').map(([id]) => Number(id.split('-')[0]));
    expect(stalled.length).toBeGreaterThanOrEqual(1);
    for (const at of stalled) expect(at - killedAt).toBeLessThan(10_000);
  } finally {
    client.disconnect();
  }
}, 60_000);

it('collects with --resume the runs of an experiment whose CLI was killed: the workers made each once', async () => {
  const workers = await Promise.all([worker(dir, redis.url, { concurrency: 2, waitMs: 300 }), worker(dir, redis.url, { concurrency: 2, waitMs: 300 })]);
  const args = ['run', 'experiment', '--iterations', '4', '--queue', redis.url];
  const first = cli(dir, [...args, '--output', 'killed'], { FLUXLOOP_PROGRESS: 'json' });
  await first.until((p) => done(p) >= 3, 'three runs done');
  first.child.kill('SIGKILL');
  await first.exited;
  const folder = path.join(dir, 'killed', fs.readdirSync(path.join(dir, 'killed'))[0]!);
  expect(fs.existsSync(path.join(folder, 'summary.json'))).toBe(false);
  const written = fs.readFileSync(path.join(folder, 'traces.jsonl'), 'utf8').split('\n').filter(Boolean).length;
  expect(written).toBeLessThan(24);

  const resumed = await runCli(dir, [...args, '--resume', folder, '--json'], {}, 60_000);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(JSON.parse(resumed.stdout)).toMatchObject({ ended: 'completed', total_runs: 24, planned_runs: 24, resumes: 1, counts: { ok: 24 } });
  const { traces } = readExperiment(dir, 'killed');
  expect(outputs(traces).size).toBe(24);
  // The jobs the killed CLI had sent were made once, and collected: no run was made again.
  await Promise.all(workers.map((w) => w.until(() => workers.flatMap(finishedBy).length >= 24, 'every run made')));
  expect(workers.flatMap(finishedBy).sort()).toEqual([...outputs(traces).keys()].sort());
}, 60_000);

it('drains a worker on SIGTERM: it finishes the run it has and takes no other', async () => {
  const drained = await worker(dir, redis.url, { concurrency: 1, waitMs: 2500 });
  const run = cli(dir, ['run', 'experiment', '--limit', '3', '--output', 'drain', '--queue', redis.url]);
  const client = new Redis(redis.url);
  try {
    const deadline = Date.now() + 20_000;
    while ((await client.llen(`bull:${QUEUE}:active`)) < 1) {
      if (Date.now() > deadline) throw new Error(`no job went active\n${run.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    client.disconnect();
  }
  const signalled = Date.now();
  drained.child.kill('SIGTERM');
  const exit = await drained.exited;
  expect(exit.code, drained.stderr()).toBe(0);
  // It waited for its run (2.5 s long) rather than dropping it.
  expect(Date.now() - signalled).toBeGreaterThan(1000);
  expect(drained.stderr()).toContain('SIGTERM: finishing the runs in progress, taking no new ones');
  expect(drained.stdout()).toContain('worker stopped');
  const mine = finishedBy(drained);
  expect(mine).toHaveLength(1);

  // The rest wait in the queue for a worker.
  const rest = await worker(dir, redis.url, { concurrency: 2 });
  const end = await run.exited;
  expect(end.code, run.stderr()).toBe(0);
  const { summary, traces } = readExperiment(dir, 'drain');
  expect(summary.counts).toEqual({ ok: 3, error: 0, timeout: 0 });
  expect(traces.map(keyOf).sort()).toEqual([...mine, ...finishedBy(rest)].sort());
  expect(traces.find((t) => keyOf(t) === mine[0]).status).toBe('ok');
}, 60_000);

it('ends the experiment as failed, with the runs done so far, when Redis goes away', async () => {
  const own = await startRedis();
  try {
    await worker(dir, own.url, { concurrency: 2, waitMs: 300 });
    const run = cli(dir, ['run', 'experiment', '--output', 'gone', '--queue', own.url], { FLUXLOOP_PROGRESS: 'json' });
    await run.until((p) => done(p) >= 3, 'three runs done');
    await own.stop({ kill: true });
    const stopped = Date.now();
    const end = await run.exited;
    // A few seconds' grace for Redis to come back, then the end.
    expect(Date.now() - stopped).toBeLessThan(15_000);
    expect(end.code).toBe(1);
    expect(run.stderr()).toContain(`fluxloop: lost the queue's Redis at ${own.url} (connection refused)`);
    expect(run.stderr()).not.toMatch(STACK);
    expect(run.stderr()).not.toContain('--debug');
    const { summary, traces } = readExperiment(dir, 'gone');
    expect(summary.ended).toBe('failed');
    expect(summary.failure).toContain(`lost the queue's Redis at ${own.url}`);
    expect(summary.total_runs).toBe(traces.length);
    expect(summary.total_runs).toBeGreaterThanOrEqual(3);
    expect(summary.total_runs).toBeLessThan(24);
    expect(summary.counts.ok).toBe(summary.total_runs);
    expect(new Set(traces.map(keyOf)).size).toBe(traces.length);
  } finally {
    await own.stop();
  }
}, 60_000);

it('stops the experiment when a worker of another project refuses its plan', async () => {
  const other = project('queue-app');
  try {
    const config = path.join(other, 'configs', 'simulation.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('retries: 0', 'retries: 0\n  timeout_ms: 30000'));
    const stranger = await worker(other, redis.url, { concurrency: 2 });
    const run = await runCli(dir, ['run', 'experiment', '--output', 'refused', '--queue', redis.url], {}, 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/fluxloop: the run was refused by the worker on \S+ \(pid \d+\): this worker's project is not the one plan \w+ was made from \(the config, target module or lockfile differ\)/);
    expect(run.stderr).not.toMatch(STACK);
    const { summary } = readExperiment(dir, 'refused');
    expect(summary.ended).toBe('failed');
    expect(summary.failure).toContain("this worker's project is not the one plan");
    // Told once on the worker's side, however many of the plan's runs it refused.
    await stranger.until((p) => p.stderr().includes('refused the runs of plan'), 'the refusal');
    expect(stranger.stderr().match(/refused the runs of plan/g)).toHaveLength(1);
    expect(stranger.stderr()).not.toMatch(STACK);
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
}, 60_000);

it("brings back the errors of user code that ended no run, for errors.json", async () => {
  // One lane: the runs after "late" end after its timer has thrown, and carry the error back.
  fs.writeFileSync(
    path.join(dir, 'configs', 'late.yaml'),
    ['name: queue-app', 'runner:', '  target: app/agent.js:handle', '  isolation: shared', '  retries: 0', 'base_inputs:', '  - late', '  - alpha', '  - bravo', ''].join('\n'),
  );
  const proc = cli(dir, ['worker', '--queue', redis.url, '--concurrency', '1', '--config', 'configs/late.yaml']);
  await proc.until((p) => p.stdout().includes('worker ready'), 'worker ready');
  const run = await runCli(dir, ['run', 'experiment', '--config', 'configs/late.yaml', '--output', 'late', '--queue', redis.url], {}, 30_000);
  expect(run.code, run.stderr).toBe(0);
  const { summary, errors } = readExperiment(dir, 'late');
  expect(summary.counts).toEqual({ ok: 3, error: 0, timeout: 0 });
  expect(summary.stray_errors).toBe(1);
  expect(errors).toEqual([expect.objectContaining({ stray: 'uncaughtException', error: expect.objectContaining({ message: 'thrown after its run ended' }) })]);
});

it('doctor says whether the queue answers and how many workers take its jobs', async () => {
  const own = await startRedis();
  const configured = project('queue-app');
  try {
    const config = path.join(configured, 'configs', 'simulation.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('runner:', `runner:\n  queue: ${own.url}`));
    const queueCheck = async () => (JSON.parse((await runCli(configured, ['doctor', '--json'], {}, 60_000)).stdout).checks as any[]).find((c) => c.id === 'queue');
    expect(await queueCheck()).toMatchObject({ status: 'warn', detail: expect.stringContaining(`no fluxloop worker takes jobs from queue ${QUEUE} at ${own.url}`) });
    await worker(configured, own.url, { concurrency: 1 });
    expect(await queueCheck()).toMatchObject({ status: 'ok', detail: `1 fluxloop worker takes jobs from queue ${QUEUE} at ${own.url}` });
    await own.stop({ kill: true });
    expect(await queueCheck()).toMatchObject({ status: 'fail', detail: expect.stringContaining(`cannot reach Redis at ${own.url}: connection refused`) });
  } finally {
    await own.stop();
    fs.rmSync(configured, { recursive: true, force: true });
  }
}, 60_000);

it('says so at once, password masked and no folder made, when Redis cannot be reached', async () => {
  const closed = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const url = `redis://:hunter2@127.0.0.1:${closed}`;
  const started = Date.now();
  const run = await runCli(dir, ['run', 'experiment', '--output', 'unreachable', '--queue', url]);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`fluxloop: cannot reach Redis at redis://***@127.0.0.1:${closed}: connection refused`);
  expect(run.stderr + run.stdout).not.toContain('hunter2');
  expect(run.stderr).not.toMatch(STACK);
  expect(fs.existsSync(path.join(dir, 'unreachable'))).toBe(false);

  const lone = await runCli(dir, ['worker', '--queue', url]);
  expect(lone.code).toBe(1);
  expect(lone.stderr).toContain(`cannot reach Redis at redis://***@127.0.0.1:${closed}: connection refused`);
  expect(lone.stderr).not.toContain('hunter2');

  const none = await runCli(dir, ['worker']);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('no queue to take runs from: give --queue redis://host:port, or set runner.queue in the config');
});
