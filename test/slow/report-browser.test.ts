import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComparedRun, EvaluationSummary, EvaluatorResult, ObservationLine, ReportData } from '../../src/experiment/evaluation/types.js';
import { writeReport } from '../../src/experiment/report/render.js';
import type { RunResult, RunStatus } from '../../src/replay/execute.js';

const CHROMIUM = '/usr/bin/chromium';
const RUNS = 10_000;
const INJECTION = '</script><img src=x onerror=alert(1)>';
const STRATEGIES = ['base', 'typo', 'rephrase', 'adversarial', 'verbose'];
const PERSONAS = ['novice', 'expert', null];

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
      metadata: { strategy, persona, base_index: i % 17 },
      override_param_path: asMessage ? 'message.content' : 'message',
      override_location: asMessage ? 'args.0.content' : 'args.1',
      args: asMessage ? [{ role: 'user', content: input }, { stream: false }] : [{ user: `u${i}` }, input],
      output: status === 'ok' ? (i === 1 ? INJECTION : `To reset it, open settings (${i}).`) : null,
      // Run 11 answered in two frames.
      frames: i === 11 ? ['To reset it,', ` open settings (${i}).`] : null,
      first_frame_ms: i === 11 ? 42.5 : null,
      status,
      error: status === 'ok' ? null : { name: status === 'timeout' ? 'RunTimeout' : 'TypeError', message: `failed run ${i}`, stack: `TypeError: failed run ${i}\n    at answer (agent.ts:10:5)` },
      duration_ms: duration,
      attempts: 1,
      messages: i % 5 === 0 ? [{ event: 'token', text: 'To reset' }] : [],
      observation_count: i % 10 === 0 ? 4 : 0,
    };
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
      missing_runs: [{ trace_id: 'base-gone-1', baseline_trace_id: 'base-gone-1', input: 'an input no longer run', iteration: 0, recording_index: 3, reasons: [], score: null, baseline_score: 1 }],
      counts: { regressions: 120, fixes: 30, new_runs: 5, missing_runs: 1, still_passing: passed - 35, still_failing: RUNS - passed - 120 },
      pass_rate: { baseline: 0.5, current: passed / RUNS, delta: passed / RUNS - 0.5 },
      success_rate: { baseline: 0.9, current: 0.8, delta: -0.1 },
      latency_ms: { p50: { baseline: 1400, current: at(0.5), delta: at(0.5) - 1400 }, p95: { baseline: 2500, current: at(0.95), delta: at(0.95) - 2500 } },
    },
  };
  return {
    experiment: 'support-bot_20250101_120000',
    experiment_summary: { name: 'support-bot', started_at: '2025-01-01T12:00:00.000Z', target: 'app/agent.ts:answer', iterations: 3 },
    evaluation,
    runs,
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
  const firstRowIndex = async () => Number(await page.locator('#runs-table tbody tr').first().getAttribute('data-index'));

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
    expect(await text('#card-pass-rate .card-value')).toBe(`${((e.passed / RUNS) * 100).toFixed(1)}%`);
    expect(await text('#card-regressions .card-value')).toBe('120');
    expect(await page.locator('#runs-table tbody tr').count()).toBe(100);
    expect(await countText()).toBe(`${RUNS} of ${RUNS} runs`);
    expect(await text('#page-info')).toContain('Page 1 of 100');
    expect(await page.locator('#histogram svg .bar').count()).toBeGreaterThan(5);
    expect(await page.locator('#comparison').isVisible()).toBe(true);
    expect(await page.locator('#comparison-regressions tbody tr').count()).toBe(50);
    expect(await text('#comparison-deltas')).toContain('Pass rate');
    // The injection attempts are shown as text, nothing more.
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#runs-table tbody tr[data-index="2"] td.input-cell').innerText()).toContain('<img src=x');
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
    const scores = await page.locator('#runs-table tbody tr').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-index'))));
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
    expect(await text('#detail-frames-section h3')).toContain('2 frames, the first after 43 ms');
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });

    // A run whose output is an injection attempt shows it as text.
    await page.locator('#runs-table tbody tr[data-index="1"]').click();
    expect(await text('#detail-output')).toBe(INJECTION);
    expect(await page.locator('img').count()).toBe(0);
    await page.click('#detail-close');

    // A regression in the comparison opens its run.
    await page.locator('#comparison-regressions tbody tr').first().click();
    const first = data.evaluation.comparison!.regressions[0]!;
    expect(await text('#detail-input')).toBe(first.input);
    await page.keyboard.press('Escape');
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
  });
});
