import { bodyOf, fetchAdapter, parseBody, type Body } from './fetch';
import { lowercaseKeys } from './stand-in';
import { someProtoHas } from './shape';
import { NOWHERE, type Adapter, type RebuildContext, type RecordContext } from './types';

/**
 * Hono's Context and HonoRequest. The context keeps its state in private fields behind getters
 * (`req`, `var`, `res`), and the request's data is read through its methods (`param()`, `query()`,
 * `header()`); its body is a Fetch API Request's (`c.req.raw`), or the promise Hono caches once a
 * middleware has read it.
 */
export const honoAdapter: Adapter = {
  types: ['HonoContext', 'HonoRequest'],

  recognise(_value, proto) {
    if (someProtoHas(proto, [], ['req', 'res', 'var', 'executionCtx'])) return 'HonoContext';
    if (someProtoHas(proto, ['param', 'query', 'header', 'parseBody', 'valid'], ['url', 'method'])) return 'HonoRequest';
    return undefined;
  },

  record(value, type, context) {
    if (type === 'HonoRequest') return requestData(value as HonoRequest, context);
    const c = value as { req: HonoRequest; var: unknown };
    return { req: requestData(c.req, context), var: c.var };
  },

  rebuild(type, value, context) {
    if (type === 'HonoRequest') return new HonoRequestStandIn(value);
    return context.standIn(new ContextStandIn(value, context));
  },
};

interface HonoRequest {
  raw: Body;
  method: string;
  url: string;
  path: string;
  routePath: string;
  bodyCache: Record<string, Promise<unknown> | undefined>;
  param(): Record<string, string>;
  query(): Record<string, string>;
  header(): Record<string, string>;
  valid(target: string): unknown;
}

const VALIDATION_TARGETS = ['json', 'form', 'query', 'param', 'header', 'cookie'];

function requestData(req: HonoRequest, context: RecordContext): Record<string, unknown> {
  const out: Record<string, unknown> = {
    method: req.method,
    url: req.url,
    path: req.path,
    routePath: attempt(() => req.routePath),
    headers: req.header(),
    params: attempt(() => req.param()) ?? {},
    query: req.query(),
  };
  const valid = Object.fromEntries(VALIDATION_TARGETS.flatMap((t) => (req.valid(t) === undefined ? [] : [[t, req.valid(t)]])));
  if (Object.keys(valid).length > 0) out.valid = valid;
  return { ...out, ...honoBody(req, context) };
}

/**
 * The body: from the promise Hono cached when a middleware read it, else from a clone of the raw
 * request. The cache is keyed by how it was read, and the key differs across versions: Hono 4.13
 * keeps `json()` as `text`, older versions as `json` (parsed) and `parseBody()` as `parsedBody`;
 * `formData()` and `blob()` keep their own. Any key will do, as Hono's own `cloneRawRequest` takes
 * the first. A replay's request holds its body in memory: kept as it is, with no stream to read.
 */
function honoBody(req: HonoRequest, context: RecordContext): Record<string, unknown> {
  if (req instanceof HonoRequestStandIn) return req.body === undefined ? {} : { body: req.body };
  const key = Object.keys(req.bodyCache ?? {}).find((k) => req.bodyCache[k] !== undefined);
  if (key === undefined || context.later === undefined) return bodyOf(req.raw, context);
  const type = req.header()['content-type'] ?? '';
  return { body: context.later(Promise.resolve(req.bodyCache[key]).then((body) => cachedBody(key, body, type))) };
}

