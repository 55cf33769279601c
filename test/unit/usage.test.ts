import { describe, expect, it } from 'vitest';
import { divergenceLine, estimateLine, liveLine, usageLine } from '../../src/cli/usage-lines';
import type { ExperimentSetup } from '../../src/experiment/plan';
import { estimateCost } from '../../src/experiment/estimate';
import { finish, withAdditions, type FinishedRun } from '../../src/experiment/finished';
import { formatTokens, formatUsd } from '../../src/experiment/format';
import { recordedCalls } from '../../src/experiment/recorded-calls';
import { execute, type Runs } from '../../src/experiment/runner';
import { CallsTally } from '../../src/experiment/tally';
import { addUsage, callsCost, costOf, PRICE_TABLE, priceOf, pricesOf, runCost } from '../../src/experiment/usage';
import { samePath } from '../../src/experiment/evaluation/same-path';
import { RULES } from '../../src/experiment/evaluation/rules';
import { parseEvaluationConfig } from '../../src/config/evaluation';
import { ConfigError } from '../../src/config/errors';
import type { ChildRecord, Usage } from '../../src/record/downstream-format';
import type { Divergence, RunCall } from '../../src/replay/calls';
import type { RunPlan, RunResult } from '../../src/replay/execute';

const usage = (input: number, output: number, cached?: number): Usage => ({ input_tokens: input, output_tokens: output, total_tokens: input + output, ...(cached === undefined ? {} : { cached_input_tokens: cached }) });

function call(fields: Partial<RunCall> = {}): RunCall {
  return { seq: 0, kind: 'llm', name: 'openai chat.completions gpt-4o-mini', answer: 'live', matched: 0, started_ms: 0, duration_ms: 10, model: 'gpt-4o-mini', usage: usage(1_000_000, 1_000_000), ...fields };
}

function child(fields: Partial<ChildRecord> = {}): ChildRecord {
  return {
    parent: 'abcd0123-1',
    seq: 0,
    kind: 'llm',
    name: 'openai chat.completions gpt-4o',
    started_ms: 1,
    duration_ms: 20,
    llm: { provider: 'openai', api: 'chat.completions', model: 'gpt-4o', messages: [], tools: null, stream: false, response: null, usage: usage(1000, 500) },
    ...fields,
  };
}

describe('the price table', () => {
  it('lists every model the docs promise, each with input and output prices, dated and sourced', () => {
    const models = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-4-turbo', 'gpt-3.5-turbo', 'claude-opus-4', 'claude-opus-4-1', 'claude-sonnet-4', 'claude-sonnet-4-5', 'claude-3-7-sonnet', 'claude-3-5-sonnet', 'claude-3-5-haiku', 'claude-haiku-4-5'];
    for (const model of models) {
      const price = PRICE_TABLE.models[model];
      expect(price, model).toBeDefined();
      expect(price!.input).toBeGreaterThan(0);
      expect(price!.output).toBeGreaterThan(price!.input);
      if (price!.cached_input !== undefined) expect(price!.cached_input).toBeLessThan(price!.input);
    }
    expect(PRICE_TABLE.as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICE_TABLE.source).toMatch(/pricing/);
  });

  it('prices a dated snapshot by its model, the longest name first, and nothing else by a prefix', () => {
    const prices = pricesOf();
    expect(priceOf('gpt-4o-2024-08-06', prices)).toBe(PRICE_TABLE.models['gpt-4o']);
    expect(priceOf('gpt-4o-mini-2024-07-18', prices)).toBe(PRICE_TABLE.models['gpt-4o-mini']);
    expect(priceOf('claude-sonnet-4-5-20250929', prices)).toBe(PRICE_TABLE.models['claude-sonnet-4-5']);
    expect(priceOf('claude-3-5-sonnet-latest', prices)).toBe(PRICE_TABLE.models['claude-3-5-sonnet']);
    expect(priceOf('gpt-3.5-turbo-0125', prices)).toBe(PRICE_TABLE.models['gpt-3.5-turbo']);
    // Other models that merely start like a listed one: a wrong price would be worse than none.
    expect(priceOf('gpt-5-pro', prices)).toBeUndefined();
    expect(priceOf('claude-opus-4-5-20251101', prices)).toBeUndefined();
    expect(priceOf('llama3', prices)).toBeUndefined();
  });

  it('takes the config\'s pricing over the table, and adds models to it', () => {
    const prices = pricesOf({ pricing: { 'gpt-4o': { input: 1, output: 2 }, 'my-model': { input: 3, output: 4 } } });
    expect(priceOf('gpt-4o-2024-08-06', prices)).toEqual({ input: 1, output: 2 });
    expect(priceOf('my-model', prices)).toEqual({ input: 3, output: 4 });
    expect(priceOf('gpt-4o-mini', prices)).toBe(PRICE_TABLE.models['gpt-4o-mini']);
  });
});

