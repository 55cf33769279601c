// Runs the built CLI (dist/) on copies of fixtures/doctor-app: after changing src/, run
// `npm run build` before `npx vitest run test/cli/doctor.test.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { misfits } from '../../src/doctor/signature';
import { REPO, project, recordingPath, runApp, runCli, type CliRun } from '../e2e/helpers';

const dirs: string[] = [];

/** A fresh copy of the doctor fixture, with `files` written over it. */
function app(files: Record<string, string> = {}): string {
  const dir = project('doctor-app');
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** `fluxloop doctor`, with no API key from the test runner's own environment unless given. */
function doctor(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(dir, ['doctor', ...args], { OPENAI_API_KEY: '', ...env });
}

/** The line of the check titled `title`, split into its mark and the rest. */
function line(stdout: string, title: string): { mark: string; text: string } {
  const found = stdout.split('\n').find((l) => l.slice(1).trimStart().startsWith(`${title} `));
  if (found === undefined) throw new Error(`no line for "${title}" in:\n${stdout}`);
  return { mark: found[0]!, text: found };
}

interface JsonCheck {
  id: string;
  title: string;
  status: string;
  detail: string;
  fix?: string;
}

function json(run: CliRun): { ok: boolean; checks: JsonCheck[] } {
  return JSON.parse(run.stdout);
}

function byId(checks: JsonCheck[], id: string): JsonCheck {
  const found = checks.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no check "${id}" among ${checks.map((c) => c.id).join(', ')}`);
  return found;
}

const RECORD = (message: string) =>
  JSON.stringify({ _version: '1', function: 'handleMessage', target: 'app/agent.js:handleMessage', iteration: 0, args: ['u1', message], kwargs: {}, params: ['userId', 'message'], timestamp: '2025-11-11T10:30:00.000Z', meta: { pid: 1 } });

const HEALTHY_TITLES = [
  'Node.js',
  'fluxloop package',
  '.env',
  'configs/simulation.yaml',
  'recording folder',
  'target app/agent.js:handleMessage',
  'target app/agent.js:Agent.reply',
  'target app/tools.js:tools.search',
  'target app/legacy.cjs:default',
  'runner.target app/agent.js:handleMessage',
  'recordable targets',
  'recording file',
  'override_param_path',
  'recorded arguments',
  'LLM API key',
];

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'doctor', 'probe-child.js'))) throw new Error('dist/ is missing or stale: run `npm run build` first');
});
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('fluxloop doctor', () => {
  it('passes a healthy project, one ✓ line per check, and keeps the modules\' own output out', async () => {
    const dir = app({ 'recordings/args_recording.jsonl': `${RECORD('Can I get a refund?')}\n${RECORD('hello')}\n` });
    const r = await doctor(dir, [], { OPENAI_API_KEY: 'sk-from-the-environment-000' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const title of HEALTHY_TITLES) expect(line(r.stdout, title).mark, line(r.stdout, title).text).toBe('✓');
    expect(line(r.stdout, 'evaluation config').text).toMatch(/✓\s+evaluation config\s+none; `fluxloop evaluate experiment` checks success, output_not_empty/);
    expect(line(r.stdout, 'recordable targets').text).toContain('all 4 recording targets can be recorded');
    expect(line(r.stdout, 'override_param_path').text).toContain('kwargs.message resolves in all 2 recordings of app/agent.js:handleMessage (recordings/args_recording.jsonl)');
    expect(line(r.stdout, 'recorded arguments').text).toContain('all 2 recordings of app/agent.js:handleMessage fit handleMessage(userId, message)');
    // Recording targets in the project's own files are found in their source; runner.target in the exports.
    expect(line(r.stdout, 'target app/agent.js:Agent.reply').text).toContain('found at app/agent.js:14:3: reply(message) {');
    expect(line(r.stdout, 'target app/legacy.cjs:default').text).toContain('found at app/legacy.cjs:1:18: module.exports = function classify(text) {');
    expect(line(r.stdout, 'runner.target app/agent.js:handleMessage').text).toContain('app/agent.js loads; "handleMessage" is a function');
    expect(line(r.stdout, 'recording file').text).toContain('recordings/args_recording.jsonl: 2 records, none malformed');
    expect(r.stdout).not.toContain('entry module');
    expect(line(r.stdout, 'LLM API key').text).toContain('OPENAI_API_KEY present (environment)');
    // app/agent.js prints when it loads; app/tools.js keeps its process alive with a timer.
    expect(r.stdout).not.toContain('agent module loaded');
    expect(r.stdout).toContain('No problems.');
    // Record contents and the key are never shown.
    expect(r.stdout).not.toContain('refund');
    expect(r.stdout + r.stderr).not.toContain('sk-from-the-environment');
  });

  it('fails on a config error with its file:line, and still runs the checks that do not need the config', async () => {
    const dir = app({
      'configs/simulation.yaml': 'recording:\n  targets:\n    - app/agent.js:handleMessage\n  max_dept: 3\n',
    });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    const config = line(r.stdout, 'configs/simulation.yaml');
    expect(config.mark).toBe('✗');
    expect(config.text).toContain('configs/simulation.yaml:4:3');
    expect(config.text).toContain('did you mean "max_depth"');
    expect(config.text).toContain('→ edit configs/simulation.yaml:4:3');
    expect(line(r.stdout, 'recording targets').mark).toBe('-');
    expect(line(r.stdout, 'recording file').mark).toBe('-');
    expect(line(r.stdout, '.env').mark).toBe('✓');
    expect(line(r.stdout, 'LLM API key').mark).toBe('!');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails a target whose name is missing and one that is not a function, each on its own line, in the source and in the exports', async () => {
    const dir = app({
      'configs/simulation.yaml': [
        'recording:',
        '  targets:',
        '    - app/agent.js:handleMessage',
        '    - app/agent.js:nope',
        '    - app/agent.js:settings',
        '    - app/agent.js:Agent.nope',
        '    - app/missing.js:handle',
        '  downstream:',
        '    targets:',
        '      - app/agent.js:buildReply',
        '      - app/agent.js:lookup',
        'runner:',
        '  target: app/agent.js:settings',
        '',
      ].join('\n'),
    });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    // Tools are looked for as the recording targets of their files are.
    expect(line(r.stdout, 'tool app/agent.js:buildReply').mark).toBe('✓');
    const tool = line(r.stdout, 'tool app/agent.js:lookup');
    expect(tool.mark).toBe('✗');
    expect(tool.text).toContain('→ correct or remove the name at recording.downstream.targets[1] in configs/simulation.yaml');
    expect(line(r.stdout, 'target app/agent.js:handleMessage').mark).toBe('✓');
    const missing = line(r.stdout, 'target app/agent.js:nope');
    expect(missing.mark).toBe('✗');
    // Every top-level name is a candidate, exported or not (buildReply is not).
    expect(missing.text).toContain('app/agent.js: no function, class or object named "nope" at the top level (there: Agent, buildReply, handleMessage, settings)');
    expect(missing.text).toContain('→ correct or remove the name at recording.targets[1] in configs/simulation.yaml');
    const notFunction = line(r.stdout, 'target app/agent.js:settings');
    expect(notFunction.mark).toBe('✗');
    expect(notFunction.text).toContain('app/agent.js: "settings" is not a function');
    const noMethod = line(r.stdout, 'target app/agent.js:Agent.nope');
    expect(noMethod.mark).toBe('✗');
    expect(noMethod.text).toContain('app/agent.js: "Agent" has no method "nope" (methods: reply)');
    expect(line(r.stdout, 'target app/missing.js:handle').text).toContain('module not found: app/missing.js');
    // runner.target is loaded through the exports, as replay loads it.
    const runner = line(r.stdout, 'runner.target app/agent.js:settings');
    expect(runner.mark).toBe('✗');
    expect(runner.text).toContain('export "settings" is an object, not a function');
    expect(r.stdout).toContain('6 problems to fix');
  });

  it('counts malformed recording lines without showing what any line holds', async () => {
    const lines = [RECORD('first secret message'), 'not json at all: private-note', RECORD('second'), '{"no":"name"}', RECORD('third'), '{"function":"truncated-zq'];
    const dir = app({ 'recordings/args_recording.jsonl': lines.join('\n') });
    const r = await doctor(dir);
    expect(r.code).toBe(0);
    const file = line(r.stdout, 'recording file');
    expect(file.mark).toBe('!');
    expect(file.text).toContain('3 records, 3 malformed lines (lines 2, 4, 6)');
    for (const secret of ['first secret message', 'private-note', 'second', 'truncated-zq']) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('says the LLM key in .env is present and never prints it', async () => {
    const key = 'sk-doctor-9f8e7d6c5b4a3210';
    const dir = app({ '.env': `FLUXLOOP_RECORD_ARGS=true\nOPENAI_API_KEY=${key}\n` });
    for (const args of [[], ['--json']]) {
      const r = await doctor(dir, args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('OPENAI_API_KEY present (.env)');
      for (const part of [key, key.slice(0, 8), key.slice(-8)]) expect(r.stdout + r.stderr).not.toContain(part);
    }
    // The variable named by input_generation.llm.api_key_env; missing is a warning, not a failure.
    const named = app({ 'configs/simulation.yaml': 'recording:\n  targets: [app/agent.js:handleMessage]\ninput_generation:\n  llm:\n    api_key_env: MY_LLM_KEY\n' });
    const missing = await doctor(named, [], { MY_LLM_KEY: '' });
    expect(missing.code).toBe(0);
    expect(line(missing.stdout, 'LLM API key').mark).toBe('!');
    expect(line(missing.stdout, 'LLM API key').text).toContain('MY_LLM_KEY missing');
    const present = await doctor(named, [], { MY_LLM_KEY: 'abc-123' });
    expect(line(present.stdout, 'LLM API key').text).toContain('MY_LLM_KEY present (environment)');
    expect(present.stdout).not.toContain('abc-123');
  });

  it('prints only JSON with --json, whose ok matches the exit code', async () => {
    const healthy = await doctor(app(), ['--json']);
    expect(healthy.code).toBe(0);
    const report = json(healthy);
    expect(report.ok).toBe(true);
    for (const c of report.checks) {
      expect(Object.keys(c).sort()).toEqual(c.fix === undefined ? ['detail', 'id', 'status', 'title'] : ['detail', 'fix', 'id', 'status', 'title']);
      expect(['ok', 'warn', 'fail', 'skip']).toContain(c.status);
      if (c.status === 'ok') expect(c.fix).toBeUndefined();
    }
    const ids = report.checks.map((c) => c.id);
    for (const id of ['node', 'fluxloop', 'env', 'config', 'evaluation-config', 'recording-folder', 'recording-target:app/agent.js:handleMessage', 'runner-target:app/agent.js:handleMessage', 'recording-file', 'llm-key']) {
      expect(ids).toContain(id);
    }
    expect(ids).not.toContain('entry-module');
    for (const id of ['recordable', 'override-path', 'recorded-arguments']) expect(ids).toContain(id);
    // Nothing recorded yet: nothing to check the path against, and nothing wrong with that.
    expect(byId(report.checks, 'override-path')).toMatchObject({ status: 'skip', detail: 'nothing recorded yet: recordings/args_recording.jsonl does not exist' });
    expect(byId(report.checks, 'recording-target:app/agent.js:handleMessage')).toEqual({
      id: 'recording-target:app/agent.js:handleMessage',
      title: 'target app/agent.js:handleMessage',
      status: 'ok',
      detail: 'found at app/agent.js:4:8: export async function handleMessage(userId, message) {',
    });
    expect(byId(report.checks, 'recording-file')).toMatchObject({ status: 'warn', detail: expect.stringContaining('nothing recorded yet') });
    expect(byId(report.checks, 'recording-file').fix).toContain('node --import fluxloop/register app/main.js');

    const broken = await doctor(app({ 'configs/simulation.yaml': 'recording:\n  targets:\n    - app/agent.js:settings\n' }), ['--json']);
    expect(broken.code).toBe(1);
    const failed = json(broken);
    expect(failed.ok).toBe(false);
    expect(byId(failed.checks, 'recording-target:app/agent.js:settings')).toMatchObject({ status: 'fail', fix: expect.stringContaining('recording.targets[0]') });
  });

  it('finds a recording target in the entry module, and one that is not exported, in their source without loading anything', async () => {
    const dir = app({
      'configs/simulation.yaml': 'recording:\n  targets:\n    - app/main.js:greet\n    - app/agent.js:buildReply\n    - app/marker.js:hidden\n    - app/hang.js:stuck\n',
      // Leaves a file behind if anything loads it.
      'app/marker.js': "import fs from 'node:fs';\nfs.writeFileSync(new URL('../loaded.txt', import.meta.url), 'loaded');\nfunction hidden(a, b) {\n  return a + b;\n}\n",
    });
    const started = Date.now();
    const r = await doctor(dir, ['--timeout', '1000']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.code).toBe(0);
    const entry = line(r.stdout, 'target app/main.js:greet');
    expect(entry.mark).toBe('✓');
    expect(entry.text).toContain('found at app/main.js:4:8: export function greet(name) {');
    expect(r.stdout).not.toContain('entry module');
    expect(line(r.stdout, 'target app/agent.js:buildReply').text).toMatch(/✓\s+target app\/agent\.js:buildReply\s+found at app\/agent\.js:9:1: function buildReply\(message\) \{/);
    expect(line(r.stdout, 'target app/marker.js:hidden').text).toContain('found at app/marker.js:3:1: function hidden(a, b) {');
    // app/hang.js never finishes loading; read, not loaded, it is found at once.
    expect(line(r.stdout, 'target app/hang.js:stuck').text).toContain('found at app/hang.js:3:8: export function stuck() {}');
    expect(fs.existsSync(path.join(dir, 'loaded.txt'))).toBe(false);
    // Nothing of the app ran: app/main.js would have called handleMessage and printed.
    expect(fs.existsSync(recordingPath(dir))).toBe(false);
  });

  it('bounds a runner.target module that never finishes loading: replay loads it through its exports', async () => {
    const dir = app({ 'configs/simulation.yaml': 'recording:\n  targets:\n    - app/hang.js:stuck\nrunner:\n  target: app/hang.js:stuck\n' });
    const started = Date.now();
    const r = await doctor(dir, ['--timeout', '1000']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'target app/hang.js:stuck').mark).toBe('✓');
    const hang = line(r.stdout, 'runner.target app/hang.js:stuck');
    expect(hang.mark).toBe('✗');
    expect(hang.text).toContain('app/hang.js did not finish loading within 1 s');
    expect(hang.text).toContain('→ make importing app/hang.js finish');
  });

  it('finds line targets, and names each function of an ambiguous line with FILE:LINE:COL', async () => {
    const dir = app({
      'configs/simulation.yaml': 'recording:\n  targets:\n    - app/server.js:6\n    - app/server.js:10\n    - app/server.js:10:53\n    - app/server.js:10:44\n    - app/server.js:2\n',
    });
    const r = await doctor(dir, ['--timeout', '1000']);
    expect(r.code).toBe(1);
    const handler = line(r.stdout, 'target app/server.js:6');
    expect(handler.mark).toBe('✓');
    expect(handler.text).toContain("found at app/server.js:6:19: app.post('/chat', async (req, res) => {");
    const ambiguous = line(r.stdout, 'target app/server.js:10');
    expect(ambiguous.mark).toBe('✗');
    expect(ambiguous.text).toContain('2 functions begin on line 10; name one with its column: app/server.js:10:15 (upper), app/server.js:10:53 (lower)');
    expect(ambiguous.text).toContain('→ correct or remove recording.targets[1] in configs/simulation.yaml');
    expect(line(r.stdout, 'target app/server.js:10:53').text).toContain('✓');
    expect(line(r.stdout, 'target app/server.js:10:53').text).toContain('found at app/server.js:10:53:');
    expect(line(r.stdout, 'target app/server.js:10:44').text).toContain('no function begins at line 10, column 44');
    const none = line(r.stdout, 'target app/server.js:2');
    expect(none.mark).toBe('✗');
    expect(none.text).toContain('app/server.js: no function begins on line 2');
    expect(r.stdout).toContain('3 problems to fix');

    const report = json(await doctor(dir, ['--json']));
    expect(report.ok).toBe(false);
    expect(byId(report.checks, 'recording-target:app/server.js:6')).toMatchObject({ status: 'ok', detail: expect.stringContaining('app/server.js:6:19') });
    expect(byId(report.checks, 'recording-target:app/server.js:10')).toMatchObject({ status: 'fail', detail: expect.stringContaining('app/server.js:10:15 (upper)'), fix: expect.stringContaining('recording.targets[1]') });
  });

  it('finds class and object members, private, static, accessors and field arrows, in the source', async () => {
    const dir = app({
      'app/members.js': [
        'class Planner {',
        '  static create() { return new Planner(); }',
        '  #score(goal) { return goal.length; }',
        '  get size() { return 1; }',
        '  plan = async (goal) => this.#score(goal);',
        '}',
        'const tools = { search(query) { return [query]; } };',
        'module.exports = { Planner, tools };',
        '',
      ].join('\n'),
      'app/package.json': '{ "type": "commonjs" }',
      'configs/simulation.yaml': ['recording:', '  targets:', ...['Planner.create', 'Planner.#score', 'Planner.size', 'Planner.plan', 'tools.search', 'Planner.#nope'].map((m) => `    - app/members.js:${m}`), ''].join('\n'),
    });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'target app/members.js:Planner.create').text).toContain('found at app/members.js:2:3: static create()');
    expect(line(r.stdout, 'target app/members.js:Planner.#score').text).toContain('found at app/members.js:3:3: #score(goal)');
    expect(line(r.stdout, 'target app/members.js:Planner.size').text).toContain('found at app/members.js:4:3: get size()');
    expect(line(r.stdout, 'target app/members.js:Planner.plan').text).toContain('found at app/members.js:5:3: plan = async (goal)');
    expect(line(r.stdout, 'target app/members.js:tools.search').text).toContain('found at app/members.js:7:17:');
    const nope = line(r.stdout, 'target app/members.js:Planner.#nope');
    expect(nope.mark).toBe('✗');
    expect(nope.text).toContain('"Planner" has no method "#nope" (methods: create, #score, size, plan)');
  });

  it('reports a syntax error with the parser\'s message at FILE:LINE:COL, as Node would parse the file', async () => {
    const dir = app({
      'app/broken.js': "import fs from 'node:fs';\nexport function ok() {}\nconst b = 1 +;\n",
      'app/broken.cjs': "const fs = require('node:fs');\nfunction ok() {}\nmodule.exports = { ok,, };\n",
      'configs/simulation.yaml': 'recording:\n  targets:\n    - app/broken.js:ok\n    - app/broken.cjs:ok\n',
    });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    const esm = line(r.stdout, 'target app/broken.js:ok');
    expect(esm.mark).toBe('✗');
    // Parsed as an ES module (package.json "type": "module"), not as CommonJS, which would stop at `import`.
    expect(esm.text).toContain("syntax error at app/broken.js:3:14: Unexpected token: ';'");
    expect(esm.text).toContain('→ fix the syntax error in app/broken.js');
    const cjs = line(r.stdout, 'target app/broken.cjs:ok');
    expect(cjs.mark).toBe('✗');
    expect(cjs.text).toContain('syntax error at app/broken.cjs:3:23:');
  });

  it('skips a TypeScript target, which is checked when the app runs, and does not fail on it', async () => {
    const dir = app({
      'app/typed.ts': 'export function typed(x: number): number {\n  return x;\n}\n',
      'configs/simulation.yaml': 'recording:\n  targets:\n    - app/typed.ts:typed\n    - app/typed:typed\n    - app/agent.js:handleMessage\n',
    });
    const r = await doctor(dir, ['--json']);
    expect(r.code).toBe(0);
    const report = json(r);
    expect(report.ok).toBe(true);
    for (const id of ['recording-target:app/typed.ts:typed', 'recording-target:app/typed:typed']) {
      expect(byId(report.checks, id)).toEqual({
        id,
        title: `target ${id.slice('recording-target:'.length)}`,
        status: 'skip',
        detail: 'app/typed.ts is TypeScript, which cannot be parsed as it is: checked when the app runs under tsx; see `npx fluxloop record status`',
      });
    }
    expect(byId(report.checks, 'recording-target:app/agent.js:handleMessage').status).toBe('ok');
    expect(byId(report.checks, 'recordable')).toMatchObject({ status: 'ok', detail: '1 of 3 can be recorded: app/agent.js:handleMessage' });
    // Three recording targets and no runner.target: `run experiment` would not know which to call.
    expect(byId(report.checks, 'config')).toMatchObject({ status: 'warn', fix: 'set runner.target in configs/simulation.yaml to the function experiments call, e.g. runner: { target: app/typed.ts:typed }' });
  });

  it('fails a project whose only recording target cannot be recorded, in JavaScript and in TypeScript without tsx', async () => {
    const js = await doctor(app({ 'configs/simulation.yaml': 'recording:\n  targets:\n    - app/agent.js:nope\n' }), ['--json']);
    expect(js.code).toBe(1);
    expect(byId(json(js).checks, 'recordable')).toMatchObject({
      status: 'fail',
      detail: 'the only recording target cannot be recorded, so running the app records nothing: app/agent.js:nope (see above)',
      fix: expect.stringContaining('correct recording.targets in configs/simulation.yaml'),
    });
    const dir = app({ 'app/typed.ts': 'export function typed(x: number): number {\n  return x;\n}\n', 'configs/simulation.yaml': 'recording:\n  targets:\n    - app/typed.ts:typed\n' });
    // The project's own tsx is what runs TypeScript; without it (and without a Node that strips types) nothing is recorded.
    fs.rmSync(path.join(dir, 'node_modules', 'tsx'));
    const ts = json(await doctor(dir, ['--json']));
    const strips = Boolean((process.features as { typescript?: unknown }).typescript);
    expect(byId(ts.checks, 'recording-target:app/typed.ts:typed').status).toBe('skip');
    expect(byId(ts.checks, 'recordable')).toMatchObject(
      strips
        ? { status: 'skip' }
        : { status: 'fail', detail: expect.stringContaining('app/typed.ts:typed (app/typed.ts is TypeScript, and the project has no tsx to run it)'), fix: 'install tsx in the project (npm i -D tsx)' },
    );
    expect(ts.ok).toBe(strips);
  });

  it('looks up targets in installed packages through their exports, which is how they are recorded', async () => {
    const dir = app({
      'node_modules/greeter/package.json': '{ "name": "greeter", "main": "index.js" }',
      'node_modules/greeter/index.js': 'exports.hello = function hello(name) {\n  return inner(name);\n};\nfunction inner(name) {\n  return `hi ${name}`;\n}\n',
      'configs/simulation.yaml': 'recording:\n  targets:\n    - node_modules/greeter/index.js:hello\n    - node_modules/greeter/index.js:inner\n    - node_modules/greeter/index.js:4\n',
    });
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    expect(line(r.stdout, 'target node_modules/greeter/index.js:hello').text).toContain('node_modules/greeter/index.js loads; "hello" is a function');
    const inner = line(r.stdout, 'target node_modules/greeter/index.js:inner');
    expect(inner.mark).toBe('✗');
    expect(inner.text).toContain('export "inner" not found in node_modules/greeter/index.js (exports: hello)');
    expect(inner.text).toContain('→ export it from node_modules/greeter/index.js');
    // A line target is transformed wherever it is, so it is found in the source.
    expect(line(r.stdout, 'target node_modules/greeter/index.js:4').text).toContain('found at node_modules/greeter/index.js:4:1: function inner(name) {');
  });

  it('fails when fluxloop is not installed in the project, and on an evaluation config that does not load', async () => {
    const dir = app({ 'configs/evaluation.yaml': 'evaluators:\n  - [1, 2\n' });
    fs.rmSync(path.join(dir, 'node_modules', 'fluxloop'));
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    const install = line(r.stdout, 'fluxloop package');
    expect(install.mark).toBe('✗');
    expect(install.text).toContain('npm install --save-dev path/to/fluxloop-<version>.tgz');
    const evaluation = line(r.stdout, 'evaluation config');
    expect(evaluation.mark).toBe('✗');
    expect(evaluation.text).toMatch(/configs\/evaluation\.yaml:3:1: invalid YAML/);
    expect(line(r.stdout, 'configs/simulation.yaml').mark).toBe('✓');
  });

  it('checks the evaluators as `fluxloop evaluate` reads them, and the judge\'s key', async () => {
    const dir = app({ 'configs/evaluation.yaml': 'evaluators:\n  - type: succes\n' });
    const bad = line((await doctor(dir)).stdout, 'evaluation config');
    expect(bad.mark).toBe('✗');
    expect(bad.text).toContain('configs/evaluation.yaml:2:11 (evaluators[0].type): unknown evaluator type "succes"; did you mean "success"?');
    fs.writeFileSync(path.join(dir, 'configs', 'evaluation.yaml'), 'evaluators:\n  - type: llm_judge\n    rubric: Polite?\nllm:\n  api_key_env: JUDGE_KEY\n');
    const r = await doctor(dir, [], { OPENAI_API_KEY: 'sk-generation-key-000' });
    expect(line(r.stdout, 'evaluation config').text).toContain('configs/evaluation.yaml: llm_judge');
    const key = line(r.stdout, 'LLM API key');
    expect(key.mark).toBe('!');
    expect(key.text).toContain('OPENAI_API_KEY present (environment), JUDGE_KEY missing');
    expect(r.stdout).toContain('add JUDGE_KEY=<your key> to .env');
    expect(r.stdout).not.toContain('sk-generation-key');
  });
});

describe('fluxloop doctor, against the recordings of runner.target', () => {
  // One project, recorded once by the app itself; each test writes its own config and extra records over it.
  let dir: string;
  let recorded: string;
  const CONFIG = (replay: string, target = 'app/agent.js:handleMessage') =>
    `recording:\n  targets:\n    - app/agent.js:handleMessage\nrunner:\n  target: ${target}\nreplay_args:\n  enabled: true\n${replay}base_inputs:\n  - hi\n`;
  /** Writes the config and the recording file: the app's own records, then `extra` lines. */
  const setUp = (replay: string, extra: object[] = [], target?: string) => {
    fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), CONFIG(replay, target));
    fs.writeFileSync(recordingPath(dir), recorded + extra.map((r) => `${JSON.stringify(r)}\n`).join(''));
  };
  const HANDLE = { _version: '1', function: 'handleMessage', target: 'app/agent.js:handleMessage', kwargs: {} };

  beforeAll(async () => {
    dir = app({ 'app/obj.js': 'export function handleObj({ userId, message }, { send }) {\n  send(message);\n  return userId;\n}\n' });
    const run = await runApp(dir, 'app/main.js');
    expect(run.code, run.stderr).toBe(0);
    recorded = fs.readFileSync(recordingPath(dir), 'utf8');
    // app/main.js calls handleMessage('u1', …) once: the recorder keeps its parameters.
    expect(recorded).toContain('"params":["userId","message"]');
  });

  it('passes a path, a callable provider and arguments that fit', async () => {
    // Called with one more argument than it declares, as Express calls a (req, res) handler with next: it still fits.
    setUp('  override_param_path: kwargs.message\n  callable_providers:\n    args.0: builtin:collector.send\n', [{ ...HANDLE, args: ['u2', 'hi', '<callable:next>'], params: ['userId', 'message'] }]);
    const r = await doctor(dir, ['--json']);
    expect(r.code).toBe(0);
    const report = json(r);
    expect(byId(report.checks, 'override-path')).toEqual({ id: 'override-path', title: 'override_param_path', status: 'ok', detail: 'kwargs.message resolves in all 2 recordings of app/agent.js:handleMessage (recordings/args_recording.jsonl)' });
    expect(byId(report.checks, 'provider-path:callable_providers.args.0')).toMatchObject({ status: 'ok' });
    expect(byId(report.checks, 'recorded-arguments')).toMatchObject({ status: 'ok', detail: 'all 2 recordings of app/agent.js:handleMessage fit handleMessage(userId, message)' });
  });

  it('groups the recordings into conversations by their key, and warns where the key or the history path points nowhere', async () => {
    const turn = (userId: string, message: string) => ({ ...HANDLE, args: [userId, message], params: ['userId', 'message'] });
    setUp('  override_param_path: kwargs.message\n  conversation:\n    key: kwargs.userId\n', [turn('u2', 'a'), turn('u2', 'b')]);
    expect(byId(json(await doctor(dir, ['--json'])).checks, 'conversations')).toEqual({
      id: 'conversations',
      title: 'conversations',
      status: 'ok',
      detail: 'kwargs.userId groups 3 recordings of app/agent.js:handleMessage into 2 conversations (the longest 2 turns)',
    });
    setUp('  override_param_path: kwargs.message\n  conversation:\n    key: kwargs.sessionId\n    history_path: kwargs.history\n');
    expect(byId(json(await doctor(dir, ['--json'])).checks, 'conversations')).toMatchObject({
      status: 'warn',
      detail:
        'none of them has a value at kwargs.sessionId: each is a conversation alone; kwargs.history points nowhere in 1 of the 1 recordings (the first: recordings/args_recording.jsonl:1), whose turns then fail',
      fix: expect.stringContaining('set replay_args.conversation.key in configs/simulation.yaml'),
    });
  });

  it('fails a path that resolves in no recording, listing every path that works, as `run experiment` does', async () => {
    setUp('  override_param_path: kwargs.mesage\n');
    const r = await doctor(dir);
    expect(r.code).toBe(1);
    const path_ = line(r.stdout, 'override_param_path');
    expect(path_.mark).toBe('✗');
    const paths = 'kwargs.userId, kwargs.message, args.0, args.1';
    expect(path_.text).toContain(`kwargs.mesage does not resolve in the recording of app/agent.js:handleMessage, so \`run experiment\` stops; paths that exist in recordings/args_recording.jsonl:1: ${paths}`);
    expect(path_.text).toContain('→ set replay_args.override_param_path in configs/simulation.yaml to one of the paths that exist');
    const run = await runCli(dir, ['run', 'experiment', '--dry-run']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`paths that exist: ${paths}`);
  });

  it('lists the kwargs names of a destructured parameter among the paths that work', async () => {
    const obj = { _version: '1', function: 'handleObj', target: 'app/obj.js:handleObj', args: [{ userId: 'u1', message: 'hi' }, { send: '<callable:send>' }], kwargs: {}, params: [{ destructured: ['userId', 'message'] }, { destructured: ['send'] }] };
    setUp('  override_param_path: kwargs.text\n', [obj], 'app/obj.js:handleObj');
    const r = await doctor(dir);
    const paths = 'kwargs.userId, kwargs.message, kwargs.send, args.0, args.1, args.0.userId, args.0.message, args.1.send';
    expect(line(r.stdout, 'override_param_path').text).toContain(`paths that exist in recordings/args_recording.jsonl:3: ${paths}`);
    const run = await runCli(dir, ['run', 'experiment', '--dry-run']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`paths that exist: ${paths}`);
  });

  it('warns when the path resolves in only some recordings, naming the first it misses', async () => {
    setUp('  override_param_path: args.1\n', [{ ...HANDLE, args: ['u9'] }, { ...HANDLE, args: ['u8'] }]);
    const r = await doctor(dir);
    expect(r.code).toBe(0);
    const path_ = line(r.stdout, 'override_param_path');
    expect(path_.mark).toBe('!');
    expect(path_.text).toContain('args.1 resolves in 1 of the 3 recordings of app/agent.js:handleMessage; the runs of the other 2 end as errors; the first it misses is recordings/args_recording.jsonl:3, where the paths that exist are kwargs.userId, kwargs.message, args.0');
  });

  it('fails a provider path and warns of a callable provider path that resolve nowhere, at their lines', async () => {
    setUp('  override_param_path: kwargs.message\n  callable_providers:\n    args.1.send: builtin:collector.send\n  providers:\n    args.2.client: app/agent.js:handleMessage\n');
    const report = json(await doctor(dir, ['--json']));
    expect(report.ok).toBe(false);
    expect(byId(report.checks, 'provider-path:callable_providers.args.1.send')).toEqual({
      id: 'provider-path:callable_providers.args.1.send',
      title: 'callable_providers.args.1.send',
      status: 'warn',
      // A callable provider is put in place without the parameters' names, so none is listed for it.
      detail: 'args.1.send points nowhere in any of the 1 selected recording; paths that exist in recording #0 (recordings/args_recording.jsonl:1, app/agent.js:handleMessage): args.0, args.1; this callable provider is never used',
      fix: 'correct the path at configs/simulation.yaml:10:5, or remove it',
    });
    expect(byId(report.checks, 'provider-path:providers.args.2.client')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^`run experiment` stops before its first run: args\.2\.client points nowhere in any of the 1 selected recording; paths that exist in .*: kwargs\.userId, kwargs\.message, args\.0, args\.1$/),
      fix: 'correct the path at configs/simulation.yaml:12:5, or remove it',
    });
  });

  it('warns of recorded arguments that no longer fit the function: too many, a kwargs name it lacks, other parameters', async () => {
    setUp('  override_param_path: kwargs.message\n', [
      { ...HANDLE, args: ['u2', 'x', 'extra'] },
      { target: 'app/agent.js:handleMessage', kwargs: { userID: 'u3', message: 'hi' } },
      { ...HANDLE, args: ['u4', 'y'], params: ['userId', 'text'] },
    ]);
    const r = await doctor(dir, ['--json']);
    expect(r.code).toBe(0);
    const check = byId(json(r).checks, 'recorded-arguments');
    expect(check).toMatchObject({ status: 'warn', fix: expect.stringContaining('record those calls again with the app as it is now') });
    expect(check.detail).toBe(
      '3 of the 4 recordings of app/agent.js:handleMessage do not fit handleMessage(userId, message); at recordings/args_recording.jsonl:3: recorded with 3 arguments, app/agent.js:handleMessage now takes 2 (userId, message)',
    );
  });

  it('tells each way a record can stop fitting, and lets a call with extra arguments fit when its parameters are the same', () => {
    const now = ['userId', 'message'];
    const misfit = (record: Parameters<typeof misfits>[0]) => misfits(record, now, 'app/agent.js:handle', 'handle');
    expect(misfit({ args: ['u', 'm', 'x'], kwargs: {} })).toEqual(['recorded with 3 arguments, app/agent.js:handle now takes 2 (userId, message)']);
    expect(misfit({ args: ['u', 'm', 'x'], kwargs: {}, params: ['userId', 'message', 'extra'] })).toEqual(['recorded with 3 arguments, app/agent.js:handle now takes 2 (userId, message)']);
    expect(misfit({ args: [], kwargs: { userID: 'u', message: 'm' } })).toEqual(['kwargs.userID is not a parameter of handle(userId, message); did you mean userId?']);
    expect(misfit({ args: ['u', 'm'], kwargs: {}, params: ['userId', 'text'] })).toEqual(['recorded when handle took (userId, text); it now takes (userId, message)']);
    expect(misfit({ args: ['u', 'm', 'next'], kwargs: {}, params: now })).toEqual([]);
    expect(misfit({ args: ['u'], kwargs: {} })).toEqual([]);
    expect(misfits({ args: [{ userId: 'u' }], kwargs: { message: 'm' } }, [{ destructured: ['userId', 'message'] }, { rest: 'more' }], 't', 'h')).toEqual([]);
    expect(misfits({ args: [1, 2, 3], kwargs: { x: 1 } }, [], 'app/a.js:h', 'h')).toEqual(['kwargs.x is not a parameter of h()', 'recorded with 3 arguments, app/a.js:h now takes none']);
  });

  it('fails when the file holds no recording of runner.target, naming what it holds', async () => {
    setUp('  override_param_path: kwargs.message\n', [], 'app/agent.js:Agent.reply');
    fs.writeFileSync(recordingPath(dir), recorded.split('\n').filter((l) => l.includes('"handleMessage"')).join('\n') + '\n');
    const check = byId(json(await doctor(dir, ['--json'])).checks, 'override-path');
    expect(check).toMatchObject({ status: 'fail', detail: 'recordings/args_recording.jsonl has no recordings of app/agent.js:Agent.reply, so `run experiment` stops; it holds recordings of app/agent.js:handleMessage (1)' });
  });
});
