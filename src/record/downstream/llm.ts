import type { HttpRequestRecord, HttpResponseRecord, LlmCallRecord, Usage } from '../downstream-format';

/** An LLM API request, known from its endpoint and body before any answer. */
export interface LlmRequest {
  provider: LlmCallRecord['provider'];
  api: 'chat.completions' | 'responses' | 'messages';
  model: string | null;
  stream: boolean;
}

type Json = Record<string, unknown>;
type Answer = NonNullable<LlmCallRecord['response']>;

/**
 * Recognises an LLM API call by the end of its URL's path and the shape of its body, whatever the
 * host (a proxy, Azure, a local server) and whatever SDK sent it: the body is what every SDK must
 * send the same way. `body` is the parsed JSON or its text.
 */
export function llmRequestOf(url: string, body: unknown): LlmRequest | undefined {
  const json = jsonOf(body);
  if (json === undefined) return undefined;
  const path = pathOf(url);
  const model = typeof json.model === 'string' ? json.model : null;
  const stream = json.stream === true;
  if (path.endsWith('/chat/completions') && Array.isArray(json.messages)) return { provider: 'openai', api: 'chat.completions', model, stream };
  if (path.endsWith('/responses') && (typeof json.input === 'string' || Array.isArray(json.input) || typeof json.prompt === 'object')) {
    return { provider: 'openai', api: 'responses', model, stream };
  }
  if (path.endsWith('/messages') && Array.isArray(json.messages) && typeof json.max_tokens === 'number') return { provider: 'anthropic', api: 'messages', model, stream };
  return undefined;
}

/** Whether a URL's path is one an LLM API is called at, before its body is known. */
export function llmPath(url: string): boolean {
  return LLM_PATH.test(pathOf(url));
}

const LLM_PATH = /\/(chat\/completions|responses|messages)$/;

/** How a downstream LLM call is named in records and timelines: `openai chat.completions gpt-4o`. */
export function llmName(request: LlmRequest): string {
  return `${request.provider} ${request.api}${request.model === null ? '' : ` ${request.model}`}`;
}

/**
 * The LLM call an HTTP exchange was: what was asked (model, messages, tools) and what came back
 * (text, tool calls, usage), a streamed answer put together from its events. Undefined when the
 * request is not an LLM call.
 */
export function llmCallOf(request: HttpRequestRecord, response: HttpResponseRecord | undefined): LlmCallRecord | undefined {
  const recognised = llmRequestOf(request.url, request.body);
  if (recognised === undefined) return undefined;
  const body = jsonOf(request.body)!;
  const messages =
    recognised.api === 'chat.completions' ? body.messages : recognised.api === 'responses' ? { instructions: body.instructions ?? null, input: body.input ?? null } : { system: body.system ?? null, messages: body.messages };
  const read = response !== undefined && response.status >= 200 && response.status < 300 ? readAnswer(recognised, response) : undefined;
  return {
    provider: recognised.provider,
    api: recognised.api,
    model: recognised.model ?? read?.model ?? null,
    messages,
    tools: body.tools ?? null,
    stream: recognised.stream,
    response: read?.answer ?? null,
    usage: read?.usage ?? null,
  };
}

/** The tokens an LLM response counted, streamed or not; null when it says none. */
export function usageOf(request: LlmRequest, response: HttpResponseRecord): Usage | null {
  return readAnswer(request, response)?.usage ?? null;
}

interface Read {
  answer: Answer;
  usage: Usage | null;
  model: string | null;
}

function readAnswer(request: LlmRequest, response: HttpResponseRecord): Read | undefined {
  const events = sseEvents(response);
  if (events !== undefined) {
    if (request.api === 'chat.completions') return chatStream(events);
    if (request.api === 'responses') return responsesStream(events);
    return anthropicStream(events);
  }
  const json = jsonOf(response.body);
  if (json === undefined) return undefined;
  if (request.api === 'chat.completions') return chat(json);
  if (request.api === 'responses') return responses(json);
  return anthropic(json);
}

