import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { project, readExperiment, readRecords, recordingPath, runApp, runCli, type Run } from '../e2e/helpers';

// The recording file under faults, in a real app: deleted or rotated while the app records, a
// full disk (a 64 KB tmpfs), a planted symbolic link. The app must behave exactly as without us.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Phase {
  calls: number;
  /** The length of the string argument of each call. */
  pad: number;
  /** Milliseconds between calls, so that the phase spans several flushes. */
  spread?: number;
}

/**
 * Runs fixtures/writer-app with these phases, plain or recorded, doing `steps[n]` once the app has
 * finished phase n (and flushed it), then letting it go on.
 */
async function drive(dir: string, recorded: boolean, phases: Phase[], steps: Array<() => void> = []): Promise<Run> {
  const control = path.join(dir, 'control');
  fs.rmSync(control, { recursive: true, force: true });
  const env = { WRITER_APP_PHASES: JSON.stringify(phases), ...(recorded ? {} : { FLUXLOOP_RECORD_ARGS: undefined }) };
  let ended = false;
  const run = runApp(dir, 'app/main.js', { preload: recorded, env, timeoutMs: 50_000 }).finally(() => (ended = true));
  for (const [n, step] of steps.entries()) {
    while (!fs.existsSync(path.join(control, `at-${n}`))) {
      if (ended) return run;
      await sleep(10);
    }
    step();
    fs.writeFileSync(path.join(control, `go-${n}`), '');
  }
  return run;
}

/** Plain, then recorded: the same output and exit code; the recorded run is returned. */
async function runBoth(dir: string, phases: Phase[], steps: (recorded: boolean) => Array<() => void>): Promise<Run> {
  const plain = await drive(dir, false, phases, steps(false));
  expect(plain.code, plain.stderr).toBe(0);
  expect(plain.stderr).toBe('');
  const recorded = await drive(dir, true, phases, steps(true));
  expect(recorded.code, recorded.stderr).toBe(0);
  expect(recorded.signal).toBeNull();
  expect(recorded.stdout).toBe(plain.stdout);
  const total = phases.reduce((sum, p) => sum + p.calls, 0);
  expect(JSON.parse(recorded.stdout)).toMatchObject({ calls: total });
  return recorded;
}

