import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { renderJunit, writeJunit } from '../../src/experiment/evaluation/junit';
import { renderMarkdown, writeMarkdown } from '../../src/experiment/evaluation/markdown';
import type { ComparedRun, Comparison, EvaluationSummary, EvaluatorResult, TraceEvaluation } from '../../src/experiment/evaluation/types';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-ci-outputs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Everything an agent might answer with: markup, quotes, CDATA's end, controls, emoji, a lone surrogate, line breaks, pipes. */
const NASTY = `<b>Tom & "Jerry"</b> it's ]]> \u0000\u001b[31mred\u001b[0m 😀 \ud800 line1\nline2 | a|b`;

function evaluator(name: string, passed: boolean, reason = '', skipped = false): EvaluatorResult {
  return { name, type: name.replace(/_\d+$/, '') as EvaluatorResult['type'], weight: 1, score: skipped ? null : passed ? 1 : 0, passed, skipped, reason };
}

function trace(n: number, over: Partial<TraceEvaluation> = {}): TraceEvaluation {
  return {
    trace_id: `t-${n}`,
    input: `input ${n}`,
    iteration: 0,
    recording_index: null,
    recording_line: null,
    status: 'ok',
    duration_ms: 1500,
    metadata: {},
    score: 1,
    passed: true,
    reasons: [],
    evaluators: [evaluator('output_not_empty', true)],
    ...over,
  };
}

const traces: TraceEvaluation[] = [
  trace(1),
  // Fails on not_contains; similarity skipped comes first in the reasons and must not be the message.
  trace(2, {
    input: NASTY,
    score: 0.5,
    passed: false,
    duration_ms: 250,
    reasons: ['similarity: skipped, no baseline', `not_contains: output contains "ERROR" & <${NASTY}>`],
    evaluators: [evaluator('similarity', false, 'no baseline', true), evaluator('output_not_empty', true), evaluator('not_contains', false, 'output contains "ERROR"')],
  }),
  // Same input twice: the names must still differ.
  trace(3, { input: 'same', iteration: 0, recording_index: 2 }),
  trace(4, { input: 'same', iteration: 1, recording_index: 2 }),
  trace(5, {
    input: 'x'.repeat(300),
    status: 'timeout',
    score: 0,
    passed: false,
    duration_ms: 30_000,
    reasons: ['output_not_empty: the output is empty', 'success: the run timed out after 30000 ms'],
    evaluators: [evaluator('output_not_empty', false, 'the output is empty'), evaluator('success', false, 'the run timed out after 30000 ms')],
  }),
];

function summary(over: Partial<EvaluationSummary> = {}): EvaluationSummary {
  return {
    experiment: 'demo.exp_20250101_120000',
    evaluated_at: '2025-01-01T12:30:00.123Z',
    total: 5,
    passed: 3,
    failed: 2,
    pass_rate: 0.6,
    pass_threshold: 1,
    gate: null,
    evaluation_config: 'configs/evaluation.yaml',
    default_evaluators_only: false,
    counts: { ok: 4, error: 0, timeout: 1 },
    success_rate: 0.8,
    latency_ms: { p50: 1500, p95: 30_000, max: 30_000, mean: 6950 },
    evaluators: [
      { name: 'output_not_empty', type: 'output_not_empty', weight: 1, passed: 4, failed: 1, skipped: 0, mean_score: 0.8 },
      { name: 'not_contains', type: 'not_contains', weight: 1, passed: 4, failed: 1, skipped: 0, mean_score: 0.8 },
      { name: 'similarity', type: 'similarity', weight: 1, passed: 0, failed: 0, skipped: 5, mean_score: null },
    ],
    comparison: null,
    ...over,
  };
}

function compared(n: number, over: Partial<ComparedRun> = {}): ComparedRun {
  return { trace_id: `t-${n}`, baseline_trace_id: `b-${n}`, input: `input ${n}`, iteration: 0, recording_index: null, recording_line: null, reasons: [`contains: no "ok" in run ${n}`], score: 0, baseline_score: 1, ...over };
}

