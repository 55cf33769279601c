import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLM_DEFAULTS, type EvaluationConfig, type EvaluatorConfig } from '../../src/config/types';
import type { ConversationResult } from '../../src/experiment/conversation-result';
import { evaluateExperiment } from '../../src/experiment/evaluation/evaluate';
import { readExperiment } from '../../src/experiment/evaluation/read';
import type { ConversationEvaluation, EvaluationSummary, TraceEvaluation } from '../../src/experiment/evaluation/types';
import type { ReportPayload } from '../../src/experiment/report/payload';
import type { RunResult } from '../../src/replay/execute';
import { conversation, turn } from '../conversation-lines';
import { startFakeOpenAi, type FakeOpenAi } from '../fake-openai';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-eval-conversation-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const INJECTION = '</script><img src=x onerror=alert(1)>';

function run(i: number, output: string): RunResult {
  return {
    trace_id: `run-${i}`,
    iteration: 0,
    recording_index: i,
    recording_line: i + 1,
    recording_file: null,
    target: 'app/agent.js:reply',
    input: `question ${i}`,
    input_index: i,
    metadata: {},
    override_param_path: 'args.0',
    override_location: 'args.0',
    args: [`question ${i}`],
    output,
    frames: null,
    first_frame_ms: null,
    status: 'ok',
    error: null,
    duration_ms: 5,
    attempts: 1,
    messages: null,
    warnings: [],
    observation_count: 0,
    downstream: [],
    divergence: null,
    usage: null,
    cost_usd: null,
  };
}

