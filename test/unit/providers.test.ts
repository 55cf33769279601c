import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseParamPath } from '../../src/config/param-path.js';
import { parseSimulationConfig } from '../../src/config/simulation.js';
import type { ReplayArgsConfig } from '../../src/config/types.js';
import { createEncoder } from '../../src/record/encode.js';
import { decodeCall, ProviderPathError, type Provider } from '../../src/replay/binding.js';
import { Collectors } from '../../src/replay/collectors.js';
import { RunTimeout, type RunPlan } from '../../src/replay/execute.js';
import { Harness } from '../../src/replay/harness.js';
import { TargetError } from '../../src/replay/loader.js';
import { loadCallableProviders, loadValueProviders, ProviderError, ProviderPaths, provideValues, type CheckedRecording } from '../../src/replay/providers.js';

const encoder = createEncoder();
const encoded = (v: unknown) => JSON.parse(encoder.encode(v));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-providers-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

fs.mkdirSync(path.join(root, 'app'));
fs.writeFileSync(
  path.join(root, 'app', 'deps.mjs'),
  `let made = 0;
export async function makeClient(context) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { id: ++made, context, ask: (q) => 'live: ' + q };
}
export const hooks = {
  prefix: '>',
  make() { return { format: (text) => this.prefix + ' ' + text }; },
};
export function broken() { throw new TypeError('no credentials here'); }
export async function rejects() { throw 'a bare string'; }
export function slow() { return new Promise((resolve) => setTimeout(resolve, 5000)); }
export function send(x) { return 'sent ' + x; }
`,
);
fs.writeFileSync(path.join(root, 'app', 'db.cjs'), `exports.open = () => ({ query: (sql) => [sql] });\n`);

function plan(overrides: Partial<RunPlan> = {}): RunPlan {
  return {
    traceId: 't-1',
    iteration: 2,
    inputIndex: 0,
    input: { input: 'hello', metadata: { topic: 'greeting' } },
    recording: { index: 3, line: 4, function: 'answer', target: 'app/agent.js:answer', args: encoded(['old', { client: { base: 'x' } }]), kwargs: {}, params: ['message', 'deps'] },
    path: 'kwargs.message',
    ...overrides,
  };
}

