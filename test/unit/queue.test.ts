import { describe, expect, it } from 'vitest';
import type { RunPlan } from '../../src/replay/execute';
import { connectionReason, maskUrl } from '../../src/experiment/queue/errors';
import { jobId, queueName } from '../../src/experiment/queue/jobs';
import { Slots } from '../../src/experiment/queue/slots';
import { queuedRuns } from '../../src/experiment/queue/experiment';
import type { ExperimentSetup } from '../../src/experiment/plan';
import { ConfigError } from '../../src/config/errors';
import type { PlanIdentity } from '../../src/experiment/identity';

const PLAN: PlanIdentity = { hash: 'h', fluxloop_version: '0', project: 'p', parts: { project: 'p', inputs: 'i', recordings: 'r', options: 'o' } };

describe('maskUrl', () => {
  it('masks the user info, by the redaction rules, and keeps the rest', () => {
    expect(maskUrl('redis://:hunter2@127.0.0.1:6390')).toBe('redis://***@127.0.0.1:6390');
    expect(maskUrl('rediss://user:p%40ss@cache.internal:6380/2')).toBe('rediss://***@cache.internal:6380/2');
    expect(maskUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

});

describe('connectionReason', () => {
  it("says in a few words why a connection failed", () => {
    expect(connectionReason(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' }), 3000)).toBe('connection refused');
    expect(connectionReason(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' }), 3000)).toBe('host not found');
    expect(connectionReason(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }), 3000)).toBe('no answer within 3 s');
    expect(connectionReason(new Error('WRONGPASS invalid username-password pair or user is disabled.'), 3000)).toMatch(/^authentication failed/);
  });
});

describe('queue names and job ids', () => {
  const plan = (iteration: number, inputIndex: number, recording?: number): RunPlan =>
    ({ traceId: 't', iteration, inputIndex, input: { input: 'x' }, ...(recording === undefined ? {} : { recording: { index: recording } }) }) as unknown as RunPlan;

  it('names a queue after the config, without the colons BullMQ forbids', () => {
    expect(queueName('support-bot')).toBe('fluxloop-support-bot');
    expect(queueName('team:bot v2')).toBe('fluxloop-team_bot_v2');
  });

  it('gives a run the same job id on every planning, one per attempt, and no colon', () => {
    const id = jobId('0123456789abcdef', plan(2, 7, 3), 1);
    expect(id).toBe('0123456789abcdef.2.3.7.1');
    expect(jobId('0123456789abcdef', plan(2, 7, 3), 1)).toBe(id);
    expect(jobId('0123456789abcdef', plan(2, 7, 3), 2)).not.toBe(id);
    expect(jobId('0123456789abcdef', plan(2, 7), 1)).toBe('0123456789abcdef.2.-.7.1');
    expect(jobId('fedcba9876543210', plan(2, 7, 3), 1)).not.toBe(id);
  });
});

describe('Slots', () => {
  it('hands out its lanes, then lanes as they are released, in order', async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    expect(await slots.take()).toBe(true);
    expect(await slots.take()).toBe(true);
    const third = slots.take().then((got) => order.push(`third ${got}`));
    const fourth = slots.take().then((got) => order.push(`fourth ${got}`));
    await Promise.resolve();
    expect(order).toEqual([]);
    slots.release();
    await third;
    expect(order).toEqual(['third true']);
    slots.close();
    await fourth;
    expect(order).toEqual(['third true', 'fourth false']);
    expect(await slots.take()).toBe(false);
  });

  it('grows at once and shrinks as runs end', async () => {
    const slots = new Slots(1);
    expect(await slots.take()).toBe(true);
    let got: boolean | undefined;
    const waiting = slots.take().then((g) => (got = g));
    slots.resize(2);
    await waiting;
    expect(got).toBe(true);
    slots.resize(1);
    slots.release();
    let late: boolean | undefined;
    void slots.take().then((g) => (late = g));
    await Promise.resolve();
    // Two taken, one released: one in flight, which the single lane already holds.
    expect(late).toBeUndefined();
    slots.release();
    await Promise.resolve();
    expect(late).toBe(true);
  });
});

describe('queuedRuns', () => {
  const setup = (queue?: string) => ({ config: { name: 'bot', runner: { queue } } }) as unknown as ExperimentSetup;
  const local = () => {
    const runs = { closed: false, run: () => Promise.reject(new Error('not here')), close: async () => void (runs.closed = true) };
    return runs;
  };

  it('keeps the local runs without a queue', async () => {
    const runs = local();
    expect(await queuedRuns(runs, setup(), {}, PLAN)).toBe(runs);
    expect(runs.closed).toBe(false);
  });

  it('refuses a function given in code, and a URL that is not Redis, naming where the queue came from', async () => {
    const runs = local();
    const fn = () => 'x';
    await expect(queuedRuns(runs, setup(), { fn, queue: 'redis://127.0.0.1:6379' }, PLAN)).rejects.toThrow(new ConfigError('--queue needs a target module (runner.target or --target): a function given in code cannot be sent to a worker'));
    expect(runs.closed).toBe(true);
    await expect(queuedRuns(local(), setup('redis://127.0.0.1:6379'), { fn }, PLAN)).rejects.toThrow(/^runner\.queue needs a target module/);
    await expect(queuedRuns(local(), setup(), { queue: 'http://:secret@host' }, PLAN)).rejects.toThrow('--queue must be a Redis URL (redis://host:port or rediss://…), found "http://***@host"');
  });
});
