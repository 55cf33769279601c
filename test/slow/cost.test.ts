import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, readExperiment, recordingPath } from '../e2e/helpers';
import { experiment, replayConfig, writeConfig } from '../e2e/replay-project';

// The cost of an experiment before it runs (the dry run's estimate, from the recording's LLM calls)
// and the cap on it. The runs' own LLM calls come from the replay of downstream calls; here the
// recording is written by hand, so that its usage is known.

const usage = (input: number, output: number) => ({ input_tokens: input, output_tokens: output, total_tokens: input + output });

/** A recorded call of app/agent.js:handle with an id, and its LLM calls as child lines. */
function recorded(id: string, user: string, calls: Array<{ model: string; input: number; output: number }>): string[] {
  const parent = { _version: '1', function: 'handle', target: 'app/agent.js:handle', iteration: 0, id, args: [user, 'hello'], kwargs: {}, params: ['userId', 'message'], timestamp: '2025-01-01T12:00:00.000Z', meta: { pid: 1 } };
  const children = calls.map((c, seq) => ({
    _version: '1',
    parent: id,
    seq,
    kind: 'llm',
    name: `openai chat.completions ${c.model}`,
    started_ms: seq * 100,
    duration_ms: 90,
    request: { method: 'POST', url: 'https://api.openai.com/v1/chat/completions', headers: {}, body: { model: c.model, messages: [] } },
    response: { status: 200, status_text: 'OK', headers: {}, body: {} },
    llm: { provider: 'openai', api: 'chat.completions', model: c.model, messages: [], tools: null, stream: false, response: { text: 'ok', tool_calls: [], finish_reason: 'stop' }, usage: usage(c.input, c.output) },
    timestamp: '2025-01-01T12:00:01.000Z',
    meta: { pid: 1 },
  }));
  return [parent, ...children].map((line) => JSON.stringify(line));
}

/** The replay-app project with a hand-written recording: two calls, the first with two gpt-4o calls, the second with a gpt-4o-mini call and one of a model without a price. */
function costProject(more: Record<string, unknown> = {}): string {
  const dir = project('replay-app');
  fs.mkdirSync(path.dirname(recordingPath(dir)));
  const lines = [
    ...recorded('a1b2c3d4-1', 'u1', [
      { model: 'gpt-4o-2024-08-06', input: 1000, output: 500 },
      { model: 'gpt-4o', input: 1000, output: 500 },
    ]),
    ...recorded('a1b2c3d4-2', 'u2', [
      { model: 'gpt-4o-mini', input: 2000, output: 1000 },
      { model: 'house-model', input: 100, output: 10 },
    ]),
  ];
  fs.writeFileSync(recordingPath(dir), lines.join('\n') + '\n');
  writeConfig(dir, replayConfig('app/agent.js:handle', 'kwargs.message', { base_inputs: ['one', 'two', 'three'], iterations: 2, ...more }));
  return dir;
}

// Per input: 2 × (1,000 × $2.50 + 500 × $10) + (2,000 × $0.15 + 1,000 × $0.60), per million tokens.
const PER_RUN_PAIR = 0.015 + 0.0009;

describe('the cost of an experiment', () => {
  it('is estimated by the dry run from the recording\'s LLM calls, once per planned run, and a model without a price is counted in tokens', async () => {
    const dir = costProject();
    const text = await experiment(dir, ['--dry-run']);
    // 2 recordings × 3 inputs × 2 iterations; the house model's tokens count, its cost does not.
    expect(text.stdout).toContain(`estimated cost: at least $${(6 * PER_RUN_PAIR).toFixed(4)} for 12 runs (24,600 in / 12,060 out tokens); house-model has no price (add it under pricing:): tokens only`);
    const json = JSON.parse((await experiment(dir, ['--dry-run', '--json', '--limit', '5'])).stdout);
    // The first five runs: three of the first recording, two of the second.
    expect(json.estimate).toMatchObject({ runs: 5, runs_with_recording: 5, llm_calls: 10, cost_usd: null, unpriced_models: ['house-model'], usage: usage(3 * 2000 + 2 * 2100, 3 * 1000 + 2 * 1010) });
    expect(json.estimate.priced_cost_usd).toBeCloseTo(3 * 0.015 + 2 * 0.0009, 9);
  });

  it('takes the prices of pricing: over the table, and is $0 with LLM calls stubbed', async () => {
    const priced = costProject({ pricing: { 'gpt-4o': { input: 5, output: 20 }, 'house-model': { input: 1, output: 1 } } });
    const estimate = JSON.parse((await experiment(priced, ['--dry-run', '--json'])).stdout).estimate;
    expect(estimate.unpriced_models).toEqual([]);
    expect(estimate.cost_usd).toBeCloseTo(6 * (0.03 + 0.0009 + 0.00011), 9);

    const stubbed = costProject({ replay_args: { downstream: { llm: 'stub' } } });
    expect((await experiment(stubbed, ['--dry-run'])).stdout).toContain('estimated cost: $0 for 12 runs: replay_args.downstream.llm is stub: LLM calls are answered from the recording, and cost nothing');
  });

  it('refuses a --max-cost that is not a number above 0', async () => {
    const dir = costProject();
    for (const value of ['0', '-1', 'abc']) {
      const run = await experiment(dir, ['--max-cost', value], 2);
      expect(run.stderr).toContain("option '--max-cost <usd>' argument");
      expect(run.stderr).toContain('must be a number above 0');
    }
  });

  it('writes each run\'s usage, cost and recording\'s calls, and the experiment\'s totals and divergence, under a cap it never reaches', async () => {
    const dir = costProject({ iterations: 1, base_inputs: ['one'] });
    const run = await experiment(dir, ['--max-cost', '0.5']);
    const exp = readExperiment(dir);
    // The app makes no LLM call: nothing to pay for, and each run left its recording's path at once.
    expect(exp.summary).toMatchObject({ ended: 'completed', total_runs: 2, max_cost_usd: 0.5, live_llm_calls: 0, usage: null, cost_usd: null, unpriced_models: [] });
    expect(exp.summary).toMatchObject({ diverged_runs: 2, diverged_at: [{ index: 0, kind: 'missing_call', runs: 2 }] });
    expect(exp.summary.stopped).toBeUndefined();
    expect(run.stdout).toContain('diverged 2 of 2 runs: at call 1 (missing_call) 2');
    expect(run.stdout).not.toContain('tokens');
    for (const t of exp.traces) {
      expect(t).toMatchObject({ usage: null, cost_usd: null });
      expect(t.recorded_downstream.map((c: { kind: string; model: string }) => [c.kind, c.model])).toEqual(
        t.recording_index === 0 ? [['llm', 'gpt-4o-2024-08-06'], ['llm', 'gpt-4o']] : [['llm', 'gpt-4o-mini'], ['llm', 'house-model']],
      );
    }
  });
});
