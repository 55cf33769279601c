import { describe, expect, it } from 'vitest';
import type { HttpRequestRecord, HttpResponseRecord } from '../../src/record/downstream-format';
import { llmCallOf, llmName, llmRequestOf } from '../../src/record/downstream/llm';

const request = (url: string, body: unknown): HttpRequestRecord => ({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body });
const json = (body: unknown, status = 200): HttpResponseRecord => ({ status, status_text: 'OK', headers: { 'content-type': 'application/json' }, body });
const sse = (events: unknown[], split = 2): HttpResponseRecord => {
  const text = events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');
  // Chunks cut anywhere, as the network cuts them: an event may straddle two.
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += Math.ceil(text.length / split)) chunks.push(text.slice(i, i + Math.ceil(text.length / split)));
  return { status: 200, status_text: 'OK', headers: { 'content-type': 'text/event-stream' }, body: text, chunks };
};

describe('llmRequestOf', () => {
  it('knows the three APIs by the end of the path and the body, whatever the host', () => {
    expect(llmRequestOf('https://api.openai.com/v1/chat/completions', { model: 'gpt-4o', messages: [] })).toEqual({ provider: 'openai', api: 'chat.completions', model: 'gpt-4o', stream: false });
    expect(llmRequestOf('http://127.0.0.1:4000/proxy/v1/chat/completions?x=1', JSON.stringify({ messages: [], stream: true }))).toEqual({ provider: 'openai', api: 'chat.completions', model: null, stream: true });
    expect(llmRequestOf('https://api.openai.com/v1/responses', { model: 'gpt-5', input: 'hi' })?.api).toBe('responses');
    expect(llmRequestOf('https://api.anthropic.com/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [] })?.provider).toBe('anthropic');
  });

  it('leaves other requests alone', () => {
    expect(llmRequestOf('https://api.example.com/v1/search', { q: 'x' })).toBeUndefined();
    expect(llmRequestOf('https://api.example.com/chat/completions', 'not json')).toBeUndefined();
    // A chat app's own /messages endpoint, without the Messages API's max_tokens.
    expect(llmRequestOf('https://app.example.com/rooms/1/messages', { messages: [{ text: 'hi' }] })).toBeUndefined();
    expect(llmRequestOf('https://api.example.com/responses', { answer: 42 })).toBeUndefined();
  });

  it('names a call by provider, API and model', () => {
    expect(llmName({ provider: 'openai', api: 'chat.completions', model: 'gpt-4o-mini', stream: false })).toBe('openai chat.completions gpt-4o-mini');
    expect(llmName({ provider: 'anthropic', api: 'messages', model: null, stream: false })).toBe('anthropic messages');
  });
});

describe('llmCallOf', () => {
  const chatBody = { model: 'gpt-4o', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [{ type: 'function', function: { name: 'weather' } }] };

  it('reads a chat completion with a tool call and its usage', () => {
    const call = llmCallOf(
      request('https://api.openai.com/v1/chat/completions', chatBody),
      json({
        model: 'gpt-4o-2024-08-06',
        choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] }, finish_reason: 'tool_calls' }],
        usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62, prompt_tokens_details: { cached_tokens: 32 } },
      }),
    );
    expect(call).toEqual({
      provider: 'openai',
      api: 'chat.completions',
      model: 'gpt-4o',
      messages: chatBody.messages,
      tools: chatBody.tools,
      stream: false,
      response: { text: null, tool_calls: [{ name: 'weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_calls' },
      usage: { input_tokens: 50, output_tokens: 12, total_tokens: 62, cached_input_tokens: 32 },
    });
  });

  it('puts a streamed chat completion together, tool call pieces and the usage chunk included', () => {
    const chunk = (delta: object, finish: string | null = null) => ({ model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });
    const call = llmCallOf(
      request('https://api.openai.com/v1/chat/completions', { ...chatBody, stream: true, stream_options: { include_usage: true } }),
      sse([
        chunk({ role: 'assistant', content: 'Let me ' }),
        chunk({ content: 'check.' }),
        chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'weather', arguments: '{"ci' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }, 'tool_calls'),
        { model: 'gpt-4o', choices: [], usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 } },
        '[DONE]',
      ], 5),
    );
    expect(call?.stream).toBe(true);
    expect(call?.response).toEqual({ text: 'Let me check.', tool_calls: [{ name: 'weather', arguments: { city: 'Paris' } }], finish_reason: 'tool_calls' });
    expect(call?.usage).toEqual({ input_tokens: 7, output_tokens: 5, total_tokens: 12 });
  });

  it('reads the responses API, plain and streamed', () => {
    const done = {
      model: 'gpt-5',
      status: 'completed',
      output: [
        { type: 'reasoning', summary: [] },
        { type: 'function_call', name: 'lookup', arguments: '{"id":3}' },
        { type: 'message', content: [{ type: 'output_text', text: 'Done.' }] },
      ],
      usage: { input_tokens: 20, output_tokens: 8, total_tokens: 28, input_tokens_details: { cached_tokens: 0 } },
    };
    const req = request('https://api.openai.com/v1/responses', { model: 'gpt-5', instructions: 'Be brief.', input: 'look up 3' });
    const plain = llmCallOf(req, json(done));
    expect(plain?.messages).toEqual({ instructions: 'Be brief.', input: 'look up 3' });
    expect(plain?.response).toEqual({ text: 'Done.', tool_calls: [{ name: 'lookup', arguments: { id: 3 } }], finish_reason: 'completed' });
    expect(plain?.usage).toEqual({ input_tokens: 20, output_tokens: 8, total_tokens: 28 });
    const streamed = llmCallOf(req, sse([{ type: 'response.output_text.delta', delta: 'Do' }, { type: 'response.completed', response: done }]));
    expect(streamed?.usage).toEqual(plain?.usage);
  });

  it('reads Anthropic messages, plain and streamed, counting cached input in the prompt', () => {
    const req = request('https://api.anthropic.com/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 256, system: 'Be kind.', messages: [{ role: 'user', content: 'hi' }] });
    const plain = llmCallOf(
      req,
      json({ model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Hello' }, { type: 'tool_use', name: 'greet', input: { loud: true } }], stop_reason: 'tool_use', usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 90 } }),
    );
    expect(plain?.messages).toEqual({ system: 'Be kind.', messages: [{ role: 'user', content: 'hi' }] });
    expect(plain?.response).toEqual({ text: 'Hello', tool_calls: [{ name: 'greet', arguments: { loud: true } }], finish_reason: 'tool_use' });
    expect(plain?.usage).toEqual({ input_tokens: 100, output_tokens: 4, total_tokens: 104, cached_input_tokens: 90 });
    const streamed = llmCallOf(
      { ...req, body: { ...(req.body as object), stream: true } },
      sse([
        { type: 'message_start', message: { model: 'claude-sonnet-4-5', usage: { input_tokens: 10, output_tokens: 1 } } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } },
        { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', name: 'greet' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"loud":' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'true}' } },
        { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 4 } },
      ], 3),
    );
    expect(streamed?.response).toEqual({ text: 'Hello', tool_calls: [{ name: 'greet', arguments: { loud: true } }], finish_reason: 'tool_use' });
    expect(streamed?.usage).toEqual({ input_tokens: 10, output_tokens: 4, total_tokens: 14 });
  });

  it('keeps the question when there is no answer: a failed request, or none yet', () => {
    const req = request('https://api.openai.com/v1/chat/completions', chatBody);
    expect(llmCallOf(req, json({ error: { message: 'rate limited' } }, 429))).toMatchObject({ model: 'gpt-4o', response: null, usage: null });
    expect(llmCallOf(req, undefined)).toMatchObject({ messages: chatBody.messages, response: null, usage: null });
    expect(llmCallOf(request('https://api.example.com/search', { q: 1 }), json({}))).toBeUndefined();
  });
});
