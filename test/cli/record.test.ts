// Runs the built CLI (dist/), as users do: `npm test` builds first (pretest), so after changing
// src/ run `npm run build` before `npx vitest run test/cli`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'fluxloop.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-record-'));

function run(cwd: string, args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('FLUXLOOP_') || key === 'FORCE_COLOR') delete env[key];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh project folder with the given files. */
function project(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'p-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const read = (dir: string, name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

const ENV = `# my project
OPENAI_API_KEY=sk-test   # do not commit

export FLUXLOOP_RECORD_ARGS=false
# FLUXLOOP_RECORD_ARGS=maybe
LAST=1`;

const CONFIG = `# Simulation config
recording:
  targets:
    - app/agent.js:Agent.reply   # main entry
    - app/tools.js:search
    - app/other.js:default
    - app/server.js:12

  file: recordings/args_recording.jsonl

# replay
replay_args:
  enabled: false  # flipped by record enable
  recording_file: recordings/args_recording.jsonl

runner:
  # target: app/agent.js:Agent.reply
  concurrency: 2
`;

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fluxloop record enable / disable', () => {
  it('switches .env and the config, every other byte kept', () => {
    const dir = project({ '.env': ENV, 'configs/simulation.yaml': CONFIG });

    const on = run(dir, ['record', 'enable']);
    expect(on.stderr).toBe('');
    expect(on.code).toBe(0);
    expect(read(dir, '.env')).toBe(ENV.replace('export FLUXLOOP_RECORD_ARGS=false', 'export FLUXLOOP_RECORD_ARGS=true'));
    expect(read(dir, 'configs/simulation.yaml')).toBe(CONFIG.replace('enabled: false', 'enabled: true'));
    const recording = path.join(dir, 'recordings', 'args_recording.jsonl');
    expect(fs.statSync(path.dirname(recording)).isDirectory()).toBe(true);
    expect(on.stdout).toContain(recording);
    expect(on.stdout).toContain('node --import fluxloop/register your/app.js');

    // Off: recording stops, and the recordings made so far are still replayed.
    const off = run(dir, ['record', 'disable']);
    expect(off.code).toBe(0);
    expect(off.stderr).toBe('');
    expect(read(dir, '.env')).toBe(ENV);
    expect(read(dir, 'configs/simulation.yaml')).toBe(CONFIG.replace('enabled: false', 'enabled: true'));
    expect(off.stdout).toMatch(/configs\/simulation\.yaml\s+replay_args\.enabled: true, left on: experiments still replay the recordings \(--disable-replay turns it off\)/);

    // --disable-replay turns replay off too, every other byte kept.
    const both = run(dir, ['record', 'disable', '--disable-replay']);
    expect(both.code).toBe(0);
    expect(read(dir, '.env')).toBe(ENV);
    expect(read(dir, 'configs/simulation.yaml')).toBe(CONFIG);
    expect(both.stdout).toMatch(/configs\/simulation\.yaml\s+replay_args\.enabled: false$/m);
  });

  it('leaves a config without replay_args alone when it disables, and names the option in its help', () => {
    const config = '# mine\nrecording:\n  targets: [app/a.js:run]\n';
    const dir = project({ 'configs/simulation.yaml': config });
    const off = run(dir, ['record', 'disable']);
    expect(off.code).toBe(0);
    expect(read(dir, 'configs/simulation.yaml')).toBe(config);
    expect(off.stdout).not.toContain('simulation.yaml');
    expect(run(dir, ['record', 'disable', '--help']).stdout).toMatch(/--disable-replay\s+also set replay_args\.enabled: false/);
  });

  it('keeps the comments of the files that init wrote', () => {
    const dir = project();
    expect(run(dir, ['init']).code).toBe(0);
    const env = read(dir, '.env');
    const config = read(dir, 'configs/simulation.yaml');
    expect(run(dir, ['record', 'enable']).code).toBe(0);
    expect(read(dir, '.env')).toBe(env.replace('FLUXLOOP_RECORD_ARGS=false', 'FLUXLOOP_RECORD_ARGS=true'));
    expect(read(dir, 'configs/simulation.yaml')).toBe(config.replace('  enabled: false', '  enabled: true'));
    expect(run(dir, ['record', 'disable', '--disable-replay']).code).toBe(0);
    expect(read(dir, '.env')).toBe(env);
    expect(read(dir, 'configs/simulation.yaml')).toBe(config);
  });

  it('creates .env but never the config', () => {
    const dir = project();
    const r = run(dir, ['record', 'enable']);
    expect(r.code).toBe(0);
    expect(read(dir, '.env')).toBe('FLUXLOOP_RECORD_ARGS=true\n');
    expect(fs.existsSync(path.join(dir, 'configs'))).toBe(false);
    expect(r.stdout).toMatch(/configs\/simulation\.yaml\s+not found/);
  });

  it('adds replay_args to a config that lacks it', () => {
    const config = '# mine\nrecording:\n  targets: [app/a.js:run]\n';
    const dir = project({ 'configs/simulation.yaml': config });
    expect(run(dir, ['record', 'enable']).code).toBe(0);
    expect(read(dir, 'configs/simulation.yaml')).toBe(`${config}replay_args:\n  enabled: true\n`);
  });

  it('creates the folder of FLUXLOOP_RECORDING_FILE from .env', () => {
    const dir = project({ '.env': 'FLUXLOOP_RECORDING_FILE=data/rec/calls.jsonl\n' });
    const r = run(dir, ['record', 'enable']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(dir, 'data', 'rec', 'calls.jsonl'));
    expect(fs.statSync(path.join(dir, 'data', 'rec')).isDirectory()).toBe(true);
  });

  it('warns when the environment overrides .env', () => {
    const dir = project();
    const r = run(dir, ['record', 'enable'], { FLUXLOOP_RECORD_ARGS: 'false' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/FLUXLOOP_RECORD_ARGS=false is set in this shell and overrides \.env/);
  });

  it('refuses a broken config with its line and column, changing nothing', () => {
    const broken = CONFIG.replace('    - app/tools.js:search', '    - app/tools.js');
    const dir = project({ '.env': ENV, 'configs/simulation.yaml': broken });
    const r = run(dir, ['record', 'enable']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fluxloop: configs\/simulation\.yaml:5:7 \(recording\.targets\[1\]\): invalid target "app\/tools\.js"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(read(dir, '.env')).toBe(ENV);
  });

  it('refuses a YAML syntax error and a broken .env likewise', () => {
    const dir = project({ 'configs/simulation.yaml': 'recording:\n  targets: [a.js:f\n' });
    const yaml = run(dir, ['record', 'disable']);
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toMatch(/configs\/simulation\.yaml:3:1: invalid YAML/);

    const dir2 = project({ '.env': 'A=1\nB="open\n' });
    const env = run(dir2, ['record', 'enable']);
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^fluxloop: \.env:2:3: unterminated quoted value/);
  });
});

