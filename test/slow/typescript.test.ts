import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { byTarget, expectSameRun, project, readExperiment, readRecords, recordingPath, REPO, runApp, runCli, writeReplayConfig, type CliRun, type Experiment, type ReplayConfig } from '../e2e/helpers';

/**
 * A TypeScript agent (ESM and CommonJS, with enums and parameter properties, which only a
 * compiler runs) recorded as users run it, under `--import tsx`, then replayed, checked and
 * varied by the CLI with no flag at all: the project's tsx is registered by fluxloop itself.
 */

const TARGETS = ['app/agent.ts:reply', 'app/agent.ts:Agent.answer', 'app/tone.ts:styled', 'cjs/agent.ts:handle'];
const INSTALL = 'install tsx in the project (npm i -D tsx)';
const STACK = /\n\s+at /;
// Whatever the test runner was started with, the CLI gets no tsx from the environment.
const NO_FLAGS = { NODE_OPTIONS: '' };
const stripsTypes = Boolean((process.features as { typescript?: unknown }).typescript);

let recorded: string;

/** A copy of the fixture holding the recording, without tsx when `tsx` is false. */
function withRecording(tsx = true): string {
  const dir = project('ts-agent');
  // `project` installs tsx in every project; this one is to be without it.
  if (!tsx) fs.unlinkSync(path.join(dir, 'node_modules', 'tsx'));
  fs.mkdirSync(path.dirname(recordingPath(dir)));
  fs.copyFileSync(recordingPath(recorded), recordingPath(dir));
  return dir;
}

/** Writes the replay config, with more `runner` keys. */
function configure(dir: string, config: Omit<ReplayConfig, 'targets'>, runner: Record<string, unknown> = {}): void {
  writeReplayConfig(dir, { targets: TARGETS, ...config });
  const file = path.join(dir, 'configs', 'simulation.yaml');
  const yaml = JSON.parse(fs.readFileSync(file, 'utf8'));
  Object.assign(yaml.runner, runner);
  fs.writeFileSync(file, JSON.stringify(yaml, null, 2) + '\n');
}

async function experiment(dir: string, name: string, code = 0): Promise<CliRun> {
  const run = await runCli(dir, ['run', 'experiment', '--output', name], NO_FLAGS);
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(run.stderr).not.toMatch(STACK);
  return run;
}

async function replay(name: string, config: Omit<ReplayConfig, 'targets'>, runner: Record<string, unknown> = {}): Promise<Experiment> {
  configure(recorded, config, runner);
  await experiment(recorded, name);
  return readExperiment(recorded, name);
}

/** Each run's output, in the order of the recordings and inputs: worker threads finish in any order. */
function outputs(result: Experiment): string[] {
  expect(result.traces.map((t) => [t.status, t.error?.message])).toEqual(result.traces.map(() => ['ok', undefined]));
  return [...result.traces].sort((a, b) => a.recording_index - b.recording_index || String(a.input).localeCompare(String(b.input))).map((t) => t.output);
}

beforeAll(async () => {
  recorded = project('ts-agent');
  for (const main of ['app/main.ts', 'cjs/main.ts']) {
    const plain = await runApp(recorded, main, { nodeArgs: ['--import', 'tsx'], preload: false, env: { FLUXLOOP_RECORD_ARGS: undefined } });
    expect(plain.stderr).toBe('');
    expectSameRun(plain, await runApp(recorded, main, { nodeArgs: ['--import', 'tsx'] }));
  }
  const records = readRecords(recorded);
  expect(byTarget(records, 'app/agent.ts:reply').map((r) => r.args)).toEqual([[{ user: 'u1', message: 'hello', tone: 'loud' }], [{ user: 'u2', message: 'quiet please', tone: 'plain' }]]);
  expect(byTarget(records, 'app/agent.ts:Agent.answer').map((r) => r.args)).toEqual([['how are you']]);
  expect(byTarget(records, 'cjs/agent.ts:handle').map((r) => r.args)).toEqual([
    ['from cjs', { channel: 'sms' }],
    ['again', { channel: 'web' }],
  ]);
});

describe.each(['shared', 'fresh', 'worker'])('isolation %s, no NODE_OPTIONS', (isolation) => {
  const inputs = ['hi there', 'second'];
  // One run at a time, so one thread: its one module counts on in shared; a fresh one (per run) starts again from 1.
  const turn = (n: number) => (isolation === 'shared' ? n : 1);
  const runner = { isolation, concurrency: 1 };

  it('replays an ES module TypeScript target, tsx resolving its `./tone.js` import of tone.ts', async () => {
    const result = await replay(`esm-${isolation}`, { target: 'app/agent.ts:reply', path: 'args.0.message', inputs }, runner);
    expect(outputs(result)).toEqual([`u1#${turn(1)}: HI THERE!`, `u1#${turn(2)}: SECOND!`, `u2#${turn(3)}: hi there`, `u2#${turn(4)}: second`]);
    expect(result.summary).toMatchObject({ total_runs: 4 });
    // A recording target that the replayed one calls is an observation of its run: its hook saw what tsx compiled, as when it was recorded.
    const nested = result.observations.filter((o) => o.name === 'app/tone.ts:styled');
    expect(nested.map((o) => o.input)).toEqual(expect.arrayContaining([['hi there', 'loud'], ['second', 'loud'], ['hi there', 'plain'], ['second', 'plain']]));
    expect(nested).toHaveLength(4);
  });

  it('replays a CommonJS TypeScript target, loaded through require', async () => {
    const result = await replay(`cjs-${isolation}`, { target: 'cjs/agent.ts:handle', path: 'args.0', inputs }, runner);
    expect(outputs(result)).toEqual([`sms#${turn(1)}:hi there`, `sms#${turn(2)}:second`, `web#${turn(3)}:hi there`, `web#${turn(4)}:second`]);
  });
});

