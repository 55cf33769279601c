import { Buffer } from 'node:buffer';
import { unread } from '../../adapters';
import { currentRecordedCall } from '../../trace/recording';
import type { HttpRequestRecord, HttpResponseRecord } from '../downstream-format';
import { warn } from '../warn';
import { BodyCopy, bodyValue, headerRecord, isStreamed } from './body';
import type { ChildStart, Children } from './child';

/**
 * Records the `fetch` calls made under a recorded call, by wrapping `globalThis.fetch` once, at
 * the session's start: the SDKs that keep a fetch of their own (`openai`, LangChain through it,
 * Vercel `ai`) take the global one when a client is made, after the preload, and so this one.
 *
 * Not through `diagnostics_channel`: the undici in Node 20 and 22 publishes a request's creation
 * and its response's head, but neither body, and the response's body can only be read from a
 * `Response.clone()`, which needs the Response itself. The wrapper costs one `getStore()` outside
 * a recorded call; inside one, it reads the request's body from what the app passed (a stream
 * body is recorded as a marker, never read) and the response's from a clone, in the background,
 * up to the recording's `max_record_bytes`.
 */
export function tapFetch(children: Children): void {
  const pinned = globalThis as unknown as Record<symbol, boolean | undefined>;
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  const original = descriptor?.value as typeof globalThis.fetch | undefined;
  // Once per process, and only a fetch that can be replaced as it is: a getter is someone else's.
  if (pinned[TAPPED] || typeof original !== 'function' || !descriptor!.writable) return;
  pinned[TAPPED] = true;
  const fetch = function (this: unknown, ...args: unknown[]): unknown {
    const call = currentRecordedCall();
    if (call === undefined) return Reflect.apply(original, this, args);
    let tap: FetchTap | undefined;
    try {
      tap = FetchTap.begin(children, call, args[0], args[1]);
    } catch (error) {
      failed(error);
    }
    const result: unknown = Reflect.apply(original, this, args);
    tap?.follow(result);
    return result;
  };
  for (const own of ['name', 'length'] as const) Object.defineProperty(fetch, own, Object.getOwnPropertyDescriptor(original, own)!);
  Object.defineProperty(globalThis, 'fetch', { ...descriptor, value: fetch });
}

const TAPPED = Symbol.for('fluxloop.downstream.fetch');

class FetchTap {
  private ended = false;
  private readonly untrack: () => void;
  private response: Omit<HttpResponseRecord, 'body'> | undefined;
  private received: BodyCopy | undefined;

  private constructor(
    private readonly children: Children,
    private readonly start: ChildStart,
    private readonly request: HttpRequestRecord,
  ) {
    this.untrack = children.track(() => this.end(undefined, true));
  }

  /** The tap of a fetch call, or undefined when the call is not one the recording keeps. */
  static begin(children: Children, call: Parameters<Children['begin']>[0], input: unknown, init: unknown): FetchTap | undefined {
    const { request, later } = requestOf(input, init as RequestInit | undefined, children.limits.maxBodyBytes);
    // A body read later (a Request's, a Blob) is not known yet: the URL alone says whether the call may be kept.
    if (later === undefined ? !children.wants(request.url, request.body) : !children.mayWant(request.url)) return undefined;
    const tap = new FetchTap(children, children.begin(call), request);
    tap.requestBody = later;
    return tap;
  }

  /** The request's body, when it is read from a copy: the call is written once it is. */
  private requestBody: Promise<unknown> | undefined;

  /** Waits for the response on a side chain: the app keeps its very promise. */
  follow(result: unknown): void {
    if (!isThenable(result)) return this.end(new TypeError('fetch returned no promise'));
    result.then(
      (response) => this.responded(response as Response),
      (error: unknown) => this.end(error),
    );
  }

  private responded(response: Response): void {
    try {
      const headers = headerRecord(response.headers);
      this.response = { status: response.status, status_text: response.statusText, headers };
      this.received = new BodyCopy(this.children.limits.maxBodyBytes, isStreamed(headers['content-type'], headers['content-length'] === undefined));
      // Cloned now, before the app can read it: this handler was attached before the app's own.
      const copy = response.body === null ? null : response.clone().body;
      if (copy === null) return this.end();
      readInto(copy, this.received).then(
        () => this.end(),
        (error: unknown) => this.end(error, true),
      );
    } catch (error) {
      this.end(error, true);
    }
  }

