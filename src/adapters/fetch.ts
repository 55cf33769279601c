import type { Adapter, OutputRead, RecordContext } from './types';
import { unread } from './note';

/**
 * The Fetch API: Request, Response, Headers, URLSearchParams, FormData, Blob, File and AbortSignal. They are
 * recognised by their `Symbol.toStringTag`, which every implementation (Node's undici, the undici
 * package, polyfills, @hono/node-server's lightweight Request) sets on its prototype.
 */

const TAGS = new Set(['Request', 'Response', 'Headers', 'URLSearchParams', 'FormData', 'Blob', 'File', 'AbortSignal']);

// Bodies are read from a clone up to this much; the encoder then caps what is kept of the text.
const MAX_BODY_BYTES = 1 << 20;
// A Blob's or File's text is kept when it is this small and textual.
const MAX_BLOB_TEXT = 64 * 1024;

type BodyInit = NonNullable<ConstructorParameters<typeof Response>[0]>;
export type Body = { headers: Headers; body: ReadableStream<Uint8Array> | null; bodyUsed: boolean; clone(): Body };

export const fetchAdapter: Adapter = {
  types: [...TAGS],

  recognise(value) {
    const tag = tagOf(value);
    return tag !== undefined && TAGS.has(tag) ? tag : undefined;
  },

  record(value, type, context) {
    switch (type) {
      case 'Request': {
        const req = value as Request;
        return { method: req.method, url: req.url, headers: headersOf(req.headers), ...bodyOf(req as unknown as Body, context) };
      }
      case 'Response': {
        const res = value as Response;
        const out: Record<string, unknown> = { status: res.status, statusText: res.statusText, headers: headersOf(res.headers) };
        if (res.url) out.url = res.url;
        return { ...out, ...bodyOf(res as unknown as Body, context) };
      }
      case 'Headers':
        return headersOf(value as Headers);
      case 'URLSearchParams':
        return grouped(value as URLSearchParams);
      case 'FormData':
        return grouped(value as FormData);
      case 'AbortSignal':
        // An event target, not data: what a replay needs is whether it had fired.
        return { aborted: (value as AbortSignal).aborted };
      default: {
        const blob = value as File;
        const out: Record<string, unknown> = type === 'File' ? { name: blob.name, type: blob.type, size: blob.size } : { type: blob.type, size: blob.size };
        // A Blob is immutable and its text() reads a copy: nothing the app reads is touched.
        if (context.later && blob.size <= MAX_BLOB_TEXT && isTextual(blob.type)) out.text = context.later(blob.text());
        return out;
      }
    }
  },

  rebuild(type, value) {
    switch (type) {
      case 'Request': {
        const method = String(value.method ?? 'GET');
        const body = method === 'GET' || method === 'HEAD' ? null : bodyInit(value.body);
        return new Request(String(value.url), { method, headers: bodyHeaders(value.headers, body), body });
      }
      case 'Response': {
        const status = Number(value.status ?? 200);
        const body = NULL_BODY_STATUS.has(status) ? null : bodyInit(value.body);
        return new Response(body, { status, statusText: String(value.statusText ?? ''), headers: bodyHeaders(value.headers, body) });
      }
      case 'Headers':
        return new Headers(pairs(value));
      case 'URLSearchParams':
        return new URLSearchParams(pairs(value));
      case 'AbortSignal':
        // A signal of its own per run: nothing in a replay aborts it, as nothing did in the app when it was live.
        return value.aborted === true ? AbortSignal.abort() : new AbortController().signal;
      case 'FormData': {
        const form = new FormData();
        for (const [k, v] of entriesOf(value)) form.append(k, v instanceof Blob ? v : String(v));
        return form;
      }
      default: {
        const parts = typeof value.text === 'string' ? [value.text] : [new Uint8Array(Number(value.size) || 0)];
        const options = { type: String(value.type ?? '') };
        return type === 'File' ? new File(parts, String(value.name ?? 'blob'), options) : new Blob(parts, options);
      }
    }
  },

  readOutput(value) {
    return typeof value === 'object' && value !== null && tagOf(value) === 'Response' ? readResponse(value as Response) : undefined;
  },
};

function tagOf(value: object): string | undefined {
  const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  return typeof tag === 'string' ? tag : undefined;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** Headers as an object of lowercase names; `set-cookie`, the one header that cannot be joined, as a list. */
function headersOf(headers: Headers): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of headers) out[name] = value;
  const cookies = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
  if (cookies.length > 1) out['set-cookie'] = cookies;
  return out;
}

