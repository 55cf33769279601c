import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectSameRun, project, readExperiment, readRecords, recordTwice, recordingPath, runCli, writeReplayConfig } from './helpers';

/**
 * Recordings belong to a target by identity. The fetch-app has three route files that all export
 * `POST`; its one recording file holds the calls of all three. A replay of one route must read
 * its own records alone, whichever way it is named: the config, `--target`, `--config`.
 */

const CHAT = 'app/api/chat/route.js:POST';
const STREAM = 'app/api/stream/route.js:POST';
const UPLOAD = 'app/api/upload/route.js:POST';
const TARGETS = [CHAT, STREAM, UPLOAD];
const INPUT = 'which records are mine?';

let dir: string;

beforeAll(async () => {
  dir = project('fetch-app');
  const { plain, recorded } = await recordTwice(dir);
  expectSameRun(plain, recorded);
  writeReplayConfig(dir, { targets: TARGETS, target: CHAT, path: 'args.0.body.message', inputs: [INPUT] });
});

async function run(args: string[], output: string) {
  const cli = await runCli(dir, ['run', 'experiment', '--output', output, ...args]);
  expect(cli.code, cli.stdout + cli.stderr).toBe(0);
  return { cli, experiment: readExperiment(dir, output) };
}

describe('recordings chosen by target identity', () => {
  it('records each route by its module path and export, all in one file', () => {
    expect(readRecords(dir).map((r) => r.target)).toEqual([CHAT, CHAT, STREAM, UPLOAD]);
  });

  it("replays runner.target on its own records only: the other routes' POST are left out", async () => {
    const { experiment } = await run([], 'out/chat');
    expect(experiment.summary.recordings).toBe(2);
    // Runs on several threads finish in any order.
    expect(experiment.traces.map((t) => [t.target, t.recording_line]).sort()).toEqual([
      [CHAT, 1],
      [CHAT, 2],
    ]);
    for (const trace of experiment.traces) expect(trace.output.value.body.reply).toBe(`You said: ${INPUT}`);
  });

  it('replays another function with --target, on its records, without editing the config', async () => {
    const { experiment } = await run(['--target', STREAM], 'out/stream');
    expect(experiment.summary).toMatchObject({ target: STREAM, recordings: 1, counts: { ok: 1 } });
    expect(experiment.traces[0]).toMatchObject({ target: STREAM, recording_line: 3 });
    expect(experiment.traces[0].output.value.body).toContain(JSON.stringify({ delta: 'which' }));
  });

  it('reads another config with --config, its target and path with it', async () => {
    const other = { recording: { targets: TARGETS }, runner: { target: UPLOAD }, replay_args: { enabled: true, override_param_path: 'args.0.body.note' }, base_inputs: [INPUT] };
    fs.writeFileSync(path.join(dir, 'configs', 'upload.yaml'), JSON.stringify(other));
    const { experiment } = await run(['--config', 'configs/upload.yaml'], 'out/upload');
    expect(experiment.summary).toMatchObject({ target: UPLOAD, recordings: 1, counts: { ok: 1 } });
    expect(experiment.traces[0].output.value.body.note).toBe(INPUT);
  });

  it('says what the file holds when the target has no records, and what is wrong with a bad --target or --config', async () => {
    const none = await runCli(dir, ['run', 'experiment', '--target', 'app/server.js:createServer']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no recordings of app/server.js:createServer to replay; the file holds recordings of ${CHAT} (2), ${STREAM} (1), ${UPLOAD} (1)`);
    const typo = await runCli(dir, ['run', 'experiment', '--target', 'app/api/chat/route.js']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--target: invalid target "app/api/chat/route.js": no ":"');
    const missing = await runCli(dir, ['run', 'experiment', '--config', 'configs/nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('configs/nope.yaml: config file cannot be read (not found)');
    for (const cli of [none, typo, missing]) expect(cli.stderr).not.toMatch(/\n\s+at /);
  });

  it('replays records of the older shape, which name no module, by name, and says so in one line', async () => {
    // As an older trace() or FluxLoop Python wrote them: the function's name, no module.
    const older = fs
      .readFileSync(recordingPath(dir), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.stringify({ ...JSON.parse(line), target: 'POST' }));
    fs.writeFileSync(path.join(dir, 'recordings', 'older.jsonl'), older.join('\n') + '\n');
    const config = { recording: { targets: TARGETS }, runner: { target: CHAT }, replay_args: { enabled: true, recording_file: 'recordings/older.jsonl', override_param_path: 'args.0.body.message' }, base_inputs: [INPUT] };
    fs.writeFileSync(path.join(dir, 'configs', 'older.yaml'), JSON.stringify(config));
    const { cli, experiment } = await run(['--config', 'configs/older.yaml'], 'out/older');
    expect(experiment.summary.recordings).toBe(4);
    const notices = cli.stderr.split('\n').filter((line) => line.includes('matched by the name'));
    expect(notices).toEqual(['warning: 4 recordings in recordings/older.jsonl name no module (an older record, or FluxLoop Python\'s), and are matched by the name "POST"']);
  });
});