let folders = 0;
/** An experiment folder as `run experiment` writes one: summary.json and traces.jsonl. */
function experiment(lines: unknown[], extra = ''): string {
  const dir = path.join(tmp, `exp_${++folders}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ name: 'exp', total_runs: lines.length, started_at: '2026-01-01T00:00:00.000Z' }));
  fs.writeFileSync(path.join(dir, 'traces.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + extra);
  return dir;
}

const evaluators = (...list: Array<Partial<EvaluatorConfig> & Pick<EvaluatorConfig, 'type'>>): EvaluatorConfig[] =>
  list.map((e) => ({ name: e.type, weight: 1, threshold: e.type === 'llm_judge' ? 0.7 : e.type === 'similarity' ? 0.8 : 1, ...e }));

function config(list: EvaluatorConfig[], llm = LLM_DEFAULTS): EvaluationConfig {
  return { pass_threshold: 1, pass_rate_threshold: null, evaluators: list, llm: { ...llm, temperature: 0 }, source: 'test' };
}

const readLines = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

function payloadOf(html: string): ReportPayload {
  const json = /<script type="application\/json" id="fluxloop-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
  return JSON.parse(json) as ReportPayload;
}

const NO_REDACTION = { keys: [], patterns: [] };

/** Three conversations: one that went well, one that took too long and failed a turn, one that broke. */
function threeConversations(): unknown[] {
  return [
    conversation('s-1', 'Where is my order?', [turn(1, 'Where is my order?', 'ok, it ships today'), turn(2, 'Thanks, when exactly?', 'ok, by 5 pm')], {
      recording_index: 0,
      recording_line: 1,
      recording_file: 'recordings/args_recording.jsonl',
      recording_lines: [1],
      closing_user_message: 'Great, bye',
    }),
    conversation(
      's-2',
      'Cancel my plan',
      [turn(1, 'Cancel my plan', 'ok, which plan?'), turn(2, 'The pro one', 'Sorry, I cannot'), turn(3, 'Why not?', 'ok, done after all')],
      { recording_index: 1, recording_line: 2, recording_lines: [2], termination_reason: 'max_turns_reached' },
    ),
    conversation(
      's-3',
      INJECTION,
      [turn(1, INJECTION, null, { status: 'error', error: { name: 'TypeError', message: 'x is undefined' } })],
      { termination_reason: 'agent_error', error: { name: 'TypeError', message: 'x is undefined' } },
    ),
  ];
}

const ruleConfig = () =>
  config(evaluators({ type: 'contains', value: 'ok' }, { type: 'max_turns_under', max_turns: 3 }, { type: 'terminated_by', reasons: ['user_satisfied', 'script_complete'] }));

describe('reading an experiment of conversations', () => {
  it('reads conversation lines as conversations, and refuses one without turns', () => {
    const bad = JSON.stringify({ kind: 'conversation', trace_id: 'x', status: 'ok' });
    const dir = experiment([...threeConversations(), run(0, 'hi')], `${bad}\n`);
    const data = readExperiment(dir, 'exp', true);
    expect(data.runs.map((r) => ('kind' in r ? r.kind : 'run'))).toEqual(['conversation', 'conversation', 'conversation', 'run']);
    expect(data.warnings).toEqual(['exp/traces.jsonl:5: not a trace line, skipped']);
    expect(data.observations.size).toBe(0);
  });
});

describe('evaluating conversations', () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof evaluateExperiment>>;
  const junit = () => path.join(tmp, 'conversations.xml');
  const markdown = () => path.join(tmp, 'conversations.md');

  beforeAll(async () => {
    dir = experiment(threeConversations());
    result = await evaluateExperiment({ experimentDir: dir, projectDir: tmp, config: ruleConfig(), redact: NO_REDACTION, junit: junit(), markdown: markdown() });
  });

  it('writes a line per conversation, with its turns, its evaluators and the verdict', () => {
    const lines = readLines<ConversationEvaluation>(path.join(dir, 'evaluation', 'per_trace.jsonl'));
    expect(lines).toHaveLength(3);
    const [good, long, broken] = lines as [ConversationEvaluation, ConversationEvaluation, ConversationEvaluation];
    expect(Object.keys(good)).toEqual([
      'kind',
      'trace_id',
      'conversation_id',
      'input',
      'iteration',
      'recording_index',
      'recording_line',
      'recording_file',
      'resumed_from',
      'termination_reason',
      'status',
      'duration_ms',
      'metadata',
      'turns',
      'turn_pass_rate',
      'evaluators',
      'score',
      'passed',
      'reasons',
    ]);
    expect(good).toMatchObject({ conversation_id: 's-1', recording_index: 0, recording_file: 'recordings/args_recording.jsonl', turn_pass_rate: 1, score: 1, passed: true, reasons: [] });
    expect(good.turns.map((t) => [t.turn, t.passed, t.evaluators.map((e) => e.name)])).toEqual([
      [1, true, ['contains']],
      [2, true, ['contains']],
    ]);
    expect(good.evaluators.map((e) => [e.name, e.passed, e.reason])).toEqual([
      ['contains', true, 'passed all 2 turns it judged'],
      ['max_turns_under', true, 'took 2 turns'],
      ['terminated_by', true, 'ended by user_satisfied'],
    ]);

    // Turn 2 failed, it took 3 turns and ran out of them: both parts fail.
    expect(long.turns.map((t) => t.passed)).toEqual([true, false, true]);
    expect(long.turn_pass_rate).toBe(0.667);
    expect(long.passed).toBe(false);
    expect(long.score).toBe(0.333);
    expect(long.reasons).toEqual([
      'max_turns_under: took 3 turns, not under 3',
      'terminated_by: ended by max_turns_reached, not one of "user_satisfied", "script_complete"',
      'turn 2: contains: output does not contain "ok"',
    ]);
    expect(long.evaluators[0]).toMatchObject({ name: 'contains', passed: false, score: 0.667, reason: 'failed turn 2 of 3: output does not contain "ok"' });

    expect(broken).toMatchObject({ status: 'error', termination_reason: 'agent_error', turn_pass_rate: 0, passed: false });
    expect(broken.evaluators[1]).toMatchObject({ name: 'max_turns_under', passed: true });
  });

  it('counts conversations in the summary, and turn evaluators per turn', () => {
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'evaluation', 'summary.json'), 'utf8')) as EvaluationSummary;
    expect(summary).toMatchObject({ total: 3, passed: 1, failed: 2, counts: { ok: 2, error: 1, timeout: 0 } });
    expect(summary.conversations).toEqual({
      total: 3,
      turns: 6,
      turns_passed: 4,
      turn_pass_rate: 0.667,
      by_termination_reason: { user_satisfied: 1, max_turns_reached: 1, agent_error: 1 },
    });
    expect(summary.evaluators.map((e) => [e.name, e.scope, e.passed, e.failed, e.skipped])).toEqual([
      ['contains', 'turn', 4, 2, 0],
      ['max_turns_under', 'conversation', 2, 1, 0],
      ['terminated_by', 'conversation', 1, 2, 0],
    ]);
  });

  it('shows each conversation as a transcript in the report, its data escaped', () => {
    const html = fs.readFileSync(result.files.report!, 'utf8');
    expect(html).not.toContain(INJECTION);
    const payload = payloadOf(html);
    expect(payload.evaluators.map((e) => e.scope)).toEqual(['turn', 'conversation', 'conversation']);
    const [good, long, broken] = payload.runs;
    expect(good!.conversation).toMatchObject({ conversation_id: 's-1', termination_reason: 'user_satisfied', closing_user_message: 'Great, bye', turn_pass_rate: 1 });
    expect(good!.conversation!.turns.map((t) => [t.user_message, t.output, t.passed])).toEqual([
      ['Where is my order?', 'ok, it ships today', true],
      ['Thanks, when exactly?', 'ok, by 5 pm', true],
    ]);
    // The table's Output column shows the last reply.
    expect(good!.output).toBe('ok, by 5 pm');
    expect(long!.conversation!.turns[1]).toMatchObject({ passed: false, reasons: ['contains: output does not contain "ok"'], evaluators: [{ evaluator: 0, passed: false }] });
    expect(long!.failed).toEqual([0, 1, 2]);
    expect(broken!.input).toBe(INJECTION);
    expect(broken!.conversation!.turns[0]).toMatchObject({ status: 'error', error: { name: 'TypeError', message: 'x is undefined' } });
    // The page draws transcripts from the payload.
    expect(html).toContain("'detail-transcript'");
  });

  it('writes one JUnit case per conversation, the failed turns in its failure', () => {
    const xml = fs.readFileSync(junit(), 'utf8');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ tests: '3', failures: '2' });
    const cases = suite.testcase as Array<{ name: string; failure?: { message: string; type: string; '#text': string } }>;
    expect(cases.map((c) => c.name)).toEqual([
      '#1 Where is my order? (conversation s-1, recording 0, iteration 0)',
      '#2 Cancel my plan (conversation s-2, recording 1, iteration 0)',
      `#3 ${INJECTION} (conversation s-3, iteration 0)`,
    ]);
    expect(cases[0]!.failure).toBeUndefined();
    expect(cases[1]!.failure).toMatchObject({ message: 'max_turns_under: took 3 turns, not under 3', type: 'max_turns_under' });
    expect(cases[1]!.failure!['#text']).toContain('turn 2: contains: output does not contain "ok"');
    expect(cases[2]!.failure).toMatchObject({ type: 'error' });
    expect(cases[2]!.failure!.message).toBe('terminated_by: ended by agent_error, not one of "user_satisfied", "script_complete"');
    expect(cases[2]!.failure!['#text']).toContain('turn 1: contains: output does not contain "ok"');
  });

  it('writes the Markdown summary in conversations and turns', () => {
    const md = fs.readFileSync(markdown(), 'utf8');
    expect(md).toContain('❌ 2 of 3 conversations failed');
    expect(md).toContain('| Conversations | 3 |');
    expect(md).toContain('Turns: 4 of 6 turns passed (66.7%). Ended by: agent\\_error 1 · max\\_turns\\_reached 1 · user\\_satisfied 1.');
    expect(md).toContain('| contains, per turn | 4 | 2 | 0 |');
  });
});