/** A baseline of 10 runs with 2 regressions (8 passed: 4 still passing, the 2 regressions, the 2 missing ones). */
function comparison(regressions: ComparedRun[], over: Partial<Comparison> = {}): Comparison {
  return {
    baseline: 'experiments/base|line_20241231',
    regressions,
    fixes: [compared(90)],
    new_runs: [],
    missing_runs: [compared(91), compared(92)],
    counts: { regressions: regressions.length, fixes: 1, new_runs: 0, missing_runs: 2, still_passing: 4, still_failing: 1 },
    pass_rate: { baseline: 0.8, current: 0.6, delta: -0.2 },
    success_rate: { baseline: 1, current: 0.8, delta: -0.2 },
    latency_ms: { p50: { baseline: 1200, current: 1500, delta: 300 }, p95: { baseline: 2000, current: 30_000, delta: 28_000 } },
    ...over,
  };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => ['testsuite', 'testcase', 'property', 'failure'].includes(name),
});

/** Parsed, after checking it is well-formed and holds only characters XML 1.0 allows (which the validator does not check). */
function parse(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/u);
  // Nothing but entities after an ampersand; no raw < or ]]> outside markup.
  expect(xml).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
  expect(xml).not.toContain(']]>');
  return parser.parse(xml);
}

