import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fake-openai';
import { closedPort, startReceiver, type ReceivedSpan, type Receiver } from '../otlp-receiver';
import { project, readExperiment, runCli } from '../e2e/helpers';

/**
 * OTLP export end to end: fixtures/openai-app's agent (the openai SDK, its fetch a recording
 * target) replayed on two inputs against a fake OpenAI API, its runs exported by the CLI to a
 * small OTLP/HTTP receiver in the test.
 */

const INPUTS = ['What is the capital of France?', 'How many legs does a spider have?'];
const STACK = /\n\s+at /;

let llm: FakeOpenAi;
let dir: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  llm = await startFakeOpenAi(() => ({ text: 'Paris', usage: { input: 21, output: 3 } }));
  dir = project('openai-app', ['openai']);
  const config = {
    name: 'otlp-e2e',
    recording: { targets: ['app/llm.js:answer', 'app/llm.js:loggingFetch'] },
    runner: { target: 'app/llm.js:answer', concurrency: 2 },
    base_inputs: INPUTS,
  };
  fs.writeFileSync(path.join(dir, 'configs', 'simulation.yaml'), JSON.stringify(config, null, 2));
});

afterAll(async () => {
  await Promise.all([llm?.close(), ...receivers.map((r) => r.close())]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

// The test runner's own OpenTelemetry variables must not reach the CLI.
const ENV = { OPENAI_BASE_URL: '', OPENAI_API_KEY: 'test-key', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };

let outputs = 0;
/** `fluxloop <args>` on the project, into an experiments folder of its own for `run experiment`. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const output = `out-${outputs++}`;
  const run = args[0] === 'run' ? [...args, '--output', output] : args;
  const result = await runCli(dir, run, { ...ENV, OPENAI_BASE_URL: llm.url, ...env });
  expect(result.stderr).not.toMatch(STACK);
  return { ...result, output };
}

/** Each root span with the spans of its trace. */
function byRun(spans: ReceivedSpan[]): Array<{ root: ReceivedSpan; spans: ReceivedSpan[] }> {
  return spans.filter((s) => s.parentSpanId === undefined).map((root) => ({ root, spans: spans.filter((s) => s.traceId === root.traceId) }));
}

/** What every run of the fixture must look like: the run's span, its call, the SDK's fetch under it, and the LLM call on the GenAI conventions. */
function expectRun(run: { root: ReceivedSpan; spans: ReceivedSpan[] }, line: any): void {
  const { root, spans } = run;
  expect(root.name).toBe('fluxloop.run app/llm.js:answer');
  expect(root.traceId).toBe(line.trace_id.replace(/-/g, ''));
  expect(root.resource).toMatchObject({ 'service.name': 'fluxloop', 'fluxloop.experiment': 'otlp-e2e' });
  expect(root.attributes).toMatchObject({ 'fluxloop.experiment': 'otlp-e2e', 'fluxloop.trace_id': line.trace_id, 'fluxloop.input': line.input, 'fluxloop.input_index': line.input_index, 'fluxloop.iteration': 0, 'fluxloop.status': 'ok', 'fluxloop.duration_ms': line.duration_ms });
  const call = spans.find((s) => s.name === 'app/llm.js:answer')!;
  expect(call.attributes['fluxloop.observation.type']).toBe('agent');
  expect(call.parentSpanId).toBe(root.spanId);
  expect(spans.find((s) => s.name === 'app/llm.js:loggingFetch')?.parentSpanId).toBe(call.spanId);
  const chat = spans.filter((s) => s.name === 'chat gpt-test');
  expect(chat).toHaveLength(1);
  expect(chat[0]!.parentSpanId).toBe(call.spanId);
  expect(chat[0]!.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-test',
    'gen_ai.usage.input_tokens': 21,
    'gen_ai.usage.output_tokens': 3,
    'fluxloop.downstream.answer': 'live',
  });
}

describe('run experiment --otlp', () => {
  it('exports one root span per run, with the run\'s call, its fetch and its LLM call', async () => {
    const r = await receiver();
    const run = await cli(['run', 'experiment', '--otlp', r.url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`OTLP: 2 runs exported to ${r.url}/v1/traces`);
    expect(run.stderr).not.toContain('warning');
    const exp = readExperiment(dir, run.output);
    expect(exp.traces.map((t) => t.status)).toEqual(['ok', 'ok']);
    const runs = byRun(r.spans);
    expect(runs).toHaveLength(2);
    for (const line of exp.traces) expectRun(runs.find((x) => x.root.attributes['fluxloop.trace_id'] === line.trace_id)!, line);
    expect(r.spans.some((s) => 'fluxloop.evaluation.passed' in s.attributes)).toBe(false);
  });

  it('with --evaluate, exports once the runs are evaluated, with their verdicts', async () => {
    const r = await receiver();
    const run = await cli(['run', 'experiment', '--evaluate', '--otlp', `${r.url}/v1/traces`]);
    expect(run.code, run.stderr).toBe(0);
    const runs = byRun(r.spans);
    expect(runs).toHaveLength(2);
    for (const { root } of runs) expect(root.attributes).toMatchObject({ 'fluxloop.evaluation.passed': true, 'fluxloop.evaluation.score': 1, 'fluxloop.evaluation.failed_evaluators': [] });
    const exp = readExperiment(dir, run.output);
    for (const line of exp.traces) expectRun(runs.find((x) => x.root.attributes['fluxloop.trace_id'] === line.trace_id)!, line);
  });

  it('with a collector that is down: the experiment as without, and one warning naming the URL and why', async () => {
    const port = await closedPort();
    const started = Date.now();
    const run = await cli(['run', 'experiment', '--otlp', `http://127.0.0.1:${port}`]);
    expect(run.code, run.stderr).toBe(0);
    // The exporter's retries end within its 3 s bound.
    expect(Date.now() - started).toBeLessThan(15_000);
    const warnings = run.stderr.split('\n').filter((l) => l.includes('warning'));
    expect(warnings).toEqual([`warning: OTLP export to http://127.0.0.1:${port}/v1/traces failed (connect ECONNREFUSED 127.0.0.1:${port}): 0 of 2 runs exported`]);
    expect(readExperiment(dir, run.output).traces.map((t) => t.status)).toEqual(['ok', 'ok']);
  });

  it('refuses an endpoint that is not an http(s) URL, from the flag or the environment, with exit 2', async () => {
    const flag = await cli(['run', 'experiment', '--otlp', 'collector:4318']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('"collector:4318" is not an http(s) URL');
    const env = await cli(['run', 'experiment'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('OTEL_EXPORTER_OTLP_ENDPOINT "collector:4318" is not an http(s) URL');
    expect(fs.existsSync(path.join(dir, env.output))).toBe(false);
  });
});

describe('evaluate experiment --otlp', () => {
  it('exports the folder\'s runs with their verdicts; OTEL_EXPORTER_OTLP_ENDPOINT turns it on, with OTEL_EXPORTER_OTLP_HEADERS sent', async () => {
    const made = await cli(['run', 'experiment']);
    expect(made.code, made.stderr).toBe(0);
    const exp = readExperiment(dir, made.output);
    const r = await receiver();
    const evaluated = await cli(['evaluate', 'experiment', exp.dir], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-team=evals' });
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stderr).toContain(`OTLP: 2 runs exported to ${r.url}/v1/traces`);
    expect(r.requests.length).toBeGreaterThan(0);
    expect(r.requests.every((q) => q.headers['x-team'] === 'evals')).toBe(true);
    const runs = byRun(r.spans);
    expect(runs).toHaveLength(2);
    for (const line of exp.traces) {
      const run = runs.find((x) => x.root.attributes['fluxloop.trace_id'] === line.trace_id)!;
      expectRun(run, line);
      expect(run.root.attributes).toMatchObject({ 'fluxloop.evaluation.passed': true, 'fluxloop.evaluation.score': 1, 'fluxloop.evaluation.failed_evaluators': [] });
    }
  });
});