describe('usage and cost', () => {
  it('adds usage, cached tokens when either side has them', () => {
    expect(addUsage(null, null)).toBeNull();
    expect(addUsage(usage(1, 2), null)).toEqual(usage(1, 2));
    expect(addUsage(usage(1, 2), usage(3, 4, 1))).toEqual(usage(4, 6, 1));
  });

  it('prices input, cached input and output per million tokens', () => {
    expect(costOf(usage(1_000_000, 0), { input: 2.5, output: 10 })).toBe(2.5);
    expect(costOf(usage(2000, 1000), { input: 2.5, output: 10 })).toBeCloseTo(0.015, 9);
    // 1,000 of the 2,000 input tokens came from the cache, at its own price.
    expect(costOf(usage(2000, 0, 1000), { input: 2, output: 8, cached_input: 0.5 })).toBeCloseTo(0.0025, 9);
    expect(costOf(usage(2000, 0, 1000), { input: 2, output: 8 })).toBeCloseTo(0.004, 9);
  });

  it('counts a run\'s live LLM calls only: stubbed and denied calls and other kinds cost nothing', () => {
    const prices = pricesOf();
    const calls = [
      call(),
      call({ seq: 1, answer: 'stub' }),
      call({ seq: 2, answer: 'denied', usage: null }),
      call({ seq: 3, kind: 'http', name: 'GET api.example.com/x', model: undefined, usage: undefined }),
    ];
    const cost = runCost(calls, prices);
    expect(cost.calls).toBe(1);
    expect(cost.usage).toEqual(usage(1_000_000, 1_000_000));
    expect(cost.cost_usd).toBe(0.75);
    expect(runCost([call({ answer: 'stub' })], prices)).toMatchObject({ calls: 0, usage: null, cost_usd: null });
    expect(runCost(undefined, prices).cost_usd).toBeNull();
  });

  it('counts the tokens of a model without a price, and makes the cost unknown', () => {
    const cost = callsCost([call(), call({ model: 'llama3' }), call({ model: null })], pricesOf());
    expect(cost.usage?.input_tokens).toBe(3_000_000);
    expect(cost.cost_usd).toBeNull();
    expect(cost.priced_usd).toBe(0.75);
    expect(cost.unpriced).toEqual(['llama3', '(model not named)']);
  });

  it('makes the cost unknown when a call reported no usage', () => {
    const cost = callsCost([call(), call({ usage: null })], pricesOf());
    expect(cost).toMatchObject({ calls: 2, without_usage: 1, cost_usd: null, priced_usd: 0.75 });
  });
});

describe('the experiment tally', () => {
  const divergence = (index: number, kind: Divergence['kind']): Divergence => ({ index, kind, expected: null, actual: null });

  it('adds up runs, lists unpriced models, and counts where runs diverged', () => {
    const tally = new CallsTally(pricesOf());
    tally.add({ downstream: [call(), call({ kind: 'http', answer: 'live' }), call({ kind: 'tool', answer: 'stub' })], divergence: null });
    tally.add({ downstream: [call({ answer: 'stub' }), call({ kind: 'tool', answer: 'live' }), call({ kind: 'http', answer: 'denied' })], divergence: divergence(0, 'other_call') });
    tally.add({ downstream: [], divergence: divergence(2, 'extra_call') });
    tally.add({ downstream: [], divergence: divergence(0, 'other_call') });
    expect(tally.summary()).toEqual({
      usage: usage(1_000_000, 1_000_000),
      cost_usd: 0.75,
      unpriced_models: [],
      live_llm_calls: 1,
      llm_calls_without_usage: 0,
      live_calls: { http: 1, tool: 1 },
      diverged_runs: 3,
      diverged_at: [
        { index: 0, kind: 'other_call', runs: 2 },
        { index: 2, kind: 'extra_call', runs: 1 },
      ],
    });
    tally.add({ downstream: [call({ model: 'llama3' })] });
    expect(tally.summary()).toMatchObject({ cost_usd: null, unpriced_models: ['llama3'], live_llm_calls: 2 });
    expect(tally.pricedUsd).toBe(0.75);
  });

  it('says nothing of cost when no run made a live LLM call', () => {
    expect(new CallsTally(pricesOf()).summary()).toMatchObject({ usage: null, cost_usd: null, live_llm_calls: 0, diverged_runs: 0, diverged_at: [] });
  });
});

