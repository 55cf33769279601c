import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComparedRun, EvaluationSummary, EvaluatorResult, ObservationLine, ReportData } from '../../src/experiment/evaluation/types.js';
import { formatMs, formatPercent, formatUsd } from '../../src/experiment/format.js';
import { wordDiff } from '../../src/experiment/report/diff.js';
import { writeReport } from '../../src/experiment/report/render.js';
import type { RunResult, RunStatus } from '../../src/replay/execute.js';

const CHROMIUM = '/usr/bin/chromium';
const RUNS = 10_000;
const INJECTION = '</script><img src=x onerror=alert(1)>';
const STRATEGIES = ['base', 'typo', 'rephrase', 'adversarial', 'verbose'];
const PERSONAS = ['novice', 'expert', null];
const BASES = 17;
const LONG_OUTPUT = `To reset it: ${'open the settings, choose Security, then Password; '.repeat(6)}done.`;
/** What the baseline answered where a run regressed: a few words differ from the answer now. */
const baselineOutput = (i: number) => `To change it, open the settings page (${i}).`;

function statusOf(i: number): RunStatus {
  return i % 13 === 5 ? 'timeout' : i % 7 === 3 ? 'error' : 'ok';
}

/** Timeline of a traced run: the agent, a model call and a tool call inside it, and a step in the tool. */
function observationsOf(traceId: string, i: number): ObservationLine[] {
  const t0 = Date.UTC(2025, 0, 1, 12) + i * 1000;
  const o = (id: string, parent: string | null, name: string, start: number, duration: number): ObservationLine => ({
    id: `${traceId}-${id}`,
    trace_id: traceId,
    parent_id: parent === null ? null : `${traceId}-${parent}`,
    name,
    type: parent === null ? 'agent' : 'span',
    start_time: new Date(t0 + start).toISOString(),
    end_time: new Date(t0 + start + duration).toISOString(),
    duration_ms: duration,
    input: [{ q: `call ${name}` }],
    output: { ok: true },
  });
  return [o('c', 'b', 'db.query', 130, 40), o('b', 'a', 'tool.search', 120, 80), o('m', 'a', 'llm.chat', 5, 100), o('a', null, 'agent', 0, 210)];
}

const CALL_USAGE = { input_tokens: 1000, output_tokens: 500, total_tokens: 1500 };
/** What a gpt-4o call of CALL_USAGE costs at the table's price. */
const CALL_COST = (1000 * 2.5 + 500 * 10) / 1e6;

/**
 * The downstream calls of every tenth run: a live model call, a stubbed tool, another model call.
 * Every twentieth called another tool than its recording did: it diverged at its second call.
 */
function callsOf(i: number): Partial<RunResult> & { recorded_downstream: unknown[] } {
  const diverged = i % 20 === 0;
  const tool = diverged ? 'app/tools.js:refund' : 'app/tools.js:search';
  return {
    downstream: [
      { seq: 0, kind: 'llm', name: 'openai chat.completions gpt-4o', answer: 'live', matched: 0, started_ms: 1, duration_ms: 80, status: 200, model: 'gpt-4o', usage: CALL_USAGE },
      { seq: 1, kind: 'tool', name: tool, answer: diverged ? 'live' : 'stub', matched: diverged ? null : 1, started_ms: 85, duration_ms: 3 },
      { seq: 2, kind: 'llm', name: 'openai chat.completions gpt-4o', answer: 'live', matched: 2, started_ms: 90, duration_ms: 60, status: 200, model: 'gpt-4o', usage: CALL_USAGE },
    ],
    divergence: diverged ? { index: 1, kind: 'other_call', expected: { kind: 'tool', name: 'app/tools.js:search', arguments: [{ q: 'password' }] }, actual: { kind: 'tool', name: tool, arguments: [{ order: 1 }] } } : null,
    usage: { input_tokens: 2000, output_tokens: 1000, total_tokens: 3000 },
    cost_usd: 2 * CALL_COST,
    recorded_downstream: [
      { seq: 0, kind: 'llm', name: 'openai chat.completions gpt-4o', arguments: null, model: 'gpt-4o' },
      { seq: 1, kind: 'tool', name: 'app/tools.js:search', arguments: [{ q: 'password' }] },
      { seq: 2, kind: 'llm', name: 'openai chat.completions gpt-4o', arguments: null, model: 'gpt-4o' },
    ],
  };
}

