import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fake-openai';
import { project, readExperiment, recordingPath, runApp, runCli, type Experiment } from '../e2e/helpers';

/**
 * A tool-calling agent on the `openai` SDK (fixtures/stub-app): the model picks a tool, the agent
 * calls it (a tool of `recording.downstream.targets`), the tool calls a weather API with fetch
 * and a news API with http.request, and the model answers with the result, streamed. Replays
 * answer the tool and the APIs from the recording; the fake APIs count their hits.
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
  await writeRecording();
});

afterAll(async () => {
  await Promise.all([llm?.close(), weather?.close(), news?.close()]);
});

/**
 * The recording of the weather question, in the documented format: the call's line with its
 * `id`, then one line per downstream call, written as each ended. The answers are the servers'
 * own, asked as the app asks them.
 */
async function writeRecording(): Promise<void> {
  const id = '0badcafe-1';
  const question = WEATHER;
  const children: unknown[] = [];
  let seq = 0;
  const child = (kind: string, name: string, started: number, duration: number, fields: object) =>
    children.push({ _version: '1', parent: id, seq: seq++, kind, name, started_ms: started, duration_ms: duration, ...fields, timestamp: '2026-11-28T00:00:00.000Z', meta: { pid: 1 } });
  const ask = async (asked: object) => {
    // A copy: the app's messages grow after each call.
    const body = JSON.parse(JSON.stringify(asked));
    const response = await fetch(`${llm.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const chunks: string[] = [];
    const decoder = new TextDecoder();
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) chunks.push(decoder.decode(bytes, { stream: true }));
    const text = chunks.join('');
    const streamed = body.stream === true;
    return {
      request: { method: 'POST', url: `${llm.url}/chat/completions`, headers: { 'content-type': 'application/json', authorization: '***' }, body },
      response: { status: 200, status_text: 'OK', headers: { 'content-type': response.headers.get('content-type')! }, body: streamed ? text : JSON.parse(text), ...(streamed ? { chunks } : {}) },
    };
  };
  const toolsOffered = [
    { type: 'function', function: { name: 'lookup', description: 'weather and news of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    { type: 'function', function: { name: 'headlines', description: 'headlines on a topic', parameters: { type: 'object', properties: { topic: { type: 'string' } } } } },
  ];
  const messages: unknown[] = [{ role: 'user', content: question }];
  const first = await ask({ model: 'fake-model', messages, tools: toolsOffered });
  const message = (first.response.body as any).choices[0].message;
  const llmOf = (exchange: { request: { body: any } }, usage: object, answer: object, stream: boolean) => ({
    provider: 'openai',
    api: 'chat.completions',
    model: 'fake-model',
    messages: exchange.request.body.messages,
    tools: exchange.request.body.tools ?? null,
    stream,
    response: answer,
    usage,
  });
  child('llm', 'openai chat.completions fake-model', 0, 5, {
    ...first,
    llm: llmOf(first, { input_tokens: 10, output_tokens: 5, total_tokens: 15 }, { text: null, tool_calls: [{ name: 'lookup', arguments: { city: 'Oslo' } }], finish_reason: 'tool_calls' }, false),
  });
  const weatherUrl = `${weather.url}/weather?city=Oslo`;
  const weatherBody = await (await fetch(weatherUrl)).json();
  const newsBody = await (await fetch(`${news.url}/news`, { method: 'POST', body: JSON.stringify({ city: 'Oslo' }) })).json();
  const output = { weather: weatherBody, news: newsBody };
  const host = (url: string) => new URL(url).host;
  // The tool's own calls, inside it in time; the tool's line is written last, when it ended.
  child('tool', 'app/tools.js:lookup', 10, 20, { target: 'app/tools.js:lookup', args: ['Oslo'], output, async: true });
  child('http', `GET ${host(weather.url)}/weather`, 11, 3, {
    request: { method: 'GET', url: weatherUrl, headers: {}, body: null },
    response: { status: 200, status_text: 'OK', headers: { 'content-type': 'application/json' }, body: weatherBody },
  });
  child('http', `POST ${host(news.url)}/news`, 15, 3, {
    request: { method: 'POST', url: `${news.url}/news`, headers: { 'content-type': 'application/json' }, body: { city: 'Oslo' } },
    response: { status: 200, status_text: 'OK', headers: { 'content-type': 'application/json' }, body: newsBody },
  });
  messages.push(message, { role: 'tool', tool_call_id: 'call_0', content: JSON.stringify(output) });
  const second = await ask({ model: 'fake-model', messages, stream: true, stream_options: { include_usage: true } });
  child('llm', 'openai chat.completions fake-model', 40, 5, {
    ...second,
    llm: llmOf(second, { input_tokens: 40, output_tokens: 9, total_tokens: 49 }, { text: expected, tool_calls: [], finish_reason: 'stop' }, true),
  });
  const [llm0, toolLine, get, post, llm1] = children;
  const parent = { _version: '1', function: 'answer', target: 'app/agent.js:answer', iteration: 0, id, args: [question], kwargs: {}, timestamp: '2026-11-28T00:00:00.000Z', meta: { pid: 1 } };
  const lines = [parent, llm0, get, post, toolLine, llm1].map((l) => JSON.stringify(l));
  fs.mkdirSync(path.dirname(recordingPath(dir)), { recursive: true });
  fs.writeFileSync(recordingPath(dir), `${lines.join('\n')}\n`);
  // Making the recording asked the servers; the replays start from nothing.
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
async function experiment(args: string[] = []): Promise<{ exp: Experiment; llmAsks: number; apiHits: string[]; stderr: string }> {
  const asks = llm.asks.length;
  const hits = [...weather.hits, ...news.hits].length;
  const output = `out-${runs++}`;
  const cli = await runCli(dir, ['run', 'experiment', '--output', output, ...args], env, 60_000);
  if (![0, 1].includes(cli.code ?? -1)) throw new Error(`fluxloop run experiment exited ${cli.code}: ${cli.stderr}`);
  return { exp: readExperiment(dir, output), llmAsks: llm.asks.length - asks, apiHits: [...weather.hits, ...news.hits].slice(hits), stderr: cli.stderr };
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
    expect(first.exp.traces[0].downstream.map((c: any) => c.answer)).toEqual(['stub', 'stub', 'stub']);
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
    ]);
    expect(trace.divergence).toBeNull();
  });

  it('with unmatched=live, lets the other tool through and says so', async () => {
    inputs([NEWS]);
    const { exp, apiHits } = await experiment(['--downstream', 'unmatched=live']);
    const [trace] = exp.traces;
    expect(trace.status).toBe('ok');
    expect(trace.output).toMatch(/^Here is what I found/);
    // The tool ran, and its request, which the recording has not, went out.
    expect(apiHits).toEqual(['POST /news']);
    expect(trace.warnings.join('\n')).toMatch(/app\/tools.js:headlines.*made live \(replay_args.downstream.unmatched: live\)/);
    expect(trace.divergence).toMatchObject({ index: 1, kind: 'other_call' });
  });

  it('rejects a --downstream that is not KIND=MODE, with exit 2', async () => {
    const cli = await runCli(dir, ['run', 'experiment', '--downstream', 'http=maybe'], env);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('http takes live, stub, deny, not "maybe"');
  });
});
