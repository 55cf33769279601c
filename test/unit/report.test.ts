import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvaluationSummary, ObservationLine, ReportData, TraceEvaluation } from '../../src/experiment/evaluation/types.js';
import type { ReportPayload } from '../../src/experiment/report/payload.js';
import { wordDiff } from '../../src/experiment/report/diff.js';
import { renderReport, writeReport } from '../../src/experiment/report/render.js';
import type { RunResult } from '../../src/replay/execute.js';

const INJECTION = '</script><img src=x onerror=alert(1)>';

function result(i: number, extra: Partial<RunResult> = {}): RunResult {
  const input = `question ${i}`;
  return {
    trace_id: `t${i}`,
    iteration: 0,
    recording_index: 0,
    recording_line: 1,
    target: 'app:agent',
    input,
    input_index: i,
    metadata: { strategy: i % 2 ? 'typo' : 'base', persona: i % 3 ? 'novice' : null },
    override_param_path: 'message',
    override_location: 'args.1',
    args: [{ user: 'u1' }, input],
    output: `answer ${i}`,
    status: 'ok',
    error: null,
    duration_ms: 100 + i,
    attempts: 1,
    messages: [],
    observation_count: 0,
    ...extra,
  };
}

function evaluation(r: RunResult, passed = true): TraceEvaluation {
  return {
    trace_id: r.trace_id,
    input: r.input,
    iteration: r.iteration,
    recording_index: r.recording_index,
    recording_line: r.recording_line,
    status: r.status,
    duration_ms: r.duration_ms,
    metadata: r.metadata,
    score: passed ? 1 : 0,
    passed,
    reasons: passed ? [] : ['contains: output lacks "ok"'],
    evaluators: [{ name: 'contains', type: 'contains', weight: 1, score: passed ? 1 : 0, passed, skipped: false, reason: passed ? '' : 'output lacks "ok"' }],
  };
}

function summary(total: number, passed: number): EvaluationSummary {
  return {
    experiment: 'exp_20250101_120000',
    evaluated_at: '2025-01-01T12:05:00.000Z',
    total,
    passed,
    failed: total - passed,
    pass_rate: total ? passed / total : 0,
    pass_threshold: 1,
    counts: { ok: total, error: 0, timeout: 0 },
    success_rate: 1,
    latency_ms: { p50: 101, p95: 102, max: 102, mean: 101 },
    evaluators: [{ name: 'contains', type: 'contains', weight: 1, passed, failed: total - passed, skipped: 0, mean_score: total ? passed / total : null }],
    comparison: null,
  };
}

function observation(id: string, parent: string | null, startMs: number, extra: Partial<ObservationLine> = {}): ObservationLine {
  const start = Date.UTC(2025, 0, 1, 12) + startMs;
  return {
    id,
    trace_id: 't0',
    parent_id: parent,
    name: id,
    type: parent === null ? 'agent' : 'span',
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + 10).toISOString(),
    duration_ms: 10,
    input: [],
    output: null,
    ...extra,
  };
}

function report(runs: ReportData['runs'], overrides: Partial<EvaluationSummary> = {}): ReportData {
  const passed = runs.filter((r) => r.evaluation.passed).length;
  return {
    experiment: 'exp_20250101_120000',
    experiment_summary: { name: 'exp', started_at: '2025-01-01T12:00:00.000Z', target: 'app:agent', config: { llm: { api_key: '****' } } },
    evaluation: { ...summary(runs.length, passed), ...overrides },
    runs,
  };
}

function simple(count: number): ReportData {
  return report(
    Array.from({ length: count }, (_, i) => {
      const r = result(i);
      return { result: r, evaluation: evaluation(r, i % 4 !== 0), observations: [] };
    }),
  );
}

/** The JSON the page reads, as the browser would parse it. */
function payloadOf(html: string): ReportPayload {
  const match = /<script type="application\/json" id="fluxloop-data">([\s\S]*?)<\/script>/.exec(html);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]!) as ReportPayload;
}