describe('conversations judged whole only', () => {
  it('have no turn verdicts, and pass on their conversation evaluators', async () => {
    const dir = experiment(threeConversations());
    const c = config(evaluators({ type: 'terminated_by', reasons: ['user_satisfied', 'max_turns_reached'] }));
    const { traces, summary } = await evaluateExperiment({ experimentDir: dir, projectDir: tmp, config: c, redact: NO_REDACTION, report: false });
    expect(traces.map((t) => [(t as ConversationEvaluation).turns.length, (t as ConversationEvaluation).turn_pass_rate, t.score, t.passed])).toEqual([
      [0, null, 1, true],
      [0, null, 1, true],
      [0, null, 0, false],
    ]);
    expect(summary.conversations).toMatchObject({ total: 3, turns: 6, turns_passed: 0, turn_pass_rate: null });
  });
});

describe('conversation evaluators on single runs', () => {
  it('are skipped with a reason, and the summary has no conversations', async () => {
    const dir = experiment([run(0, 'ok then'), run(1, 'nope')]);
    const c = config(evaluators({ type: 'contains', value: 'ok' }, { type: 'max_turns_under', max_turns: 4 }, { type: 'terminated_by', reasons: ['user_satisfied'] }, { type: 'llm_judge', rubric: 'Helpful?', scope: 'conversation' }), { ...LLM_DEFAULTS, base_url: 'http://127.0.0.1:9/v1' });
    const { summary, traces } = await evaluateExperiment({ experimentDir: dir, projectDir: tmp, config: c, redact: NO_REDACTION, report: false });
    const [first, second] = traces as [TraceEvaluation, TraceEvaluation];
    expect('kind' in first).toBe(false);
    expect(first.passed).toBe(true);
    expect(first.evaluators.slice(1).map((e) => [e.skipped, e.reason])).toEqual([
      [true, 'the run is a single call, not a conversation'],
      [true, 'the run is a single call, not a conversation'],
      [true, 'the run is a single call, not a conversation'],
    ]);
    expect(second.reasons[0]).toBe('contains: output does not contain "ok"');
    expect(summary.conversations).toBeUndefined();
    expect(summary.evaluators.every((e) => e.scope === undefined)).toBe(true);
    expect(summary.evaluators[1]).toMatchObject({ skipped: 2, passed: 0 });
  });
});