describe('the console lines', () => {
  it('formats dollars and tokens', () => {
    expect([formatUsd(0), formatUsd(0.0123), formatUsd(0.00001), formatUsd(12.345), formatUsd(1234.5)]).toEqual(['$0', '$0.0123', '<$0.0001', '$12.35', '$1,234.50']);
    expect(formatTokens(12345)).toBe('12,345');
  });

  it('says the tokens and cost, or why the cost is unknown', () => {
    const base = { usage: usage(12345, 3210), cost_usd: 0.0123, unpriced_models: [], live_llm_calls: 4, llm_calls_without_usage: 0 };
    expect(usageLine(base)).toBe('tokens 12,345 in / 3,210 out · $0.0123 (4 live LLM calls)');
    expect(usageLine({ ...base, cost_usd: null, unpriced_models: ['llama3'] })).toBe('tokens 12,345 in / 3,210 out · cost unknown: llama3 has no price (add it under pricing:) (4 live LLM calls)');
    expect(usageLine({ ...base, live_llm_calls: 0 })).toBeUndefined();
  });

  it('says how many runs diverged and where, calls counted from 1', () => {
    const line = divergenceLine({ diverged_runs: 3, diverged_at: [{ index: 0, kind: 'other_call', runs: 2 }, { index: 2, kind: 'extra_call', runs: 1 }] }, 12);
    expect(line).toBe('diverged 3 of 12 runs: at call 1 (other_call) 2, at call 3 (extra_call) 1');
    expect(divergenceLine({ diverged_runs: 0, diverged_at: [] }, 12)).toBeUndefined();
  });

  it('says which calls were made for real besides the LLM\'s, and only then', () => {
    expect(liveLine({ live_calls: { http: 3, tool: 1 } })).toBe('made live: 3 HTTP calls, 1 tool call, which may have had side effects (replay_args.downstream)');
    expect(liveLine({ live_calls: { http: 0, tool: 2 } })).toBe('made live: 2 tool calls, which may have had side effects (replay_args.downstream)');
    expect(liveLine({ live_calls: { http: 0, tool: 0 } })).toBeUndefined();
  });
});

describe('the dry run\'s estimate', () => {
  const live = { llm: 'live' as const };

  it('is the recordings\' usage once per planned run, priced', async () => {
    const a = { downstream: [child(), child({ seq: 1, kind: 'http', name: 'GET x', llm: undefined })] };
    const b = { downstream: [child({ llm: { ...child().llm!, model: 'gpt-4o-mini-2024-07-18', usage: usage(2000, 1000) } })] };
    const estimate = await estimateCost([{ recording: a }, { recording: a }, { recording: b }], pricesOf(), live);
    expect(estimate).toMatchObject({ runs: 3, runs_with_recording: 3, llm_calls: 3, usage: usage(4000, 2000), unpriced_models: [], note: null });
    // 2 × (1,000 × 2.5 + 500 × 10) + (2,000 × 0.15 + 1,000 × 0.6), per million.
    expect(estimate.cost_usd).toBeCloseTo(0.0159, 9);
    expect(estimateLine(estimate)).toBe('estimated cost: $0.0159 for 3 runs (4,000 in / 2,000 out tokens)');
  });

  it('counts a model without a price in tokens only, and says so', async () => {
    const recording = { downstream: [child(), child({ seq: 1, llm: { ...child().llm!, model: 'gpt-x' } })] };
    const estimate = await estimateCost([{ recording }], pricesOf(), live);
    expect(estimate).toMatchObject({ cost_usd: null, unpriced_models: ['gpt-x'], usage: usage(2000, 1000) });
    expect(estimateLine(estimate)).toBe('estimated cost: at least $0.0075 for 1 run (2,000 in / 1,000 out tokens); gpt-x has no price (add it under pricing:): tokens only');
  });

  it('is $0 when LLM calls are stubbed, and says why', async () => {
    const estimate = await estimateCost([{ recording: { downstream: [child()] } }], pricesOf(), { llm: 'stub' });
    expect(estimate).toMatchObject({ cost_usd: 0, llm_calls: 0, usage: null });
    expect(estimateLine(estimate)).toBe('estimated cost: $0 for 1 run: replay_args.downstream.llm is stub: LLM calls are answered from the recording, and cost nothing');
  });

  it('has nothing to go on without recordings, or when they hold no LLM call', async () => {
    expect((await estimateCost([{}, {}], pricesOf(), live)).cost_usd).toBeNull();
    expect(estimateLine(await estimateCost([{}, {}], pricesOf(), live))).toMatch(/^estimated cost: unknown for 2 runs: the runs replay no recording/);
    const none = await estimateCost([{ recording: {} }], pricesOf(), live);
    expect(none).toMatchObject({ cost_usd: 0, note: expect.stringMatching(/hold no LLM call/) });
  });
});

