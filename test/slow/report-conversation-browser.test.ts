import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLM_DEFAULTS, type EvaluationConfig } from '../../src/config/types.js';
import type { ConversationResult, ConversationTurn } from '../../src/experiment/conversation-result.js';
import { evaluateExperiment } from '../../src/experiment/evaluation/evaluate.js';
import { conversation as lineConversation, turn as lineTurn } from '../conversation-lines.js';

const CHROMIUM = '/usr/bin/chromium';
const INJECTION = '</script><img src=x onerror=alert(1)>';
const skip = process.env.FLUXLOOP_SKIP_BROWSER === '1';

/** A turn with one observation, for the transcript's observations. */
function turn(n: number, user: string, output: unknown, extra: Partial<ConversationTurn> = {}): ConversationTurn {
  const observation = { id: `o${n}`, trace_id: `t:${n}`, parent_id: null, name: 'agent', type: 'agent', start_time: '2026-01-01T00:00:00.000Z', end_time: '2026-01-01T00:00:00.010Z', duration_ms: 10, input: [user], output };
  return lineTurn(n, user, output, { observation_count: 1, observations: [observation], ...extra });
}

/** A conversation that ended with a closing message holding markup, to be shown as text. */
function conversation(id: string, input: string, turns: ConversationTurn[], extra: Partial<ConversationResult> = {}): ConversationResult {
  return lineConversation(id, input, turns, { metadata: {}, closing_user_message: `Bye ${INJECTION}`, status: 'ok', duration_ms: 30, ...extra });
}

describe.skipIf(skip)('the report of conversations in a browser', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: install it, or set FLUXLOOP_SKIP_BROWSER=1 to skip the browser tests`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-report-conversation-'));
    const lines = [
      conversation('s-1', 'Where is my order?', [turn(1, 'Where is my order?', 'ok, it ships today'), turn(2, 'When?', `Sorry ${INJECTION}`)]),
      conversation('s-2', INJECTION, [turn(1, INJECTION, null, { status: 'error', error: { name: 'TypeError', message: 'boom' } })], { termination_reason: 'agent_error', status: 'error', closing_user_message: null }),
    ];
    fs.writeFileSync(path.join(dir, 'summary.json'), '{}');
    fs.writeFileSync(path.join(dir, 'traces.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    const config: EvaluationConfig = {
      pass_threshold: 1,
      pass_rate_threshold: null,
      source: 'test',
      llm: LLM_DEFAULTS,
      evaluators: [
        { type: 'contains', name: 'contains', weight: 1, threshold: 1, value: 'ok' },
        { type: 'terminated_by', name: 'terminated_by', weight: 1, threshold: 1, reasons: ['user_satisfied'] },
      ],
    };
    const { files } = await evaluateExperiment({ experimentDir: dir, projectDir: dir, config, redact: { keys: [], patterns: [] } });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    // The injected markup must never run: an alert would be a dialog.
    page.on('dialog', (dialog) => {
      errors.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(pathToFileURL(files.report!).href);
    await page.waitForSelector('html[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists conversations with their turns and how they ended', async () => {
    expect(await page.innerText('#runs h2')).toBe('Conversations');
    expect(await page.innerText('#runs-count')).toBe('2 of 2 conversations');
    expect(await page.locator('#runs-table tbody tr.run-row .turns-cell').allInnerTexts()).toEqual(['2 · user_satisfied', '1 · agent_error']);
    await page.selectOption('#filter-ended', { label: 'agent_error (1)' });
    expect(await page.innerText('#runs-count')).toBe('1 of 2 conversations');
    await page.click('#filter-reset');
  });

  it('shows a conversation as a transcript, its evaluators first, nothing of its data as markup', async () => {
    await page.click('#runs-table tbody tr[data-index="0"]');
    const messages = page.locator('#detail-transcript > li');
    expect(await messages.evaluateAll((items) => items.map((li) => li.className))).toEqual(['msg msg-user', 'msg msg-assistant', 'msg msg-user', 'msg msg-assistant failed', 'msg msg-user', 'msg-end']);
    expect(await messages.nth(3).locator('pre').first().innerText()).toBe(`Sorry ${INJECTION}`);
    expect(await messages.nth(3).locator('.badge').allInnerTexts()).toEqual(['contains 0%']);
    expect(await messages.nth(4).innerText()).toContain(`Bye ${INJECTION}`);
    expect(await page.innerText('#detail-termination')).toContain('Ended by user_satisfied after 2 turns');
    const sections = await page.locator('#run-detail .detail-section > h3').allTextContents();
    expect(sections.findIndex((s) => s.startsWith('Evaluators'))).toBeLessThan(sections.findIndex((s) => s.startsWith('Transcript')));
    await page.click('#detail-next');
    expect(await page.innerText('#detail-title')).toBe('Conversation 2');
    expect(await page.innerText('#detail-transcript .msg-assistant .error-box')).toContain('TypeError: boom');
    expect(await page.locator('img').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
