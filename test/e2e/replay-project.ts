import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { project, readRecords, recordedOnce, recordingPath, runCli, type CliRun } from './helpers';

// The replay-app fixture, recorded once by running the app, and what the replay tests build on it;
// shared by the replay test files, so that they can run side by side.

// The fixture's recording targets; the replay traces those it does not replay as spans.
export const TARGETS = ['app/agent.js:handle', 'app/agent.js:handleObj', 'app/tools.js:respond', 'app/counter.cjs:bump', 'app/hang.js:hang', 'app/hang.js:stall', 'app/pipeline.js:pipeline'];
export const STACK = /\n\s+at /;

/** Writes configs/simulation.yaml; JSON is YAML, and keeps the test's config readable as an object. */
export function writeConfig(dir: string, config: Record<string, unknown>): void {
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), JSON.stringify({ recording: { targets: TARGETS }, ...config }, null, 2) + '\n');
}

/** A replay config for `target` with `path`, and more top-level keys. */
export function replayConfig(target: string, overridePath: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  const { runner, replay_args, ...rest } = more as { runner?: object; replay_args?: object };
  return {
    runner: { target, ...runner },
    replay_args: { enabled: true, override_param_path: overridePath, ...replay_args },
    ...rest,
  };
}

/** `fluxloop run experiment`; the exit code must be `code`. */
export async function experiment(dir: string, args: string[] = [], code = 0, env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(dir, ['run', 'experiment', ...args], env);
  expect(run.code, run.stderr).toBe(code);
  if (code !== 2) expect(run.stderr).not.toMatch(STACK);
  return run;
}

export const byTrace = (observations: any[]) => {
  const groups = new Map<string, any[]>();
  for (const o of observations) groups.set(o.trace_id, [...(groups.get(o.trace_id) ?? []), o]);
  return groups;
};

/** The fixture's recording, made once (per test worker) by running the app; for `beforeAll`. */
export const recordReplayApp = recordedOnce('replay-app', (run) => {
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)[0]).toEqual({ userId: 'u1', reply: 're:hello!', count: 1 });
});

let recorded: string;

/** A new project holding the fixture's recording. */
export async function withRecordingReady(): Promise<void> {
  recorded = await recordReplayApp();
  expect(linesOf('app/agent.js:handle')).toHaveLength(3);
}

/** A new project holding the fixture's recording, made once by running the app. */
export function withRecording(config: Record<string, unknown>): string {
  const dir = project('replay-app');
  fs.mkdirSync(path.dirname(recordingPath(dir)));
  fs.copyFileSync(recordingPath(recorded), recordingPath(dir));
  writeConfig(dir, config);
  return dir;
}

/** 1-based lines of the recording's records of `target`. */
export function linesOf(target: string): number[] {
  return readRecords(recorded).flatMap((r, i) => (r.target === target ? [i + 1] : []));
}
