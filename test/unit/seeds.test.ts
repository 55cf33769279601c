import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors';
import { parseSimulationConfig } from '../../src/config/simulation';
import { chooseSeeds, configSeeds, recordingSeeds } from '../../src/experiment/seeds';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-seeds-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const node = (target: string, args: unknown[], params: unknown[]) => JSON.stringify({ _version: '1', function: target.split(':')[1], target, args, kwargs: {}, params });

/** A project whose recording file holds `lines`, and its config. */
function setup(lines: string[], config: string) {
  const root = fs.mkdtempSync(path.join(tmp, 'p-'));
  fs.mkdirSync(path.join(root, 'recordings'));
  fs.writeFileSync(path.join(root, 'recordings', 'args_recording.jsonl'), lines.join('\n') + '\n');
  return { root, config: parseSimulationConfig(config) };
}

async function errorOf(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const LINES = [
  node('app/agent.js:handle', ['u1', 'Can I get a refund?'], ['userId', 'message']),
  // FluxLoop Python's shape: kwargs only.
  JSON.stringify({ target: 'app/agent.js:handle', kwargs: { userId: 'u2', message: 'Where is my parcel?' } }),
  node('app/agent.js:handle', ['u3', 'Can I get a refund?'], ['userId', 'message']),
  node('app/tools.js:search', ['refund policy'], ['query']),
  node('app/agent.js:handle', ['u4', { text: 'not a string' }], ['userId', 'message']),
];

describe('recordingSeeds', () => {
  it('gives the distinct strings at the path, first seen first, with where and how often', async () => {
    const { root, config } = setup(LINES, 'runner: { target: app/agent.js:handle }\nreplay_args: { override_param_path: kwargs.message }\n');
    const seeds = await recordingSeeds(root, config);
    expect(seeds).toEqual({
      inputs: [
        { input: 'Can I get a refund?', metadata: { source: 'recording', recording: 'recordings/args_recording.jsonl:1', occurrences: 2 } },
        { input: 'Where is my parcel?', metadata: { source: 'recording', recording: 'recordings/args_recording.jsonl:2', occurrences: 1 } },
      ],
      source: 'recordings/args_recording.jsonl',
      skipped: 1,
      path: 'kwargs.message',
    });
  });

  it('honours replay_args.function and select, and takes every target without a runner target', async () => {
    const only = setup(LINES, 'replay_args: { override_param_path: args.0, function: search }\n');
    expect((await recordingSeeds(only.root, only.config)).inputs.map((e) => e.input)).toEqual(['refund policy']);
    const first = setup(LINES, 'replay_args: { override_param_path: kwargs.message, select: first }\n');
    expect((await recordingSeeds(first.root, first.config)).inputs.map((e) => e.input)).toEqual(['Can I get a refund?']);
  });

  it('says why when the path finds nothing, or there is no path or no recording', async () => {
    const { root, config } = setup(LINES, 'runner: { target: app/agent.js:handle }\nreplay_args: { override_param_path: kwargs.text }\n');
    const miss = await errorOf(recordingSeeds(root, config));
    expect(miss.message).toMatch(/^configs\/simulation\.yaml \(replay_args\.override_param_path\): no inputs found at kwargs\.text in 4 recordings: recordings\/args_recording\.jsonl:1: /);
    const noPath = setup(LINES, 'runner: { target: app/agent.js:handle }\n');
    expect((await errorOf(recordingSeeds(noPath.root, noPath.config))).message).toContain('--from-recording needs replay_args.override_param_path');
    const other = setup(LINES, 'runner: { target: app/other.js:run }\nreplay_args: { override_param_path: args.0 }\n');
    expect((await errorOf(recordingSeeds(other.root, other.config))).message).toContain('no recordings of app/other.js:run to take inputs from');
  });
});

describe('configSeeds', () => {
  it('needs base_inputs', () => {
    expect(() => configSeeds(parseSimulationConfig('name: x\n'))).toThrow('no base inputs to vary: add base_inputs to configs/simulation.yaml, or take them from your recordings with --from-recording');
  });
});

describe('chooseSeeds', () => {
  const BASE = 'base_inputs: [Hello there]\nrunner: { target: app/agent.js:handle }\n';

  it('takes the recordings by default when replay is on and they hold some, else base_inputs with the reason', async () => {
    const on = setup(LINES, `${BASE}replay_args: { enabled: true, override_param_path: kwargs.message }\n`);
    const recorded = await chooseSeeds(on.root, on.config);
    expect(recorded).toMatchObject({ source: 'recordings/args_recording.jsonl', path: 'kwargs.message', skipped: 1 });
    expect(recorded.inputs.map((e) => e.input)).toEqual(['Can I get a refund?', 'Where is my parcel?']);
    expect(recorded.fallback).toBeUndefined();
    expect((await chooseSeeds(on.root, on.config, 'config')).inputs.map((e) => e.input)).toEqual(['Hello there']);

    const off = setup(LINES, `${BASE}replay_args: { enabled: false, override_param_path: kwargs.message }\n`);
    const config = await chooseSeeds(off.root, off.config);
    expect(config).toMatchObject({ source: 'base_inputs', fallback: { mistake: false } });
    expect(config.fallback!.reason).toContain('replay_args.enabled is not true');
    expect((await chooseSeeds(off.root, off.config, 'recording')).source).toBe('recordings/args_recording.jsonl');
  });

  it('falls back when nothing is recorded, and marks a path that finds nothing as a mistake', async () => {
    const empty = setup([], `${BASE}replay_args: { enabled: true, override_param_path: kwargs.message }\n`);
    const none = await chooseSeeds(empty.root, empty.config);
    expect(none.fallback).toEqual({ reason: expect.stringMatching(/^nothing recorded in recordings\/args_recording\.jsonl for .*app\/agent\.js:handle yet; record some calls first/), mistake: false });
    const miss = setup(LINES, `${BASE}replay_args: { enabled: true, override_param_path: kwargs.text }\n`);
    expect((await chooseSeeds(miss.root, miss.config)).fallback).toEqual({ reason: expect.stringMatching(/^no inputs found at kwargs\.text in 4 recordings: .*; fix replay_args\.override_param_path/), mistake: true });
  });

  it('says why the recordings were not taken when there are no base_inputs either', async () => {
    const off = setup(LINES, 'replay_args: { enabled: false, override_param_path: kwargs.message }\n');
    await expect(chooseSeeds(off.root, off.config)).rejects.toThrow('(the recordings were not taken: replay_args.enabled is not true');
  });
});