  /** The call is over: written once, with what was copied, its request's body too. */
  private end(error?: unknown, cut = false): void {
    if (this.ended) return;
    this.ended = true;
    this.untrack();
    if (this.requestBody === undefined) return this.write(error, cut);
    this.requestBody.then(
      (body) => {
        this.request.body = body;
        this.write(error, cut);
      },
      () => this.write(error, cut),
    );
  }

  private write(error: unknown, cut: boolean): void {
    try {
      let response: HttpResponseRecord | undefined;
      if (this.response !== undefined) {
        const body = this.received!.response(this.response.headers['content-type'], this.children.limits.maxArrayLength);
        response = { ...this.response, ...body, ...(cut ? { truncated: true } : {}) };
      }
      this.children.exchange(this.start, { request: this.request, response, error });
    } catch (e) {
      failed(e);
    }
  }
}

/**
 * The request as the app gave it to fetch: a URL or a Request, and the init, which wins. A body
 * that takes reading (a Request's, a Blob) is read from a copy, `later`, and never from the app's.
 */
function requestOf(input: unknown, init: RequestInit | undefined, limit: number): { request: HttpRequestRecord; later?: Promise<unknown> } {
  const isRequest = typeof Request === 'function' && input instanceof Request;
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : isRequest ? input.url : String(input);
  const headers = new Headers(isRequest ? input.headers : undefined);
  if (init?.headers !== undefined) new Headers(init.headers).forEach((value, name) => headers.set(name, value));
  const method = (init?.method ?? (isRequest ? input.method : 'GET')).toUpperCase();
  const type = headers.get('content-type') ?? undefined;
  const request: HttpRequestRecord = { method, url, headers: headerRecord(headers), body: null };
  if (init?.body !== undefined && init.body !== null) {
    if (typeof Blob === 'function' && init.body instanceof Blob) return { request, later: readBlob(init.body, type, limit) };
    request.body = bodyOf(init.body, type);
  } else if (isRequest && input.body !== null) {
    // A clone tees the body: fetch reads the app's Request as it would, and this reads the other branch.
    return { request, later: readStream(input.clone().body!, type, limit) };
  }
  return { request };
}

/** A request body as recorded: what it holds when it can be had without reading a stream. */
function bodyOf(body: unknown, contentType: string | undefined): unknown {
  if (typeof body === 'string') return bodyValue(Buffer.from(body), contentType);
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof ArrayBuffer) return bodyValue(Buffer.from(body), contentType);
  if (ArrayBuffer.isView(body)) return bodyValue(Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType);
  if (typeof FormData === 'function' && body instanceof FormData) return unread('a FormData body is not read');
  return unread('a streamed body is not read');
}

/** A Blob's bytes, up to the limit: a Blob is read without being used up. */
async function readBlob(blob: Blob, contentType: string | undefined, limit: number): Promise<unknown> {
  const copy = new BodyCopy(limit);
  copy.add(new Uint8Array(await blob.slice(0, limit + 1).arrayBuffer()));
  return copy.body(contentType ?? (blob.type || undefined));
}

/** A stream's bytes, up to the limit; the rest of this branch is let go. */
async function readStream(stream: ReadableStream<Uint8Array>, contentType: string | undefined, limit: number): Promise<unknown> {
  const copy = new BodyCopy(limit);
  await readInto(stream, copy);
  return copy.body(contentType);
}

/** Reads a copy's branch of a body into `copy`, until its end or the copy's limit, past which the branch is let go. */
async function readInto(stream: ReadableStream<Uint8Array>, copy: BodyCopy): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (!copy.add(value)) {
      reader.cancel().catch(() => undefined);
      return;
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function failed(error: unknown): void {
  warn('downstream:fetch', `could not record a fetch call: ${(error as Error)?.message ?? String(error)}`);
}
