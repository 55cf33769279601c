import { Note } from '../../adapters';
import type { DownstreamCaptureConfig } from '../../config/types';
import { RecordedCall, type CallScope } from '../../trace/recording';
import { monotonicMs } from '../clock';
import { CHILD_LINE_START, type ChildKind, type HttpRequestRecord, type HttpResponseRecord } from '../downstream-format';
import type { Recorder } from '../recorder';
import { warn } from '../warn';
import { llmCallOf, llmName, llmPath, llmRequestOf } from './llm';

/** A downstream call begun under a recorded call: its place among the call's children, and when. */
export interface ChildStart {
  parent: string;
  seq: number;
  /** The tool call it was made inside, when it was. */
  within?: number;
  /** `monotonicMs()` at the child's start. */
  at: number;
  startedMs: number;
}

/** An HTTP exchange as a tap saw it, bodies copied, not yet redacted. */
export interface Exchange {
  request: HttpRequestRecord;
  response?: HttpResponseRecord;
  error?: unknown;
}

/** What a tool call came to. */
export type ToolOutcome = { output: unknown; async: boolean } | { error: unknown; async: boolean };

/** A value already encoded, as it was when the call began. */
export class Encoded {
  constructor(readonly text: string) {}
}

export interface ChildLimits {
  /**
   * The most bytes of a body copied (`recording.max_record_bytes`): a JSON body is kept whole up to
   * it, so that it parses, and each of its strings is then capped as any string is.
   */
  maxBodyBytes: number;
  /** The most elements kept of an array, and so the most chunks of a streamed body. */
  maxArrayLength: number;
}

/**
 * Turns the downstream calls that the taps saw into child lines, redacted and capped by the
 * recording's encoder, and queues them on the recorder's writer: the same file, flushed with the
 * records, so that a child is no more lost at exit than its parent.
 */
export class Children {
  private readonly meta = `,"meta":{"pid":${process.pid}}}\n`;

  constructor(
    private readonly recorder: Recorder,
    readonly config: DownstreamCaptureConfig,
    readonly limits: ChildLimits,
  ) {}

  /** How each call still open at exit is written, with what it has so far. */
  private readonly open = new Set<() => void>();

  /** Keeps `end` to be run at exit if the call has not ended by then; the function returned forgets it. */
  track(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }

  /** Writes the calls still open, marked as not read to their end: the process is exiting. */
  close(): void {
    for (const end of [...this.open]) {
      try {
        end();
      } catch (error) {
        failed(error);
      }
    }
  }

  /** Whether HTTP exchanges are looked at: recorded as such, or as LLM calls. */
  get http(): boolean {
    return this.config.http || this.config.llm;
  }

  /** Whether an HTTP request may be recorded, known from its URL alone (a request whose body is not written yet). */
  mayWant(url: string): boolean {
    return this.config.http || (this.config.llm && llmPath(url));
  }

  /** Whether an HTTP request is recorded, known from its URL and body before it is sent. */
  wants(url: string, body: unknown): boolean {
    return this.config.http || (this.config.llm && llmRequestOf(url, body) !== undefined);
  }

  /** Numbers a downstream call of `call` starting now. */
  begin(scope: CallScope): ChildStart {
    const at = monotonicMs();
    const call = scope instanceof RecordedCall ? scope : scope.call;
    // The wall clock may step back between the two readings; a child never starts before its parent.
    return { parent: call.id, seq: call.seq++, within: scope instanceof RecordedCall ? undefined : scope.within, at, startedMs: Math.max(0, Date.now() - call.startedAt) };
  }

  /** Records an HTTP exchange: an LLM call when it is one and LLM calls are recorded, else an HTTP call when those are. */
  exchange(start: ChildStart, exchange: Exchange): void {
    try {
      const { request, response } = exchange;
      const llm = this.config.llm ? llmRequestOf(request.url, request.body) : undefined;
      let kind: ChildKind;
      let name: string;
      const fields: Record<string, unknown> = { request, ...(response === undefined ? {} : { response }) };
      if (llm !== undefined) {
        kind = 'llm';
        name = llmName(llm);
        fields.llm = llmCallOf(request, response) ?? null;
      } else if (this.config.http) {
        kind = 'http';
        name = httpName(request.method, request.url);
      } else {
        return;
      }
      if (exchange.error !== undefined) fields.error = errorRecord(exchange.error);
      this.write(start, kind, name, fields);
    } catch (error) {
      failed(error);
    }
  }

  /** A value's text now, redacted and capped, for a record written later. */
  encoded(value: unknown): Encoded {
    return new Encoded(this.recorder.encodeValue(value));
  }

  /** Records a call of a downstream target (a tool): its target's identity, its arguments encoded when it began. */
  tool(start: ChildStart, target: string, args: Encoded, outcome: ToolOutcome): void {
    try {
      const fields: Record<string, unknown> = { target, args };
      if ('error' in outcome) fields.error = errorRecord(outcome.error);
      else fields.output = outcome.output;
      fields.async = outcome.async;
      this.write(start, 'tool', target, fields);
    } catch (error) {
      failed(error);
    }
  }

  private write(start: ChildStart, kind: ChildKind, name: string, fields: Record<string, unknown>): void {
    const duration = monotonicMs() - start.at;
    const head =
      `${CHILD_LINE_START}${JSON.stringify(start.parent)},"seq":${start.seq}${start.within === undefined ? '' : `,"within":${start.within}`},"kind":"${kind}"` +
      // The name shows a URL's path, which may hold a secret (a webhook's): redacted as strings are.
      `,"name":${this.recorder.encodeValue(name)},"started_ms":${ms(start.startedMs)},"duration_ms":${ms(duration)}`;
    let body = this.fieldsText(fields);
    if (body.length > this.recorder.maxBytes) body = this.fieldsText(withoutBodies(fields, body.length));
    this.recorder.writeLine(`${head}${body},"timestamp":"${new Date().toISOString()}"${this.meta}`);
  }

  private fieldsText(fields: Record<string, unknown>): string {
    let text = '';
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) text += `,${JSON.stringify(key)}:${value instanceof Encoded ? value.text : this.recorder.encodeValue(value)}`;
    }
    return text;
  }
}

/** How an HTTP request is named: `POST api.example.com/v1/search`, its method, host and path, without the query. */
export function httpName(method: string, url: string): string {
  try {
    const u = new URL(url);
    return `${method.toUpperCase()} ${u.host}${u.pathname}`;
  } catch {
    return `${method.toUpperCase()} ${url.split(/[?#]/)[0]}`;
  }
}

/** What a downstream call failed with, as the record keeps it. */
export function errorRecord(error: unknown): { name: string; message: string; code?: string | number; status?: number } {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error) };
  const e = error as { name?: unknown; message?: unknown; code?: unknown; status?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === 'string' || typeof e.code === 'number' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(error),
    ...(code === undefined ? {} : { code }),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
  };
}

/** A child too large for a record, its bodies and messages replaced by a size marker. */
function withoutBodies(fields: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const marker = new Note('Truncated', `record_size: the call took ${bytes} bytes`);
  const out = { ...fields };
  if (out.request) out.request = { ...(out.request as object), body: marker };
  if (out.response) out.response = { ...(out.response as object), body: marker, chunks: undefined, truncated: true };
  if (out.llm) out.llm = { ...(out.llm as object), messages: marker, tools: null };
  if ('args' in out) out.args = [marker];
  if ('output' in out) out.output = marker;
  return out;
}

function ms(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function failed(error: unknown): void {
  warn('downstream', `could not record a downstream call: ${(error as Error)?.message ?? String(error)}`);
}