/** Entries by name, a name given more than once as a list of its values. */
function grouped(entries: Iterable<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = v;
    else if (Array.isArray(out[k])) (out[k] as unknown[]).push(v);
    else out[k] = [out[k], v];
  }
  return out;
}

function entriesOf(value: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(value).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, unknown] => [k, x]) : [[k, v]]));
}

function pairs(value: unknown): Array<[string, string]> {
  return typeof value === 'object' && value !== null ? entriesOf(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]) : [];
}

/**
 * The body of a Request or Response: read from a clone, so that the app's own stream is left
 * whole (a tee: the app reads at its pace, the copy is buffered for us), as text, JSON, form or bytes.
 */
export function bodyOf(message: Body, context: RecordContext): Record<string, unknown> {
  if (message.body === null) return {};
  if (message.bodyUsed) return { body: unread('the body had already been read') };
  if (context.later === undefined) return { body: unread('the body is read later') };
  let clone: Body;
  try {
    clone = message.clone();
  } catch (error) {
    return { body: unread(`the body could not be copied: ${(error as Error).message}`) };
  }
  return { body: context.later(readBody(clone.body!, message.headers.get('content-type') ?? '')) };
}

async function readBody(stream: ReadableStream<Uint8Array>, type: string): Promise<unknown> {
  const bytes = await readCapped(stream, MAX_BODY_BYTES);
  if (bytes === undefined) return unread(`the body is larger than ${MAX_BODY_BYTES} bytes`);
  return parseBody(bytes, type);
}

/** The body's bytes, or undefined past `max`; the copy is cancelled then, which leaves the app's branch alone. */
async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<Buffer | undefined> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
}

/** A body as data a reader can use and a replay can change: JSON parsed, forms by field, text, else bytes. */
export async function parseBody(bytes: Buffer, type: string): Promise<unknown> {
  const mime = type.split(';')[0]!.trim().toLowerCase();
  if (mime === 'multipart/form-data') return new Response(bytes, { headers: { 'content-type': type } }).formData();
  if (mime === 'application/x-www-form-urlencoded') return new URLSearchParams(bytes.toString('utf8'));
  if (mime === 'application/json' || mime.endsWith('+json')) return parseJson(bytes.toString('utf8'));
  return isTextual(mime) || bytes.length === 0 ? bytes.toString('utf8') : bytes;
}

function isTextual(type: string): boolean {
  return type === '' || /^text\/|[/+](json|xml|javascript|x-www-form-urlencoded)\b|^application\/x-ndjson/.test(type);
}

/** A recorded body as a body again: data as JSON text, forms and bytes as they are. */
function bodyInit(body: unknown): BodyInit | null {
  if (body === undefined || body === null || isNote(body)) return null;
  if (typeof body === 'string' || body instanceof URLSearchParams || body instanceof FormData || body instanceof Blob) return body;
  if (body instanceof Uint8Array) return body as BodyInit;
  return JSON.stringify(body);
}

// Markers in place of a body that was not kept; decoded, they are plain data.
const NOTES = new Set(['Unread', 'Truncated', 'Unreadable']);

/** A recorded marker where the body was not kept: no body to send. */
function isNote(value: unknown): boolean {
  return typeof value === 'object' && value !== null && NOTES.has((value as { $type?: unknown }).$type as string);
}

/**
 * The recorded headers for a rebuilt body. A body may have changed (an input put in), so its length
 * is left for the platform to count; a form's type carries its boundary, which a new form has anew.
 */
function bodyHeaders(headers: unknown, body: BodyInit | null): Array<[string, string]> {
  return pairs(headers).filter(([k]) => {
    const name = k.toLowerCase();
    return name !== 'content-length' && !(name === 'content-type' && body instanceof FormData) && name !== 'transfer-encoding';
  });
}

/** A Response read to its end: status, headers, the body as JSON when it parses, else text; its chunks as frames. */
async function readResponse(res: Response): Promise<OutputRead> {
  const value: Record<string, unknown> = { status: res.status, statusText: res.statusText, headers: headersOf(res.headers) };
  const frames: string[] = [];
  let firstFrameAt: number | undefined;
  if (res.body !== null) {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      firstFrameAt ??= performance.now();
      const text = decoder.decode(chunk, { stream: true });
      if (text !== '') frames.push(text);
    }
    const rest = decoder.decode();
    if (rest !== '') frames.push(rest);
  }
  const text = frames.join('');
  value.body = parseJson(text);
  return { type: 'Response', value, ...(frames.length > 1 ? { frames, firstFrameAt } : {}) };
}

/** JSON text's value; the text itself when it is not JSON (or empty). */
function parseJson(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