/** 10,000 runs with every kind of run the page shows, and a comparison with a baseline. */
function syntheticReport(): ReportData {
  const runs: ReportData['runs'] = [];
  for (let i = 0; i < RUNS; i++) {
    const status = statusOf(i);
    const strategy = STRATEGIES[i % STRATEGIES.length]!;
    const persona = PERSONAS[i % PERSONAS.length]!;
    const input = i === 2 ? `tricky ${INJECTION}` : `How do I reset my password? (variant ${i}, ${strategy})`;
    const asMessage = i % 2 === 1;
    const duration = status === 'timeout' ? 30_000 : 150 + ((i * 7919) % 2400);
    const traceId = `trace-${i}`;
    const result: RunResult = {
      trace_id: traceId,
      iteration: i % 3,
      recording_index: i % 40,
      recording_line: (i % 40) + 1,
      target: 'app/agent.ts:answer',
      input,
      input_index: Math.floor(i / 3),
      metadata: { strategy, persona, base_index: i % BASES },
      override_param_path: asMessage ? 'message.content' : 'message',
      override_location: asMessage ? 'args.0.content' : 'args.1',
      args: asMessage ? [{ role: 'user', content: input }, { stream: false }] : [{ user: `u${i}` }, input],
      output: status === 'ok' ? (i === 1 ? INJECTION : i === 4 ? LONG_OUTPUT : `To reset it, open settings (${i}).`) : null,
      // Run 11 answered in two frames.
      frames: i === 11 ? ['To reset it,', ` open settings (${i}).`] : null,
      first_frame_ms: i === 11 ? 42.5 : null,
      status,
      error: status === 'ok' ? null : { name: status === 'timeout' ? 'RunTimeout' : 'TypeError', message: `failed run ${i}`, stack: `TypeError: failed run ${i}\n    at answer (agent.ts:10:5)` },
      duration_ms: duration,
      attempts: 1,
      messages: i % 5 === 0 ? [{ event: 'token', text: 'To reset' }] : [],
      observation_count: i % 10 === 0 ? 4 : 0,
      ...(i % 10 === 0 ? callsOf(i) : {}),
    } as RunResult;
    const evaluators: EvaluatorResult[] = [
      { name: 'output_not_empty', type: 'output_not_empty', weight: 1, score: status === 'ok' ? 1 : 0, passed: status === 'ok', skipped: false, reason: status === 'ok' ? '' : 'output is empty' },
      { name: 'contains', type: 'contains', weight: 1, score: i % 4 === 0 ? 0 : 1, passed: i % 4 !== 0, skipped: false, reason: i % 4 === 0 ? 'output lacks "reset"' : '' },
      { name: 'latency_under', type: 'latency_under', weight: 1, score: duration < 2000 ? 1 : 0, passed: duration < 2000, skipped: false, reason: duration < 2000 ? '' : `took ${duration} ms` },
    ];
    const passedCount = evaluators.filter((e) => e.passed).length;
    const evaluation = {
      trace_id: traceId,
      input,
      iteration: result.iteration,
      recording_index: result.recording_index,
      recording_line: result.recording_line,
      status,
      duration_ms: duration,
      metadata: result.metadata,
      score: passedCount / evaluators.length,
      passed: passedCount === evaluators.length,
      reasons: evaluators.filter((e) => !e.passed).map((e) => `${e.name}: ${e.reason}`),
      evaluators,
    };
    runs.push({ result, evaluation, observations: i % 10 === 0 ? observationsOf(traceId, i) : [] });
  }
  const count = (f: (r: ReportData['runs'][number]) => boolean) => runs.filter(f).length;
  const passed = count((r) => r.evaluation.passed);
  const durations = runs.map((r) => r.result.duration_ms).sort((a, b) => a - b);
  const at = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!;
  const compared = (r: ReportData['runs'][number], baseline: string | null): ComparedRun => ({
    trace_id: r.result.trace_id,
    baseline_trace_id: baseline,
    input: r.result.input,
    iteration: r.result.iteration,
    recording_index: r.result.recording_index,
    recording_line: r.result.recording_line,
    reasons: r.evaluation.reasons,
    score: r.evaluation.score,
    baseline_score: 1,
  });
  const failing = runs.filter((r) => !r.evaluation.passed);
  const passing = runs.filter((r) => r.evaluation.passed);
  const evaluation: EvaluationSummary = {
    experiment: 'support-bot_20250101_120000',
    evaluated_at: '2025-01-01T12:30:00.000Z',
    total: RUNS,
    passed,
    failed: RUNS - passed,
    pass_rate: passed / RUNS,
    pass_threshold: 1,
    gate: { min_pass_rate: 0.8, source: '--min-pass-rate', passed: passed / RUNS >= 0.8 },
    evaluation_config: 'configs/evaluation.yaml',
    default_evaluators_only: false,
    counts: { ok: count((r) => r.result.status === 'ok'), error: count((r) => r.result.status === 'error'), timeout: count((r) => r.result.status === 'timeout') },
    success_rate: count((r) => r.result.status === 'ok') / RUNS,
    latency_ms: { p50: at(0.5), p95: at(0.95), max: durations[durations.length - 1]!, mean: Math.round(durations.reduce((a, b) => a + b, 0) / RUNS) },
    evaluators: ['output_not_empty', 'contains', 'latency_under'].map((name, k) => {
      const failed = count((r) => !r.evaluation.evaluators[k]!.passed);
      return { name, type: name as EvaluatorResult['type'], weight: 1, passed: RUNS - failed, failed, skipped: 0, mean_score: (RUNS - failed) / RUNS };
    }),
    comparison: {
      baseline: 'experiments/support-bot_20241231_090000',
      regressions: failing.slice(0, 120).map((r) => compared(r, `base-${r.result.trace_id}`)),
      fixes: passing.slice(0, 30).map((r) => ({ ...compared(r, `base-${r.result.trace_id}`), baseline_score: 0.33, reasons: ['contains: output lacks "reset"'] })),
      new_runs: passing.slice(30, 35).map((r) => compared(r, null)),
      missing_runs: [{ trace_id: 'base-gone-1', baseline_trace_id: 'base-gone-1', input: 'an input no longer run', iteration: 0, recording_index: 3, recording_line: 4, reasons: [], score: null, baseline_score: 1 }],
      counts: { regressions: 120, fixes: 30, new_runs: 5, missing_runs: 1, still_passing: passed - 35, still_failing: RUNS - passed - 120 },
      pass_rate: { baseline: 0.5, current: passed / RUNS, delta: passed / RUNS - 0.5 },
      success_rate: { baseline: 0.9, current: 0.8, delta: -0.1 },
      latency_ms: { p50: { baseline: 1400, current: at(0.5), delta: at(0.5) - 1400 }, p95: { baseline: 2500, current: at(0.95), delta: at(0.95) - 2500 } },
    },
  };
  return {
    experiment: 'support-bot_20250101_120000',
    experiment_summary: {
      name: 'support-bot',
      started_at: '2025-01-01T12:00:00.000Z',
      target: 'app/agent.ts:answer',
      iterations: 3,
      recording_file: 'recordings/args_recording.jsonl',
      total_runs: RUNS,
      usage: { input_tokens: 2_000_000, output_tokens: 1_000_000, total_tokens: 3_000_000 },
      cost_usd: 2000 * CALL_COST,
      unpriced_models: [],
      live_llm_calls: 2000,
      diverged_runs: RUNS / 20,
      diverged_at: [{ index: 1, kind: 'other_call', runs: RUNS / 20 }],
    },
    evaluation,
    runs,
    baseline_outputs: new Map(failing.slice(0, 120).map((r) => [`base-${r.result.trace_id}`, baselineOutput(Number(r.result.trace_id.slice(6)))])),
  };
}