function chat(json: Json): Read {
  const choice = first(json.choices);
  const message = (choice?.message ?? {}) as Json;
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
  return {
    answer: {
      text: typeof message.content === 'string' ? message.content : null,
      tool_calls: calls.map((c) => {
        const fn = (c.function ?? {}) as Json;
        return { name: String(fn.name ?? ''), arguments: parsed(fn.arguments) };
      }),
      finish_reason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : null,
    },
    usage: openAiUsage(json.usage),
    model: stringOr(json.model),
  };
}

function chatStream(events: Json[]): Read {
  let text: string | null = null;
  let finish: string | null = null;
  let usage: Usage | null = null;
  let model: string | null = null;
  const calls: Array<{ name: string; arguments: string }> = [];
  for (const event of events) {
    model ??= stringOr(event.model);
    usage = openAiUsage(event.usage) ?? usage;
    const choice = first(event.choices);
    if (choice === undefined) continue;
    if (typeof choice.finish_reason === 'string') finish = choice.finish_reason;
    const delta = (choice.delta ?? {}) as Json;
    if (typeof delta.content === 'string') text = (text ?? '') + delta.content;
    for (const piece of Array.isArray(delta.tool_calls) ? (delta.tool_calls as Json[]) : []) {
      const index = typeof piece.index === 'number' ? piece.index : calls.length;
      const call = (calls[index] ??= { name: '', arguments: '' });
      const fn = (piece.function ?? {}) as Json;
      if (typeof fn.name === 'string') call.name += fn.name;
      if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
    }
  }
  return { answer: { text, tool_calls: calls.filter(Boolean).map((c) => ({ name: c.name, arguments: parsed(c.arguments) })), finish_reason: finish }, usage, model };
}

function responses(json: Json): Read {
  let text: string | null = null;
  const calls: Answer['tool_calls'] = [];
  for (const item of Array.isArray(json.output) ? (json.output as Json[]) : []) {
    if (item.type === 'function_call') calls.push({ name: String(item.name ?? ''), arguments: parsed(item.arguments) });
    if (item.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content as Json[]) if (typeof part.text === 'string') text = (text ?? '') + part.text;
  }
  const usage = json.usage as Json | undefined;
  return {
    answer: { text, tool_calls: calls, finish_reason: stringOr(json.status) },
    usage: tokens(usage?.input_tokens, usage?.output_tokens, (usage?.input_tokens_details as Json | undefined)?.cached_tokens),
    model: stringOr(json.model),
  };
}

function responsesStream(events: Json[]): Read {
  // The last event holds the whole response; the deltas are only a fallback for a stream cut short.
  const done = events.find((e) => e.type === 'response.completed' || e.type === 'response.incomplete')?.response as Json | undefined;
  if (done !== undefined) return responses(done);
  const text = events.filter((e) => e.type === 'response.output_text.delta' && typeof e.delta === 'string').map((e) => e.delta as string);
  return { answer: { text: text.length === 0 ? null : text.join(''), tool_calls: [], finish_reason: null }, usage: null, model: null };
}

function anthropic(json: Json): Read {
  let text: string | null = null;
  const calls: Answer['tool_calls'] = [];
  for (const block of Array.isArray(json.content) ? (json.content as Json[]) : []) {
    if (block.type === 'text' && typeof block.text === 'string') text = (text ?? '') + block.text;
    if (block.type === 'tool_use') calls.push({ name: String(block.name ?? ''), arguments: block.input ?? null });
  }
  return { answer: { text, tool_calls: calls, finish_reason: stringOr(json.stop_reason) }, usage: anthropicUsage(json.usage as Json | undefined), model: stringOr(json.model) };
}