describe('renderReport', () => {
  it('makes one complete document with its styles, script and data inline', () => {
    const html = renderReport(simple(12));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('<title>FluxLoop report: exp_20250101_120000</title>');
    for (const id of ['summary-cards', 'histogram', 'comparison', 'runs-table', 'filters', 'pager', 'run-detail', 'fluxloop-data']) expect(html).toContain(`id="${id}"`);
    // The assets are in the page, not linked.
    expect(html).toContain('--accent');
    expect(html).toContain("getElementById('fluxloop-data')");
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const payload = payloadOf(html);
    expect(payload.runs).toHaveLength(12);
    expect(payload.summary.total).toBe(12);
    expect(payload.runs[3]).toMatchObject({ index: 3, input: 'question 3', strategy: 'typo', persona: null, passed: true, status: 'ok' });
    expect(payload.runs[4]!.failed).toEqual([0]);
    expect(payload.evaluators).toEqual([{ name: 'contains', type: 'contains' }]);
    // Only the summary's plain fields: its config stays out of the page.
    expect(payload.experiment_summary).toEqual({ name: 'exp', started_at: '2025-01-01T12:00:00.000Z', target: 'app:agent' });
  });

  it('loads nothing from the network', () => {
    const r = result(0, { output: 'see https://example.com/x.png and <img src="http://evil.test/a.png">', input: '<a href="https://evil.test">x</a>' });
    const html = renderReport(report([{ result: r, evaluation: evaluation(r), observations: [] }]));
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).not.toMatch(/<link\b(?![^>]*href="data:)/i);
  });

  it('escapes what could close the script element or inject markup, and reads it back unchanged', () => {
    const r = result(0, { output: INJECTION, input: `say ${INJECTION} & \u2028\u2029 <!-- -->`, messages: [{ text: INJECTION }] });
    r.args = [{ user: 'u1' }, r.input];
    const html = renderReport(report([{ result: r, evaluation: evaluation(r), observations: [observation('root', null, 0, { output: INJECTION })] }]));
    expect(html).not.toContain(INJECTION);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<!-- -->');
    expect(html).not.toMatch(/[\u2028\u2029]/);
    const script = /id="fluxloop-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(script).not.toMatch(/[<>&]/);
    const run = payloadOf(html).runs[0]!;
    expect(run.output).toBe(INJECTION);
    expect(run.input).toBe(r.input);
    expect(run.messages).toEqual([{ text: INJECTION }]);
    expect(run.observations[0]!.output).toBe(INJECTION);
  });

  it('cuts long strings, arrays and observations, and says how much it left out', () => {
    const long = 'x'.repeat(5000);
    const r = result(0, { output: long, messages: Array.from({ length: 500 }, (_, i) => i), observation_count: 260 });
    r.args = [{ user: 'u1', history: Array.from({ length: 300 }, (_, i) => `m${i}`) }, 'question 0'];
    const observations = Array.from({ length: 260 }, (_, i) => observation(`o${259 - i}`, i === 259 ? null : 'o0', 259 - i));
    const run = payloadOf(renderReport(report([{ result: r, evaluation: evaluation(r), observations }]))).runs[0]!;
    expect(run.output).toBe(`${'x'.repeat(2000)}…[truncated 3000 chars]`);
    const messages = run.messages as unknown[];
    expect(messages).toHaveLength(101);
    expect(messages[100]).toEqual({ $type: 'Truncated', reason: 'array_length', omitted: 400 });
    expect(run.observations).toHaveLength(200);
    expect(run.observations_omitted).toBe(60);
    expect(run.observation_count).toBe(260);
    // The first 200 by start time, placed from the earliest, each under its parent.
    expect(run.observations[0]).toMatchObject({ name: 'o0', parent: null, start_ms: 0, duration_ms: 10 });
    expect(run.observations[199]).toMatchObject({ name: 'o199', parent: 0, start_ms: 199 });
  });

  it('keeps a run that is still large within a tighter budget', () => {
    const r = result(0, { output: Array.from({ length: 100 }, () => 'y'.repeat(1900)) });
    const run = payloadOf(renderReport(report([{ result: r, evaluation: evaluation(r), observations: [] }]))).runs[0]!;
    expect(JSON.stringify(run).length).toBeLessThan(64 * 1024);
    expect((run.output as string[])[0]).toBe(`${'y'.repeat(200)}…[truncated 1700 chars]`);
  });

  it('finds where the input was placed, through tagged objects, and never cuts it away', () => {
    const input = 'placed here';
    const cases: Array<[unknown, string, Array<string | number> | null]> = [
      [[{ user: 'u1' }, input], 'args.1', [1]],
      [[{ role: 'user', content: input }], 'args.0.content', [0, 'content']],
      [[{ $type: 'Object', class: 'Message', value: { content: input } }], 'args.0.content', [0, 'value', 'content']],
      [[...Array.from({ length: 150 }, (_, i) => i), input], 'args.150', [150]],
      [['a'], 'args.3', null],
      [null, 'args.0', null],
    ];
    for (const [args, location, expected] of cases) {
      const r = result(0, { args, override_location: location, input });
      const run = payloadOf(renderReport(report([{ result: r, evaluation: evaluation(r), observations: [] }]))).runs[0]!;
      expect(run.override_path).toEqual(expected);
      if (expected !== null) {
        const found = expected.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], run.args);
        expect(found).toBe(input);
      }
    }
  });

  it('carries the comparison, linking compared runs to the runs they are', () => {
    const data = simple(4);
    const compared = (trace: string, baseline: string | null) => ({ trace_id: trace, baseline_trace_id: baseline, input: `in ${trace}`, iteration: 0, recording_index: 0, reasons: ['r'], score: 0, baseline_score: 1 });
    const delta = (baseline: number, current: number) => ({ baseline, current, delta: current - baseline });
    data.evaluation.comparison = {
      baseline: 'experiments/base_1',
      regressions: [compared('t0', 'b0')],
      fixes: [],
      new_runs: [compared('t1', null)],
      missing_runs: [compared('b9', 'b9')],
      counts: { regressions: 1, fixes: 0, new_runs: 1, missing_runs: 1, still_passing: 2, still_failing: 0 },
      pass_rate: delta(1, 0.75),
      success_rate: delta(1, 1),
      latency_ms: { p50: delta(90, 101), p95: delta(95, 102) },
    };
    const payload = payloadOf(renderReport(data));
    expect(payload.comparison!.regressions[0]!.run_index).toBe(0);
    expect(payload.comparison!.new_runs[0]!.run_index).toBe(1);
    expect(payload.comparison!.missing_runs[0]!.run_index).toBeNull();
    expect(payload.comparison!.pass_rate.delta).toBeCloseTo(-0.25);
  });

  it('puts beside each regression the word diff of the baseline\'s output and the current one', () => {
    const data = simple(2);
    data.runs[0]!.result.output = 'ERROR: refunds are down';
    const delta = (baseline: number, current: number) => ({ baseline, current, delta: current - baseline });
    const regression = { trace_id: 't0', baseline_trace_id: 'b0', input: 'question 0', iteration: 0, recording_index: 0, recording_line: 1, reasons: ['r'], score: 0, baseline_score: 1 };
    data.evaluation.comparison = {
      baseline: 'experiments/base_1',
      regressions: [regression, { ...regression, trace_id: 't1', baseline_trace_id: 'b-unknown' }],
      fixes: [],
      new_runs: [],
      missing_runs: [],
      counts: { regressions: 2, fixes: 0, new_runs: 0, missing_runs: 0, still_passing: 0, still_failing: 0 },
      pass_rate: delta(1, 0),
      success_rate: delta(1, 1),
      latency_ms: { p50: delta(90, 101), p95: delta(95, 102) },
    };
    // The baseline answered with a Response: compared by its body, as the evaluators read it.
    data.baseline_outputs = new Map([['b0', { $type: 'Response', value: { status: 200, body: 'Hello ada, refunds are open' } }]]);
    const [withDiff, withoutBaseline] = payloadOf(renderReport(data)).comparison!.regressions;
    expect(withDiff!.diff).toEqual([
      [-1, 'Hello ada,'],
      [1, 'ERROR:'],
      [0, ' refunds are '],
      [-1, 'open'],
      [1, 'down'],
    ]);
    expect(withoutBaseline!.diff).toBeUndefined();
  });

  it('groups runs under their base input, and counts runs and passes by strategy, persona and base input', () => {
    const runs: ReportData['runs'] = [];
    const add = (input: string, metadata: Record<string, unknown>, passed: boolean, input_index: number) => {
      const r = result(runs.length, { input, input_index, metadata });
      runs.push({ result: r, evaluation: evaluation(r, passed), observations: [] });
    };
    // Finished out of order: a variation before its base input.
    add('Cna I get a refund?', { strategy: 'typo', base_index: 1, persona: 'novice' }, false, 3);
    add('When do you open?', { strategy: 'base', base_index: 0, persona: null }, true, 0);
    add('Can I get a refund?', { strategy: 'base', base_index: 1, persona: null }, true, 1);
    add('Wehn do you open?', { strategy: 'typo', base_index: 0, persona: 'novice' }, true, 2);
    add('Can I get a refund?', { strategy: 'base', base_index: 1, persona: null }, false, 1);
    // Variations whose base input did not run, one from the recordings; and a hand-written input.
    add('Shipping costs??', { strategy: 'typo', base_index: 2, persona: 'expert', recording: 'recordings/a.jsonl:4' }, true, 4);
    add('Do you ship abroad?', {}, false, 5);
    const payload = payloadOf(renderReport(report(runs)));
    expect(payload.bases).toEqual([
      { input: 'When do you open?', ran: true, recording: null, runs: 2, passed: 2, inputs: 2 },
      { input: 'Can I get a refund?', ran: true, recording: null, runs: 3, passed: 1, inputs: 2 },
      { input: 'base input 3', ran: false, recording: 'recordings/a.jsonl:4', runs: 1, passed: 1, inputs: 1 },
      { input: 'Do you ship abroad?', ran: true, recording: null, runs: 1, passed: 0, inputs: 1 },
    ]);
    expect(payload.runs.map((r) => [r.base, r.is_base])).toEqual([[1, false], [0, true], [1, true], [0, false], [1, true], [2, false], [3, true]]);
    expect(payload.by_strategy).toEqual([
      { value: 'base', runs: 3, passed: 2 },
      { value: 'typo', runs: 3, passed: 2 },
      { value: null, runs: 1, passed: 0 },
    ]);
    expect(payload.by_persona).toEqual([
      { value: 'novice', runs: 2, passed: 1 },
      { value: 'expert', runs: 1, passed: 1 },
      { value: null, runs: 4, passed: 2 },
    ]);
  });

  it('names the recording file of each run: its own when it carries one, else the experiment\'s', () => {
    const own = result(1, { recording_index: 4, recording_line: 12 });
    (own as RunResult & { recording_file: string }).recording_file = 'recordings/args_recording.20250101T120000.jsonl';
    const plain = result(0, { recording_index: null, recording_line: null });
    const data = report([own, result(2), plain].map((r) => ({ result: r, evaluation: evaluation(r), observations: [] })));
    data.experiment_summary.recording_file = 'recordings/args_recording.jsonl';
    expect(payloadOf(renderReport(data)).runs.map((r) => [r.recording_index, r.recording_line, r.recording_file])).toEqual([
      [4, 12, 'recordings/args_recording.20250101T120000.jsonl'],
      [0, 1, 'recordings/args_recording.jsonl'],
      [null, null, null],
    ]);
  });

  it('carries the verdict of the pass-rate gate and the note on default evaluators, in the words of the console', () => {
    const payload = payloadOf(
      renderReport(report(simple(4).runs, { gate: { min_pass_rate: 0.8, source: '--min-pass-rate', passed: false }, default_evaluators_only: true, evaluation_config: '(defaults)' })),
    );
    expect(payload.verdict.gate).toBe('FAILED: pass rate 75% (3 of 4 runs) is below the minimum 80%');
    expect(payload.verdict.passed).toBe(false);
    expect(payload.verdict.note![0]).toMatch(/^Only the default evaluators ran/);
    expect(payloadOf(renderReport(simple(1))).verdict).toEqual({ gate: null, passed: null, note: null });
  });

  it('runs the console\'s number formats in the page', () => {
    const html = renderReport(simple(1));
    for (const name of ['formatMs', 'formatPercent', 'formatDeltaMs', 'formatDeltaPoints', 'formatUsd', 'formatTokens']) expect(html).toContain(`function ${name}(`);
    expect(html).not.toMatch(/function fmt(Ms|Pct|Score|Axis)\b/);
  });

  it('carries each run\'s calls, its recording\'s, where they parted, and the experiment\'s tokens and cost', () => {
    const usage = { input_tokens: 1000, output_tokens: 500, total_tokens: 1500 };
    const calls: RunResult['downstream'] = [
      { seq: 0, kind: 'llm', name: 'openai chat.completions gpt-4o', answer: 'live', matched: 0, started_ms: 2, duration_ms: 40, status: 200, model: 'gpt-4o-2024-08-06', usage },
      { seq: 1, kind: 'tool', name: 'app/tools.js:refund', answer: 'stub', matched: null, started_ms: 45, duration_ms: 1 },
      { seq: 2, kind: 'llm', name: 'openai chat.completions my-model', answer: 'live', matched: null, started_ms: 50, duration_ms: 5, model: 'my-model', usage },
    ];
    const divergence = { index: 1, kind: 'other_call' as const, expected: { kind: 'tool' as const, name: 'app/tools.js:search', arguments: ['x'.repeat(1000)] }, actual: { kind: 'tool' as const, name: 'app/tools.js:refund', arguments: [] } };
    const recorded = [
      { seq: 0, kind: 'llm', name: 'openai chat.completions gpt-4o', arguments: null, model: 'gpt-4o' },
      { seq: 1, kind: 'tool', name: 'app/tools.js:search', arguments: ['q'] },
    ];
    const diverged = result(0, { downstream: calls, divergence, usage: { ...usage, input_tokens: 2000, output_tokens: 1000, total_tokens: 3000 }, cost_usd: null, recorded_downstream: recorded } as Partial<RunResult>);
    const plain = result(1);
    const data = report([diverged, plain].map((r) => ({ result: r, evaluation: evaluation(r), observations: [] })));
    data.experiment_summary = {
      ...data.experiment_summary,
      usage: { input_tokens: 2000, output_tokens: 1000, total_tokens: 3000 },
      cost_usd: null,
      unpriced_models: ['my-model'],
      live_llm_calls: 2,
      diverged_runs: 1,
      diverged_at: [{ index: 1, kind: 'other_call', runs: 1 }],
      // The experiment's own prices, as summary.json keeps its config.
      config: { pricing: { 'my-model': { input: 1, output: 2 } } },
    };
    const payload = payloadOf(renderReport(data));
    expect(payload.has_calls).toBe(true);
    expect(payload.calls).toEqual({ usage: { input_tokens: 2000, output_tokens: 1000, total_tokens: 3000 }, cost_usd: null, unpriced_models: ['my-model'], live_llm_calls: 2, diverged_runs: 1, diverged_at: [{ index: 1, kind: 'other_call', runs: 1 }] });
    const run = payload.runs[0]!;
    expect(run.divergence).toMatchObject({ index: 1, kind: 'other_call', actual: { name: 'app/tools.js:refund' } });
    expect((run.divergence!.expected!.arguments as string[])[0]!.length).toBeLessThan(400);
    expect(run.recorded_calls).toEqual(recorded);
    expect(run.calls.map((c) => [c.kind, c.answer, c.cost_usd])).toEqual([
      // gpt-4o at the table's price; the tool was stubbed; my-model at the config's.
      ['llm', 'live', 0.0075],
      ['tool', 'stub', null],
      ['llm', 'live', 0.002],
    ]);
    expect(run.usage?.input_tokens).toBe(2000);
    expect(payload.runs[1]).toMatchObject({ calls: [], recorded_calls: null, divergence: null, usage: null, cost_usd: null });
    // Without any calls, the page has no Path column.
    expect(payloadOf(renderReport(simple(2))).has_calls).toBe(false);
    expect(payloadOf(renderReport(simple(2))).calls).toBeNull();
  });

  it('renders an experiment without runs', () => {
    const payload = payloadOf(renderReport(report([])));
    expect(payload.runs).toEqual([]);
  });
});

