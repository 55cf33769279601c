import { decode } from '../../record/decode';
import type { ChildRecord, HttpResponseRecord } from '../../record/downstream-format';
import { currentScope, describeRequest, liveLlm, recordedError, type DownstreamScope } from './requests';

// `globalThis.fetch`, wrapped once per thread: inside a replay run with downstream state, each
// request is decided by the stubs (./stubs) and answered from the recording, denied, or let
// through; outside one it is the original fetch, called as it is.

const slot = Symbol.for('fluxloop.replay.fetch');

/** Wraps `globalThis.fetch`, once per thread. */
export function interceptFetch(): void {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  if (holder[slot] !== undefined || typeof globalThis.fetch !== 'function') return;
  const original = globalThis.fetch;
  holder[slot] = original;
  const fetch = function fetch(this: unknown, input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const scope = currentScope();
    if (scope === undefined) return Reflect.apply(original, this, [input, init]) as Promise<Response>;
    let request: Request;
    try {
      request = new Request(input, init);
    } catch {
      // What fetch itself would reject, it rejects.
      return Reflect.apply(original, this, [input, init]) as Promise<Response>;
    }
    return intercepted(original, request, scope);
  };
  globalThis.fetch = fetch as typeof globalThis.fetch;
}

async function intercepted(original: typeof fetch, request: Request, { run, encoding }: DownstreamScope): Promise<Response> {
  // Read from a copy: the request itself goes out untouched when the call is live.
  const bytes = request.body === null ? undefined : new Uint8Array(await request.clone().arrayBuffer());
  const { call, request: described } = describeRequest(request.method, request.url, bytes, request.headers.get('content-type') ?? undefined, encoding);
  const decision = run.begin(call);
  switch (decision.answer) {
    case 'denied':
    case 'unmatched':
      run.end(decision.seq);
      throw decision.error;
    case 'stub': {
      const recorded = decision.recorded;
      run.end(decision.seq, { status: recorded.response?.status, usage: recorded.llm?.usage ?? undefined, model: recorded.llm?.model });
      return stubResponse(recorded, request);
    }
    case 'live': {
      let response: Response;
      try {
        response = await original(request);
      } catch (error) {
        run.end(decision.seq, { error });
        throw error;
      }
      if (call.kind !== 'llm') {
        run.end(decision.seq, { status: response.status });
        return response;
      }
      // The usage is read from a copy, as the app reads the answer; the call ends when both are read.
      const headers = Object.fromEntries(response.headers);
      response
        .clone()
        .text()
        .then(
          (text) => run.end(decision.seq, { status: response.status, ...usageOf(liveLlm(described, response.status, headers, text)) }),
          (error: unknown) => run.end(decision.seq, { status: response.status, error }),
        );
      return response;
    }
  }
}

function usageOf(llm: ReturnType<typeof liveLlm>): { usage?: NonNullable<ReturnType<typeof liveLlm>>['usage']; model?: string | null } {
  return llm === undefined ? {} : { usage: llm.usage, model: llm.model };
}

// Headers that describe the bytes as they came over the wire, which a stub's body no longer is.
const WIRE_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);

/** The recorded answer as a real Response: its status, headers and body, streamed chunk by chunk when it was. */
function stubResponse(recorded: ChildRecord, request: Request): Response {
  const answer = recorded.response;
  if (answer === undefined) {
    // A request that failed before any answer: fetch rejects with a TypeError whose cause says why.
    const cause = recordedError(recorded.error ?? { name: 'Error', message: 'the recorded request had no response' });
    throw new TypeError('fetch failed', { cause });
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) if (!WIRE_HEADERS.has(name.toLowerCase())) headers.append(name, value);
  const noBody = answer.status === 204 || answer.status === 304 || request.method === 'HEAD';
  const response = new Response(noBody ? null : bodyStream(answer), { status: answer.status, statusText: answer.status_text, headers });
  Object.defineProperty(response, 'url', { value: request.url });
  return response;
}

/** The body as a stream of bytes: chunk by chunk, each in a turn of its own, when it was streamed. */
export function bodyStream(answer: HttpResponseRecord): ReadableStream<Uint8Array> | null {
  const chunks = answer.chunks ?? wholeBody(answer.body);
  if (chunks === null) return null;
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next >= chunks.length) return controller.close();
      const chunk = chunks[next++]!;
      controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    },
  });
}

/** A recorded whole body as the one chunk it is: text as it was, JSON as its text, bytes decoded; null without one. */
export function wholeBody(body: unknown): Array<string | Uint8Array> | null {
  if (body === null || body === undefined) return null;
  if (typeof body === 'string') return [body];
  if (typeof body === 'object' && (body as { $type?: unknown }).$type === 'Buffer') {
    const bytes = decode(body);
    if (bytes instanceof Uint8Array) return [bytes];
  }
  return [JSON.stringify(body)];
}
