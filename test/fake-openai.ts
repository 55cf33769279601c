import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake LLM API on 127.0.0.1 that speaks what the SDKs expect: OpenAI chat completions and
 * responses, and Anthropic messages, each plain or streamed (Server-Sent Events, with usage), with
 * tool calls. `answer` decides the reply from the request; the server words it for the API asked.
 */

export interface FakeAsk {
  /** `/v1/chat/completions`, `/v1/responses` or `/v1/messages`. */
  path: string;
  body: any;
  headers: http.IncomingHttpHeaders;
  /** 1-based, across the server's life. */
  count: number;
}

export interface FakeAnswer {
  text?: string;
  toolCalls?: Array<{ name: string; arguments: unknown }>;
  /** Default: input 10, output 5. */
  usage?: { input: number; output: number };
}

export interface FakeOpenAi {
  /** `http://127.0.0.1:PORT/v1` */
  url: string;
  asks: FakeAsk[];
  close(): Promise<void>;
}

export async function startFakeOpenAi(answer: (ask: FakeAsk) => FakeAnswer): Promise<FakeOpenAi> {
  const asks: FakeAsk[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '').split('?')[0]!;
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"not JSON"}}');
      return;
    }
    const ask: FakeAsk = { path, body, headers: req.headers, count: asks.length + 1 };
    asks.push(ask);
    const reply = answer(ask);
    const words = { ...reply, usage: reply.usage ?? { input: 10, output: 5 } };
    const speak = path.endsWith('/chat/completions') ? chat : path.endsWith('/responses') ? responses : path.endsWith('/messages') ? messages : undefined;
    if (speak === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const { whole, events } = speak(body, words);
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(whole));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // One event a write, a few milliseconds apart, as a real stream arrives: each its own chunk.
    for (const event of events) {
      res.write(event);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    asks,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

type Spoken = { whole: unknown; events: string[] };
type Words = FakeAnswer & { usage: { input: number; output: number } };

const data = (event: unknown, name?: string) => `${name === undefined ? '' : `event: ${name}\n`}data: ${JSON.stringify(event)}\n\n`;
const pieces = (text: string) => text.match(/\S+\s*/g) ?? [];

function chat(body: any, words: Words): Spoken {
  const model = body.model ?? 'gpt-4o-mini';
  const toolCalls = (words.toolCalls ?? []).map((c, i) => ({ id: `call_${i}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));
  const finish = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  const usage = { prompt_tokens: words.usage.input, completion_tokens: words.usage.output, total_tokens: words.usage.input + words.usage.output };
  const base = { id: 'chatcmpl-fake', object: 'chat.completion', created: 1700000000, model };
  const whole = { ...base, choices: [{ index: 0, message: { role: 'assistant', content: words.text ?? null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}), refusal: null }, finish_reason: finish, logprobs: null }], usage };
  const chunk = (delta: object, finish_reason: string | null = null) => data({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason, logprobs: null }] });
  const events = [chunk({ role: 'assistant', content: '' })];
  for (const piece of pieces(words.text ?? '')) events.push(chunk({ content: piece }));
  toolCalls.forEach((call, index) => {
    const args = call.function.arguments;
    const half = Math.ceil(args.length / 2);
    events.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: args.slice(0, half) } }] }));
    events.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
  });
  events.push(chunk({}, finish));
  if (body.stream_options?.include_usage) events.push(data({ ...base, object: 'chat.completion.chunk', choices: [], usage }));
  events.push('data: [DONE]\n\n');
  return { whole, events };
}

function responses(body: any, words: Words): Spoken {
  const output: unknown[] = (words.toolCalls ?? []).map((c, i) => ({ type: 'function_call', id: `fc_${i}`, call_id: `call_${i}`, name: c.name, arguments: JSON.stringify(c.arguments), status: 'completed' }));
  if (words.text !== undefined) output.push({ type: 'message', id: 'msg_fake', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: words.text, annotations: [] }] });
  const whole = {
    id: 'resp_fake',
    object: 'response',
    created_at: 1700000000,
    status: 'completed',
    model: body.model ?? 'gpt-4o-mini',
    output,
    usage: { input_tokens: words.usage.input, output_tokens: words.usage.output, total_tokens: words.usage.input + words.usage.output },
  };
  const events = [data({ type: 'response.created', response: { ...whole, status: 'in_progress', output: [] } }, 'response.created')];
  for (const piece of pieces(words.text ?? '')) events.push(data({ type: 'response.output_text.delta', delta: piece }, 'response.output_text.delta'));
  events.push(data({ type: 'response.completed', response: whole }, 'response.completed'));
  return { whole, events };
}

function messages(body: any, words: Words): Spoken {
  const content: any[] = [];
  if (words.text !== undefined) content.push({ type: 'text', text: words.text });
  for (const [i, c] of (words.toolCalls ?? []).entries()) content.push({ type: 'tool_use', id: `toolu_${i}`, name: c.name, input: c.arguments });
  const stop = words.toolCalls?.length ? 'tool_use' : 'end_turn';
  const base = { id: 'msg_fake', type: 'message', role: 'assistant', model: body.model ?? 'claude-sonnet-4-5' };
  const whole = { ...base, content, stop_reason: stop, stop_sequence: null, usage: { input_tokens: words.usage.input, output_tokens: words.usage.output } };
  const events = [data({ type: 'message_start', message: { ...base, content: [], stop_reason: null, usage: { input_tokens: words.usage.input, output_tokens: 1 } } }, 'message_start')];
  content.forEach((block, index) => {
    events.push(data({ type: 'content_block_start', index, content_block: block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} } }, 'content_block_start'));
    const deltas = block.type === 'text' ? pieces(block.text).map((text) => ({ type: 'text_delta', text })) : [{ type: 'input_json_delta', partial_json: JSON.stringify(block.input) }];
    for (const delta of deltas) events.push(data({ type: 'content_block_delta', index, delta }, 'content_block_delta'));
    events.push(data({ type: 'content_block_stop', index }, 'content_block_stop'));
  });
  events.push(data({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: words.usage.output } }, 'message_delta'));
  events.push(data({ type: 'message_stop' }, 'message_stop'));
  return { whole, events };
}