const skip = process.env.FLUXLOOP_SKIP_BROWSER === '1';

describe.skipIf(skip)('report.html in a browser', () => {
  let dir: string;
  let url: string;
  let data: ReportData;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];

  const text = (selector: string) => page.locator(selector).first().innerText();
  const countText = () => text('#runs-count');
  const firstRowIndex = async () => Number(await page.locator('#runs-table tbody tr.run-row').first().getAttribute('data-index'));

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}; the report's browser tests need it: install it (apt-get install chromium), or set FLUXLOOP_SKIP_BROWSER=1 to skip them`);
    }
    data = syntheticReport();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-report-'));
    const file = path.join(dir, 'report.html');
    writeReport(file, data);
    // A report of 10,000 runs must stay a file people can open and send around.
    expect(fs.statSync(file).size).toBeLessThan(30 * 1024 * 1024);
    url = pathToFileURL(file).href;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    // The injected markup must never run: an alert would be a dialog.
    page.on('dialog', (dialog) => {
      errors.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(url);
    await page.waitForSelector('html[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows the summary and the first page of runs, loading nothing but itself', async () => {
    const e = data.evaluation;
    expect(await text('#experiment-name')).toBe('support-bot_20250101_120000');
    expect(await text('#card-total .card-value')).toBe(String(RUNS));
    expect(await text('#card-passed .card-value')).toBe(String(e.passed));
    expect(await text('#card-pass-rate .card-value')).toBe(formatPercent(e.passed / RUNS));
    expect(await text('#verdict-gate')).toBe(`FAILED: pass rate ${formatPercent(e.passed / RUNS)} (${e.passed} of ${RUNS} runs) is below the minimum 80%`);
    expect(await page.locator('#verdict-note').count()).toBe(0);
    expect(await text('#card-p50 .card-value')).toBe(formatMs(e.latency_ms.p50));
    expect(await text('#card-regressions .card-value')).toBe('120');
    expect(await page.locator('#runs-table tbody tr.run-row').count()).toBe(100);
    expect(await countText()).toBe(`${RUNS} of ${RUNS} runs`);
    expect(await text('#page-info')).toContain('Page 1 of 100');
    expect(await page.locator('#histogram svg .bar').count()).toBeGreaterThan(5);
    expect(await page.locator('#comparison').isVisible()).toBe(true);
    expect(await page.locator('#comparison-regressions tbody tr.compared-row').count()).toBe(50);
    expect(await text('#comparison-deltas')).toContain('Pass rate');
    // The injection attempts are shown as text, nothing more.
    expect(await page.locator('img').count()).toBe(0);
    await page.fill('#filter-search', 'tricky');
    await page.waitForFunction(() => document.getElementById('runs-count')!.textContent === `1 of 10000 runs`);
    expect(await page.locator('#runs-table tbody tr[data-index="2"] td.input-cell').innerText()).toContain('<img src=x');
    await page.click('#filter-reset');
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
  });

  it('filters by status, verdict, strategy, persona, failed evaluator and input text', async () => {
    const runs = data.runs;
    const errorsCount = runs.filter((r) => r.result.status === 'error').length;
    await page.selectOption('#filter-status', 'error');
    expect(await countText()).toBe(`${errorsCount} of ${RUNS} runs`);
    expect(await page.locator('#runs-table tbody .status-ok').count()).toBe(0);

    await page.selectOption('#filter-status', '');
    await page.selectOption('#filter-verdict', 'passed');
    expect(await countText()).toBe(`${data.evaluation.passed} of ${RUNS} runs`);

    await page.selectOption('#filter-verdict', '');
    await page.selectOption('#filter-strategy', { label: `typo (${RUNS / 5})` });
    await page.selectOption('#filter-persona', { label: `(none) (${runs.filter((r) => r.result.metadata.persona === null).length})` });
    const typoNone = runs.filter((r) => r.result.metadata.strategy === 'typo' && r.result.metadata.persona === null).length;
    expect(await countText()).toBe(`${typoNone} of ${RUNS} runs`);

    await page.click('#filter-reset');
    const latencyFailures = data.evaluation.evaluators[2]!.failed;
    await page.selectOption('#filter-evaluator', { label: `latency_under failed (${latencyFailures})` });
    expect(await countText()).toBe(`${latencyFailures} of ${RUNS} runs`);

    await page.click('#filter-reset');
    await page.fill('#filter-search', 'variant 123');
    const matching = runs.filter((r) => r.result.input.toLowerCase().includes('variant 123')).length;
    await page.waitForFunction((expected) => document.getElementById('runs-count')!.textContent === expected, `${matching} of ${RUNS} runs`);

    await page.click('#filter-reset');
    expect(await countText()).toBe(`${RUNS} of ${RUNS} runs`);
    expect(errors).toEqual([]);
  });

  it('sorts by clicking a column header, and pages through the result', async () => {
    const runs = data.runs;
    // Across all runs, not within each base input.
    await page.uncheck('#filter-group');
    const slowest = runs.reduce((best, r, i) => (r.result.duration_ms > runs[best]!.result.duration_ms ? i : best), 0);
    const fastest = runs.reduce((best, r, i) => (r.result.duration_ms < runs[best]!.result.duration_ms ? i : best), 0);
    await page.click('button[data-sort="duration"]');
    expect(await firstRowIndex()).toBe(slowest);
    expect(await page.locator('th.col-duration').getAttribute('aria-sort')).toBe('descending');
    await page.click('button[data-sort="duration"]');
    expect(await firstRowIndex()).toBe(fastest);

    await page.click('button[data-sort="score"]');
    const lowest = Math.min(...runs.map((r) => r.evaluation.score));
    expect(runs[await firstRowIndex()]!.evaluation.score).toBe(lowest);

    await page.click('#page-next');
    expect(await text('#page-info')).toContain('Page 2 of 100');
    const scores = await page.locator('#runs-table tbody tr.run-row').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-index'))));
    expect(scores).toHaveLength(100);
    const values = scores.map((i) => runs[i]!.evaluation.score);
    expect(values).toEqual([...values].sort((a, b) => a - b));

    await page.click('button[data-sort="index"]');
    expect(await firstRowIndex()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('opens a run with its input, the placed argument marked, its evaluators and its timeline', async () => {
    // Run 10: traced, its input the second argument.
    await page.locator('#runs-table tbody tr[data-index="10"]').click();
    const detail = page.locator('#run-detail');
    await detail.waitFor({ state: 'visible' });
    const run = data.runs[10]!.result;
    expect(await text('#detail-title')).toBe('Run 11');
    expect(await text('#detail-input')).toBe(run.input);
    const override = page.locator('#detail-args .override');
    expect(await override.count()).toBe(1);
    expect(await override.innerText()).toBe(JSON.stringify(run.input));
    expect(await text('#detail-evaluators')).toContain('latency_under');
    const rows = page.locator('#detail-timeline .obs-row:not(.obs-scale)');
    expect(await rows.count()).toBe(4);
    expect(await rows.locator('.obs-name').allInnerTexts()).toEqual(['agent', 'llm.chat', 'tool.search', 'db.query']);
    expect(await rows.evaluateAll((r) => r.map((row) => row.getAttribute('data-depth')))).toEqual(['0', '1', '1', '2']);
    const root = await rows.nth(0).locator('.obs-bar').boundingBox();
    const tool = await rows.nth(2).locator('.obs-bar').boundingBox();
    expect(tool!.x).toBeGreaterThan(root!.x);
    expect(tool!.width).toBeLessThan(root!.width);
    await rows.nth(1).click();
    expect(await text('#detail-timeline .obs-detail')).toContain('call llm.chat');

    // The next run: its input is the content of the first argument.
    await page.click('#detail-next');
    expect(await text('#detail-title')).toBe('Run 12');
    expect(await page.locator('#detail-args .override').innerText()).toBe(JSON.stringify(data.runs[11]!.result.input));
    // Its output came in two frames: each shown in order, with the time to the first.
    expect(await page.locator('#detail-frames > li').allInnerTexts()).toEqual(['To reset it,', ' open settings (11).']);
    expect(await text('#detail-frames-section h3')).toContain('2 frames, the first after 42.5 ms');
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });

    // A run whose output is an injection attempt shows it as text.
    await page.locator('#runs-table tbody tr[data-index="1"]').click();
    expect(await text('#detail-output')).toBe(INJECTION);
    expect(await page.locator('img').count()).toBe(0);
    await page.click('#detail-close');

    // A regression in the comparison opens its run, its output beside the baseline's.
    await page.locator('#comparison-regressions tbody tr.compared-row').first().click();
    const first = data.evaluation.comparison!.regressions[0]!;
    expect(await text('#detail-input')).toBe(first.input);
    expect(await page.locator('#detail-diff-section .diff-before del').allTextContents()).toEqual(['change', 'the ', ' page']);
    expect(await page.locator('#detail-diff-section .diff-after ins').allTextContents()).toEqual(['reset']);
    await page.keyboard.press('Escape');
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
  });
  it('shows the tokens and cost, where runs left their recording\'s calls, and a run\'s calls beside the recorded ones', async () => {
    await page.click('#filter-reset');
    const header = await text('#report-header');
    expect(header).toContain('2,000,000 in / 1,000,000 out · 2000 live calls');
    expect(header).toContain(formatUsd(2000 * CALL_COST));
    expect(header).toContain(`${RUNS / 20} of ${RUNS} runs: at call 2 (other_call) ${RUNS / 20}`);
    expect(await text('#runs-table tbody tr[data-index="20"] td.path-cell')).toBe('call 2 · other_call');
    expect(await text('#runs-table tbody tr[data-index="10"] td.path-cell')).toBe('same');
    expect(await text('#runs-table tbody tr[data-index="11"] td.path-cell')).toBe('–');
    await page.selectOption('#filter-path', 'diverged');
    expect(await countText()).toBe(`${RUNS / 20} of ${RUNS} runs`);
    await page.selectOption('#filter-path', 'same');
    expect(await countText()).toBe(`${RUNS / 20} of ${RUNS} runs`);
    await page.click('#filter-reset');

    await page.locator('#runs-table tbody tr[data-index="20"]').click();
    const detail = page.locator('#run-detail');
    await detail.waitFor({ state: 'visible' });
    expect(await text('#detail-divergence')).toBe('Left the recorded path at call 2: called tool app/tools.js:refund where the recording called tool app/tools.js:search.');
    const compared = page.locator('#detail-calls-compared tbody tr');
    expect(await compared.count()).toBe(3);
    const marked = page.locator('#detail-calls-compared [data-testid="diverged-call"]');
    expect(await marked.count()).toBe(1);
    expect(await marked.innerText()).toContain('tool app/tools.js:search');
    expect(await marked.innerText()).toContain('tool app/tools.js:refund');
    expect(await marked.innerText()).toContain('{"q":"password"}');
    const calls = page.locator('#detail-calls .call-row:not(.obs-scale)');
    expect(await calls.count()).toBe(3);
    expect(await calls.locator('.answer').allInnerTexts()).toEqual(['live', 'live', 'live']);
    expect(await calls.nth(0).innerText()).toContain(`gpt-4o · 1,000 in / 500 out · ${formatUsd(CALL_COST)}`);
    expect(await calls.nth(1).getAttribute('class')).toContain('diverged');
    const first = await calls.nth(0).locator('.obs-bar').boundingBox();
    const third = await calls.nth(2).locator('.obs-bar').boundingBox();
    expect(third!.x).toBeGreaterThan(first!.x);
    expect(await text('#detail-downstream-section h3')).toContain(`3 calls · 2,000 in / 1,000 out · ${formatUsd(2 * CALL_COST)}`);

    // A run that kept to its recording: its calls answered from it, nothing marked.
    await page.click('#detail-prev');
    await page.keyboard.press('Escape');
    await page.locator('#runs-table tbody tr[data-index="10"]').click();
    expect(await text('#detail-divergence')).toBe("The run's calls kept to its recording's.");
    expect(await page.locator('#detail-calls-compared [data-testid="diverged-call"]').count()).toBe(0);
    expect(await page.locator('#detail-calls .call-row:not(.obs-scale) .answer').allInnerTexts()).toEqual(['live', 'stub', 'live']);
    await page.keyboard.press('Escape');
    // A run without calls or a recording's has no such section.
    await page.locator('#runs-table tbody tr[data-index="11"]').click();
    expect(await page.locator('#detail-downstream-section').count()).toBe(0);
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
  });

  it('shows each run\'s output, cut in its cell and whole when unfolded there, and its recording', async () => {
    await page.click('#filter-reset');
    await page.uncheck('#filter-group');
    await page.click('button[data-sort="index"]');
    if ((await firstRowIndex()) !== 0) await page.click('button[data-sort="index"]');
    const cell = page.locator('#runs-table tbody tr[data-index="4"] td.output-cell');
    expect(await cell.locator('.output-text').textContent()).toBe(`${LONG_OUTPUT.slice(0, 119)}…`);
    await cell.locator('button.expand').click();
    expect(await cell.locator('.output-text').textContent()).toBe(LONG_OUTPUT);
    expect(await cell.locator('button.expand').getAttribute('aria-expanded')).toBe('true');
    // Unfolding the cell does not open the run.
    expect(await page.locator('#run-detail').isVisible()).toBe(false);
    await cell.locator('button.expand').click();
    expect(await cell.locator('.output-text').textContent()).toBe(`${LONG_OUTPUT.slice(0, 119)}…`);
    // A short output whole; a run that failed shows its error instead.
    expect(await text('#runs-table tbody tr[data-index="0"] td.output-cell .output-text')).toBe('To reset it, open settings (0).');
    expect(await text('#runs-table tbody tr[data-index="3"] td.output-cell')).toBe('TypeError: failed run 3');
    // The recording: its index, and its file (the experiment's) and line.
    const run = data.runs[45]!.result;
    const recording = page.locator('#runs-table tbody tr[data-index="45"] td.recording-cell');
    expect(await recording.innerText()).toBe(`#${run.recording_index} · args_recording.jsonl:${run.recording_line}`);
    expect(await recording.getAttribute('title')).toBe(`recordings/args_recording.jsonl:${run.recording_line}`);
    expect(errors).toEqual([]);
  });

  it('counts runs and pass rates by strategy, persona and base input, and shows a row\'s runs on a click', async () => {
    const rowsOf = (id: string) => page.locator(`#${id}-table tbody tr`).evaluateAll((rows) => rows.map((row) => Array.from(row.children, (td) => (td as HTMLElement).innerText.trim())));
    const expected = (groups: Map<string, { runs: number; passed: number }>) =>
      [...groups].map(([label, g]) => [label, String(g.runs), String(g.passed), formatPercent(g.passed / g.runs)]);
    const tally = (key: (r: ReportData['runs'][number]) => string) => {
      const groups = new Map<string, { runs: number; passed: number }>();
      for (const r of data.runs) {
        const g = groups.get(key(r)) ?? { runs: 0, passed: 0 };
        groups.set(key(r), g);
        g.runs++;
        if (r.evaluation.passed) g.passed++;
      }
      return groups;
    };
    const strategies = tally((r) => r.result.metadata.strategy as string);
    const strategyRows = await rowsOf('by-strategy');
    // Every strategy has as many runs: listed by name.
    expect(strategyRows.map((row) => row.slice(0, 4))).toEqual(expected(new Map([...strategies].sort(([a], [b]) => a.localeCompare(b)))));
    const personas = tally((r) => (r.result.metadata.persona as string | null) ?? '(none)');
    const personaRows = await rowsOf('by-persona');
    expect(personaRows.map((row) => row.slice(0, 4)).sort()).toEqual(expected(personas).sort());
    expect(personaRows[personaRows.length - 1]![0]).toBe('(none)');

    // Base inputs in order, each named by the run of the base input itself.
    const bases = tally((r) => String(r.result.metadata.base_index));
    const baseRows = await rowsOf('by-base');
    expect(baseRows).toHaveLength(BASES);
    baseRows.forEach((row, b) => {
      const named = data.runs.find((r) => r.result.metadata.base_index === b && r.result.metadata.strategy === 'base')!.result.input;
      const inputs = new Set(data.runs.filter((r) => r.result.metadata.base_index === b).map((r) => r.result.input)).size;
      const g = bases.get(String(b))!;
      expect(row.slice(0, 5)).toEqual([named, String(inputs), String(g.runs), String(g.passed), formatPercent(g.passed / g.runs)]);
    });

    await page.locator('#by-strategy-table tbody tr').filter({ hasText: 'adversarial' }).click();
    expect(await countText()).toBe(`${strategies.get('adversarial')!.runs} of ${RUNS} runs`);
    await page.locator('#by-base-table tbody tr').nth(3).click();
    expect(await countText()).toBe(`${bases.get('3')!.runs} of ${RUNS} runs`);
    await page.click('#filter-reset');
    expect(errors).toEqual([]);
  });

  it('groups the variations under their base input, the base input first, and folds a group on a click', async () => {
    await page.check('#filter-group');
    const rows = page.locator('#runs-table tbody tr');
    const header = rows.first();
    expect(await header.getAttribute('class')).toContain('group-row');
    const base0 = data.runs.filter((r) => r.result.metadata.base_index === 0);
    expect(await header.locator('.group-input').innerText()).toBe(base0.find((r) => r.result.metadata.strategy === 'base')!.result.input);
    expect(await header.locator('.group-stats').innerText()).toContain(`${base0.length} runs · ${base0.filter((r) => r.evaluation.passed).length} passed`);
    // Under it the runs of the base input itself, then its variations; every run of the page is of that base input.
    const indexes = await page.locator('#runs-table tbody tr.run-row').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-index'))));
    expect(indexes).toHaveLength(100);
    const strategies = indexes.map((i) => data.runs[i]!.result.metadata.strategy);
    const bases = base0.filter((r) => r.result.metadata.strategy === 'base').length;
    expect(strategies.slice(0, bases).every((s) => s === 'base')).toBe(true);
    expect(strategies.slice(bases).includes('base')).toBe(false);
    expect(indexes.every((i) => data.runs[i]!.result.metadata.base_index === 0)).toBe(true);

    // Folded, the base input is one line, and the next one's runs follow.
    await header.click();
    expect(await page.locator('#runs-table tbody tr.group-row').first().getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('#runs-table tbody tr.group-row').nth(1).locator('.group-input').innerText()).toBe(
      data.runs.find((r) => r.result.metadata.base_index === 1 && r.result.metadata.strategy === 'base')!.result.input,
    );
    expect(data.runs[await firstRowIndex()]!.result.metadata.base_index).toBe(1);

    await page.click('#groups-toggle');
    expect(await page.locator('#runs-table tbody tr.group-row').count()).toBe(BASES);
    expect(await page.locator('#runs-table tbody tr.run-row').count()).toBe(0);
    expect(await countText()).toBe(`${RUNS} of ${RUNS} runs`);
    await page.click('#groups-toggle');
    expect(await page.locator('#runs-table tbody tr.run-row').count()).toBe(100);
    expect(errors).toEqual([]);
  });

  it('shows each regression\'s output beside the baseline\'s, the differences marked', async () => {
    const regressions = data.evaluation.comparison!.regressions;
    const shown = page.locator('#comparison-regressions tbody tr.diff-row');
    expect(await shown.count()).toBe(50);
    for (const k of [0, 7, 49]) {
      const r = regressions[k]!;
      const current = data.runs.find((run) => run.result.trace_id === r.trace_id)!.result.output;
      const pieces = wordDiff(baselineOutput(Number(r.trace_id.slice(6))), typeof current === 'string' ? current : '');
      const diff = shown.nth(k);
      expect(await diff.locator('.diff-before').textContent()).toBe(baselineOutput(Number(r.trace_id.slice(6))));
      expect(await diff.locator('.diff-before del').allTextContents()).toEqual(pieces.filter(([op]) => op === -1).map(([, t]) => t));
      expect(await diff.locator('.diff-after ins').allTextContents()).toEqual(pieces.filter(([op]) => op === 1).map(([, t]) => t));
    }
    // The first: "To change it, open the settings page (0)." then, "To reset it, open settings (0).".
    expect(await shown.first().locator('.diff-after').textContent()).toBe('To reset it, open settings (0).');
    expect(await shown.first().locator('.diff-after ins').allTextContents()).toEqual(['reset']);
    expect(await shown.first().locator('.diff-before del').allTextContents()).toEqual(['change', 'the ', ' page']);
    // Its recording, as the console's table names it.
    const first = page.locator('#comparison-regressions tbody tr.compared-row').first();
    expect(await first.locator('td.recording-cell').innerText()).toBe(`#${regressions[0]!.recording_index} · line ${regressions[0]!.recording_line}`);
    expect(errors).toEqual([]);
  });
});