describe('llm_judge on conversations', () => {
  let fake: FakeOpenAi;
  beforeAll(async () => {
    fake = await startFakeOpenAi((ask) => {
      const [system, user] = ask.body.messages as Array<{ content: string }>;
      if (system!.content.includes('whole conversation')) {
        // The transcript reaches the judge: both sides, in order, and how it ended.
        const whole = /The conversation:\nUser: .+\n\nAgent: .+\n\nUser: /.test(user!.content) && user!.content.includes('It ended: ');
        const resolved = user!.content.includes('It ended: user_satisfied');
        return { text: JSON.stringify({ score: whole && resolved ? 0.9 : 0.3, reason: whole ? (resolved ? 'resolved' : 'left unresolved') : 'no transcript' }) };
      }
      return { text: JSON.stringify({ score: /Sorry/.test(user!.content) ? 0.2 : 0.8, reason: 'judged the reply' }) };
    });
  });
  afterAll(() => fake.close());

  it('judges the whole transcript with scope: conversation, and each reply by default', async () => {
    const dir = experiment(threeConversations().slice(0, 2));
    const llm = { ...LLM_DEFAULTS, base_url: fake.url, max_retries: 0 };
    const c = config(evaluators({ type: 'llm_judge', name: 'reply', rubric: 'Polite?' }, { type: 'llm_judge', name: 'resolved', rubric: 'Solved?', scope: 'conversation' }), llm);
    const { traces, summary } = await evaluateExperiment({ experimentDir: dir, projectDir: tmp, config: c, redact: NO_REDACTION, report: false });
    const [good, long] = traces as [ConversationEvaluation, ConversationEvaluation];
    expect(good.evaluators.map((e) => [e.name, e.score, e.passed])).toEqual([
      ['reply', 0.8, true],
      ['resolved', 0.9, true],
    ]);
    expect(good.passed).toBe(true);
    expect(long.turns.map((t) => t.evaluators[0]!.score)).toEqual([0.8, 0.2, 0.8]);
    expect(long.evaluators[1]).toMatchObject({ score: 0.3, passed: false, reason: 'left unresolved' });
    expect(long.reasons).toEqual(['resolved: left unresolved', 'turn 2: reply: judged the reply']);
    const prompt = fake.asks.find((a) => a.body.messages[1].content.includes('Where is my order?') && a.body.messages[0].content.includes('whole conversation'))!.body.messages[1].content;
    expect(prompt).toBe(
      'Rubric:\nSolved?\n\nThe conversation:\nUser: Where is my order?\n\nAgent: ok, it ships today\n\nUser: Thanks, when exactly?\n\nAgent: ok, by 5 pm\n\nUser: Great, bye\n\nIt ended: user_satisfied',
    );
    // Two transcripts, five replies: each asked once.
    const asks = fake.asks.map((a) => (a.body.messages[0].content.includes('whole conversation') ? 'conversation' : 'turn'));
    expect(asks.filter((a) => a === 'conversation')).toHaveLength(2);
    expect(asks.filter((a) => a === 'turn')).toHaveLength(5);
    expect(summary.evaluators.map((e) => [e.name, e.scope, e.passed + e.failed])).toEqual([
      ['reply', 'turn', 5],
      ['resolved', 'conversation', 2],
    ]);
  });
});

