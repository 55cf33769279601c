import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { otlpEndpoint } from '../../src/cli/otlp';
import { createOtlpExport, otlpTracesUrl } from '../../src/experiment/otlp';
import { exportExperimentFolder } from '../../src/experiment/otlp-folder';
import type { EvaluatorResult, TraceEvaluation } from '../../src/experiment/evaluation/types';
import type { RunResult } from '../../src/replay/execute';
import type { Observation } from '../../src/trace/observations';
import { conversation, turn } from '../conversation-lines';
import { closedPort, startReceiver, type ReceivedSpan, type Receiver } from '../otlp-receiver';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const RUN_ID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

function run(extra: Partial<RunResult> = {}): RunResult {
  return {
    trace_id: RUN_ID,
    iteration: 1,
    recording_index: 0,
    recording_line: 3,
    recording_file: 'recordings/args_recording.jsonl',
    target: 'app/agent.js:handle',
    input: 'where is my order?',
    input_index: 2,
    metadata: {},
    override_param_path: 'kwargs.message',
    override_location: 'args.1',
    args: ['u1', 'where is my order?'],
    output: 'on its way',
    frames: null,
    first_frame_ms: null,
    status: 'ok',
    error: null,
    duration_ms: 120,
    attempts: 1,
    messages: [],
    warnings: [],
    observation_count: 2,
    downstream: [
      { seq: 0, kind: 'llm', name: 'openai chat.completions gpt-4o', answer: 'live', matched: 0, started_ms: 10, duration_ms: 50, status: 200, model: 'gpt-4o-2024-08-06', usage: { input_tokens: 12, output_tokens: 7, total_tokens: 19 } },
      { seq: 1, kind: 'http', name: 'GET api.example.com/orders', answer: 'stub', matched: 1, started_ms: 70, duration_ms: 5, status: 200 },
    ],
    divergence: null,
    usage: { input_tokens: 12, output_tokens: 7, total_tokens: 19 },
    cost_usd: 0.0001,
    ...extra,
  };
}

/** The run's own observation and a tool under it, in the order they ended (the tool first), as observations.jsonl has them. */
function observations(traceId = RUN_ID): Observation[] {
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  return [
    { id: 'tool-1', trace_id: traceId, parent_id: 'agent-1', name: 'app/tools.js:lookup', type: 'span', start_time: at(20), end_time: at(40), duration_ms: 20, input: [{ id: 7 }], error: { name: 'RangeError', message: 'no such order' } },
    { id: 'agent-1', trace_id: traceId, parent_id: null, name: 'handle', type: 'agent', start_time: at(0), end_time: at(120), duration_ms: 120.5, input: ['u1', 'where is my order?'], output: 'on its way' },
  ];
}

const lines = (values: unknown[]) => values.map((v) => `${JSON.stringify(v)}\n`).join('');

const evaluator = (name: string, passed: boolean, skipped = false): EvaluatorResult => ({ name, type: 'contains', weight: 1, score: passed ? 1 : 0, passed, skipped, reason: '' });

function verdict(traceId: string, passed: boolean, evaluators: EvaluatorResult[]): TraceEvaluation {
  return { trace_id: traceId, input: '', iteration: 0, recording_index: null, recording_line: null, recording_file: null, status: 'ok', duration_ms: 0, metadata: {}, score: 0.5, passed, reasons: [], evaluators };
}

