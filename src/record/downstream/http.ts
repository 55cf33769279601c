import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { currentRecordedCall } from '../../trace/recording';
import type { HttpRequestRecord, HttpResponseRecord } from '../downstream-format';
import { warn } from '../warn';
import { BodyCopy, headerRecord, isStreamed } from './body';
import type { ChildStart, Children } from './child';

/**
 * Records the `http`/`https` client requests made under a recorded call, through the channels
 * Node publishes them on: `http.client.request.start` (in the caller's async context, so the
 * recorded call is known) and `http.client.response.finish` (when the response's head arrives,
 * whatever its name says). Node publishes no bodies, so the tap copies them where they pass: what
 * the app writes, from `ClientRequest.prototype.write` and `end` (the start is published once the
 * body is sent, too late to see it on the instance), and what the parser pushes into the response
 * (its `push`), which copies a body without reading it from the app. Failures are seen in `emit`,
 * not with a listener: an `'error'` listener of ours would keep an error the app does not listen
 * for from being thrown.
 */
export function tapHttp(children: Children): void {
  // Once per process: two copies of fluxloop must not record each request twice.
  const pinned = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (pinned[TAPPED]) return;
  pinned[TAPPED] = true;
  const copy = () => copyWrites((require('node:http') as typeof import('node:http')).ClientRequest, children.limits.maxBodyBytes);
  if (publishesCreated()) {
    // A request is published as it is made, before anything is written to it: the writes are
    // copied from the first one, rather than node:http loaded at start (7 ms) by an app that
    // may make none.
    let copying = false;
    subscribe('http.client.request.created', () => {
      if (copying) return;
      copying = true;
      copy();
    });
  } else {
    copy();
  }
  subscribe('http.client.request.start', (message) => {
    const call = currentRecordedCall();
    if (call === undefined) return;
    try {
      const { request } = message as { request: ClientRequest };
      // With HTTP calls not recorded, only a request to an LLM API's path takes a place among the children.
      if (!children.mayWant(`${request.protocol}//${request.host}${request.path}`)) return;
      new HttpTap(children, children.begin(call), request);
    } catch (error) {
      failed(error);
    }
  });
  subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    try {
      taps.get(request)?.responded(response);
    } catch (error) {
      failed(error);
    }
  });
}

/** Whether Node publishes `http.client.request.created`, which came with 22.12 and 23.2. */
function publishesCreated(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 2) || (major === 22 && minor >= 12);
}

const TAPPED = Symbol.for('fluxloop.downstream.http');
const taps = new WeakMap<ClientRequest, HttpTap>();
/** What the app wrote of each request made under a recorded call. */
const written = new WeakMap<ClientRequest, BodyCopy>();

/**
 * Copies what is written to a client request under a recorded call: the prototype's `write` and
 * `end` run as they did, after one `getStore()` outside a recorded call.
 */
function copyWrites(requests: typeof ClientRequest, limit: number): void {
  const proto = requests.prototype as unknown as Record<string, Function>;
  for (const name of ['write', 'end']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    const copying = {
      [name](this: ClientRequest, ...args: unknown[]) {
        if (currentRecordedCall() !== undefined) {
          try {
            let copy = written.get(this);
            if (copy === undefined) written.set(this, (copy = new BodyCopy(limit)));
            if (typeof args[0] !== 'function') copy.add(args[0], args[1]);
          } catch (error) {
            failed(error);
          }
        }
        return Reflect.apply(original, this, args);
      },
    }[name]!;
    Object.defineProperty(copying, 'length', { value: original.length });
    const descriptor = Object.getOwnPropertyDescriptor(proto, name) ?? { configurable: true, writable: true, enumerable: false };
    Object.defineProperty(proto, name, { ...descriptor, value: copying });
  }
}

class HttpTap {
  private readonly sent: BodyCopy;
  private received: BodyCopy | undefined;
  private response: IncomingMessage | undefined;
  private ended = false;
  private readonly untrack: () => void;

  constructor(
    private readonly children: Children,
    private readonly start: ChildStart,
    private readonly request: ClientRequest,
  ) {
    // Where Node publishes the start before the body is written (not Node 20), the writes to come land here.
    let sent = written.get(request);
    if (sent === undefined) written.set(request, (sent = new BodyCopy(children.limits.maxBodyBytes)));
    this.sent = sent;
    taps.set(request, this);
    this.untrack = children.track(() => this.end(undefined, true));
    tapMethod(request, 'emit', (args) => {
      if (args[0] === 'error') this.end(args[1]);
      // Closed without a response and without an error: destroyed, or aborted.
      else if (args[0] === 'close' && this.response === undefined) this.end(new Error('the request closed before a response'));
    });
  }

  responded(response: IncomingMessage): void {
    this.response = response;
    const chunked = /chunked/i.test(String(response.headers['transfer-encoding'] ?? ''));
    this.received = new BodyCopy(this.children.limits.maxBodyBytes, isStreamed(response.headers['content-type'], chunked));
    const received = this.received;
    tapMethod(response, 'push', (args) => {
      if (args[0] === null) this.end();
      else received.add(args[0], args[1]);
    });
    tapMethod(response, 'emit', (args) => {
      if (args[0] === 'error' || args[0] === 'aborted') this.end(args[0] === 'error' ? args[1] : new Error('the response was aborted'), true);
    });
  }

  /** The exchange is over: written once, with what was copied. */
  private end(error?: unknown, cut = false): void {
    if (this.ended) return;
    this.ended = true;
    this.untrack();
    try {
      const response = this.response === undefined ? undefined : this.responseRecord(this.response, cut);
      this.children.exchange(this.start, { request: this.requestRecord(), response, error });
    } catch (e) {
      failed(e);
    }
  }

  private requestRecord(): HttpRequestRecord {
    const r = this.request;
    const headers = headerRecord(Object.entries(r.getHeaders()));
    const host = headers.host ?? r.host;
    return { method: r.method, url: `${r.protocol}//${host}${r.path}`, headers, body: this.sent.body(headers['content-type']) };
  }

  private responseRecord(response: IncomingMessage, cut: boolean): HttpResponseRecord {
    const headers = headerRecord(Object.entries(response.headers));
    const body = this.received!.response(headers['content-type'], this.children.limits.maxArrayLength);
    return { status: response.statusCode ?? 0, status_text: response.statusMessage ?? '', headers, ...body, ...(cut ? { truncated: true } : {}) };
  }
}

/**
 * Runs `see` with the arguments of each call of an instance's method, before the method, which
 * then runs as it would have: its own property on the instance, the prototype's method untouched.
 */
function tapMethod(target: object, name: string, see: (args: unknown[]) => void): void {
  const original = (target as Record<string, unknown>)[name];
  if (typeof original !== 'function') return;
  Object.defineProperty(target, name, {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function (this: unknown, ...args: unknown[]) {
      try {
        see(args);
      } catch (error) {
        failed(error);
      }
      return Reflect.apply(original, this, args);
    },
  });
}

function failed(error: unknown): void {
  warn('downstream:http', `could not record an HTTP request: ${(error as Error)?.message ?? String(error)}`);
}