describe('loading and calling providers', () => {
  it('calls each provider once per run with the run as context, awaits it, and keeps `this` for a method', async () => {
    const providers = await loadValueProviders(root, { 'args.1.client': 'app/deps.mjs:makeClient', 'args.1.hooks': 'app/deps.mjs:hooks.make', 'args.1.db': 'app/db.cjs:open' });
    const one = await provideValues(providers, plan());
    const two = await provideValues(providers, plan({ traceId: 't-2' }));
    const client = one.get(providers[0]!.path)!;
    expect(client.provider).toBe('app/deps.mjs:makeClient');
    expect(client.value).toMatchObject({
      id: 1,
      context: { path: 'args.1.client', input: 'hello', metadata: { topic: 'greeting' }, iteration: 2, traceId: 't-1', recording: { index: 3, line: 4, target: 'app/agent.js:answer', function: 'answer' } },
    });
    // A value of its own for every run.
    expect((two.get(providers[0]!.path)!.value as { id: number }).id).toBe(2);
    expect((one.get(providers[1]!.path)!.value as { format: (t: string) => string }).format('hi')).toBe('> hi');
    expect((one.get(providers[2]!.path)!.value as { query: (s: string) => unknown }).query('select 1')).toEqual(['select 1']);
  });

  it('calls nothing for a run without a recording', async () => {
    const providers = await loadValueProviders(root, { 'args.0': 'app/deps.mjs:broken' });
    expect((await provideValues(providers, plan({ recording: undefined }))).size).toBe(0);
  });

  it('names the provider that threw or rejected, keeping where it threw', async () => {
    const providers = await loadValueProviders(root, { 'args.1.client': 'app/deps.mjs:broken' });
    const error = await provideValues(providers, plan()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toBe('provider app/deps.mjs:broken (replay_args.providers.args.1.client) failed: TypeError: no credentials here');
    expect((error as Error).stack).toMatch(/deps\.mjs/);
    const bare = await provideValues(await loadValueProviders(root, { 'args.1': 'app/deps.mjs:rejects' }), plan()).catch((e: unknown) => e);
    expect((bare as Error).message).toBe('provider app/deps.mjs:rejects (replay_args.providers.args.1) failed: threw a bare string');
  });

  it('gives up on a provider that overstays the run timeout', async () => {
    const providers = await loadValueProviders(root, { 'args.1': 'app/deps.mjs:slow' });
    await expect(provideValues(providers, plan(), 30)).rejects.toBeInstanceOf(RunTimeout);
  });

  it('refuses a provider that does not load, at its key', async () => {
    const missing = await loadValueProviders(root, { 'args.1': 'app/nope.mjs:make' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TargetError);
    expect((missing as TargetError).location).toMatchObject({ field: 'replay_args.providers.args.1' });
    const notFunction = await loadValueProviders(root, { 'args.1': 'app/deps.mjs:hooks' }).catch((e: unknown) => e);
    expect((notFunction as Error).message).toContain('app/deps.mjs:hooks is an object, not a function');
  });

  it('loads callable providers as before: built-in collectors by name, functions through the loader', async () => {
    const providers = await loadCallableProviders(root, { 'args.1': 'builtin:collector.error', 'args.2': 'app/deps.mjs:send' });
    const [first, second] = [...providers.values()];
    expect(first).toBe('error');
    expect((second as Function)(1)).toBe('sent 1');
  });
});

describe('decodeCall with provided values', () => {
  const recorded = { args: encoded(['old', { client: { base: 'x' }, hooks: { format: () => 'x' } }]), kwargs: {} };

  it('puts each value at its path as it is, finding kwargs.NAME through the parameters', () => {
    const client = { live: true };
    const collectors = new Collectors();
    const providers = new Map<ReturnType<typeof parseParamPath>, Provider>([
      [parseParamPath('kwargs.deps.client'), { provider: 'app/deps.mjs:makeClient', value: client }],
      // A callable provider after it reaches into the same argument, as before.
      [parseParamPath('args.1.hooks.format'), 'send'],
    ]);
    const call = decodeCall(recorded, collectors, providers, ['message', 'deps']);
    const deps = call.args[1] as { client: unknown; hooks: { format: (x: string) => unknown } };
    expect(deps.client).toBe(client);
    deps.hooks.format('hi');
    expect(collectors.messages).toEqual([{ to: 'args.1.hooks.format', kind: 'send', args: ['hi'] }]);
  });

  it('throws when the path points nowhere in this recording, naming the provider and the paths there are', () => {
    const providers = new Map<ReturnType<typeof parseParamPath>, Provider>([[parseParamPath('args.1.database'), { provider: 'app/deps.mjs:open', value: {} }]]);
    expect(() => decodeCall(recorded, new Collectors(), providers, ['message', 'deps'])).toThrow(ProviderPathError);
    expect(() => decodeCall(recorded, new Collectors(), providers, ['message', 'deps'])).toThrow(
      'replay_args.providers.args.1.database (app/deps.mjs:open) points nowhere in this recording; paths that exist: kwargs.message, kwargs.deps, args.0, args.1, args.1.client, args.1.hooks, args.1.client.base, args.1.hooks.format',
    );
  });
});

describe('the check before the runs', () => {
  const CONFIG = `replay_args:
  enabled: true
  override_param_path: kwargs.message
  providers:
    args.1.client: app/deps.mjs:makeClient
    kwargs.deps.db: app/db.cjs:open
  callable_providers:
    args.1.onToken: builtin:collector.send
`;
  const replay = parseSimulationConfig(CONFIG).replay_args!;
  const record = (index: number, deps: Record<string, unknown>): CheckedRecording => ({ index, line: index + 1, target: 'app/agent.js:answer', args: encoded(['q', deps]), kwargs: {} });

  it('passes when each path resolves in some recording, and stops decoding once all have', async () => {
    const check = new ProviderPaths(replay, 'recordings/r.jsonl');
    check.see(record(0, { client: {} }), ['message', 'deps']);
    expect(check.done).toBe(false);
    check.see(record(1, { db: {}, onToken: '<callable:onToken>' }), ['message', 'deps']);
    expect(check.done).toBe(true);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await check.finish(2);
    expect(write).not.toHaveBeenCalled();
  });

  it('refuses a provider path found in no recording, at its line, with the paths that exist', async () => {
    const check = new ProviderPaths(replay, 'recordings/r.jsonl');
    check.see(record(0, { client: {} }), ['message', 'deps']);
    check.see(record(1, { client: {}, onToken: '<callable:onToken>' }), ['message', 'deps']);
    const error = await check.finish(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).location).toEqual({ file: 'configs/simulation.yaml', line: 6, column: 5, field: 'replay_args.providers.kwargs.deps.db' });
    expect((error as Error).message).toBe(
      'configs/simulation.yaml:6:5 (replay_args.providers.kwargs.deps.db): kwargs.deps.db points nowhere in any of the 2 selected recordings; ' +
        'paths that exist in recording #0 (recordings/r.jsonl:1, app/agent.js:answer): kwargs.message, kwargs.deps, args.0, args.1, args.1.client',
    );
  });

  it('only warns for a callable provider path found in no recording', async () => {
    const check = new ProviderPaths({ ...replay, providers: {} } as ReplayArgsConfig, 'recordings/r.jsonl');
    check.see(record(0, { client: {} }), ['message', 'deps']);
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await check.finish(1);
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0]![0])).toBe(
      'fluxloop: configs/simulation.yaml:8:5 (replay_args.callable_providers.args.1.onToken): args.1.onToken points nowhere in any of the 1 selected recording; ' +
        // A callable provider is placed without the parameters' names: kwargs.NAME is not listed for it.
        'paths that exist in recording #0 (recordings/r.jsonl:1, app/agent.js:answer): args.0, args.1, args.1.client; this callable provider is never used\n',
    );
  });

  it('names the field without a line for a config made in code', async () => {
    const check = new ProviderPaths({ enabled: true, callable_providers: {}, providers: { 'args.5': 'app/deps.mjs:makeClient' }, select: 'all' }, 'r.jsonl');
    check.see(record(0, {}), []);
    await expect(check.finish(1)).rejects.toThrow(/^configs\/simulation\.yaml \(replay_args\.providers\.args\.5\): args\.5 points nowhere/);
  });
});

