import { lowercaseKeys } from './stand-in';
import { someProtoHas } from './shape';
import type { Adapter, RebuildContext } from './types';

/**
 * Koa's context. It has no class: each request's `ctx` is made with Object.create from the app's
 * context, whose prototype holds Koa's methods and the getters that delegate to `ctx.request` and
 * `ctx.response`. Those getters hold the data (method, path, query, headers, status), which a
 * walk of own properties would miss.
 */
export const koaAdapter: Adapter = {
  types: ['KoaContext'],

  recognise(_value, proto) {
    return someProtoHas(proto, ['onerror', 'assert', 'throw', 'toJSON'], ['cookies']) ? 'KoaContext' : undefined;
  },

  record(value) {
    const ctx = value as KoaContext;
    const { request, response } = ctx;
    const out: Record<string, unknown> = {
      request: {
        method: request.method,
        url: request.url,
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: request.body,
        ip: request.ip,
        host: request.host,
        protocol: request.protocol,
      },
      response: { status: response.status, message: response.message, headers: response.headers, body: response.body },
      state: ctx.state,
    };
    // Set by routers (@koa/router), not by Koa.
    if (ctx.params !== undefined) out.params = ctx.params;
    return out;
  },

  rebuild(_type, value, context) {
    return contextStandIn(value, context);
  },
};

interface KoaContext {
  request: Record<string, unknown> & { method: string; url: string; path: string; query: unknown; headers: unknown; body?: unknown; ip: string; host: string; protocol: string };
  response: { status: number; message: string; headers: unknown; body: unknown };
  state: unknown;
  params?: unknown;
}

/** An error as Koa's `ctx.throw` makes it (http-errors): a status, and whether its message may be shown. */
class HttpError extends Error {
  override name = 'HttpError';
  readonly statusCode: number;
  constructor(
    readonly status: number,
    message: string,
    readonly expose = status < 500,
  ) {
    super(message);
    this.statusCode = status;
  }
}

function contextStandIn(value: Record<string, unknown>, context: RebuildContext): object {
  const ctx = new KoaContextStandIn(value, context);
  context.answer(() => ctx.response.body);
  return context.standIn(ctx);
}

/**
 * A context with Koa's delegates: `ctx.body = x` sets the response's body, which is the run's
 * output when the function ends; `ctx.status`, `ctx.set`, `ctx.get` and `ctx.throw` work as Koa's.
 * Koa's own methods (`throw`, `assert`, `onerror`, `toJSON`, `cookies`) sit on the prototype as in
 * Koa, so that the arguments as invoked are recorded as a context again.
 */
class KoaContextStandIn {
  request: Record<string, unknown> & { headers: Record<string, unknown>; get(name: string): string };
  response: { status: number; message: unknown; headers: Record<string, unknown>; body: unknown };
  state: unknown;
  params: unknown;
  readonly #context: RebuildContext;

  constructor(value: Record<string, unknown>, context: RebuildContext) {
    const headers = lowercaseKeys((value.request as Record<string, unknown> | undefined)?.headers);
    const get = (name: string) => headerOf(headers, name);
    this.request = { ...(value.request as Record<string, unknown>), headers, header: headers, get };
    const recorded = (value.response ?? {}) as Record<string, unknown>;
    this.response = { status: typeof recorded.status === 'number' ? recorded.status : 404, message: recorded.message, headers: lowercaseKeys(recorded.headers), body: recorded.body };
    this.state = value.state ?? {};
    this.params = value.params ?? {};
    this.#context = context;
  }

  #note(method: string, args: unknown[]): void {
    this.#context.call(`KoaContext.${method}`, args);
  }

  get method(): unknown {
    return this.request.method;
  }
  get url(): unknown {
    return this.request.url;
  }
  get path(): unknown {
    return this.request.path;
  }
  get query(): unknown {
    return this.request.query;
  }
  get headers(): Record<string, unknown> {
    return this.request.headers;
  }
  get header(): Record<string, unknown> {
    return this.request.headers;
  }
  get ip(): unknown {
    return this.request.ip;
  }
  get host(): unknown {
    return this.request.host;
  }
  get protocol(): unknown {
    return this.request.protocol;
  }

  get body(): unknown {
    return this.response.body;
  }
  set body(body: unknown) {
    this.#note('body', [body]);
    this.response.body = body;
    // As Koa does: a body without an explicit status answers 200.
    if (this.response.status === 404) this.response.status = 200;
  }

  get status(): number {
    return this.response.status;
  }
  set status(status: number) {
    this.#note('status', [status]);
    this.response.status = status;
  }

  get type(): string {
    return String(this.response.headers['content-type'] ?? '');
  }
  set type(type: string) {
    this.response.headers['content-type'] = type;
  }

  get cookies(): { get(name: string): string | undefined; set(name: string, value: string): void } {
    const cookie = String(this.request.headers.cookie ?? '');
    return {
      get: (name) => cookie.split(/;\s*/).find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1),
      set: (name, value) => this.#note('cookies.set', [name, value]),
    };
  }

  get(name: string): string {
    return headerOf(this.request.headers, name);
  }

  set(name: string | Record<string, unknown>, value?: unknown): void {
    this.#note('set', value === undefined ? [name] : [name, value]);
    const pairs = typeof name === 'string' ? [[name, value] as const] : Object.entries(name);
    for (const [k, v] of pairs) this.response.headers[k.toLowerCase()] = v;
  }

  append(name: string, value: unknown): void {
    this.#note('append', [name, value]);
    const prev = this.response.headers[name.toLowerCase()];
    this.response.headers[name.toLowerCase()] = prev === undefined ? value : ([] as unknown[]).concat(prev, value);
  }

  remove(name: string): void {
    delete this.response.headers[name.toLowerCase()];
  }

  redirect(url: string): void {
    this.#note('redirect', [url]);
    this.response.headers.location = url;
    this.response.status = 302;
  }

  throw(...args: unknown[]): never {
    const status = args.find((a): a is number => typeof a === 'number') ?? 500;
    const message = args.find((a): a is string => typeof a === 'string') ?? `HTTP ${status}`;
    throw new HttpError(status, message);
  }

  assert(condition: unknown, ...args: unknown[]): void {
    if (!condition) this.throw(...args);
  }

  onerror(error: unknown): void {
    this.#note('onerror', [error]);
  }

  toJSON(): unknown {
    return { request: this.request, response: this.response };
  }
}

function headerOf(headers: unknown, name: string): string {
  const value = (headers as Record<string, unknown>)[name.toLowerCase()];
  return value === undefined ? '' : String(value);
}
