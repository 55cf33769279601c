import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvaluationSummary, ObservationLine, ReportData, TraceEvaluation } from '../../src/experiment/evaluation/types.js';
import type { ReportPayload } from '../../src/experiment/report/payload.js';
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

  it('renders an experiment without runs', () => {
    const payload = payloadOf(renderReport(report([])));
    expect(payload.runs).toEqual([]);
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