describe('a harness with providers', () => {
  async function harness(values: Record<string, string>, fn: Function): Promise<Harness> {
    return Harness.create({ root, target: 'app/agent.js:answer', fresh: false, providers: {}, values, traceTargets: [] }, fn);
  }

  it('hands the function the provided value, the input in place', async () => {
    const h = await harness({ 'kwargs.deps.client': 'app/deps.mjs:makeClient' }, (message: string, deps: { client: { ask: (q: string) => string } }) => deps.client.ask(message));
    const { result } = await h.run(plan(), 1000);
    expect(result).toMatchObject({ status: 'ok', output: 'live: hello', error: null });
  });

  it('makes a run whose provider throws an error naming the provider', async () => {
    const fn = vi.fn();
    const h = await harness({ 'args.1.client': 'app/deps.mjs:broken' }, fn);
    const { result } = await h.run(plan(), 1000);
    expect(fn).not.toHaveBeenCalled();
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ name: 'ProviderError', message: expect.stringContaining('provider app/deps.mjs:broken (replay_args.providers.args.1.client) failed') });
  });

  it('makes a run whose recording lacks the path an error naming the path', async () => {
    const fn = vi.fn();
    const h = await harness({ 'args.1.database': 'app/db.cjs:open' }, fn);
    const { result } = await h.run(plan(), 1000);
    expect(fn).not.toHaveBeenCalled();
    expect(result).toMatchObject({ status: 'error', error: { name: 'ProviderPathError', message: expect.stringContaining('replay_args.providers.args.1.database (app/db.cjs:open) points nowhere in this recording') } });
  });

  it('times a run out when its provider overstays the timeout', async () => {
    const h = await harness({ 'args.1.client': 'app/deps.mjs:slow' }, vi.fn());
    const { result } = await h.run(plan(), 30);
    expect(result).toMatchObject({ status: 'timeout', error: { name: 'TimeoutError' } });
  });
});