describe('fluxloop record status', () => {
  function recordedProject(): string {
    const dir = project({
      '.env': 'FLUXLOOP_RECORD_ARGS=true\n',
      'configs/simulation.yaml': CONFIG,
      'recordings/args_recording.jsonl': '{"a":1}\n{"b":2}\n\n{"c":3}\n',
    });
    const status = {
      pid: 4242,
      run_id: 'run-1',
      recording_file: path.join(dir, 'recordings', 'args_recording.jsonl'),
      started_at: '2025-01-01T10:00:00.000Z',
      updated_at: '2025-01-01T10:05:00.000Z',
      targets: [
        { target: 'app/agent.js:Agent.reply', state: 'hooked', calls: 3, mechanism: 'transform', line: 4, source: 'reply(message) {' },
        { target: 'app/tools.js:search', state: 'failed', reason: 'export "search" not found', calls: 0 },
        { target: 'app/server.js:12', state: 'hooked', calls: 1, mechanism: 'transform', line: 12, source: "app.post('/chat', async (req, res) => {" },
      ],
    };
    fs.mkdirSync(path.join(dir, '.fluxloop', 'status'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.fluxloop', 'status', '4242.json'), JSON.stringify(status));
    return dir;
  }

  it('shows mode, file, records and each target', () => {
    const dir = recordedProject();
    const r = run(dir, ['record', 'status']);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Recording\s+enabled \(FLUXLOOP_RECORD_ARGS=true in \.env\)$/m);
    expect(out).toMatch(new RegExp(`^File\\s+${path.join(dir, 'recordings', 'args_recording.jsonl')}$`, 'm'));
    expect(out).toMatch(/^Records\s+3 \(25 B\)$/m);
    expect(out).toMatch(/^Last run\s+2025-01-01T10:05:00.000Z \(run run-1, 1 process\)$/m);
    expect(out).toMatch(/^ {2}app\/agent\.js:Agent\.reply\s+hooked\s+3 calls$/m);
    expect(out).toMatch(/^ {2}app\/tools\.js:search\s+failed\s+0 calls\s+export "search" not found$/m);
    expect(out).toMatch(/^ {2}app\/other\.js:default\s+no run yet$/m);
    // A line target shows its line, so that the user sees which function it is.
    expect(out).toMatch(/^ {2}app\/server\.js:12\s+hooked\s+1 call\s+12 │ app\.post\('\/chat', async \(req, res\) => \{$/m);
    expect(out).toContain(path.join(dir, '.env'));
    expect(out).toContain(path.join(dir, 'configs', 'simulation.yaml'));
    // The columns line up: each target's state starts at the same column.
    const states = out.split('\n').filter((l) => l.startsWith('  app/')).map((l) => l.search(/hooked|failed|no run yet/));
    expect(new Set(states).size).toBe(1);
  });

  it('prints one JSON object with --json', () => {
    const dir = recordedProject();
    const r = run(dir, ['record', 'status', '--json'], { FLUXLOOP_RECORD_ARGS: '0' });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({
      mode: 'disabled',
      source: 'environment',
      environment_value: '0',
      env_file_value: 'true',
      environment_overrides_env_file: true,
      recording_file: { path: path.join(dir, 'recordings', 'args_recording.jsonl'), exists: true, records: 3, bytes: 25 },
      last_run: { run_id: 'run-1', processes: 1 },
      env_file: { path: path.join(dir, '.env'), exists: true },
      config_file: { path: path.join(dir, 'configs', 'simulation.yaml'), exists: true },
    });
    expect(status.targets).toEqual([
      { target: 'app/agent.js:Agent.reply', state: 'hooked', calls: 3, reason: null, mechanism: 'transform', line: 4, source: 'reply(message) {' },
      { target: 'app/tools.js:search', state: 'failed', calls: 0, reason: 'export "search" not found', mechanism: null, line: null, source: null },
      { target: 'app/other.js:default', state: 'no_run_yet', calls: null, reason: null, mechanism: null, line: null, source: null },
      { target: 'app/server.js:12', state: 'hooked', calls: 1, reason: null, mechanism: 'transform', line: 12, source: "app.post('/chat', async (req, res) => {" },
    ]);
  });

  it('says when nothing is recorded yet', () => {
    const dir = project();
    const r = run(dir, ['record', 'status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Recording\s+disabled \(FLUXLOOP_RECORD_ARGS is not set\)$/m);
    expect(r.stdout).toMatch(/^Records\s+none yet$/m);
    expect(r.stdout).toMatch(/^Targets\s+none configured/m);
    expect(r.stdout).toMatch(/^\.env\s+.*\(not found\)$/m);
  });

  it('follows --project-dir and FLUXLOOP_PROJECT_DIR', () => {
    const dir = recordedProject();
    const viaOption = JSON.parse(run(tmp, ['--project-dir', dir, 'record', 'status', '--json']).stdout);
    expect(viaOption.project_root).toBe(dir);
    const viaEnv = JSON.parse(run(tmp, ['record', 'status', '--json'], { FLUXLOOP_PROJECT_DIR: dir }).stdout);
    expect(viaEnv.recording_file.records).toBe(3);
  });
});

/** A project whose recording was rotated twice (once twice in one millisecond), beside files that are not its. */
function rotatedProject(): string {
  return project({
    '.env': 'FLUXLOOP_RECORD_ARGS=true\n',
    'configs/simulation.yaml': CONFIG,
    'recordings/args_recording.2026-01-02T03-04-05.678Z.jsonl': '{"a":1}\n{"a":2}\n',
    'recordings/args_recording.2025-12-31T23-59-59.999Z.jsonl': '{"a":0}\n',
    'recordings/args_recording.2026-01-02T03-04-05.678Z.1.jsonl': '{"a":3}\n',
    'recordings/args_recording.jsonl': '{"b":1}\n\n',
    // Not the recording's: another file's rotation, a backup, a writer's lock.
    'recordings/other.2026-01-02T03-04-05.678Z.jsonl': '{"x":1}\n',
    'recordings/args_recording.jsonl.bak': '{"x":1}\n',
    'recordings/args_recording.jsonl.lock': '',
  });
}

const ROTATED = [
  'recordings/args_recording.2025-12-31T23-59-59.999Z.jsonl',
  'recordings/args_recording.2026-01-02T03-04-05.678Z.jsonl',
  'recordings/args_recording.2026-01-02T03-04-05.678Z.1.jsonl',
];
const NOT_OURS = ['args_recording.jsonl.bak', 'args_recording.jsonl.lock', 'other.2026-01-02T03-04-05.678Z.jsonl'];

describe('fluxloop record status over a rotated recording', () => {
  it('counts the records of every file and lists them in the order replays read them', () => {
    const dir = rotatedProject();
    const json = run(dir, ['record', 'status', '--json']);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout);
    expect(status.recording_file).toEqual({ path: path.join(dir, 'recordings', 'args_recording.jsonl'), exists: true, records: 1, bytes: 9 });
    expect(status.rotated_files).toEqual([
      { path: path.join(dir, ROTATED[0]!), records: 1, bytes: 8 },
      { path: path.join(dir, ROTATED[1]!), records: 2, bytes: 16 },
      { path: path.join(dir, ROTATED[2]!), records: 1, bytes: 8 },
    ]);
    expect(status.total).toEqual({ files: 4, records: 5, bytes: 41 });

    const text = run(dir, ['record', 'status']).stdout.split('\n');
    const at = text.findIndex((l) => /^Records\s+5 \(41 B\), in 4 files, oldest first:$/.test(l));
    expect(at).toBeGreaterThan(0);
    expect(text.slice(at + 1, at + 5).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      [ROTATED[0], '1 record', '8 B'],
      [ROTATED[1], '2 records', '16 B'],
      [ROTATED[2], '1 record', '8 B'],
      ['recordings/args_recording.jsonl', '1 record', '9 B'],
    ]);
  });

  it('counts the rotated files when the file itself is not there yet', () => {
    const dir = rotatedProject();
    fs.rmSync(path.join(dir, 'recordings', 'args_recording.jsonl'));
    const status = JSON.parse(run(dir, ['record', 'status', '--json']).stdout);
    expect(status.recording_file).toMatchObject({ exists: false, records: 0 });
    expect(status.total).toEqual({ files: 3, records: 4, bytes: 32 });
    expect(run(dir, ['record', 'status']).stdout).toMatch(/^Records\s+4 \(32 B\), in 3 files, oldest first:$/m);
  });
});

describe('fluxloop record clear', () => {
  const left = (dir: string) => fs.readdirSync(path.join(dir, 'recordings')).sort();

  it('with --yes removes the file and those it was rotated to, and says what it removed', () => {
    const dir = rotatedProject();
    const r = run(dir, ['record', 'clear', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(left(dir)).toEqual(NOT_OURS);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Removed 4 files (5 records, 41 B):');
    expect(lines.slice(1).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      [ROTATED[0], '1 record', '8 B'],
      [ROTATED[1], '2 records', '16 B'],
      [ROTATED[2], '1 record', '8 B'],
      ['recordings/args_recording.jsonl', '1 record', '9 B'],
    ]);
    expect(run(dir, ['record', 'status']).stdout).toMatch(/^Records\s+none yet$/m);

    const again = run(dir, ['record', 'clear', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Nothing to clear: recordings/args_recording.jsonl does not exist, nor any file it was rotated to.\n');
  });

  it('refuses without a terminal and without --yes: exit 2, nothing removed', () => {
    const dir = rotatedProject();
    const before = left(dir);
    const r = run(dir, ['record', 'clear']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'fluxloop: record clear would remove 4 files (5 records, 41 B) of recordings/args_recording.jsonl; there is no terminal to ask on, so pass --yes to remove them\n',
    );
    expect(left(dir)).toEqual(before);
  });

  it('clears the file FLUXLOOP_RECORDING_FILE names', () => {
    const dir = project({ '.env': 'FLUXLOOP_RECORDING_FILE=data/calls.jsonl\n', 'data/calls.jsonl': '{"a":1}\n', 'data/calls.2026-01-02T03-04-05.678Z.jsonl': '{"a":0}\n' });
    const r = run(dir, ['record', 'clear', '-y']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Removed 2 files \(2 records, 16 B\):/);
    expect(fs.readdirSync(path.join(dir, 'data'))).toEqual([]);
  });

  // A terminal, made with util-linux's script(1): the answer is typed into it.
  const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
  it.skipIf(script.status !== 0 || !/util-linux/.test(script.stdout))('asks on a terminal, and removes only on yes', () => {
    const dir = rotatedProject();
    const before = left(dir);
    const ask = (answer: string) => {
      const command = [process.execPath, BIN, 'record', 'clear', '--project-dir', dir].map((a) => `'${a}'`).join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { input: `${answer}\n`, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status).toBe(0);
      return r.stdout;
    };
    const no = ask('n');
    expect(no).toContain('Remove 4 files (5 records, 41 B)? [y/N]');
    expect(no).toContain('Nothing removed.');
    expect(left(dir)).toEqual(before);
    const yes = ask('yes');
    expect(yes).toContain('Removed 4 files (5 records, 41 B):');
    expect(left(dir)).toEqual(NOT_OURS);
  });
});

describe('fluxloop record add', () => {
  const AGENT = 'export class Bot {\n  async answer(m) {\n    return m;\n  }\n}\napp.post("/chat", async (req, res) => {\n  res.send("x");\n});\n';

  it('adds the function at a position, by name or by its line, once, keeping the comments', () => {
    const dir = project({ 'app/agent.js': AGENT, 'configs/simulation.yaml': CONFIG });
    const config = path.join(dir, 'configs', 'simulation.yaml');

    const byName = run(dir, ['record', 'add', 'app/agent.js', '--at', '3:5', '--json']);
    expect(byName.stderr).toBe('');
    expect(byName.code).toBe(0);
    expect(JSON.parse(byName.stdout)).toEqual({
      target: 'app/agent.js:Bot.answer',
      added: true,
      config_file: config,
      message: 'Added app/agent.js:Bot.answer to recording.targets in configs/simulation.yaml.',
    });
    const withReply = CONFIG.replace('    - app/server.js:12\n', '    - app/server.js:12\n    - app/agent.js:Bot.answer\n');
    expect(read(dir, 'configs/simulation.yaml')).toBe(withReply);

    // Inside an inline callback: its line; from --project-dir, the file taken from the project root.
    const byLine = run(path.dirname(dir), ['--project-dir', dir, 'record', 'add', 'app/agent.js', '--at', '7']);
    expect(byLine).toMatchObject({ code: 0, stderr: '' });
    expect(byLine.stdout).toBe('Added app/agent.js:6 to recording.targets in configs/simulation.yaml (by the line the function begins on: no name reaches it).\n');

    // A target as given, already there: said, not added.
    const again = run(dir, ['record', 'add', 'app/agent.js:Bot.answer', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ target: 'app/agent.js:Bot.answer', added: false, message: 'app/agent.js:Bot.answer is in recording.targets of configs/simulation.yaml already.' });
    expect(read(dir, 'configs/simulation.yaml')).toBe(withReply.replace('    - app/agent.js:Bot.answer\n', '    - app/agent.js:Bot.answer\n    - app/agent.js:6\n'));
  });

  it.each([
    [['app/agent.js', '--at', '5:2'], /^fluxloop: app\/agent\.js:5:2: no function contains line 5, column 2, or begins on that line$/m],
    [['app/missing.js', '--at', '3'], /^fluxloop: app\/missing\.js: no such file$/m],
    [['app/agent.js'], /^fluxloop: "app\/agent\.js" is no target: name one as file:export \(app\/agent\.js:handle\), or a function's position with --at LINE\[:COLUMN\]$/m],
    [['app/agent.js', '--at', '0'], /option '--at <line\[:column\]>' argument '0' is invalid\. must be LINE or LINE:COLUMN/],
  ])('exits 2 on %j, the config untouched', (args, message) => {
    const dir = project({ 'app/agent.js': AGENT, 'configs/simulation.yaml': CONFIG });
    const r = run(dir, ['record', 'add', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(read(dir, 'configs/simulation.yaml')).toBe(CONFIG);
  });
});