/** The id each record's call had (its first argument), in file order. */
function ids(dir: string, file = recordingPath(dir)): number[] {
  return readRecords(dir, file).map((r) => r.args[0] as number);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function statusJson(dir: string): Promise<any> {
  const cli = await runCli(dir, ['record', 'status', '--json']);
  expect(cli.code, cli.stderr).toBe(0);
  return JSON.parse(cli.stdout);
}

describe('the recording file deleted or rotated while the app records', () => {
  const phases: Phase[] = [
    { calls: 30, pad: 10 },
    { calls: 30, pad: 10, spread: 5 },
  ];

  it('writes the later records to a new file at the path when the file is deleted', async () => {
    const dir = project('writer-app');
    const file = recordingPath(dir);
    const recorded = await runBoth(dir, phases, () => [() => fs.rmSync(file, { force: true })]);
    // Every record made after the deletion is in the new file; none went to the deleted one.
    expect(ids(dir)).toEqual(range(30, 60));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(recorded.stderr).toBe(`fluxloop: ${file} was deleted or replaced while recording; records now go to a new file at that path\n`);
    expect((await statusJson(dir)).last_run.dropped_records).toBe(0);
  });

  it('follows a rotation: the renamed file keeps the earlier records, the new one the later', async () => {
    const dir = project('writer-app');
    const file = recordingPath(dir);
    const recorded = await runBoth(dir, phases, () => [() => fs.existsSync(file) && fs.renameSync(file, `${file}.1`)]);
    expect(ids(dir, `${file}.1`)).toEqual(range(0, 30));
    expect(ids(dir)).toEqual(range(30, 60));
    expect(recorded.stderr).toMatch(/was deleted or replaced while recording/);
  });
});

describe('a full disk', () => {
  const mounted = new Set<string>();
  const unmount = (dir: string) => {
    if (!mounted.has(dir)) return;
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
    mounted.delete(dir);
  };
  afterAll(() => {
    for (const dir of [...mounted]) unmount(dir);
  });

  /** Mounts a 64 KB tmpfs on `dir`; the reason when this machine cannot. */
  function mountTmpfs(dir: string): string | undefined {
    if (process.platform !== 'linux') return 'a tmpfs disk-full test needs Linux';
    if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root; run the tests as root to include the disk-full test';
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    if (mount.error || mount.status !== 0) return `mount -t tmpfs failed here: ${(mount.stderr || mount.error?.message || '').trim()}`;
    mounted.add(dir);
    return undefined;
  }

  /** Takes every free byte of the file system `dir` is on. */
  function fill(dir: string): void {
    const fd = fs.openSync(path.join(dir, 'filler'), 'w');
    try {
      for (const size of [4096, 1]) {
        const block = Buffer.alloc(size, 0x2e);
        try {
          for (;;) fs.writeSync(fd, block);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  it('keeps whole lines through a full disk, drops and counts past its memory bound, and reports the count', async (ctx) => {
    const dir = project('writer-app');
    const recordings = path.join(dir, 'recordings');
    fs.mkdirSync(recordings, { recursive: true });
    const why = mountTmpfs(recordings);
    if (why !== undefined) ctx.skip(why);
    try {
      const file = recordingPath(dir);
      // Phase 1 fits; the disk is then filled; phase 2 (about 34 MB of records, past the 32 MB the
      // writer holds) meets a full disk; space is freed; phase 3 is recorded as the writer retries.
      const phases: Phase[] = [
        { calls: 20, pad: 100 },
        { calls: 1800, pad: 19_000 },
        { calls: 10, pad: 100 },
      ];
      const total = 1830;
      const recorded = await runBoth(dir, phases, (isRecorded) => [
        () => fill(recordings),
        () => {
          if (isRecorded) expect(fs.readFileSync(file).length).toBeGreaterThan(0);
          fs.rmSync(path.join(recordings, 'filler'));
        },
      ]);

      // Every line whole and JSON (readRecords fails on anything else), no call twice, in order.
      const written = ids(dir);
      expect(new Set(written).size).toBe(written.length);
      expect([...written].sort((a, b) => a - b)).toEqual(written);
      expect(written.slice(0, 20)).toEqual(range(0, 20));
      // Written after space was freed: records of the phase that met the full disk.
      expect(written.length).toBeGreaterThan(20);

      const status = await statusJson(dir);
      const dropped = status.last_run.dropped_records;
      expect(dropped).toBeGreaterThan(0);
      expect(written.length + dropped).toBe(total);

      const lines = recorded.stderr.trimEnd().split('\n');
      expect(lines.filter((l) => l.startsWith('fluxloop: dropped'))).toEqual([
        `fluxloop: dropped ${dropped} records that could not be written to ${file} (ENOSPC: no space left on device, write)`,
      ]);
      expect(lines.some((l) => l.startsWith(`fluxloop: cannot write to ${file}: ENOSPC`))).toBe(true);
      expect(lines.every((l) => l.startsWith('fluxloop: ') && l.includes(file))).toBe(true);

      const text = await runCli(dir, ['record', 'status']);
      expect(text.stdout).toMatch(new RegExp(`Dropped\\s+${dropped} records could not be written`));
    } finally {
      unmount(recordings);
    }
  });
});

describe('a symbolic link planted at the recording path', () => {
  it('is refused: the app runs as without us, and the file it points to is untouched', async () => {
    const dir = project('writer-app');
    const file = recordingPath(dir);
    const victim = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-victim-')), 'victim.txt');
    fs.writeFileSync(victim, 'not yours\n');
    fs.chmodSync(victim, 0o644);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.symlinkSync(victim, file);

    const recorded = await runBoth(dir, [{ calls: 5, pad: 10 }], () => []);
    expect(fs.readFileSync(victim, 'utf8')).toBe('not yours\n');
    expect(fs.statSync(victim).mode & 0o777).toBe(0o644);
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(true);
    const lines = recorded.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^fluxloop: refusing to write records to ${escape(file)}: it is a symbolic link`));
    expect(lines).toContain(`fluxloop: dropped 5 records that could not be written to ${file} (it is a symbolic link, and records are never written through one)`);
    expect(lines).toHaveLength(2);
    expect((await statusJson(dir)).last_run.dropped_records).toBe(5);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('rotation at recording.max_file_mb', () => {
  it('rotates the file as two apps record into it at once, and replays, counts and clears every file', async () => {
    const dir = project('writer-app');
    fs.writeFileSync(
      path.join(dir, 'configs', 'simulation.yaml'),
      [
        'recording:',
        '  targets: [app/agent.js:handle]',
        '  max_file_mb: 0.01',
        'runner:',
        '  target: app/agent.js:handle',
        '  isolation: shared',
        'replay_args:',
        '  enabled: true',
        '  override_param_path: args.1',
        'base_inputs: [replayed]',
        '',
      ].join('\n'),
    );
    const max = Math.round(0.01 * 1024 * 1024);
    const calls = 120;
    // Spread over several flushes, so that each app finds the file past the size more than once.
    const env = { WRITER_APP_PHASES: JSON.stringify([{ calls, pad: 100, spread: 1 }]) };
    const apps = await Promise.all([runApp(dir, 'app/main.js', { env }), runApp(dir, 'app/main.js', { env })]);
    for (const app of apps) {
      expect(app.code, app.stderr).toBe(0);
      // The app that did not rotate follows the new file without a word.
      expect(app.stderr).toBe('');
    }

    const file = recordingPath(dir);
    const shape = /^args_recording\.(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z)(?:\.(\d+))?\.jsonl$/;
    // Oldest first: by time, then by the `.1`, `.2` of a second rotation in the same millisecond,
    // which a plain sort of the names would put first.
    const rotated = fs
      .readdirSync(path.dirname(file))
      .flatMap((name) => {
        const m = shape.exec(name);
        return m === null ? [] : [{ name, time: m[1]!, n: Number(m[2] ?? 0) }];
      })
      .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.n - b.n))
      .map(({ name }) => path.join(path.dirname(file), name));
    expect(rotated.length).toBeGreaterThanOrEqual(3);
    // Only a file past the size was rotated, by one of the apps.
    for (const each of rotated) expect(fs.statSync(each).size).toBeGreaterThanOrEqual(max);
    const files = [...rotated, ...(fs.existsSync(file) ? [file] : [])];
    const written = files.flatMap((each) => readRecords(dir, each).map((r, i) => ({ file: path.relative(dir, each), line: i + 1, pid: r.meta.pid, id: r.args[0] as number })));
    // Each app's calls, once each and in order, across the files.
    const pids = [...new Set(written.map((r) => r.pid))];
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(written.filter((r) => r.pid === pid).map((r) => r.id)).toEqual(range(0, calls));

    const status = await statusJson(dir);
    expect(status.total.records).toBe(2 * calls);
    expect(status.rotated_files.map((f: { path: string }) => f.path)).toEqual(rotated);

    const plan = await runCli(dir, ['run', 'experiment', '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(new RegExp(`^Recordings\\s+${2 * calls} of app/agent\\.js:handle from recordings/args_recording\\.jsonl and ${rotated.length} files it was rotated to \\(select: all\\)$`, 'm'));

    // Replayed oldest first, each run naming the file and line its recording came from.
    const replayed = await runCli(dir, ['run', 'experiment', '--json']);
    expect(replayed.code, replayed.stderr).toBe(0);
    const exp = readExperiment(dir);
    expect(exp.summary).toMatchObject({ total_runs: 2 * calls, counts: { ok: 2 * calls } });
    const traces = [...exp.traces].sort((a, b) => a.recording_index - b.recording_index);
    expect(traces.map((t) => t.recording_index)).toEqual(range(0, 2 * calls));
    expect(traces.map((t) => [t.recording_file, t.recording_line])).toEqual(written.map((r) => [r.file, r.line]));
    for (const [i, t] of traces.entries()) expect(t.args).toEqual([written[i]!.id, 'replayed']);

    // generate inputs --from-recording goes through the same reader.
    const generated = await runCli(dir, ['generate', 'inputs', '--from-recording', '--strategy', 'noise', '--output', 'inputs/seeds.yaml']);
    expect(generated.code, generated.stderr).toBe(0);
    const seeds = fs.readFileSync(path.join(dir, 'inputs', 'seeds.yaml'), 'utf8');
    expect(seeds).toContain(`occurrences: ${2 * calls}`);
    expect(seeds).toContain(`recording: ${written[0]!.file}:1`);

    // doctor counts the records of every file, as the replay reads them.
    const doctor = await runCli(dir, ['doctor', '--json']);
    const recordingCheck = JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'recording-file');
    expect(recordingCheck).toMatchObject({ status: 'ok', detail: `recordings/args_recording.jsonl: ${2 * calls} records in ${files.length} files (rotated), none malformed` });

    const cleared = await runCli(dir, ['record', 'clear', '--yes']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toMatch(new RegExp(`^Removed ${files.length} files \\(${2 * calls} records, `));
    expect(fs.readdirSync(path.dirname(file))).toEqual([]);
  });
});
