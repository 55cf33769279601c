import { Buffer } from 'node:buffer';
import type { HttpResponseRecord } from '../downstream-format';

/**
 * A copy of a body, made as the app sends or reads it, up to a limit: the bytes, and for a
 * streamed one the pieces as they came. Past the limit nothing more is kept, and the copy says so.
 */
export class BodyCopy {
  private readonly parts: Buffer[] = [];
  private bytes = 0;
  /** Past the limit, or never read to its end. */
  truncated = false;

  constructor(
    private readonly limit: number,
    /** Keep the pieces as they came (a streamed response), for a stub to stream them again. */
    private readonly pieces = false,
  ) {}

  /** Copies a piece; false once the copy is full. */
  add(chunk: unknown, encoding?: unknown): boolean {
    if (this.truncated) return false;
    const bytes = bytesOf(chunk, encoding);
    if (bytes === undefined || bytes.length === 0) return true;
    const room = this.limit - this.bytes;
    const kept = bytes.length > room ? bytes.subarray(0, Math.max(0, room)) : bytes;
    // A copy: the app may reuse its buffer once write() returns.
    if (kept.length > 0) this.parts.push(Buffer.from(kept));
    this.bytes += kept.length;
    if (bytes.length > room) this.truncated = true;
    return !this.truncated;
  }

  /** The body as recorded: JSON when it parses, else text, else bytes; null without one. */
  body(contentType: string | undefined): unknown {
    return this.parts.length === 0 ? null : bodyValue(Buffer.concat(this.parts), contentType, this.truncated);
  }

  /** The streamed pieces as text, at most `max` of them (neighbours joined beyond). */
  chunks(max: number): string[] | undefined {
    if (!this.pieces) return undefined;
    const decoder = new TextDecoder();
    const texts = this.parts.map((p) => decoder.decode(p, { stream: true })).filter((t) => t.length > 0);
    const tail = decoder.decode();
    if (tail.length > 0) texts.push(tail);
    return joinNeighbours(texts, max);
  }

  /** A response record's body fields. */
  response(contentType: string | undefined, maxChunks: number): Pick<HttpResponseRecord, 'body' | 'chunks' | 'truncated'> {
    const chunks = this.chunks(maxChunks);
    return { body: this.body(contentType), ...(chunks === undefined ? {} : { chunks }), ...(this.truncated ? { truncated: true } : {}) };
  }
}

/** Whether a response is read as a stream: server-sent events, NDJSON, or chunked text that is not JSON. */
export function isStreamed(contentType: string | undefined, chunked: boolean): boolean {
  const type = (contentType ?? '').toLowerCase();
  if (/event-stream|ndjson|jsonl|stream\+json/.test(type)) return true;
  return chunked && !/json/.test(type) && type !== '';
}

/** A body's value: parsed JSON when it is JSON, else its text, else the bytes (a Buffer, which the encoder tags). */
export function bodyValue(bytes: Buffer, contentType: string | undefined, cut = false): unknown {
  const text = textOf(bytes, cut);
  if (text === undefined) return bytes;
  if (!cut && (/json/i.test(contentType ?? '') || /^\s*[[{]/.test(text))) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON after all: kept as text.
    }
  }
  return text;
}

/** The bytes as UTF-8 text, or undefined when they are not text. A cut body may end inside a character. */
function textOf(bytes: Buffer, cut: boolean): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cut });
  } catch {
    return undefined;
  }
}

function bytesOf(chunk: unknown, encoding: unknown): Uint8Array | undefined {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  return undefined;
}

function joinNeighbours(texts: string[], max: number): string[] {
  if (texts.length <= max) return texts;
  const per = Math.ceil(texts.length / max);
  const joined: string[] = [];
  for (let i = 0; i < texts.length; i += per) joined.push(texts.slice(i, i + per).join(''));
  return joined;
}

/** Header values as the record keeps them: lower-case names, repeated values joined with `, `. */
export function headerRecord(entries: Iterable<[string, unknown]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    out[key] = key in out ? `${out[key]}, ${text}` : text;
  }
  return out;
}