describe('the recording\'s calls beside a run\'s', () => {
  it('are in seq order, with a tool\'s arguments, an HTTP body and an LLM call\'s model, long strings cut', () => {
    const calls = recordedCalls([
      child({ seq: 2 }),
      child({ seq: 0, kind: 'tool', name: 'app/tools.js:search', llm: undefined, args: ['x'.repeat(1000)] }),
      child({ seq: 1, kind: 'http', name: 'POST api.example.com/v1', llm: undefined, request: { method: 'POST', url: 'https://api.example.com/v1', headers: {}, body: { q: 1 } } }),
    ]);
    expect(calls.map((c) => c.seq)).toEqual([0, 1, 2]);
    expect((calls[0]!.arguments as string[])[0]).toMatch(/^x{300}…\[truncated 700 chars\]$/);
    expect(calls[1]).toEqual({ seq: 1, kind: 'http', name: 'POST api.example.com/v1', arguments: { q: 1 } });
    expect(calls[2]).toEqual({ seq: 2, kind: 'llm', name: 'openai chat.completions gpt-4o', arguments: null, model: 'gpt-4o' });
    expect(recordedCalls(undefined)).toEqual([]);
  });
});

describe('the same_path evaluator', () => {
  it('passes a run that kept to its recording\'s calls, fails one that left them saying where and how', () => {
    expect(samePath({ recording_index: 0, divergence: null })).toEqual({ score: 1, reason: 'its calls followed the recording' });
    const other = samePath({ recording_index: 0, divergence: { index: 1, kind: 'other_call', expected: { kind: 'tool', name: 'search', arguments: [] }, actual: { kind: 'tool', name: 'refund', arguments: [] } } });
    expect(other).toEqual({ score: 0, reason: 'left the recorded path at call 2: called tool refund where the recording called tool search' });
    const args = samePath({ recording_index: 0, divergence: { index: 0, kind: 'other_arguments', expected: { kind: 'tool', name: 'search', arguments: ['a'] }, actual: { kind: 'tool', name: 'search', arguments: ['b'] } } });
    expect(args.reason).toBe('left the recorded path at call 1: called tool search with ["b"], recorded with ["a"]');
    expect(samePath({ recording_index: 0, divergence: { index: 3, kind: 'extra_call', expected: null, actual: { kind: 'http', name: 'GET x', arguments: null } } }).reason).toMatch(/at call 4: made an extra call, http GET x/);
    expect(samePath({ recording_index: 0, divergence: { index: 0, kind: 'missing_call', expected: { kind: 'llm', name: 'openai', arguments: null }, actual: null } }).reason).toMatch(/never made the recorded call llm openai/);
  });

  it('is configured by its name alone, takes no keys of its own, and is one of the rules', () => {
    const config = parseEvaluationConfig('evaluators: [same_path, success]\n', 'configs/evaluation.yaml');
    expect(config.evaluators[0]).toEqual({ type: 'same_path', name: 'same_path', weight: 1, threshold: 1 });
    expect(() => parseEvaluationConfig('evaluators:\n  - type: same_path\n    value: x\n', 'configs/evaluation.yaml')).toThrow(ConfigError);
    const run = { recording_index: 0, divergence: { index: 0, kind: 'extra_call', expected: null, actual: { kind: 'http', name: 'GET x', arguments: null } } } as unknown as RunResult;
    expect(RULES.same_path(run, config.evaluators[0]!, undefined).score).toBe(0);
  });

  it('skips a run without a recording, and one written before calls were compared', () => {
    expect(samePath({ recording_index: null, divergence: null }).score).toBeNull();
    expect(samePath({ recording_index: 0 }).score).toBeNull();
  });
});

