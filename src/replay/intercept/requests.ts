import type { HttpRequestRecord, HttpResponseRecord, LlmCallRecord } from '../../record/downstream-format';
import { bodyValue } from '../../record/downstream/body';
import { httpName } from '../../record/downstream/child';
import { llmCallOf, llmName, llmRequestOf } from '../../record/downstream/llm';
import { currentReplay } from '../../trace/context';
import type { Call, DownstreamRun } from '../stubs';

// What the intercepts share: the run a call belongs to, and a request described as its recording
// describes it, so that the two compare.

/** How a run encodes what it compares with the recording: as the recorder did, with the recording's redaction. */
export interface CallEncoding {
  /** A value encoded and redacted, as parsed JSON. */
  value(value: unknown): unknown;
  /** A URL redacted. */
  url(url: string): string;
}

/** A run's downstream state, with the encoding its calls are described in. */
export interface DownstreamScope {
  run: DownstreamRun;
  encoding: CallEncoding;
}

/** The downstream state of the replay run the current call belongs to; undefined outside a run, or in a run without one. */
export function currentScope(): DownstreamScope | undefined {
  return currentReplay()?.downstream as DownstreamScope | undefined;
}

/** An outbound request as the call the stubs decide: an LLM call when its endpoint and body say so. */
export function describeRequest(method: string, url: string, bytes: Uint8Array | undefined, contentType: string | undefined, encoding: CallEncoding): { call: Call; request: HttpRequestRecord } {
  // Read as the recorder reads a body, so that the two compare.
  const raw = bytes === undefined || bytes.length === 0 ? null : bodyValue(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), contentType);
  const request: HttpRequestRecord = { method: method.toUpperCase(), url: encoding.url(url), headers: {}, body: encoding.value(raw) };
  const llm = llmRequestOf(url, raw);
  if (llm !== undefined) {
    const messages = llmCallOf(request, undefined)?.messages ?? null;
    return { call: { kind: 'llm', name: llmName(llm), provider: llm.provider, api: llm.api, model: llm.model, messages }, request };
  }
  // The recorder redacts the name as it does any string: a URL's path may hold a secret.
  return { call: { kind: 'http', name: encoding.url(httpName(method, url)), method: request.method, url: request.url, body: request.body }, request };
}

/** A live LLM call's summary (model, usage), from its response's text; undefined when the request is not one. */
export function liveLlm(request: HttpRequestRecord, status: number, headers: Record<string, string>, text: string): LlmCallRecord | undefined {
  const streamed = (headers['content-type'] ?? '').includes('text/event-stream');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // SSE, or text.
  }
  const response: HttpResponseRecord = { status, status_text: '', headers, body, ...(streamed ? { chunks: [text] } : {}) };
  return llmCallOf(request, response);
}

/** The recorded error of a call, as an Error again: its name, message and code. */
export function recordedError(error: { name: string; message: string; code?: string | number; status?: number }): Error {
  const made = new Error(error.message);
  made.name = error.name;
  if (error.code !== undefined) (made as { code?: unknown }).code = error.code;
  if (error.status !== undefined) (made as { status?: unknown }).status = error.status;
  // Where it was made says nothing: it stands for an error of the recorded run.
  made.stack = `${error.name}: ${error.message}`;
  return made;
}
