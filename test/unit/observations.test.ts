import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { wrap } from '../../src/instrument/wrap.js';
import { trace } from '../../src/manual.js';
import { currentReplay, runInReplay } from '../../src/trace/context.js';
import { beginObservation, observeCall, type Observation } from '../../src/trace/observations.js';

function traced<F extends Function>(name: string, fn: F): F {
  return wrap(fn, (args) => observeCall(name, 'span', args));
}

describe('observeCall', () => {
  it('does nothing outside a traced replay run', () => {
    expect(observeCall('x', 'span', [])).toBeUndefined();
    expect(runInReplay({ traceId: 't' }, () => observeCall('x', 'span', []))).toBeUndefined();
  });

  it('nests observations across await, and keeps results, errors and sync calls as they are', async () => {
    const seen: Observation[] = [];
    const leaf = traced('leaf', (x: number) => x * 2);
    const fails = traced('fails', async () => {
      await sleep(1);
      throw new TypeError('nope');
    });
    const middle = traced('middle', async (x: number) => {
      await sleep(2);
      const y = leaf(x);
      await fails().catch(() => undefined);
      return y + 1;
    });
    const root = traced('root', async () => [await middle(1), await middle(2)]);
    const result = await runInReplay({ traceId: 't1', observe: (o) => seen.push(o) }, () => root());
    expect(result).toEqual([3, 5]);
    expect(leaf(4)).toBe(8);
    const byName = (name: string) => seen.filter((o) => o.name === name);
    const [rootObs] = byName('root');
    expect(rootObs!.parent_id).toBeNull();
    expect(rootObs!.output).toEqual([3, 5]);
    for (const m of byName('middle')) expect(m.parent_id).toBe(rootObs!.id);
    const middles = new Set(byName('middle').map((m) => m.id));
    for (const name of ['leaf', 'fails']) {
      expect(byName(name)).toHaveLength(2);
      for (const o of byName(name)) expect(middles.has(o.parent_id!)).toBe(true);
    }
    expect(byName('fails')[0]!.error).toBeInstanceOf(TypeError);
    expect(seen.every((o) => o.trace_id === 't1' && o.duration_ms >= 0 && o.end_time >= o.start_time)).toBe(true);
  });

  it('keeps concurrent runs apart', async () => {
    const seen: Observation[] = [];
    const step = traced('step', async (run: number) => {
      await sleep(Math.random() * 5);
      return currentReplay()!.traceId === `run-${run}`;
    });
    const agent = traced('agent', async (run: number) => Promise.all([step(run), step(run), step(run)]));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, run) => runInReplay({ traceId: `run-${run}`, observe: (o) => seen.push(o) }, () => agent(run))),
    );
    expect(results.flat().every(Boolean)).toBe(true);
    expect(seen).toHaveLength(200);
    const roots = new Map(seen.filter((o) => o.name === 'agent').map((o) => [o.id, o.trace_id]));
    for (const o of seen.filter((o) => o.name === 'step')) expect(roots.get(o.parent_id!)).toBe(o.trace_id);
  });

  it('observes functions marked with trace(), with the given type', async () => {
    const seen: Observation[] = [];
    const search = trace(async function search(q: string) {
      return [q];
    }, { type: 'tool' });
    await runInReplay({ traceId: 't', observe: (o) => seen.push(o) }, () => search('x'));
    expect(seen.map((o) => [o.name, o.type, o.input, o.output])).toEqual([['search', 'tool', ['x'], ['x']]]);
  });

  it('ends an observation when its output has been read, not when the call returned', async () => {
    const seen: Observation[] = [];
    await runInReplay({ traceId: 't', observe: (o) => seen.push(o) }, async () => {
      const open = beginObservation('agent', 'agent', ['hi'])!;
      const step = traced('step', async () => sleep(1));
      // A call made while the output is read, in the observation's context.
      await runInReplay(open.context, async () => {
        await sleep(5);
        const first = performance.now();
        await step();
        await sleep(5);
        expect(seen.map((o) => o.name)).toEqual(['step']);
        open.read('ab', ['a', 'b'], first);
      });
      // It ends once: a late outcome (a timed-out run's stream ending after all) is not another observation.
      open.threw(new Error('late'));
      open.read('abc');
    });
    expect(seen.map((o) => o.name)).toEqual(['step', 'agent']);
    const [step, agent] = seen as [Observation, Observation];
    expect(step.parent_id).toBe(agent.id);
    expect(agent).toMatchObject({ parent_id: null, output: 'ab', frames: ['a', 'b'] });
    expect('error' in agent).toBe(false);
    // Timers may fire a fraction of a millisecond early.
    expect(agent.first_frame_ms).toBeGreaterThanOrEqual(4);
    expect(agent.first_frame_ms).toBeLessThanOrEqual(agent.duration_ms - 4);
    expect(agent.end_time >= step.end_time).toBe(true);
  });

  it('keeps an output read in one piece without frames, and a thrown undefined as the error', () => {
    const seen: Observation[] = [];
    runInReplay({ traceId: 't', observe: (o) => seen.push(o) }, () => {
      beginObservation('whole', 'agent', [])!.read('abc');
      beginObservation('undefined', 'span', [])!.threw(undefined);
    });
    expect(seen[0]).toMatchObject({ name: 'whole', output: 'abc' });
    expect(Object.keys(seen[0]!)).not.toContain('frames');
    expect(Object.keys(seen[0]!)).not.toContain('first_frame_ms');
    expect('error' in seen[1]!).toBe(true);
    expect('output' in seen[1]!).toBe(false);
  });
});
