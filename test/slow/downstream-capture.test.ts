import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fake-openai';
import { expectSameRun, project, readChildren, readExperiment, readRecords, recordTwice, recordingPath, runCli, type ChildLine, type RecordLine, type Run } from '../e2e/helpers';

/**
 * An agent whose recorded function calls an LLM through the `openai` SDK (plain, streamed with
 * usage, a tool call), Vercel `ai`, LangChain and `@anthropic-ai/sdk` (streamed), two tool APIs through `http.request` and
 * `fetch`, and a tool function listed in `recording.downstream.targets`: each call is recorded as
 * a child of the agent's record, in the order it started, redacted.
 */

const FIXTURE = 'downstream-app';
const PACKAGES = ['openai', 'ai', '@ai-sdk/openai', '@langchain/openai', '@langchain/core', '@anthropic-ai/sdk'];
const API_KEY = 'sk-test-abcdefghijklmnopqrstuv';
const TOOL_KEY = 'tool-key-0123456789abcdef';
const QUESTION = 'What is the weather in Paris?';

let llm: FakeOpenAi;
let tools: { url: string; hits: string[]; close(): Promise<void> };
let plain: Run;
let recorded: Run;
let records: RecordLine[];
let children: ChildLine[];
let text: string;
let dir: string;
let env: Record<string, string>;

