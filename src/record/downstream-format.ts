/**
 * The record of a downstream call: what a recorded call called while it ran (an HTTP request, an
 * LLM API call, a tool function), written as a line of its own in the recording file, after its
 * parent's line, when the downstream call ended. See the README's "Downstream calls".
 *
 * A parent is a recorded call's line; it carries `"id"`, and each of its children names it in
 * `"parent"`. Children are numbered by `seq` in the order they started, from 0; lines are written
 * in the order the calls ended, so a reader orders them by `seq`.
 */

/** How every child line begins, as the recorder writes it: what tells it from a record without parsing it. */
export const CHILD_LINE_START = '{"_version":"1","parent":';

/** The three kinds, each with its own replay mode (`replay_args.downstream`). */
export type ChildKind = 'http' | 'llm' | 'tool';

/** Token counts, the same names whatever the provider called them. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  /** Input tokens the provider read from its prompt cache, when it says. */
  cached_input_tokens?: number;
}

/** An HTTP request as recorded: headers and body redacted. */
export interface HttpRequestRecord {
  method: string;
  /** The full URL, its query and user info redacted. */
  url: string;
  /** Lower-case names; values joined with `, ` when repeated. */
  headers: Record<string, string>;
  /** JSON when the body was JSON, else text; a `{"$type":"Buffer",…}` tag for bytes that are not text; null without a body. */
  body: unknown;
}

/** An HTTP response as recorded. */
export interface HttpResponseRecord {
  status: number;
  status_text: string;
  headers: Record<string, string>;
  /** The whole body: JSON when it parses, else text, else a Buffer tag; null without one. */
  body: unknown;
  /** The body as it arrived, chunk by chunk, as text: present when it was streamed (SSE, NDJSON, chunked), so that a stub streams it again. */
  chunks?: string[];
  /** The body was cut at the recording's limit (`max_string_length`), or never read to its end. */
  truncated?: boolean;
}

/** An LLM API call, recognised by its endpoint and body, whichever SDK sent it. */
export interface LlmCallRecord {
  provider: 'openai' | 'anthropic';
  /** `chat.completions`, `responses` or `messages`. */
  api: string;
  model: string | null;
  /** The request's messages (`messages`, or `input` and `instructions` for responses), redacted. */
  messages: unknown;
  /** The tools offered, as the request gave them; null when none. */
  tools: unknown;
  stream: boolean;
  /** The answer: the text and the tool calls the model chose, streamed ones put together. */
  response: { text: string | null; tool_calls: Array<{ name: string; arguments: unknown }>; finish_reason: string | null } | null;
  usage: Usage | null;
}

/** One downstream call, as its line holds it (plus `_version`, `timestamp` and `meta`). */
export interface ChildRecord {
  /** The `id` of the recorded call it was made under. */
  parent: string;
  /** Its place among the parent's downstream calls, in the order they started, from 0. */
  seq: number;
  /** The `seq` of the tool call it was made inside, when it was: a replay that stubs the tool does not make it. */
  within?: number;
  kind: ChildKind;
  /** What it called, for people: `POST api.example.com/v1/search`, `openai chat.completions gpt-4o`, `app/tools.js:search`. */
  name: string;
  /** Milliseconds from the parent's start to this call's start. */
  started_ms: number;
  duration_ms: number;
  /** http and llm. */
  request?: HttpRequestRecord;
  /** http and llm; absent when the request failed before a response. */
  response?: HttpResponseRecord;
  /** llm. */
  llm?: LlmCallRecord;
  /** tool: its target's identity, as a recorded call's `target`. */
  target?: string;
  /** tool: the arguments, encoded as a record's `args`. */
  args?: unknown[];
  /** tool: what it returned (a promise's value, awaited), encoded; absent when it threw. */
  output?: unknown;
  /** tool: whether it returned a promise, so that a stub does too. */
  async?: boolean;
  /** What it threw or failed with: `{ name, message, code? }`, redacted. */
  error?: { name: string; message: string; code?: string | number; status?: number } | null;
}