describe('comparing conversations with a baseline', () => {
  it('pairs conversations by recording (or id), input, iteration and resume point, and finds a regression', async () => {
    const before = threeConversations() as ConversationResult[];
    const now = threeConversations() as ConversationResult[];
    // s-1 now fails its second turn; s-3, without a recording, pairs by its id.
    now[0]!.turns[1]!.output = 'no idea';
    now[0]!.trace_id = 'trace-s-1-now';
    // Resumed elsewhere: not the same conversation.
    now[1]!.resumed_from = 2;
    const baseline = experiment(before);
    const current = experiment(now);
    const c = config(evaluators({ type: 'contains', value: 'ok' }, { type: 'similarity' }));
    const { summary, traces } = await evaluateExperiment({ experimentDir: current, baselineDir: baseline, projectDir: tmp, config: c, redact: NO_REDACTION });
    const comparison = summary.comparison!;
    expect(comparison.counts).toMatchObject({ regressions: 1, fixes: 0, new_runs: 1, missing_runs: 1, still_failing: 1 });
    expect(comparison.regressions[0]).toMatchObject({ trace_id: 'trace-s-1-now', baseline_trace_id: 'trace-s-1', conversation_id: 's-1' });
    expect(comparison.regressions[0]!.reasons[0]).toBe('turn 2: contains: output does not contain "ok"');
    expect(comparison.regressions[0]!.reasons[1]).toMatch(/^turn 2: similarity: \d+% like the baseline's output, under 80%$/);
    expect(comparison.new_runs[0]).toMatchObject({ conversation_id: 's-2' });
    expect(comparison.missing_runs[0]).toMatchObject({ conversation_id: 's-2', trace_id: 'trace-s-2' });
    // similarity compares turn by turn with the paired conversation's turns.
    const regressed = traces[0] as ConversationEvaluation;
    expect(regressed.turns.map((t) => t.evaluators[1]!.score === null ? null : t.evaluators[1]!.passed)).toEqual([true, false]);
    const unpaired = traces[1] as ConversationEvaluation;
    expect(unpaired.turns.every((t) => t.evaluators[1]!.skipped)).toBe(true);
    // The report shows the replies beside the baseline's.
    const payload = payloadOf(fs.readFileSync(path.join(current, 'report.html'), 'utf8'));
    const diff = payload.comparison!.regressions[0]!.diff!;
    expect(diff.filter(([side]) => side < 0).map(([, text]) => text).join('')).toContain('ok');
    expect(diff.filter(([side]) => side > 0).map(([, text]) => text).join('')).toContain('no idea');
  });

  it('does not pair single runs with conversations', async () => {
    const baseline = experiment([run(0, 'ok'), run(1, 'ok')]);
    const current = experiment(threeConversations());
    const { summary } = await evaluateExperiment({ experimentDir: current, baselineDir: baseline, projectDir: tmp, config: ruleConfig(), redact: NO_REDACTION, report: false });
    expect(summary.comparison!.counts).toMatchObject({ regressions: 0, fixes: 0, new_runs: 3, missing_runs: 2, still_passing: 0, still_failing: 0 });
  });
});