describe('wordDiff', () => {
  /** Both texts back from the pieces, as the page draws them on each side. */
  const sides = (pieces: ReturnType<typeof wordDiff>) => [
    pieces.filter(([op]) => op <= 0).map(([, t]) => t).join(''),
    pieces.filter(([op]) => op >= 0).map(([, t]) => t).join(''),
  ];

  it.each([
    ['the quick brown fox jumps', 'the slow brown cat jumps', [[0, 'the '], [-1, 'quick'], [1, 'slow'], [0, ' brown '], [-1, 'fox'], [1, 'cat'], [0, ' jumps']]],
    ['same text', 'same text', [[0, 'same text']]],
    ['', 'new', [[1, 'new']]],
    ['old', '', [[-1, 'old']]],
    ['one two three four', 'one 2 3 four', [[0, 'one '], [-1, 'two three'], [1, '2 3'], [0, ' four']]],
    ['a b', 'a  b c', [[0, 'a'], [-1, ' '], [1, '  '], [0, 'b'], [1, ' c']]],
  ])('marks the words that changed from %j to %j', (before, after, expected) => {
    const pieces = wordDiff(before, after);
    expect(sides(pieces)).toEqual([before, after]);
    expect(pieces).toEqual(expected);
  });

  it('keeps to its budget on long texts that differ throughout, marking the middle replaced', () => {
    const before = Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' ');
    const after = Array.from({ length: 3000 }, (_, i) => `v${i}`).join(' ');
    const pieces = wordDiff(`start ${before} end`, `start ${after} end`);
    expect(pieces).toEqual([[0, 'start '], [-1, before], [1, after], [0, ' end']]);
  });
});

describe('writeReport', () => {
  it('writes the page and leaves no temporary file behind', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-report-'));
    const file = path.join(dir, 'report.html');
    writeReport(file, simple(3));
    expect(fs.readdirSync(dir)).toEqual(['report.html']);
    expect(payloadOf(fs.readFileSync(file, 'utf8')).runs).toHaveLength(3);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