function anthropicStream(events: Json[]): Read {
  let text: string | null = null;
  let finish: string | null = null;
  let model: string | null = null;
  let input: Json | undefined;
  let output: unknown;
  const blocks: Array<{ name: string; json: string } | undefined> = [];
  for (const event of events) {
    if (event.type === 'message_start') {
      const message = (event.message ?? {}) as Json;
      model = stringOr(message.model);
      input = message.usage as Json | undefined;
    } else if (event.type === 'content_block_start') {
      const block = (event.content_block ?? {}) as Json;
      if (block.type === 'tool_use') blocks[Number(event.index)] = { name: String(block.name ?? ''), json: '' };
    } else if (event.type === 'content_block_delta') {
      const delta = (event.delta ?? {}) as Json;
      if (delta.type === 'text_delta' && typeof delta.text === 'string') text = (text ?? '') + delta.text;
      const block = blocks[Number(event.index)];
      if (delta.type === 'input_json_delta' && block !== undefined && typeof delta.partial_json === 'string') block.json += delta.partial_json;
    } else if (event.type === 'message_delta') {
      finish = stringOr(((event.delta ?? {}) as Json).stop_reason) ?? finish;
      output = ((event.usage ?? {}) as Json).output_tokens ?? output;
    }
  }
  const calls = blocks.filter((b) => b !== undefined).map((b) => ({ name: b.name, arguments: b.json === '' ? {} : parsed(b.json) }));
  return { answer: { text, tool_calls: calls, finish_reason: finish }, usage: anthropicUsage({ ...input, ...(output === undefined ? {} : { output_tokens: output }) }), model };
}

function openAiUsage(value: unknown): Usage | null {
  if (typeof value !== 'object' || value === null) return null;
  const usage = value as Json;
  return tokens(usage.prompt_tokens, usage.completion_tokens, (usage.prompt_tokens_details as Json | undefined)?.cached_tokens);
}

function anthropicUsage(usage: Json | undefined): Usage | null {
  if (usage === undefined) return null;
  // Anthropic counts cached input apart from `input_tokens`; the sum is what the prompt was.
  const cached = num(usage.cache_read_input_tokens) ?? 0;
  const written = num(usage.cache_creation_input_tokens) ?? 0;
  const input = num(usage.input_tokens);
  return tokens(input === undefined ? undefined : input + cached + written, usage.output_tokens, cached > 0 ? cached : undefined);
}

function tokens(input: unknown, output: unknown, cached?: unknown): Usage | null {
  const i = num(input);
  const o = num(output);
  if (i === undefined && o === undefined) return null;
  const usage: Usage = { input_tokens: i ?? 0, output_tokens: o ?? 0, total_tokens: (i ?? 0) + (o ?? 0) };
  const c = num(cached);
  if (c !== undefined && c > 0) usage.cached_input_tokens = c;
  return usage;
}

/** The JSON objects of a Server-Sent Events body (`data: {…}` lines), or undefined when the body is not one. */
function sseEvents(response: HttpResponseRecord): Json[] | undefined {
  const type = response.headers['content-type'] ?? '';
  const text = response.chunks?.join('') ?? (typeof response.body === 'string' ? response.body : undefined);
  if (text === undefined || (!type.includes('text/event-stream') && response.chunks === undefined)) return undefined;
  const events: Json[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '' || data === '[DONE]') continue;
    const json = jsonOf(data);
    if (json !== undefined) events.push(json);
  }
  return response.chunks !== undefined && events.length === 0 && !type.includes('text/event-stream') ? undefined : events;
}

function jsonOf(value: unknown): Json | undefined {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** A tool call's arguments: the JSON text parsed, or the text itself when it is not JSON (a stream cut short). */
function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname.replace(/\/+$/, '');
  } catch {
    return url.split(/[?#]/)[0]!.replace(/\/+$/, '');
  }
}

function first(value: unknown): Json | undefined {
  return Array.isArray(value) && typeof value[0] === 'object' && value[0] !== null ? (value[0] as Json) : undefined;
}

function stringOr(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