/** A fake tool API on 127.0.0.1 that counts its hits: `/search` and `/forecast`, each answering JSON from what it was sent. */
async function startToolApi(): Promise<typeof tools> {
  const hits: string[] = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    hits.push(`${req.method} ${req.url}`);
    const sent = JSON.parse(body || '{}') as Record<string, unknown>;
    const reply = req.url === '/search' ? { results: [`about: ${String(sent.query)}`] } : { city: sent.city, days: ['sun', 'cloud'] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

beforeAll(async () => {
  llm = await startFakeOpenAi((ask) => {
    const model = ask.body.model as string;
    if (model === 'gpt-stream') return { text: 'Sunny in Paris', usage: { input: 11, output: 3 } };
    if (model === 'gpt-tools') return { toolCalls: [{ name: 'lookup_weather', arguments: { city: 'Paris' } }], usage: { input: 20, output: 7 } };
    const content = ask.body.messages.at(-1).content;
    return { text: `${model}: ${typeof content === 'string' ? content : JSON.stringify(content)}`, usage: { input: 1, output: 1 } };
  });
  tools = await startToolApi();
  dir = project(FIXTURE, PACKAGES);
  env = { LLM_URL: llm.url, TOOL_URL: tools.url, OPENAI_API_KEY: API_KEY, TOOL_API_KEY: TOOL_KEY };
  ({ plain, recorded } = await recordTwice(dir, 'app/main.js', env));
  records = readRecords(dir);
  children = readChildren(dir);
  text = fs.readFileSync(recordingPath(dir), 'utf8');
}, 120_000);

afterAll(async () => {
  await llm?.close();
  await tools?.close();
});

/** The child of `kind` at `seq`. */
function child(seq: number): ChildLine {
  const found = children.find((c) => c.seq === seq);
  if (found === undefined) throw new Error(`no child with seq ${seq}`);
  return found;
}

describe('downstream calls of a recorded call', () => {
  it('runs as it does without fluxloop', () => {
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe('');
    const [answer, outside] = plain.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(answer).toMatchObject({ plain: `gpt-plain: ${QUESTION}`, streamed: 'Sunny in Paris', tool: 'lookup_weather', weather: { city: 'Paris', forecast: 'sunny' } });
    expect(answer.vercel).toBe(`gpt-vercel: ${QUESTION}`);
    expect(answer.langchain).toBe(`gpt-langchain: ${QUESTION}`);
    expect(answer.claude).toBe(`claude-fake: ${QUESTION}`);
    expect(answer.search).toEqual({ results: [`about: ${QUESTION}`] });
    expect(answer.forecast).toEqual({ city: 'Paris', days: ['sun', 'cloud'] });
    expect(outside).toMatchObject({ city: 'Oslo' });
    expectSameRun(plain, recorded);
    // Each run hit each tool API once: the recorder sent nothing of its own.
    expect(tools.hits).toEqual(['POST /search', 'POST /forecast?days=2', 'POST /search', 'POST /forecast?days=2']);
  });

  it('gives the recorded call an id, which each of its children names as parent', () => {
    expect(records).toHaveLength(1);
    expect(records[0]!.id).toMatch(/^[0-9a-f]{8}-0$/);
    expect(Object.keys(records[0]!).slice(0, 5)).toEqual(['_version', 'function', 'target', 'iteration', 'id']);
    expect(children.length).toBeGreaterThan(0);
    for (const c of children) expect(c.parent).toBe(records[0]!.id);
  });

  it('records each downstream call once, numbered in the order they started, with its kind and name', () => {
    expect(children.map((c) => c.seq).sort((a, b) => a - b)).toEqual(children.map((_, i) => i));
    const ordered = [...children].sort((a, b) => a.seq - b.seq);
    expect(ordered.map((c) => [c.kind, c.name])).toEqual([
      ['llm', 'openai chat.completions gpt-plain'],
      ['llm', 'openai chat.completions gpt-stream'],
      ['llm', 'openai chat.completions gpt-tools'],
      ['tool', 'app/tools.js:lookupWeather'],
      ['llm', 'openai chat.completions gpt-vercel'],
      ['llm', 'openai chat.completions gpt-langchain'],
      ['http', `POST ${new URL(tools.url).host}/search`],
      ['http', `POST ${new URL(tools.url).host}/forecast`],
      ['llm', 'anthropic messages claude-fake'],
    ]);
    for (const c of ordered) {
      expect(c).toMatchObject({ _version: '1', meta: { pid: expect.any(Number) }, timestamp: expect.stringMatching(/^\d{4}-/) });
      expect(c.started_ms).toBeGreaterThanOrEqual(0);
      expect(c.duration_ms).toBeGreaterThanOrEqual(0);
    }
    // Started in order: each after the one before.
    for (let i = 1; i < ordered.length; i++) expect(ordered[i]!.started_ms).toBeGreaterThanOrEqual(ordered[i - 1]!.started_ms);
  });

  it('keeps an LLM call as its request, its response and the call: model, messages, answer, usage', () => {
    const c = child(0);
    expect(c.request).toMatchObject({ method: 'POST', url: `${llm.url}/chat/completions`, body: { model: 'gpt-plain', messages: [{ role: 'user', content: QUESTION }] } });
    expect(c.response).toMatchObject({ status: 200, body: { object: 'chat.completion' } });
    expect(c.response!.chunks).toBeUndefined();
    expect(c.llm).toMatchObject({
      provider: 'openai',
      api: 'chat.completions',
      model: 'gpt-plain',
      messages: [{ role: 'user', content: QUESTION }],
      stream: false,
      response: { text: `gpt-plain: ${QUESTION}`, tool_calls: [], finish_reason: 'stop' },
      usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 },
    });
  });

  it('keeps a streamed answer chunk by chunk, put together, with the usage of its last chunk', () => {
    const c = child(1);
    expect(c.request!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(c.response!.headers['content-type']).toMatch(/text\/event-stream/);
    const chunks = c.response!.chunks!;
    expect(chunks.join('')).toBe(c.response!.body);
    expect(chunks.join('')).toContain('data: [DONE]');
    // Written a few ms apart, they arrive apart: more than one piece.
    expect(chunks.length).toBeGreaterThan(1);
    expect(c.llm).toMatchObject({ model: 'gpt-stream', stream: true, response: { text: 'Sunny in Paris', finish_reason: 'stop' }, usage: { input_tokens: 11, output_tokens: 3, total_tokens: 14 } });
  });

  it('keeps the tools offered and the tool call the model chose, then the tool function called', () => {
    expect(child(2).llm).toMatchObject({
      model: 'gpt-tools',
      tools: [{ type: 'function', function: { name: 'lookup_weather' } }],
      response: { text: null, tool_calls: [{ name: 'lookup_weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_calls' },
      usage: { input_tokens: 20, output_tokens: 7, total_tokens: 27 },
    });
    const tool = child(3);
    expect(tool).toMatchObject({ kind: 'tool', target: 'app/tools.js:lookupWeather', args: ['Paris'], output: { city: 'Paris', forecast: 'sunny', temp_c: 21 }, async: true });
    expect(tool.error).toBeUndefined();
    // The call outside the recorded call (Oslo) is not recorded.
    expect(text).not.toContain('Oslo');
  });

  it('sees the calls of Vercel ai, LangChain and Anthropic\'s SDK, which took fetch when their clients were made', () => {
    expect(child(4).llm).toMatchObject({ model: 'gpt-vercel', response: { text: `gpt-vercel: ${QUESTION}` } });
    expect(child(5).llm).toMatchObject({ model: 'gpt-langchain', response: { text: `gpt-langchain: ${QUESTION}` } });
    expect(child(8).llm).toMatchObject({
      provider: 'anthropic',
      api: 'messages',
      model: 'claude-fake',
      stream: true,
      messages: { system: null, messages: [{ role: 'user', content: QUESTION }] },
      response: { text: `claude-fake: ${QUESTION}`, finish_reason: 'end_turn' },
      usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 },
    });
    expect(child(8).request!.headers.authorization).toBe('***');
  });

  it('keeps http.request and fetch calls: method, URL, headers, the bodies written and read', () => {
    const search = child(6);
    expect(search.request).toMatchObject({ method: 'POST', url: `${tools.url}/search`, headers: { 'content-type': 'application/json' } });
    // Written in two pieces, recorded whole.
    expect(search.request!.body).toMatchObject({ query: QUESTION });
    expect(search.response).toMatchObject({ status: 200, status_text: 'OK', body: { results: [`about: ${QUESTION}`] } });
    const forecast = child(7);
    expect(forecast.request).toMatchObject({ method: 'POST', url: `${tools.url}/forecast?days=2`, body: { city: 'Paris' } });
    expect(forecast.response).toMatchObject({ status: 200, body: { city: 'Paris', days: ['sun', 'cloud'] } });
    expect(forecast.llm).toBeUndefined();
  });

  it('masks the API keys: Authorization headers and a key in a body', () => {
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(TOOL_KEY);
    for (const c of children.filter((c) => c.kind !== 'tool')) expect(c.request!.headers.authorization).toBe('***');
    expect((child(6).request!.body as { api_key: string }).api_key).toBe('***');
  });

  it('replays offline with everything stubbed: each SDK reads its recorded answer again, and nothing leaves the process', async () => {
    const asks = llm.asks.length;
    const hits = tools.hits.length;
    const cli = await runCli(dir, ['run', 'experiment', '--downstream', 'llm=stub', '--output', 'stubbed'], env, 60_000);
    expect(cli.code).toBe(0);
    const [trace] = readExperiment(dir, 'stubbed').traces;
    expect(trace.status).toBe('ok');
    expect(trace.output).toEqual(JSON.parse(plain.stdout.trim().split('\n')[0]!));
    expect(trace.divergence).toBeNull();
    expect(trace.downstream.map((c: { kind: string; answer: string }) => `${c.kind} ${c.answer}`)).toEqual([...children].sort((a, b) => a.seq - b.seq).filter((c) => c.within === undefined).map((c) => `${c.kind} stub`));
    expect([llm.asks.length - asks, tools.hits.length - hits]).toEqual([0, 0]);
  });
});