describe('renderJunit', () => {
  const xml = renderJunit(summary(), traces);
  const doc = parse(xml);
  const suites = doc.testsuites;
  const suite = suites.testsuite[0];
  const cases: any[] = suite.testcase;

  it('starts with the declaration and counts what the summary counts', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(suites.name).toBe('fluxloop');
    expect(suites.tests).toBe(String(summary().total));
    expect(suites.failures).toBe(String(summary().failed));
    expect(suites.errors).toBe('0');
    expect(suites.time).toBe('34.750');
    expect(suites.testsuite).toHaveLength(1);
    expect(suite.name).toBe('demo.exp_20250101_120000');
    expect(suite.tests).toBe('5');
    expect(suite.failures).toBe('2');
    expect(suite.timestamp).toBe('2025-01-01T12:30:00');
    expect(cases).toHaveLength(5);
  });

  it('names each run readably and uniquely, under a sanitised classname', () => {
    expect(cases.every((c) => c.classname === 'fluxloop.demo_exp_20250101_120000')).toBe(true);
    const names = cases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe('#1 input 1 (iteration 0)');
    expect(names[2]).toBe('#3 same (recording 2, iteration 0)');
    expect(names[3]).toBe('#4 same (recording 2, iteration 1)');
    // Shortened to 80 characters, on one line.
    expect(names[4]).toBe(`#5 ${'x'.repeat(79)}… (iteration 0)`);
    expect(names[1]).not.toMatch(/[\n\u0000\u001b]/);
    expect(names[1]).toContain('<b>Tom & "Jerry"</b> it\'s ]]>');
    expect(names[1]).toContain('😀');
    expect(names[1]).toContain('line1 line2 | a|b');
  });

  it('times each run in seconds', () => {
    expect(cases.map((c) => c.time)).toEqual(['1.500', '0.250', '1.500', '1.500', '30.000']);
  });

  it('gives each failed run one failure: the first failing reason, the evaluator type or status, every reason in the body', () => {
    expect(cases.filter((c) => c.failure).length).toBe(summary().failed);
    expect(cases[0].failure).toBeUndefined();
    const [nasty] = cases[1].failure;
    expect(nasty.type).toBe('not_contains');
    expect(nasty.message.startsWith('not_contains: output contains "ERROR" & <<b>Tom & "Jerry"</b> it\'s ]]>')).toBe(true);
    expect(nasty.message).not.toMatch(/[\n\u0000\u001b]/);
    const body: string = nasty['#text'];
    expect(body.split('\n')[0]).toBe('status ok, score 50%, trace t-2');
    expect(body).toContain('\nsimilarity: skipped, no baseline\n');
    expect(body).toContain('[31mred');
    expect(body).toContain('line1\nline2 | a|b');
    expect(body).not.toMatch(/[\u0000\u001b]/);

    const [timeout] = cases[4].failure;
    expect(timeout.type).toBe('timeout');
    expect(timeout.message).toBe('success: the run timed out after 30000 ms');
    expect(timeout['#text']).toBe('status timeout, score 0%, trace t-5\noutput_not_empty: the output is empty\nsuccess: the run timed out after 30000 ms');
  });

  it('records the pass rate and threshold, and the regressions and fixes against a baseline', () => {
    const props = (d: any) => Object.fromEntries(d.testsuites.testsuite[0].properties.property.map((p: any) => [p.name, p.value]));
    expect(props(doc)).toEqual({ pass_rate: '0.6', pass_threshold: '1', success_rate: '0.8' });
    const withBaseline = parse(renderJunit(summary({ comparison: comparison([compared(1), compared(2)]) }), traces));
    expect(props(withBaseline)).toMatchObject({ regressions: '2', fixes: '1', baseline: 'experiments/base|line_20241231' });
  });

  it('gives the pass-rate gate a suite of its own, its case failed below the minimum', () => {
    const below = parse(renderJunit(summary({ gate: { min_pass_rate: 0.8, source: '--min-pass-rate', passed: false } }), traces));
    expect(below.testsuites).toMatchObject({ tests: '6', failures: '3' });
    const [runs, gate] = below.testsuites.testsuite;
    // The runs' suite still counts the runs alone.
    expect(runs).toMatchObject({ tests: '5', failures: '2' });
    expect(Object.fromEntries(runs.properties.property.map((p: any) => [p.name, p.value]))).toMatchObject({ min_pass_rate: '0.8', gate: 'failed' });
    expect(gate).toMatchObject({ name: 'demo.exp_20250101_120000 pass rate', tests: '1', failures: '1' });
    expect(gate.testcase[0].name).toBe('pass rate is at least 80%');
    expect(gate.testcase[0].failure[0]).toMatchObject({ type: 'min_pass_rate', message: 'FAILED: pass rate 60% (3 of 5 runs) is below the minimum 80%' });
    expect(gate.testcase[0].failure[0]['#text']).toContain('set by --min-pass-rate');

    const above = parse(renderJunit(summary({ gate: { min_pass_rate: 0.5, source: '--min-pass-rate', passed: true } }), traces));
    expect(above.testsuites).toMatchObject({ tests: '6', failures: '2' });
    expect(above.testsuites.testsuite[1].testcase[0].failure).toBeUndefined();
  });

  it('escapes odd experiment names and keeps line breaks in attributes as references', () => {
    const out = renderJunit(summary({ experiment: `a"b'<c>&\nd` }), []);
    const parsed = parse(out);
    expect(out).toContain('name="a&quot;b&apos;&lt;c&gt;&amp;&#10;d"');
    expect(parsed.testsuites.testsuite[0].testcase).toBeUndefined();
    expect(parsed.testsuites.tests).toBe('0');
  });

  it('reads the traces once, from any iterable', () => {
    function* generate() {
      yield* traces;
    }
    expect(renderJunit(summary(), generate())).toBe(xml);
  });

  it('writes the file, creating its folder, and leaves no temporary file', () => {
    const file = path.join(tmp, 'reports', 'nested', 'fluxloop.xml');
    writeJunit(file, summary(), traces);
    expect(fs.readFileSync(file, 'utf8')).toBe(xml);
    writeJunit(file, summary(), traces.slice(0, 1));
    expect(parse(fs.readFileSync(file, 'utf8')).testsuites.tests).toBe('1');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['fluxloop.xml']);
  });
});

/** The rows of the table whose header row starts with `header`. */
function table(markdown: string, header: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(header));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!);
  return rows;
}

/** Cells of a row, splitting on pipes that are not escaped. */
function cells(row: string): string[] {
  return row
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((c) => c.trim());
}