/** A cached body as data: JSON and forms Hono parsed are kept as they are; text and bytes are parsed by their type. */
async function cachedBody(key: string, body: unknown, type: string): Promise<unknown> {
  if (key === 'json' || key === 'parsedBody' || key === 'formData') return body;
  if (typeof body === 'string') return parseBody(Buffer.from(body), type);
  if (body instanceof Blob) return parseBody(Buffer.from(await body.arrayBuffer()), type);
  return parseBody(Buffer.from(body as ArrayBuffer), type);
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** HonoRequest's methods over the recorded data; the body is read as it is now, with an input put in. */
class HonoRequestStandIn {
  method: string;
  url: string;
  path: string;
  routePath: string;
  headers: Record<string, unknown>;
  params: Record<string, unknown>;
  body: unknown;
  bodyCache = {};
  readonly #query: Record<string, unknown>;
  readonly #valid: Record<string, unknown>;

  constructor(value: Record<string, unknown>) {
    this.method = String(value.method ?? 'GET');
    this.url = String(value.url ?? 'http://localhost/');
    this.path = String(value.path ?? new URL(this.url).pathname);
    this.routePath = String(value.routePath ?? this.path);
    this.headers = lowercaseKeys(value.headers);
    this.params = (value.params ?? {}) as Record<string, unknown>;
    this.#query = (value.query ?? {}) as Record<string, unknown>;
    this.body = value.body;
    this.#valid = (value.valid ?? {}) as Record<string, unknown>;
  }

  /** The Fetch API request, made from the data as they are now. */
  get raw(): Request {
    return fetchAdapter.rebuild('Request', { method: this.method, url: this.url, headers: this.headers, body: this.body }, NOWHERE) as Request;
  }

  param(name?: string): unknown {
    return name === undefined ? { ...this.params } : this.params[name];
  }

  query(name?: string): unknown {
    return name === undefined ? { ...this.#query } : this.#query[name];
  }

  queries(name?: string): unknown {
    const all = Object.fromEntries(Object.entries(this.#query).map(([k, v]) => [k, ([] as unknown[]).concat(v)]));
    return name === undefined ? all : all[name];
  }

  header(name?: string): unknown {
    return name === undefined ? { ...this.headers } : this.headers[name.toLowerCase()];
  }

  async json(): Promise<unknown> {
    return typeof this.body === 'string' ? JSON.parse(this.body) : this.body;
  }

  async text(): Promise<string> {
    return typeof this.body === 'string' ? this.body : JSON.stringify(this.body);
  }

  async parseBody(): Promise<unknown> {
    return this.body;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.raw.arrayBuffer();
  }

  blob(): Promise<Blob> {
    return this.raw.blob();
  }

  formData(): Promise<FormData> {
    return this.raw.formData();
  }

  /** What a validator passed: the body itself for `json` and `form`, so that an input put in the body is seen. */
  valid(target: string): unknown {
    if (!(target in this.#valid)) return undefined;
    return target === 'json' || target === 'form' ? this.body : this.#valid[target];
  }
}

/** Hono's Context: `c.json`, `c.text` and `c.body` return real Responses, which a run reads as its output. */
class ContextStandIn {
  finalized = false;
  error: unknown = undefined;
  env: Record<string, unknown> = {};
  readonly #req: HonoRequestStandIn;
  readonly #var: Map<string, unknown>;
  readonly #headers = new Headers();
  readonly #context: RebuildContext;
  #status = 200;
  #res: Response | undefined;

  constructor(value: Record<string, unknown>, context: RebuildContext) {
    this.#req = new HonoRequestStandIn((value.req ?? {}) as Record<string, unknown>);
    this.#var = new Map(Object.entries((value.var ?? {}) as Record<string, unknown>));
    this.#context = context;
  }

  get req(): HonoRequestStandIn {
    return this.#req;
  }

  get var(): Record<string, unknown> {
    return Object.fromEntries(this.#var);
  }

  get res(): Response {
    return (this.#res ??= new Response(null, { status: 404 }));
  }

  set res(res: Response) {
    this.#res = res;
  }

  get executionCtx(): never {
    throw new Error('This context has no ExecutionContext');
  }

  get = (key: string): unknown => this.#var.get(key);

  set = (key: string, value: unknown): void => {
    this.#var.set(key, value);
  };

  header = (name: string, value: string | undefined, options?: { append?: boolean }): void => {
    if (value === undefined) this.#headers.delete(name);
    else if (options?.append) this.#headers.append(name, value);
    else this.#headers.set(name, value);
  };

  status = (status: number): void => {
    this.#status = status;
  };

  newResponse = (data: unknown, arg?: number | ResponseInit, headers?: Record<string, string | string[]>): Response => this.#respond('newResponse', [data, arg, headers], data, arg, headers);
  body = (data: unknown, arg?: number | ResponseInit, headers?: Record<string, string | string[]>): Response => this.#respond('body', [data, arg, headers], data, arg, headers);
  text = (text: string, arg?: number | ResponseInit, headers?: Record<string, string | string[]>): Response =>
    this.#respond('text', [text, arg, headers], text, arg, withType(headers, 'text/plain; charset=UTF-8'));
  json = (object: unknown, arg?: number | ResponseInit, headers?: Record<string, string | string[]>): Response =>
    this.#respond('json', [object, arg, headers], JSON.stringify(object), arg, withType(headers, 'application/json'));
  html = (html: string, arg?: number | ResponseInit, headers?: Record<string, string | string[]>): Response =>
    this.#respond('html', [html, arg, headers], html, arg, withType(headers, 'text/html; charset=UTF-8'));
  redirect = (location: string, status = 302): Response => {
    this.#headers.set('location', location);
    return this.#respond('redirect', [location, status], null, status);
  };
  notFound = (): Response => this.#respond('notFound', [], '404 Not Found', 404);

  /**
   * `given` is the call as the handler made it, for `messages`: with the headers it passed
   * (`c.json(body, 201, { 'x-agent': … })`), not the ones added here, and none it left out.
   */
  #respond(method: string, given: unknown[], data: unknown, arg?: number | ResponseInit, headers?: Record<string, string | string[]>): Response {
    const args = [...given];
    while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
    this.#context.call(`HonoContext.${method}`, args);
    const all = new Headers(this.#headers);
    if (typeof arg === 'object' && arg.headers) for (const [k, v] of new Headers(arg.headers)) all.set(k, v);
    for (const [k, v] of Object.entries(headers ?? {})) {
      all.delete(k);
      for (const one of ([] as string[]).concat(v)) all.append(k, one);
    }
    const status = typeof arg === 'number' ? arg : (arg?.status ?? this.#status);
    this.#res = new Response(data as ConstructorParameters<typeof Response>[0], { status, headers: all });
    return this.#res;
  }
}

function withType(headers: Record<string, string | string[]> | undefined, type: string): Record<string, string | string[]> {
  return headers !== undefined && Object.keys(headers).some((k) => k.toLowerCase() === 'content-type') ? headers : { 'content-type': type, ...headers };
}