const named = (spans: ReceivedSpan[], name: string) => {
  const found = spans.filter((s) => s.name === name);
  expect(found, `one span ${name} among ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
  return found[0]!;
};

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  vi.restoreAllMocks();
});

describe('otlpTracesUrl', () => {
  it('appends /v1/traces to a base URL, as the OTel spec reads OTEL_EXPORTER_OTLP_ENDPOINT, and keeps one that has it', () => {
    expect(otlpTracesUrl('http://localhost:4318', '--otlp')).toBe('http://localhost:4318/v1/traces');
    expect(otlpTracesUrl('http://collector:4318/', '--otlp')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl('https://otel.example.com/prefix', '--otlp')).toBe('https://otel.example.com/prefix/v1/traces');
    expect(otlpTracesUrl('http://localhost:4318/v1/traces', '--otlp')).toBe('http://localhost:4318/v1/traces');
  });

  it('refuses what is not an http(s) URL, naming where it came from', () => {
    expect(() => otlpTracesUrl('localhost:4318', 'OTEL_EXPORTER_OTLP_ENDPOINT')).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT "localhost:4318" is not an http\(s\) URL/);
    expect(() => otlpTracesUrl('not a url', '--otlp')).toThrow(/--otlp "not a url" is not a URL/);
  });
});

describe('otlpEndpoint', () => {
  it('takes --otlp, else the traces variable as it is, else the general one with /v1/traces; an empty one is unset', () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://base:4318');
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'http://traces:4318/custom');
    try {
      expect(otlpEndpoint('http://flag:4318/v1/traces')).toBe('http://flag:4318/v1/traces');
      expect(otlpEndpoint(undefined)).toBe('http://traces:4318/custom');
      vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '');
      expect(otlpEndpoint(undefined)).toBe('http://base:4318/v1/traces');
      vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', ' ');
      expect(otlpEndpoint(undefined)).toBeUndefined();
      vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'grpc://traces:4317');
      expect(() => otlpEndpoint(undefined)).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT "grpc:\/\/traces:4317" is not an http\(s\) URL/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('OTLP export', () => {
  it('sends a run as a root span with its observations nested by parent and its LLM call on the GenAI conventions', async () => {
    receiver = await startReceiver();
    const url = otlpTracesUrl(receiver.url, '--otlp');
    const exporter = createOtlpExport({ url, experiment: 'support' });
    const failedRun = run({ trace_id: 'a0000000-0000-4000-8000-000000000002', status: 'error', error: { name: 'TypeError', message: 'boom' }, downstream: [], observation_count: 0, input: 'hi' });
    exporter.add(JSON.stringify(run()), lines(observations()), verdict(RUN_ID, false, [evaluator('contains', false), evaluator('success', true), evaluator('judge', false, true)]));
    exporter.add(JSON.stringify(failedRun), '');
    expect(await exporter.close()).toEqual({ exported: 2 });
    const spans = receiver.spans;
    expect(receiver.requests.map((r) => [r.path, r.headers['content-type']])).toContainEqual(['/v1/traces', 'application/json']);
    expect(spans).toHaveLength(6);
    expect(new Set(spans.map((s) => JSON.stringify(s.resource)))).toEqual(new Set([JSON.stringify({ 'service.name': 'fluxloop', 'service.version': spans[0]!.resource['service.version'], 'fluxloop.experiment': 'support' })]));

    const roots = spans.filter((s) => s.parentSpanId === undefined);
    expect(roots.map((s) => s.name)).toEqual(['fluxloop.run app/agent.js:handle', 'fluxloop.run app/agent.js:handle']);
    const root = roots.find((s) => s.attributes['fluxloop.trace_id'] === RUN_ID)!;
    // The run's trace id is its fluxloop trace id; its time is its own call's.
    expect(root.traceId).toBe(RUN_ID.replace(/-/g, ''));
    expect(root.start).toBe(T0);
    expect(root.end).toBeCloseTo(T0 + 120.5, 3);
    expect(root.status.code ?? 0).toBe(0);
    expect(root.attributes).toEqual({
      'fluxloop.experiment': 'support',
      'fluxloop.trace_id': RUN_ID,
      'fluxloop.target': 'app/agent.js:handle',
      'fluxloop.iteration': 1,
      'fluxloop.input': 'where is my order?',
      'fluxloop.input_index': 2,
      'fluxloop.recording_line': 3,
      'fluxloop.recording_file': 'recordings/args_recording.jsonl',
      'fluxloop.status': 'ok',
      'fluxloop.duration_ms': 120,
      'fluxloop.attempts': 1,
      'fluxloop.cost_usd': 0.0001,
      'fluxloop.evaluation.passed': false,
      'fluxloop.evaluation.score': 0.5,
      // A skipped evaluator did not fail.
      'fluxloop.evaluation.failed_evaluators': ['contains'],
    });

    const agent = named(spans, 'handle');
    const tool = named(spans, 'app/tools.js:lookup');
    const llm = named(spans, 'chat gpt-4o');
    const http = named(spans, 'GET api.example.com/orders');
    expect([agent.parentSpanId, tool.parentSpanId, llm.parentSpanId, http.parentSpanId]).toEqual([root.spanId, agent.spanId, agent.spanId, agent.spanId]);
    expect(new Set([agent, tool, llm, http].map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    expect(agent.attributes).toMatchObject({ 'fluxloop.observation.type': 'agent', 'fluxloop.observation.output': '"on its way"' });
    expect(tool.status).toEqual({ code: 2, message: 'no such order' });
    expect(tool.attributes['error.type']).toBe('RangeError');
    // SpanKind.CLIENT; at the run's start plus the call's offset.
    expect(llm.kind).toBe(3);
    expect(llm.start).toBe(T0 + 10);
    expect(llm.end).toBe(T0 + 60);
    expect(llm.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      'http.response.status_code': 200,
      'fluxloop.downstream.kind': 'llm',
      'fluxloop.downstream.answer': 'live',
      'fluxloop.downstream.seq': 0,
    });
    expect(http.attributes).toMatchObject({ 'fluxloop.downstream.answer': 'stub', 'http.response.status_code': 200 });

    const failed = roots.find((s) => s.attributes['fluxloop.trace_id'] !== RUN_ID)!;
    expect(failed.status).toEqual({ code: 2, message: 'boom' });
    expect(failed.attributes).toMatchObject({ 'fluxloop.status': 'error', 'error.type': 'TypeError', 'fluxloop.input': 'hi' });
    expect(failed.attributes['fluxloop.evaluation.passed']).toBeUndefined();
  });

  it('sends a conversation as one span with a span per turn, each turn with its observations and its verdict', async () => {
    receiver = await startReceiver();
    const exporter = createOtlpExport({ url: otlpTracesUrl(receiver.url, '--otlp'), experiment: 'chat' });
    const c = conversation('c1', 'my order never came', [
      turn(1, 'my order never came', 'sorry', { observations: observations('x:1'), downstream: run().downstream.slice(0, 1) }),
      turn(2, 'and now?', null, { status: 'error', error: { name: 'Error', message: 'agent failed' } }),
    ]);
    const evaluation = { ...verdict(c.trace_id, false, [evaluator('max_turns_under', true)]), kind: 'conversation', turns: [{ turn: 1, score: 1, passed: true, reasons: [], evaluators: [] }, { turn: 2, score: 0, passed: false, reasons: [], evaluators: [evaluator('not_contains', false)] }] };
    exporter.add(JSON.stringify(c), '', evaluation as never);
    expect(await exporter.close()).toEqual({ exported: 1 });
    const spans = receiver.spans;
    const root = named(spans, 'fluxloop.conversation app/agent.js:reply');
    expect(root.parentSpanId).toBeUndefined();
    expect(root.status.code).toBe(2);
    expect(root.attributes).toMatchObject({ 'fluxloop.conversation_id': 'c1', 'fluxloop.turn_count': 2, 'fluxloop.termination_reason': 'user_satisfied', 'fluxloop.evaluation.passed': false });
    const first = named(spans, 'fluxloop.turn 1');
    const second = named(spans, 'fluxloop.turn 2');
    expect([first.parentSpanId, second.parentSpanId]).toEqual([root.spanId, root.spanId]);
    expect(first.attributes).toMatchObject({ 'fluxloop.turn': 1, 'fluxloop.user_message': 'my order never came', 'fluxloop.status': 'ok', 'fluxloop.evaluation.passed': true });
    expect(second.attributes).toMatchObject({ 'fluxloop.status': 'error', 'fluxloop.evaluation.passed': false, 'fluxloop.evaluation.failed_evaluators': ['not_contains'] });
    expect(second.status).toEqual({ code: 2, message: 'agent failed' });
    // The second turn, without observations, comes after the first.
    expect(second.start).toBeGreaterThanOrEqual(first.end);
    expect(named(spans, 'handle').parentSpanId).toBe(first.spanId);
    expect(named(spans, 'chat gpt-4o').parentSpanId).toBe(named(spans, 'handle').spanId);
  });

  it('reads an experiment folder line by line, each run with its own observations and verdict', async () => {
    receiver = await startReceiver();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxloop-otlp-'));
    try {
      const second = 'b0000000-0000-4000-8000-000000000002';
      fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ name: 'support' }));
      fs.writeFileSync(path.join(dir, 'traces.jsonl'), lines([run(), run({ trace_id: second, input: 'two' })]) + '{"cut');
      fs.writeFileSync(path.join(dir, 'observations.jsonl'), lines([...observations(), ...observations(second)]));
      const result = await exportExperimentFolder({ url: otlpTracesUrl(receiver.url, '--otlp'), dir, evaluations: [verdict(second, true, [evaluator('success', true)])] });
      expect(result).toEqual({ exported: 2 });
      const roots = receiver.spans.filter((s) => s.parentSpanId === undefined);
      expect(roots.map((s) => [s.attributes['fluxloop.input'], s.attributes['fluxloop.evaluation.passed'], s.resource['fluxloop.experiment']])).toEqual([
        ['where is my order?', undefined, 'support'],
        ['two', true, 'support'],
      ]);
      for (const root of roots) {
        const agents = receiver.spans.filter((s) => s.name === 'handle' && s.traceId === root.traceId);
        expect(agents.map((s) => s.parentSpanId)).toEqual([root.spanId]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never throws nor prints when the collector is down, and says so once at close, within its bound', async () => {
    const port = await closedPort();
    const url = otlpTracesUrl(`http://127.0.0.1:${port}`, '--otlp');
    const written = vi.spyOn(process.stderr, 'write');
    const logged = vi.spyOn(console, 'error');
    const exporter = createOtlpExport({ url, experiment: 'support', timeoutMs: 300 });
    exporter.add(JSON.stringify(run()), lines(observations()));
    exporter.add('not json', '');
    await exporter.flush();
    // After the failure, runs are counted and not sent.
    exporter.add(JSON.stringify(run()), '');
    const started = Date.now();
    const result = await exporter.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.exported).toBe(0);
    expect(result.warning).toMatch(new RegExp(`^OTLP export to http://127\\.0\\.0\\.1:${port}/v1/traces failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\): 0 of 3 runs exported$`));
    expect(written).not.toHaveBeenCalled();
    expect(logged).not.toHaveBeenCalled();
    // Closed twice, the same answer.
    expect(await exporter.close()).toBe(result);
  });

  it('names the status of a collector that answers an error, and bounds one that never answers', async () => {
    receiver = await startReceiver(400);
    const refused = createOtlpExport({ url: otlpTracesUrl(receiver.url, '--otlp'), experiment: 'support', timeoutMs: 300 });
    refused.add(JSON.stringify(run()), '');
    expect((await refused.close()).warning).toMatch(/failed \(HTTP 400 Bad Request\): 0 of 1 run exported$/);
    await receiver.close();

    receiver = await startReceiver('hang');
    const slow = createOtlpExport({ url: otlpTracesUrl(receiver.url, '--otlp'), experiment: 'support', timeoutMs: 300 });
    slow.add(JSON.stringify(run()), '');
    const started = Date.now();
    const result = await slow.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.warning).toMatch(/failed \(Request timed out\): 0 of 1 run exported$/);
    expect(receiver.requests).toHaveLength(1);
  });
});
