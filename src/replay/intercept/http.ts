import http, { type ClientRequest, type RequestOptions } from 'node:http';
import https from 'node:https';
import module from 'node:module';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { urlToHttpOptions } from 'node:url';
import type { ChildRecord, HttpRequestRecord } from '../../record/downstream-format';
import type { Decision } from '../stubs';
import { wholeBody } from './fetch';
import { currentScope, describeRequest, liveLlm, recordedError, type DownstreamScope } from './requests';

// `http.request`/`get` and `https.request`/`get`, patched once per thread. Inside a replay run
// with downstream state, the request is made on a socket of ours: it takes the request's bytes,
// and once the request has ended (its body known) the stubs decide. A stub's answer is written
// back as HTTP/1.1 bytes, so that Node's own parser makes the IncomingMessage the app reads; a
// live request is carried over a real connection; a denied one fails with an error naming it.

const slot = Symbol.for('fluxloop.replay.http');

type RequestFn = typeof http.request;

/** Patches the request functions of `http` and `https`, once per thread, where ES module imports see them too. */
export function interceptHttp(): void {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  if (holder[slot] !== undefined) return;
  holder[slot] = true;
  for (const [lib, secure] of [
    [http, false],
    [https, true],
  ] as const) {
    const request = lib.request;
    const patched = function (this: unknown, ...args: unknown[]): ClientRequest {
      const scope = currentScope();
      // Both kinds live: nothing to decide, the request goes as it would.
      if (scope === undefined || (scope.run.modes.http === 'live' && scope.run.modes.llm === 'live')) return Reflect.apply(request, this, args) as ClientRequest;
      return intercepted(request, lib, secure, args, scope);
    } as RequestFn;
    lib.request = patched;
    lib.get = function (this: unknown, ...args: unknown[]): ClientRequest {
      const req = Reflect.apply(patched, this, args) as ClientRequest;
      req.end();
      return req;
    } as typeof http.get;
  }
  module.syncBuiltinESMExports();
}

/** The arguments of `request(url?, options?, callback?)`, put together as Node does. */
function argumentsOf(args: unknown[]): { options: RequestOptions; callback?: (res: http.IncomingMessage) => void } {
  let [first, second, third] = args;
  let options: RequestOptions = {};
  if (typeof first === 'string' || first instanceof URL) {
    options = urlToHttpOptions(new URL(first)) as RequestOptions;
    first = undefined;
  } else if (typeof first === 'object' && first !== null) {
    options = { ...(first as RequestOptions) };
    first = undefined;
  }
  if (typeof second === 'object' && second !== null) Object.assign(options, second);
  const callback = [second, third].find((a) => typeof a === 'function') as ((res: http.IncomingMessage) => void) | undefined;
  return { options, callback };
}

function urlOf(options: RequestOptions, secure: boolean): string {
  const protocol = options.protocol ?? (secure ? 'https:' : 'http:');
  const host = options.hostname ?? options.host ?? 'localhost';
  const port = options.port === undefined || options.port === null || String(options.port) === (secure ? '443' : '80') ? '' : `:${options.port}`;
  return `${protocol}//${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${port}${options.path ?? '/'}`;
}

function intercepted(request: RequestFn, lib: typeof http | typeof https, secure: boolean, args: unknown[], scope: DownstreamScope): ClientRequest {
  const { options, callback } = argumentsOf(args);
  const url = urlOf(options, secure);
  const method = (options.method ?? 'GET').toUpperCase();
  const socket = new StubSocket();
  const made = { ...options, agent: undefined, createConnection: () => socket, ...(secure ? { defaultPort: 443 } : {}) } as RequestOptions;
  const req = Reflect.apply(request, lib, callback === undefined ? [made] : [made, callback]) as ClientRequest;
  // The body as the app wrote it, before Node frames it.
  const body: Buffer[] = [];
  const take = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string') body.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    else if (chunk instanceof Uint8Array) body.push(Buffer.from(chunk));
  };
  const write = req.write;
  req.write = function (this: ClientRequest, chunk: unknown, ...rest: unknown[]) {
    take(chunk, rest[0]);
    return Reflect.apply(write, this, [chunk, ...rest]) as boolean;
  } as typeof req.write;
  const end = req.end;
  req.end = function (this: ClientRequest, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') take(chunk, rest[0]);
    return Reflect.apply(end, this, [chunk, ...rest]) as ClientRequest;
  } as typeof req.end;
  req.once('finish', () => {
    let decided: { decision: Decision; request: HttpRequestRecord; llm: boolean };
    try {
      const { call, request: described } = describeRequest(method, url, Buffer.concat(body), contentTypeOf(req), scope.encoding);
      decided = { decision: scope.run.begin(call), request: described, llm: call.kind === 'llm' };
    } catch (error) {
      req.destroy(error as Error);
      return;
    }
    const { decision } = decided;
    switch (decision.answer) {
      case 'denied':
      case 'unmatched':
        scope.run.end(decision.seq);
        req.destroy(decision.error);
        return;
      case 'stub':
        scope.run.end(decision.seq, { status: decision.recorded.response?.status, usage: decision.recorded.llm?.usage ?? undefined, model: decision.recorded.llm?.model });
        socket.answer(decision.recorded, method, req);
        return;
      case 'live':
        socket.goLive(options, secure, (status, headers, text) => {
          const llm = decided.llm && status !== undefined ? liveLlm(decided.request, status, headers, text) : undefined;
          scope.run.end(decision.seq, { status, ...(llm === undefined ? {} : { usage: llm.usage, model: llm.model }) });
        });
    }
  });
  return req;
}