describe('renderMarkdown', () => {
  it('summarises an evaluation without a baseline', () => {
    const md = renderMarkdown(summary());
    expect(md.split('\n')[0]).toBe('## fluxloop evaluation: demo.exp\\_20250101\\_120000');
    expect(md).toContain('❌ 2 of 5 runs failed (a run passes at a score of 100%)');
    expect(md).not.toContain('⚠️');
    expect(table(md, '|  | Now |')).toEqual([
      '| Runs | 5 |',
      '| Passed | 3 |',
      '| Failed | 2 |',
      '| Pass rate | 60% |',
      '| Success rate | 80% |',
      '| p50 latency | 1500 ms |',
      '| p95 latency | 30000 ms |',
    ]);
    expect(table(md, '| Evaluator |')).toEqual([
      '| output\\_not\\_empty | 4 | 1 | 0 | 80% |',
      '| not\\_contains | 4 | 1 | 0 | 80% |',
      '| similarity | 0 | 0 | 5 | — |',
    ]);
    expect(md).not.toContain('Regressions');
    expect(md.endsWith('\n')).toBe(true);
  });

  it('says when all passed', () => {
    const md = renderMarkdown(summary({ passed: 5, failed: 0, pass_rate: 1 }));
    expect(md).toContain('✅ All 5 runs passed');
    expect(md).not.toContain('❌');
    expect(renderMarkdown(summary({ total: 0, passed: 0, failed: 0 }))).toContain('No runs were evaluated');
  });

  it('compares with the baseline: the figures with their change, the regressions, and the other counts', () => {
    const regressions = [compared(1, { input: NASTY, reasons: ['not_contains: says "ERROR" | twice\nsecond line', 'latency_under: 30000 ms > 5000 ms'] }), compared(2)];
    const md = renderMarkdown(summary({ comparison: comparison(regressions) }), { reportPath: 'experiments/demo/report.html' });
    expect(md).toContain('❌ 2 of 5 runs failed · ⚠️ 2 regressions (a run passes at a score of 100%)');
    expect(md).toContain('Compared with the baseline experiments/base\\|line\\_20241231.');
    // Baseline: 4 still passing + 2 regressions + 1 fix + 1 still failing + 2 missing = 10 runs, 80% of which (8) passed.
    expect(table(md, '|  | Baseline | Now | Δ |')).toEqual([
      '| Runs | 10 | 5 | -5 |',
      '| Passed | 8 | 3 | -5 |',
      '| Failed | 2 | 2 | 0 |',
      '| Pass rate | 80% | 60% | -20 pts |',
      '| Success rate | 100% | 80% | -20 pts |',
      '| p50 latency | 1200 ms | 1500 ms | +300 ms |',
      '| p95 latency | 2000 ms | 30000 ms | +28000 ms |',
    ]);
    const rows = table(md, '| Recording |');
    expect(rows).toHaveLength(2);
    const [recording, iteration, input, score, why] = cells(rows[0]!);
    expect(cells(rows[0]!)).toHaveLength(5);
    expect(recording).toBe('—');
    // One line, no raw markup, pipes escaped, controls and the lone surrogate gone, the emoji kept.
    expect(input).toBe('\\<b\\>Tom \\& "Jerry"\\</b\\> it\'s \\]\\]\\> \\[31mred\\[0m 😀 line1 line2 \\| a\\|b');
    expect(iteration).toBe('0');
    expect(score).toBe('100% → 0%');
    expect(why).toBe('not\\_contains: says "ERROR" \\| twice second line<br>latency\\_under: 30000 ms \\> 5000 ms');
    expect(md).toContain('1 fix · 0 new runs · 2 missing runs (only in the baseline)');
    expect(md).toContain('Full report: `experiments/demo/report.html`');
    expect(md).not.toMatch(/[\u0000\u001b]|[\uD800-\uDFFF]/u);
  });

  it('shows no regression warning when nothing regressed', () => {
    const md = renderMarkdown(summary({ comparison: comparison([]) }));
    expect(md).toContain('❌ 2 of 5 runs failed · no regressions');
    expect(md).not.toContain('⚠️');
    expect(md).not.toContain('| Recording |');
  });

  it('names the recording and its line of each regression, the runs of one input together', () => {
    const runs = [
      compared(1, { input: 'refund?', recording_index: 2, recording_line: 7, iteration: 1 }),
      compared(2, { input: 'hours?', recording_index: 0, recording_line: 1 }),
      compared(3, { input: 'refund?', recording_index: 0, recording_line: 1 }),
    ];
    const rows = table(renderMarkdown(summary({ comparison: comparison(runs) })), '| Recording |').map((row) => cells(row).slice(0, 3));
    expect(rows).toEqual([
      ['#0, line 1', '0', 'refund?'],
      ['#2, line 7', '1', 'refund?'],
      ['#0, line 1', '0', 'hours?'],
    ]);
  });

  it('leads with the pass-rate verdict, and says when only the default evaluators ran', () => {
    const failed = renderMarkdown(summary({ gate: { min_pass_rate: 0.8, source: '--min-pass-rate', passed: false } }));
    expect(failed.split('\n')[2]).toBe('**FAILED: pass rate 60% (3 of 5 runs) is below the minimum 80%** (--min-pass-rate)');
    const passed = renderMarkdown(summary({ gate: { min_pass_rate: 0.5, source: 'configs/evaluation.yaml (pass_rate_threshold)', passed: true } }));
    expect(passed).toContain('**PASSED: pass rate 60% (3 of 5 runs) reaches the minimum 50%** (configs/evaluation.yaml (pass\\_rate\\_threshold))');
    expect(passed).not.toContain('default evaluators');
    const defaults = renderMarkdown(summary({ default_evaluators_only: true, evaluation_config: '(defaults)' }));
    expect(defaults).not.toContain('PASSED');
    expect(defaults).toContain('> ⚠️ Only the default evaluators ran (success, output\\_not\\_empty): they check only that each run ended without an error and with some output');
    expect(defaults).toContain('to configs/evaluation.yaml: contains, not\\_contains, matches\\_regex');
  });

  it('lists at most maxRows regressions, then says how many more, with long inputs shortened', () => {
    const many = Array.from({ length: 25 }, (_, i) => compared(i, { input: `${i} ${'long '.repeat(40)}` }));
    const md = renderMarkdown(summary({ comparison: comparison(many) }));
    expect(md).toContain('⚠️ 25 regressions');
    expect(md).toContain('### Regressions (25)');
    const rows = table(md, '| Recording |');
    expect(rows).toHaveLength(20);
    const input = cells(rows[0]!)[2]!;
    expect(Array.from(input)).toHaveLength(80);
    expect(input.endsWith('…')).toBe(true);
    expect(md).toContain('…and 5 more.');

    const three = renderMarkdown(summary({ comparison: comparison(many) }), { maxRows: 3, reportPath: 'https://ci.example/report(1).html' });
    expect(table(three, '| Recording |')).toHaveLength(3);
    expect(three).toContain('…and 22 more in the full report.');
    expect(three).toContain('[Full report](https://ci.example/report%281%29.html)');
  });

  it('leaves the baseline counts blank when the comparison cannot give them', () => {
    const odd = comparison([compared(1)], { pass_rate: { baseline: 0.123, current: 0.6, delta: 0.477 } });
    expect(table(renderMarkdown(summary({ comparison: odd })), '|  | Baseline |')[0]).toBe('| Runs | — | 5 |  |');
  });

  it('writes the file, creating its folder, and leaves no temporary file', () => {
    const file = path.join(tmp, 'summary', 'step.md');
    writeMarkdown(file, summary(), { maxRows: 5 });
    expect(fs.readFileSync(file, 'utf8')).toBe(renderMarkdown(summary()));
    expect(fs.readdirSync(path.dirname(file))).toEqual(['step.md']);
  });
});