/** A run result as a thread finishes it, with the calls given. */
function finished(traceId: string, downstream: RunCall[]): FinishedRun {
  const result = {
    trace_id: traceId,
    iteration: 0,
    recording_index: 0,
    output: 'x'.repeat(100),
    status: 'ok',
    warnings: [],
    duration_ms: 1,
    args: [],
    frames: null,
    messages: [],
    downstream,
    divergence: null,
    usage: null,
    cost_usd: null,
  } as unknown as RunResult;
  return finish({ result, observations: [] }, 1);
}

describe('a run\'s line', () => {
  it('gets its usage, cost and recording\'s calls at its end, the rest as it was', () => {
    const run = finished('t1', [call()]);
    const next = withAdditions(run, { usage: usage(1, 2), cost_usd: 0.5, recorded_downstream: [{ seq: 0 }] });
    const line = JSON.parse(next.line) as Record<string, unknown>;
    expect(line).toMatchObject({ trace_id: 't1', output: 'x'.repeat(100), usage: usage(1, 2), cost_usd: 0.5, recorded_downstream: [{ seq: 0 }] });
    expect(next.result).toMatchObject({ usage: usage(1, 2), cost_usd: 0.5 });
    // A line whose fields are in another order is parsed and written again.
    const odd = { ...run, line: JSON.stringify({ usage: null, cost_usd: null, trace_id: 't1' }) };
    expect(JSON.parse(withAdditions(odd, { usage: null, cost_usd: 1 }).line)).toEqual({ usage: null, cost_usd: 1, trace_id: 't1' });
    expect(withAdditions(run, { usage: null, cost_usd: null }).line).toBe(run.line);
  });
});

describe('--max-cost', () => {
  const setup = (concurrency: number) =>
    ({ config: { runner: { concurrency, retries: 0 }, pricing: {} }, harness: { redact: { keys: [], patterns: [] } } }) as unknown as ExperimentSetup;
  async function* plans(count: number): AsyncGenerator<RunPlan> {
    for (let i = 0; i < count; i++) yield { traceId: `t${i}`, iteration: 0, inputIndex: i, input: { input: `i${i}`, metadata: {} } };
  }
  /** Runs that each make one live gpt-4o-mini call costing $0.75, and take `ms`. */
  function fakeRuns(ms: number): Runs & { started: number; inFlight: number; maxInFlight: number } {
    const runs = {
      started: 0,
      inFlight: 0,
      maxInFlight: 0,
      capacity: 64,
      async run(plan: RunPlan) {
        runs.started++;
        runs.maxInFlight = Math.max(runs.maxInFlight, ++runs.inFlight);
        await new Promise((resolve) => setTimeout(resolve, ms));
        runs.inFlight--;
        return finished(plan.traceId, [call()]);
      },
      close: async () => undefined,
    };
    return runs;
  }

  it('starts no run once the cost reaches the cap, lets those in flight finish, and says so', async () => {
    const runs = fakeRuns(5);
    const done: FinishedRun[] = [];
    const tally = new CallsTally(pricesOf());
    const stop = await execute(setup(2), runs, plans(20), (run) => done.push(run), { tally, maxCostUsd: 2 });
    expect(stop).toBe('max_cost');
    // $0.75 a run: the third reaches $2.25; the fourth was in flight beside it, and finished.
    expect(runs.started).toBe(4);
    expect(done).toHaveLength(4);
    expect(done.every((r) => r.result.cost_usd === 0.75)).toBe(true);
    expect(JSON.parse(done[0]!.line).cost_usd).toBe(0.75);
    expect(tally.summary().cost_usd).toBe(3);
    // Under a cap, no run waits in a queue beyond the concurrency, where it would start after the cap.
    expect(runs.maxInFlight).toBe(2);
  });

  it('runs the whole plan when the cost stays under the cap, or without one', async () => {
    expect(await execute(setup(2), fakeRuns(1), plans(4), () => undefined, { maxCostUsd: 100 })).toBeUndefined();
    const runs = fakeRuns(1);
    expect(await execute(setup(2), runs, plans(6), () => undefined)).toBeUndefined();
    expect(runs.started).toBe(6);
  });
});