/**
 * The socket a replayed request is made on. It keeps the request's bytes; then it either pushes
 * a recorded answer, or connects for real, sends them and carries the rest both ways.
 */
class StubSocket extends Duplex {
  private sent: Buffer[] = [];
  private real: net.Socket | undefined;
  readonly connecting = false;
  remoteAddress = '127.0.0.1';

  // What Node and apps call on a socket; this one has no connection to tune.
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): object {
    return {};
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.real !== undefined) this.real.write(chunk, done);
    else {
      this.sent.push(chunk);
      done();
    }
  }

  override _read(): void {
    this.real?.resume();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.real?.destroy();
    done(error);
  }

  /** Pushes the recorded answer as HTTP/1.1: chunked, chunk by chunk, when it was streamed. */
  answer(recorded: ChildRecord, method: string, req: ClientRequest): void {
    const answer = recorded.response;
    if (answer === undefined) {
      req.destroy(recordedError(recorded.error ?? { name: 'Error', message: 'the recorded request had no response' }));
      return;
    }
    const noBody = answer.status === 204 || answer.status === 304 || method === 'HEAD';
    const chunks = noBody ? [] : (answer.chunks ?? wholeBody(answer.body) ?? []);
    const streamed = answer.chunks !== undefined && !noBody;
    const lines = [`HTTP/1.1 ${answer.status} ${answer.status_text || http.STATUS_CODES[answer.status] || ''}`];
    for (const [name, value] of Object.entries(answer.headers)) {
      if (['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(name.toLowerCase())) continue;
      lines.push(`${name}: ${value.replace(/[\r\n]/g, ' ')}`);
    }
    const buffers = chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c)));
    lines.push(streamed ? 'transfer-encoding: chunked' : `content-length: ${buffers.reduce((n, b) => n + b.length, 0)}`, 'connection: close', '', '');
    const parts: Buffer[] = [Buffer.from(lines.join('\r\n'), 'latin1')];
    if (streamed) {
      for (const b of buffers) if (b.length > 0) parts.push(Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]));
      parts.push(Buffer.from('0\r\n\r\n'));
    } else parts.push(...buffers);
    // One part a turn, so that a streamed answer reaches the app as it did, piece by piece.
    const pushNext = () => {
      if (this.destroyed) return;
      const part = parts.shift();
      if (part === undefined) {
        this.push(null);
        return;
      }
      this.push(part);
      setImmediate(pushNext);
    };
    setImmediate(pushNext);
  }

  /** Connects for real, sends the request's bytes and carries the rest; `onEnd` gets the answer's status and text, for the timeline. */
  goLive(options: RequestOptions, secure: boolean, onEnd: (status: number | undefined, headers: Record<string, string>, text: string) => void): void {
    const host = options.hostname ?? options.host ?? 'localhost';
    const port = Number(options.port ?? (secure ? 443 : 80));
    const tlsOptions = options as tls.ConnectionOptions;
    const real = secure
      ? tls.connect({ ...tlsOptions, host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host, port, ...(options.family === undefined ? {} : { family: options.family }), ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    this.real = real;
    const received: Buffer[] = [];
    real.once(secure ? 'secureConnect' : 'connect', () => {
      for (const chunk of this.sent) real.write(chunk);
      this.sent = [];
    });
    real.on('data', (chunk: Buffer) => {
      received.push(chunk);
      if (!this.push(chunk)) real.pause();
    });
    real.once('end', () => {
      this.push(null);
      const { status, headers, text } = parseResponse(Buffer.concat(received));
      onEnd(status, headers, text);
    });
    real.once('error', (error) => {
      onEnd(undefined, {}, '');
      this.destroy(error);
    });
  }
}

/**
 * An HTTP/1.1 response's status, headers and body (de-chunked), read from a copy of its bytes: for
 * the timeline (and a live LLM call's usage) only. By hand, since Node's parser is the app's: it
 * makes the app's response from these very bytes, and the copy must not touch that.
 */
function parseResponse(bytes: Buffer): { status: number | undefined; headers: Record<string, string>; text: string } {
  const split = bytes.indexOf('\r\n\r\n');
  if (split === -1) return { status: undefined, headers: {}, text: '' };
  const [first, ...rest] = bytes.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(first ?? '')?.[1]) || undefined;
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = bytes.subarray(split + 4);
  if ((headers['transfer-encoding'] ?? '').includes('chunked')) {
    const pieces: Buffer[] = [];
    let at = 0;
    while (at < body.length) {
      const eol = body.indexOf('\r\n', at);
      if (eol === -1) break;
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!(size > 0)) break;
      pieces.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(pieces);
  }
  return { status, headers, text: body.toString('utf8') };
}

function contentTypeOf(req: ClientRequest): string | undefined {
  const value = req.getHeader('content-type');
  return value === undefined ? undefined : String(value);
}
