import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fake-openai';
// The built package, as an app's tests load it: the run threads start from its files.
import { replay } from '../../dist/index.js';
import { project, readChildren, readExperiment, readRecords, runApp, runCli, type Experiment } from '../e2e/helpers';

/**
 * A tool-calling agent on the `openai` SDK (fixtures/stub-app): the model picks a tool, the agent
 * calls it (a tool of `recording.downstream.targets`), the tool calls a weather API with fetch
 * and a news API with http.request, and the model answers with the result, streamed. The app is
 * recorded once, its downstream calls with it; replays answer the tool and the APIs from the
 * recording, and the fake APIs count their hits.
 */

const WEATHER = 'what is the weather in Oslo?';
const NEWS = 'any news about elections?';

/** A fake HTTP API that answers JSON and counts its hits. */
interface Api {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

async function startApi(answer: (path: string, body: string) => unknown): Promise<Api> {
  const hits: string[] = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(req.url ?? '', body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

let llm: FakeOpenAi;
let weather: Api;
let news: Api;
let env: Record<string, string>;
let dir: string;
/** What the app printed for the weather question, run plain. */
let expected: string;

beforeAll(async () => {
  llm = await startFakeOpenAi((ask) => {
    const messages = ask.body.messages as Array<{ role: string; content: string }>;
    const tool = messages.find((m) => m.role === 'tool');
    if (tool !== undefined) return { text: `Here is what I found: ${tool.content.length} characters of it.`, usage: { input: 40, output: 9 } };
    const question = messages[0]!.content;
    return question.includes('news') ? { toolCalls: [{ name: 'headlines', arguments: { topic: 'elections' } }] } : { toolCalls: [{ name: 'lookup', arguments: { city: 'Oslo' } }] };
  });
  weather = await startApi((url) => ({ city: new URL(url, 'http://x').searchParams.get('city'), sky: 'clear', celsius: 4 }));
  news = await startApi((_url, body) => ({ for: JSON.parse(body), headlines: ['Fjord frozen', 'Trams on time'] }));
  env = { OPENAI_BASE_URL: llm.url, WEATHER_URL: weather.url, NEWS_URL: news.url };
  dir = project('stub-app', ['openai']);
  const plain = await runApp(dir, 'app/main.js', { preload: false, env });
  expect(plain.stderr).toBe('');
  expect(plain.code).toBe(0);
  expected = plain.stdout.trim();
  expect(expected).toMatch(/^Here is what I found/);
  await record();
});

afterAll(async () => {
  await Promise.all([llm?.close(), weather?.close(), news?.close()]);
});

/** The app run once under `node --import fluxloop/register`: the same output, and the call recorded with its downstream calls. */
async function record(): Promise<void> {
  const recorded = await runApp(dir, 'app/main.js', { env });
  expect(recorded.stderr).toBe('');
  expect([recorded.code, recorded.stdout.trim()]).toEqual([0, expected]);
  expect(readRecords(dir).map((l) => l.target)).toEqual(['app/agent.js:answer']);
  const children = [...readChildren(dir)].sort((a, b) => a.seq - b.seq);
  expect(children.map((c) => [c.seq, c.kind, c.name.replace(/:\d+/, ':PORT')])).toEqual([
    [0, 'llm', 'openai chat.completions fake-model'],
    [1, 'tool', 'app/tools.js:lookup'],
    [2, 'http', 'GET 127.0.0.1:PORT/weather'],
    [3, 'http', 'POST 127.0.0.1:PORT/news'],
    [4, 'llm', 'openai chat.completions fake-model'],
    [5, 'tool', 'app/agent.js:signature'],
  ]);
  // The replays start from nothing.
  llm.asks.length = 0;
  weather.hits.length = 0;
  news.hits.length = 0;
}

/** Sets the config's inputs. */
function inputs(list: string[]): void {
  const file = path.join(dir, 'configs', 'simulation.yaml');
  const text = fs.readFileSync(file, 'utf8').replace(/base_inputs:[\s\S]*$/, `base_inputs:\n${list.map((i) => `  - ${JSON.stringify(i)}\n`).join('')}`);
  fs.writeFileSync(file, text);
}

let runs = 0;
/** `fluxloop run experiment` with `args`, into a folder of its own: the experiment, and what each server got meanwhile. */
async function experiment(args: string[] = []): Promise<{ exp: Experiment; llmAsks: number; apiHits: string[]; stdout: string; stderr: string; code: number | null }> {
  const asks = llm.asks.length;
  const hits = [...weather.hits, ...news.hits].length;
  const output = `out-${runs++}`;
  const cli = await runCli(dir, ['run', 'experiment', '--output', output, ...args], env, 60_000);
  if (![0, 1].includes(cli.code ?? -1)) throw new Error(`fluxloop run experiment exited ${cli.code}: ${cli.stderr}`);
  return { exp: readExperiment(dir, output), llmAsks: llm.asks.length - asks, apiHits: [...weather.hits, ...news.hits].slice(hits), stdout: cli.stdout, stderr: cli.stderr, code: cli.code };
}

describe('downstream calls on replay', () => {
  it('by default: the LLM live, the tool and its HTTP APIs answered from the recording; another tool is divergence and an error', async () => {
    inputs([WEATHER, NEWS]);
    const { exp, llmAsks, apiHits } = await experiment();
    expect(apiHits).toEqual([]);
    const [same, other] = [0, 1].map((i) => exp.traces.find((t) => t.input_index === i));
    expect(same.status).toBe('ok');
    expect(same.output).toBe(expected);
    expect(same.divergence).toBeNull();
    expect(same.downstream.map((c: any) => [c.kind, c.name, c.answer, c.matched])).toEqual([
      ['llm', 'openai chat.completions fake-model', 'live', 0],
      ['tool', 'app/tools.js:lookup', 'stub', 1],
      ['llm', 'openai chat.completions fake-model', 'live', 4],
      ['tool', 'app/agent.js:signature', 'stub', 5],
    ]);
    expect(same.downstream[2].usage).toEqual({ input_tokens: 40, output_tokens: 9, total_tokens: 49 });
    // The model met each input: two calls for the one that went the recorded way, one for the other.
    expect(llmAsks).toBe(3);
    expect(other.status).toBe('error');
    expect(other.error.message).toMatch(/no recorded answer for the tool call app\/tools.js:headlines\("elections"\); the closest recorded call is #1 app\/tools.js:lookup\("Oslo"\)/);
    expect(other.divergence).toEqual({
      index: 1,
      kind: 'other_call',
      expected: { kind: 'tool', name: 'app/tools.js:lookup', arguments: ['Oslo'] },
      actual: { kind: 'tool', name: 'app/tools.js:headlines', arguments: ['elections'] },
    });
  });

  it('with llm=stub runs offline and gives the same output every time, the stream replayed to the SDK', async () => {
    inputs([WEATHER]);
    const first = await experiment(['--downstream', 'llm=stub']);
    const second = await experiment(['--downstream', 'llm=stub', '--iterations', '2']);
    expect(first.llmAsks + second.llmAsks).toBe(0);
    expect([...first.apiHits, ...second.apiHits]).toEqual([]);
    const outputs = [...first.exp.traces, ...second.exp.traces].map((t) => [t.status, t.output]);
    expect(outputs).toEqual([0, 1, 2].map(() => ['ok', expected]));
    expect(first.exp.traces[0].downstream.map((c: any) => c.answer)).toEqual(['stub', 'stub', 'stub', 'stub']);
  });

  it('with tools live and http=deny, fails the run with an error naming the request', async () => {
    inputs([WEATHER]);
    const { exp, apiHits } = await experiment(['--downstream', 'tools=live', '--downstream', 'http=deny']);
    expect(apiHits).toEqual([]);
    const [trace] = exp.traces;
    expect(trace.status).toBe('error');
    expect(trace.error.message).toContain(`GET ${new URL(weather.url).host}/weather was denied: replay_args.downstream.http is deny`);
  });

  it('with tools live, answers the tool\'s fetch and http.request from the recording', async () => {
    inputs([WEATHER]);
    const { exp, apiHits } = await experiment(['--downstream', 'tools=live']);
    expect(apiHits).toEqual([]);
    const [trace] = exp.traces;
    expect([trace.status, trace.output]).toEqual(['ok', expected]);
    expect(trace.downstream.map((c: any) => [c.kind, c.answer, c.matched])).toEqual([
      ['llm', 'live', 0],
      ['tool', 'live', 1],
      ['http', 'stub', 2],
      ['http', 'stub', 3],
      ['llm', 'live', 4],
      ['tool', 'live', 5],
    ]);
    expect(trace.divergence).toBeNull();
  });

  it('with unmatched=live, lets the other tool through and says so', async () => {
    inputs([NEWS]);
    const { exp, apiHits, stdout } = await experiment(['--downstream', 'unmatched=live']);
    const [trace] = exp.traces;
    expect(stdout).toContain('made live: 1 HTTP call, 2 tool calls, which may have had side effects');
    expect(trace.status).toBe('ok');
    expect(trace.output).toMatch(/^Here is what I found/);
    // The tool ran, and its request, which the recording has not, went out.
    expect(apiHits).toEqual(['POST /news']);
    expect(trace.warnings.join('\n')).toMatch(/app\/tools.js:headlines.*made live \(replay_args.downstream.unmatched: live\)/);
    expect(trace.divergence).toMatchObject({ index: 1, kind: 'other_call' });
  });

  it('with --max-cost, starts no run once the live LLM calls have cost that much, and exits 1', async () => {
    inputs([WEATHER]);
    const file = path.join(dir, 'configs', 'simulation.yaml');
    const config = fs.readFileSync(file, 'utf8');
    // One run at a time, each costing (15 + 49 tokens) × $1,000 a million: $0.064.
    fs.writeFileSync(file, config.replace('  target: app/agent.js:answer\n', '  target: app/agent.js:answer\n  concurrency: 1\n').replace('base_inputs:', 'pricing:\n  fake-model: { input: 1000, output: 1000 }\n\nbase_inputs:'));
    try {
      const { exp, stdout, stderr, code } = await experiment(['--max-cost', '0.1', '--iterations', '5']);
      expect(code).toBe(1);
      expect(exp.traces.map((t) => [t.status, t.cost_usd])).toEqual([
        ['ok', 0.064],
        ['ok', 0.064],
      ]);
      expect(exp.summary).toMatchObject({ ended: 'stopped', stopped: 'max_cost', max_cost_usd: 0.1, total_runs: 2, planned_runs: 5, cost_usd: 0.128, live_llm_calls: 4 });
      expect(stdout).toMatch(/tokens 100 in \/ 28 out · \$0\.1280 \(4 live LLM calls\)/);
      expect(stderr).toContain('the cost reached --max-cost $0.10');
      expect(stderr).toContain('no new run started, 2 of 5 runs finished');
    } finally {
      fs.writeFileSync(file, config);
    }
  });

  it('takes the same modes and tools in replay(), from a test', async () => {
    const saved = { ...process.env };
    const before = [llm.asks.length, weather.hits.length, news.hits.length];
    Object.assign(process.env, env);
    try {
      const { runs } = await replay({
        target: 'app/agent.js:answer',
        projectDir: dir,
        recordingFile: 'recordings/args_recording.jsonl',
        overrideParamPath: 'args.0',
        inputs: [WEATHER],
        tools: ['app/tools.js:lookup', 'app/agent.js:signature'],
        downstream: { llm: 'stub' },
      });
      expect(runs.map((r) => [r.status, r.output])).toEqual([['ok', expected]]);
      expect(runs[0]!.downstream.map((c) => `${c.kind} ${c.answer}`)).toEqual(['llm stub', 'tool stub', 'llm stub', 'tool stub']);
    } finally {
      process.env = saved;
    }
    expect([llm.asks.length, weather.hits.length, news.hits.length]).toEqual(before);
  });

  it('rejects a --downstream that is not KIND=MODE, with exit 2', async () => {
    const cli = await runCli(dir, ['run', 'experiment', '--downstream', 'http=maybe'], env);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('http takes live, stub, deny, not "maybe"');
  });
});
