import { lowercaseKeys, silentLogger } from './stand-in';
import { someProtoHas } from './shape';
import type { Adapter, RebuildContext } from './types';

/**
 * Fastify's request and reply. Their data are getters on prototypes (`headers`, `url`, `method`,
 * `ip`, `routeOptions`), which a walk of own properties would miss, and the reply is no emitter.
 * The classes are recognised by their methods, through any number of `_Request`/`_Reply`
 * subclasses that decorators and plugins add.
 */
export const fastifyAdapter: Adapter = {
  types: ['FastifyRequest', 'FastifyReply'],

  recognise(_value, proto) {
    if (someProtoHas(proto, ['getValidationFunction', 'compileValidationSchema'], ['routeOptions', 'headers'])) return 'FastifyRequest';
    if (someProtoHas(proto, ['send', 'code', 'header', 'hijack', 'serialize'], ['sent'])) return 'FastifyReply';
    return undefined;
  },

  record(value, type) {
    if (type === 'FastifyReply') {
      const reply = value as RecordedReply;
      return { statusCode: reply.statusCode, headers: reply.getHeaders(), sent: reply.sent };
    }
    const req = value as FastifyRequest;
    const route = req.routeOptions;
    return {
      id: req.id,
      method: req.method,
      url: req.url,
      headers: req.headers,
      query: plainCopy(req.query),
      params: plainCopy(req.params),
      body: req.body,
      ip: req.ip,
      hostname: req.hostname,
      routeOptions: { url: route?.url, method: route?.method },
    };
  },

  rebuild(type, value, context) {
    return type === 'FastifyReply' ? replyStandIn(value, context) : requestStandIn(value);
  },
};

/**
 * Fastify's `query` (fast-querystring) and `params` (find-my-way) are made by constructors whose
 * prototype is a null-prototype object, for speed. The encoder would write such an object as a
 * class instance (`{"$type":"Object","class":"Object",...}`) instead of the plain data it is; a
 * copy onto an ordinary object keeps them as `{ lang: 'fr' }`. Anything else is kept as it is.
 */
function plainCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? value : { ...value };
}

interface FastifyRequest {
  id: unknown;
  method: string;
  url: string;
  headers: unknown;
  query: unknown;
  params: unknown;
  body: unknown;
  ip: string;
  hostname: string;
  routeOptions?: { url?: string; method?: unknown };
}

interface RecordedReply {
  statusCode: number;
  sent: boolean;
  getHeaders(): Record<string, unknown>;
}

/** The recorded request's data, with what handlers use beside it: a logger, and `raw` as Node's request. */
function requestStandIn(value: Record<string, unknown>): object {
  return new FastifyRequestStandIn(value);
}

/**
 * A request with Fastify's shape: `headers` and `routeOptions` as getters and the validation
 * methods on its prototype, so that the arguments as invoked are recorded as a request again.
 */
class FastifyRequestStandIn {
  [field: string]: unknown;
  readonly #headers: unknown;
  readonly #routeOptions: unknown;

  constructor(value: Record<string, unknown>) {
    const { headers, routeOptions, ...fields } = value;
    Object.assign(this, fields, { log: silentLogger(), raw: { method: value.method, url: value.url, headers } });
    this.#headers = headers;
    this.#routeOptions = routeOptions ?? {};
  }

  get headers(): unknown {
    return this.#headers;
  }

  get routeOptions(): unknown {
    return this.#routeOptions;
  }

  // A replay has no route schemas: nothing to validate against.
  getValidationFunction(): undefined {
    return undefined;
  }

  compileValidationSchema(): () => boolean {
    return () => true;
  }
}

/** A reply whose methods chain as Fastify's do, and whose `send` is the run's output. */
function replyStandIn(value: Record<string, unknown>, context: RebuildContext): object {
  return context.standIn(new FastifyReply(value, context));
}

/** Fastify's reply methods on a prototype, as Fastify has them, so that the arguments as invoked are recorded as a reply again. */
class FastifyReply {
  statusCode: number;
  log = silentLogger();
  elapsedTime = 0;
  readonly #headers: Record<string, unknown>;
  readonly #context: RebuildContext;
  #sent = false;

  constructor(value: Record<string, unknown>, context: RebuildContext) {
    this.statusCode = typeof value.statusCode === 'number' ? value.statusCode : 200;
    this.#headers = lowercaseKeys(value.headers);
    this.#context = context;
  }

  get sent(): boolean {
    return this.#sent;
  }

  #note(method: string, args: unknown[]): void {
    this.#context.call(`FastifyReply.${method}`, args);
  }

  code(code: number): this {
    this.#note('code', [code]);
    this.statusCode = code;
    return this;
  }

  status(code: number): this {
    return this.code(code);
  }

  header(key: string, value: unknown = ''): this {
    this.#note('header', [key, value]);
    this.#headers[key.toLowerCase()] = value;
    return this;
  }

  headers(values: Record<string, unknown>): this {
    for (const [k, v] of Object.entries(values)) this.header(k, v);
    return this;
  }

  getHeader(key: string): unknown {
    return this.#headers[key.toLowerCase()];
  }

  getHeaders(): Record<string, unknown> {
    return { ...this.#headers };
  }

  hasHeader(key: string): boolean {
    return key.toLowerCase() in this.#headers;
  }

  removeHeader(key: string): this {
    delete this.#headers[key.toLowerCase()];
    return this;
  }

  // Noted as `type`, the method the handler called: Fastify's own `type` sets the header without
  // going through `header`, so a note of `header` would name a call the handler never made.
  type(type: string): this {
    this.#note('type', [type]);
    this.#headers['content-type'] = type;
    return this;
  }

  serialize(payload: unknown): string {
    return JSON.stringify(payload);
  }

  send(payload?: unknown): this {
    this.#note('send', payload === undefined ? [] : [payload]);
    this.#sent = true;
    this.#context.send(payload);
    return this;
  }

  redirect(url: string, code = 302): this {
    return this.code(code).header('location', url).send();
  }

  callNotFound(): this {
    return this.code(404).send({ message: 'Not Found', statusCode: 404 });
  }

  hijack(): this {
    this.#note('hijack', []);
    return this;
  }
}
