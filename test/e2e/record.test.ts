import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { byTarget, project, readRecords, recordingPath, runApp, statusTargets } from './helpers';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The app's own output without fluxloop: what every recorded run must print too. */
async function plainOutput(dir: string, script: string, nodeArgs: string[] = []): Promise<string> {
  const run = await runApp(dir, script, { preload: false, nodeArgs, env: { FLUXLOOP_RECORD_ARGS: undefined } });
  expect(run.code, run.stderr).toBe(0);
  return run.stdout;
}

describe('recording without code changes', () => {
  it('records named, object-method and default exports of an ESM app', async () => {
    const dir = project('esm-app');
    const run = await runApp(dir, 'app/main.js');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(await plainOutput(dir, 'app/main.js'));

    const records = readRecords(dir);
    const handle = byTarget(records, 'app/agent.js:handleRequest');
    expect(handle).toHaveLength(2);
    expect(handle[0]).toMatchObject({
      _version: '1',
      function: 'handleRequest',
      iteration: 0,
      args: [{ userId: 'u1', message: 'refund please' }],
      kwargs: {},
      params: [{ destructured: ['userId', 'message'] }, 'options'],
      meta: { pid: expect.any(Number) },
    });
    expect(handle[0].timestamp).toMatch(ISO_UTC);
    // A secret-looking key is masked; an LLM's max_tokens is not.
    expect(handle[1].args).toEqual([{ userId: 'u2', message: 'opening times?' }, { upper: true, apiKey: '***', max_tokens: 64 }]);
    expect(handle[1].iteration).toBe(1);

    const search = byTarget(records, 'app/tools.js:tools.search');
    expect(search.map((r) => [r.function, r.args])).toEqual([
      ['search', ['refund please']],
      ['search', ['opening times?']],
    ]);
    expect(byTarget(records, 'app/format.js:default').map((r) => r.function)).toEqual(['format', 'format']);
  });

  it('records a CommonJS app, keeps thrown errors, and encodes a Date losslessly', async () => {
    const dir = project('cjs-app');
    const run = await runApp(dir, 'app/main.js');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(await plainOutput(dir, 'app/main.js'));
    expect(JSON.parse(run.stdout)[1]).toBe('TypeError: cannot handle boom');

    const records = readRecords(dir);
    const handle = byTarget(records, 'app/agent.js:handleRequest');
    expect(handle).toHaveLength(2);
    expect(handle[0].params).toEqual(['userId', 'message', 'context']);
    expect(handle[0].args).toEqual([
      'u1',
      'I want a refund',
      { at: { $type: 'Date', value: '2025-11-11T10:30:00.000Z' }, user: { password: '***', sessionId: 's-1' } },
    ]);
    expect(handle[1].args[1]).toBe('boom');
    // module.exports = function: the `default` target.
    expect(byTarget(records, 'app/classify.js:default').map((r) => r.args)).toEqual([['I want a refund']]);
  });

  it('wraps a CommonJS file once when it is both imported and required', async () => {
    const dir = project('mixed-app');
    const run = await runApp(dir, 'app/main.js');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(await plainOutput(dir, 'app/main.js'));
    expect(JSON.parse(run.stdout)[3]).toBe(true);

    const records = readRecords(dir);
    expect(byTarget(records, 'app/agent.cjs:handleRequest').map((r) => [r.iteration, r.args[0]])).toEqual([
      [0, 'from import'],
      [1, 'from require'],
      [2, '/chat:hi'],
    ]);
    expect(byTarget(records, 'app/legacy.cjs:Router.route').map((r) => r.args)).toEqual([['/chat', { text: 'hi' }]]);
  });

  it('records prototype and static methods, generators and constructors of a class-based agent', async () => {
    const dir = project('class-agent');
    const run = await runApp(dir, 'app/main.js');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(await plainOutput(dir, 'app/main.js'));
    // `this` is kept: the private field and the instance's model are the real ones.
    expect(JSON.parse(run.stdout)).toMatchObject({ first: { model: 'gpt-test', calls: 1 }, second: { model: 'other' }, words: ['A', 'B'], session: true });

    const records = readRecords(dir);
    expect(byTarget(records, 'app/agent.js:SupportAgent.reply').map((r) => r.args)).toEqual([
      ['hello', []],
      ['again', [{ role: 'user', content: 'hello' }]],
    ]);
    expect(byTarget(records, 'app/agent.js:SupportAgent.reply')[0].params).toEqual(['message', 'history']);
    // A method's records keep the instance it was called on: its class and own fields (the token masked); a static method's do not.
    expect(byTarget(records, 'app/agent.js:SupportAgent.reply').map((r) => r.this)).toEqual([
      { $type: 'Object', class: 'SupportAgent', value: { model: 'gpt-test', apiToken: '***' } },
      { $type: 'Object', class: 'SupportAgent', value: { model: 'other', apiToken: '***' } },
    ]);
    expect(byTarget(records, 'app/agent.js:SupportAgent.create')[0]).not.toHaveProperty('this');
    expect(byTarget(records, 'app/agent.js:SupportAgent.create').map((r) => r.args)).toEqual([['gpt-test']]);
    expect(byTarget(records, 'app/agent.js:stream').map((r) => r.args)).toEqual([[['a', 'b']]]);
    expect(byTarget(records, 'app/agent.js:Session').map((r) => r.args)).toEqual([['s-1']]);
  });

  it('records TypeScript under tsx, ESM and CommonJS, with trace(), @trace() and recordCallArgs()', async () => {
    const dir = project('ts-app');
    const tsx = ['--import', 'tsx'];
    const run = await runApp(dir, 'app/main.ts', { nodeArgs: tsx });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(await plainOutput(dir, 'app/main.ts', tsx));
    const cjs = await runApp(dir, 'cjs/main.ts', { nodeArgs: tsx });
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout).toBe(await plainOutput(dir, 'cjs/main.ts', tsx));

    const records = readRecords(dir);
    expect(byTarget(records, 'app/agent.ts:handleRequest')).toMatchObject([
      { args: [{ userId: 'u1', message: 'typed hello' }, 3], params: [{ destructured: ['userId', 'message'] }, 'retries'] },
    ]);
    // Marked in code, a function is named by the module it is marked in, as a configured target is;
    // a method by its class too, so that two classes' `critique` keep their own records.
    expect(byTarget(records, 'app/agent.ts:Planner.plan')).toMatchObject([{ function: 'plan', args: ['ship', 2], params: ['goal', 'steps'] }]);
    expect(byTarget(records, 'app/agent.ts:Planner.critique')).toMatchObject([{ function: 'critique', args: [['ship #1', 'ship #2']] }]);
    expect(byTarget(records, 'app/agent.ts:Reviewer.critique')).toMatchObject([
      { function: 'critique', args: [['ship #1', 'ship #2']], this: { $type: 'Object', class: 'Reviewer', value: { strictness: 3 } } },
    ]);
    expect(byTarget(records, 'app/agent.ts:summarize')).toMatchObject([{ function: 'summarize', args: ['one two three four', 2] }]);
    expect(byTarget(records, 'app/agent.ts:summarize')[0]).not.toHaveProperty('this');
    expect(byTarget(records, 'app/agent.ts:logTurn')).toMatchObject([{ function: 'logTurn', args: [], kwargs: { userId: 'u1', message: 'typed hello' } }]);
    expect(byTarget(records, 'cjs/agent.ts:handleRequest')).toMatchObject([{ args: ['from cjs ts', { channel: 'sms' }] }]);

    await runApp(dir, 'app/main.ts', { nodeArgs: tsx });
    // Marked in code or configured, every target of the app's run shows as hooked with its calls.
    const seen = statusTargets(dir).map((t) => [t.target, t.state, t.calls]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['app/agent.ts:handleRequest', 'hooked', 1],
        ['app/agent.ts:Planner.plan', 'hooked', 1],
        ['app/agent.ts:logTurn', 'hooked', 1],
      ]),
    );
  });

  it('records a socket, a send callback and an HTTP request as small, replayable markers', async () => {
    const dir = project('socket-app');
    const run = await runApp(dir, 'app/main.js');
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ replies: ['ack:hello', 'ack:bye'], body: { got: { message: 'hi over http' }, path: '/chat?lang=en' } });

    const records = readRecords(dir);
    const messages = byTarget(records, 'app/handlers.js:handleMessage');
    expect(messages.map((r) => r.args.slice(1))).toEqual([
      [{ text: 'hello' }, '<callable:send>'],
      [{ text: 'bye' }, '<callable:send>'],
    ]);
    const socket = messages[0].args[0] as { $type: string; class: string; methods: string[]; value: Record<string, unknown> };
    expect(socket).toMatchObject({ $type: 'Emitter', class: 'Socket' });
    expect(socket.methods).toEqual(expect.arrayContaining(['write', 'end', 'on']));
    expect(Object.keys(socket.value).filter((k) => k.startsWith('_'))).toEqual([]);

    const [httpCall] = byTarget(records, 'app/handlers.js:handleHttp');
    const req = httpCall.args[0] as { class: string; value: Record<string, any> };
    expect(req.class).toBe('IncomingMessage');
    expect(req.value).toMatchObject({ method: 'POST', url: '/chat?lang=en', body: { message: 'hi over http' }, query: { lang: 'en' } });
    expect(req.value.headers.authorization).toBe('***');
    expect(req.value.headers['content-type']).toBe('application/json');
    expect(JSON.stringify(httpCall).length).toBeLessThan(6000);
  });

  it('lets worker processes record into one file without interleaving', async () => {
    const dir = project('workers-app');
    const run = await runApp(dir, 'app/main.js', { env: { WORKERS: '4', CALLS: '300' } });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ workers: 4 });
    const records = readRecords(dir);
    expect(records).toHaveLength(1200);
    const pids = new Map<number, number[]>();
    for (const r of records) pids.set(r.meta.pid, [...(pids.get(r.meta.pid) ?? []), r.iteration]);
    expect(pids.size).toBe(4);
    for (const iterations of pids.values()) expect(iterations).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe('recording switched off', () => {
  it('does nothing at all: no file, no status, no .env applied', async () => {
    const dir = project('esm-app');
    fs.writeFileSync(path.join(dir, '.env'), 'FLUXLOOP_RECORD_ARGS=false\nSECRET_FOR_APP=from-dotenv\n');
    // What the preload loaded, seen from the app: no hook library, no YAML parser, no encoder.
    fs.writeFileSync(
      path.join(dir, 'app', 'env.js'),
      [
        "import { createRequire } from 'node:module';",
        'const loaded = Object.keys(createRequire(import.meta.url).cache);',
        "const heavy = loaded.filter((f) => /in-the-middle|[\\/]yaml[\\/]|encode|start\\.js/.test(f));",
        'console.log(process.env.SECRET_FOR_APP ?? "unset", heavy.length);',
        '',
      ].join('\n'),
    );
    const run = await runApp(dir, 'app/env.js', { env: { FLUXLOOP_RECORD_ARGS: undefined } });
    expect(run).toMatchObject({ code: 0, stdout: 'unset 0\n', stderr: '' });
    const main = await runApp(dir, 'app/main.js', { env: { FLUXLOOP_RECORD_ARGS: undefined } });
    expect(main.stdout).toBe(await plainOutput(dir, 'app/main.js'));
    expect(fs.existsSync(path.join(dir, 'recordings'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.fluxloop'))).toBe(false);

    // The same probe sees them when recording is on, so the first check can fail.
    const on = await runApp(dir, 'app/env.js', { env: { FLUXLOOP_RECORD_ARGS: 'true' } });
    expect(on.stdout).not.toBe('from-dotenv 0\n');
    expect(on.stdout).toMatch(/^from-dotenv [1-9]/);
  });

  it('turns on from .env and writes where FLUXLOOP_RECORDING_FILE says, mode 0600', async () => {
    const dir = project('cjs-app');
    fs.writeFileSync(path.join(dir, '.env'), '# from fluxloop record enable\nFLUXLOOP_RECORD_ARGS=true\nFLUXLOOP_RECORDING_FILE=out/calls.jsonl\n');
    const run = await runApp(dir, 'app/main.js', { env: { FLUXLOOP_RECORD_ARGS: undefined } });
    expect(run.stderr).toBe('');
    const file = path.join(dir, 'out', 'calls.jsonl');
    expect(readRecords(dir, file)).toHaveLength(3);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(recordingPath(dir))).toBe(false);
  });
});

describe('targets that cannot be hooked', () => {
  it('warns once per target with the reason, and the app runs as always', async () => {
    const dir = project('esm-app');
    fs.writeFileSync(
      path.join(dir, 'configs', 'simulation.yaml'),
      [
        'recording:',
        '  targets:',
        '    - app/agent.js:handleRequest',
        '    - app/missing.js:run',
        '    - app/agent.js:nope',
        '    - app/tools.js:tools',
        '    - app/main.js:main',
        '',
      ].join('\n'),
    );
    const run = await runApp(dir, 'app/main.js');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(await plainOutput(dir, 'app/main.js'));
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.includes('app/missing.js:run'))).toMatch(/file not found/);
    expect(lines.find((l) => l.includes('app/agent.js:nope'))).toMatch(/no function, class or object named "nope" at the top level \(there: handleRequest\)/);
    expect(lines.find((l) => l.includes('app/tools.js:tools'))).toMatch(/"tools" is not a function/);
    expect(lines.find((l) => l.includes('app/main.js:main'))).toMatch(/no function, class or object named "main" at the top level \(there: replies\)/);
    expect(byTarget(readRecords(dir), 'app/agent.js:handleRequest')).toHaveLength(2);

    // What the run left for `fluxloop record status`.
    const states = Object.fromEntries(statusTargets(dir).map((t) => [t.target, [t.state, t.calls]]));
    expect(states).toEqual({
      'app/agent.js:handleRequest': ['hooked', 2],
      'app/missing.js:run': ['failed', 0],
      'app/agent.js:nope': ['failed', 0],
      'app/tools.js:tools': ['failed', 0],
      'app/main.js:main': ['failed', 0],
    });
  });

  it('keeps the app running when the recording file cannot be written', async () => {
    const dir = project('cjs-app');
    fs.writeFileSync(path.join(dir, 'blocker'), 'a file where a folder should be');
    const run = await runApp(dir, 'app/main.js', { env: { FLUXLOOP_RECORDING_FILE: 'blocker/calls.jsonl' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(await plainOutput(dir, 'app/main.js'));
    expect(run.stderr).toMatch(/fluxloop: cannot write to .*blocker\/calls.jsonl/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('nothing recorded is lost', () => {
  const CALLS = 500;

  it.each(['exit', 'throw'])('on process.%s()', async (mode) => {
    const dir = project('exit-app');
    const run = await runApp(dir, 'app/main.js', { env: { EXIT_MODE: mode, CALLS: String(CALLS) } });
    expect(run.code).toBe(mode === 'exit' ? 3 : 1);
    if (mode === 'throw') expect(run.stderr).toMatch(/crash on purpose/);
    expect(readRecords(dir)).toHaveLength(CALLS);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s, dying of it as the app would', async (signal) => {
    const dir = project('exit-app');
    const run = await runApp(dir, 'app/main.js', {
      env: { EXIT_MODE: 'signal', CALLS: String(CALLS) },
      onSpawn: (child) => child.stdout!.once('data', () => child.kill(signal)),
    });
    expect(run.signal).toBe(signal);
    expect(readRecords(dir)).toHaveLength(CALLS);
  });

  it("leaves the app's own SIGINT handler in charge", async () => {
    const dir = project('exit-app');
    const run = await runApp(dir, 'app/main.js', {
      env: { EXIT_MODE: 'own-handler', CALLS: String(CALLS) },
      onSpawn: (child) => child.stdout!.once('data', () => child.kill('SIGINT')),
    });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.stdout).toContain('app handled SIGINT');
    expect(readRecords(dir)).toHaveLength(CALLS);
  });

  it('after kill -9, loses at most the last moments and at most a partial last line', async () => {
    const dir = project('exit-app');
    let lastSeen = 0;
    const run = await runApp(dir, 'app/main.js', {
      env: { EXIT_MODE: 'stream', CALLS: '0' },
      onSpawn: (child) => {
        let text = '';
        child.stdout!.on('data', (d: Buffer) => {
          text += d;
          const numbers = text.trim().split('\n');
          lastSeen = Number(numbers[numbers.length - 1]);
          if (lastSeen >= 300) child.kill('SIGKILL');
        });
      },
    });
    expect(run.signal).toBe('SIGKILL');
    const text = fs.readFileSync(recordingPath(dir), 'utf8');
    const whole = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    const recorded = whole.split('\n').filter(Boolean).map((l) => JSON.parse(l).args[0] as number);
    expect(recorded).toEqual(Array.from({ length: recorded.length }, (_, i) => i));
    // A call every 2 ms and a flush every 50 ms: what is lost is a few dozen calls, not hundreds.
    expect(recorded.length).toBeGreaterThan(lastSeen - 150);
  });
});

describe('the recording config, kept checked', () => {
  it('skips the YAML parser while simulation.yaml is unchanged, and reads it again when it changes', async () => {
    const dir = project('esm-app');
    // What the preload loaded, seen from the app: whether the YAML library is among it.
    fs.writeFileSync(
      path.join(dir, 'app', 'yaml.js'),
      [
        "import { createRequire } from 'node:module';",
        "import './agent.js';",
        'console.log(Object.keys(createRequire(import.meta.url).cache).some((f) => /[\\/]yaml[\\/]/.test(f)));',
        '',
      ].join('\n'),
    );
    const cache = path.join(dir, '.fluxloop', 'recording-config.json');
    expect((await runApp(dir, 'app/yaml.js')).stdout).toBe('true\n');
    expect(JSON.parse(fs.readFileSync(cache, 'utf8')).recording.targets).toContain('app/agent.js:handleRequest');
    expect((await runApp(dir, 'app/yaml.js')).stdout).toBe('false\n');
    expect((await runApp(dir, 'app/main.js')).stdout).toBe(await plainOutput(dir, 'app/main.js'));
    expect(byTarget(readRecords(dir), 'app/agent.js:handleRequest')).toHaveLength(2);

    // A changed config is read and checked again: a mistake in it is reported at its line, every
    // time, and the last good config is not used in its place.
    const config = path.join(dir, 'configs', 'simulation.yaml');
    fs.writeFileSync(config, 'recording:\n  targets:\n    - app/agent.js:handleRequest\n  max_depht: 3\n');
    for (let i = 0; i < 2; i++) {
      const broken = await runApp(dir, 'app/yaml.js');
      expect(broken.code).toBe(0);
      expect(broken.stderr).toContain('configs/simulation.yaml:4');
      expect(broken.stderr).toContain('max_depth');
    }
    fs.writeFileSync(config, 'recording:\n  targets:\n    - app/agent.js:handleRequest\n  redact_keys: [query]\n');
    expect((await runApp(dir, 'app/yaml.js')).stdout).toBe('true\n');
    expect(JSON.parse(fs.readFileSync(cache, 'utf8')).recording.redact_keys).toEqual(['query']);
  });
});