it.each(['fresh', 'worker'])('makes each run its instance with a TypeScript runner.factory (%s)', async (isolation) => {
  const result = await replay(`factory-${isolation}`, { target: 'app/agent.ts:Agent.answer', path: 'args.0', inputs: ['hi there'] }, { factory: 'app/factory.ts:makeAgent', isolation });
  // The recorded instance spoke plainly; the factory's is loud.
  expect(outputs(result)).toEqual(['bot: HI THERE!']);
});

it.each([
  ['app/aliased.ts:whisper', 'app/agent.ts:reply', 'args.0.message', ['u1 (quietly): hi', 'u2 (quietly): hi']],
  // The target is loaded afresh for each run, not what it imports: the counter goes on (one run at a time, so on one thread).
  ['cjs/aliased.ts:relay', 'cjs/agent.ts:handle', 'args.0', ['relayed sms#1:hi', 'relayed web#2:hi']],
])('reads the project tsconfig.json (its paths) when run from another folder: %s', async (target, from, at, expected) => {
  const dir = withRecording();
  configure(dir, { target, from, path: at, inputs: ['hi'], replayArgs: { function: from } }, { concurrency: 1 });
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-elsewhere-'));
  const run = spawnSync(process.execPath, [path.join(REPO, 'bin', 'fluxloop.js'), 'run', 'experiment', '--output', 'out', '--project-dir', dir], {
    cwd: elsewhere,
    encoding: 'utf8',
    env: { ...process.env, ...NO_FLAGS, NO_COLOR: '1' },
  });
  expect(run.status, run.stdout + run.stderr).toBe(0);
  expect(outputs(readExperiment(dir, 'out'))).toEqual(expected);
});

it('doctor loads TypeScript targets through the project tsx, with no NODE_OPTIONS', async () => {
  const dir = withRecording();
  configure(dir, { target: 'app/agent.ts:Agent.answer', path: 'args.0', inputs: ['x'] }, { factory: 'app/factory.ts:makeAgent' });
  const run = await runCli(dir, ['doctor', '--json'], NO_FLAGS);
  const checks = JSON.parse(run.stdout).checks as { id: string; status: string; detail: string }[];
  expect(checks.filter((c) => /^runner-/.test(c.id)).map((c) => [c.id, c.status, c.detail])).toEqual([
    ['runner-factory:app/factory.ts:makeAgent', 'ok', 'app/factory.ts loads; "makeAgent" is a function'],
    ['runner-target:app/agent.ts:Agent.answer', 'ok', 'app/agent.ts loads'],
  ]);
});

it('says to install tsx when the project has none; generate, which loads no target, works without it', async () => {
  const dir = withRecording(false);
  configure(dir, { target: 'app/agent.ts:reply', path: 'args.0.message', inputs: ['hi'] });
  const run = await experiment(dir, 'out', 2);
  expect(run.stderr).toContain('configs/simulation.yaml (runner.target): ');
  // Node 20 cannot load TypeScript at all; Node 22.18 and later strip types, but not an enum or parameter properties.
  expect(run.stderr).toContain(stripsTypes ? `app/agent.ts is TypeScript that Node cannot run as it is: ${INSTALL}` : `app/agent.ts is TypeScript: ${INSTALL}`);

  const doctor = await runCli(dir, ['doctor', '--json'], NO_FLAGS);
  expect(doctor.code).toBe(1);
  const target = (JSON.parse(doctor.stdout).checks as { id: string; status: string; fix?: string }[]).find((c) => c.id === 'runner-target:app/agent.ts:reply');
  expect(target).toMatchObject({ status: 'fail', fix: INSTALL });

  const generate = await runCli(dir, ['generate', 'inputs', '--from-recording', '--limit', '2'], NO_FLAGS);
  expect(generate.code, generate.stderr).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'inputs', 'generated.yaml'), 'utf8')).toContain('hello');
});

it('without tsx, loads TypeScript that Node strips itself, where Node does', async () => {
  const dir = withRecording(false);
  configure(dir, { target: 'app/plain.ts:shout', from: 'app/agent.ts:reply', path: 'args.0.message', inputs: ['hi'], replayArgs: { function: 'app/agent.ts:reply' } });
  const run = await experiment(dir, 'out', stripsTypes ? 0 : 2);
  if (stripsTypes) expect(outputs(readExperiment(dir, 'out'))).toEqual(['u1: HI', 'u2: HI']);
  else expect(run.stderr).toContain(`app/plain.ts is TypeScript: ${INSTALL}`);
});

it('a target written with .js whose .ts twin exists gets a "did you mean"', async () => {
  const dir = withRecording();
  configure(dir, { target: 'app/agent.js:reply', from: 'app/agent.ts:reply', path: 'args.0.message', inputs: ['hi'], replayArgs: { function: 'app/agent.ts:reply' } });
  const run = await experiment(dir, 'out', 2);
  expect(run.stderr).toContain('configs/simulation.yaml (runner.target): module not found: app/agent.js (looked for app/agent.js with .js, .mjs, .cjs, .ts and index files); did you mean app/agent.ts?');
  const doctor = await runCli(dir, ['doctor', '--json'], NO_FLAGS);
  const target = (JSON.parse(doctor.stdout).checks as { id: string; detail: string }[]).find((c) => c.id === 'runner-target:app/agent.js:reply');
  expect(target?.detail).toMatch(/; did you mean app\/agent\.ts\?$/);
});
