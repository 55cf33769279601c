import { adapterOf, NOWHERE, type RebuildContext } from '../adapters';

/** How `decode` turns the markers that have no value of their own back into something. */
export interface DecodeOptions {
  /** Called for each Emitter marker; default returns the public data as a plain object. */
  emitter?: (marker: { class: string; methods: string[]; value: unknown }) => unknown;
  /**
   * Called for each framework object an adapter recorded (a Request, a Koa context), with its decoded
   * data; what it returns takes the node's place. By default the adapter rebuilds the object, with
   * nowhere to report what is sent to it.
   */
  adapted?: (node: { type: string; value: Record<string, unknown> }) => unknown;
  /**
   * The prototype of a recorded class, found by its name: an instance of it is then made from the
   * prototype and its recorded fields, without calling the constructor. Without it, or when it
   * finds nothing, an instance comes back as a plain object of its fields.
   */
  revive?: (className: string) => object | undefined;
  /** Called for each instance of a class that `revive` did not find, with what it became. */
  unrevived?: (className: string, value: object) => void;
}

/** The object an adapter rebuilds from a recorded node's data; the data itself when that fails. */
export function rebuild(type: string, value: Record<string, unknown>, context: RebuildContext): unknown {
  try {
    return adapterOf(type)?.rebuild(type, value, context) ?? value;
  } catch {
    return value;
  }
}


/**
 * The value that `encode` wrote, from its parsed JSON: tagged values rebuilt, references and
 * cycles restored. Framework objects its adapters know (Request, Headers, a Fastify reply...) come
 * back as working objects; other class instances as plain objects of their data; markers for what
 * cannot be rebuilt (Truncated, Unreadable, Symbol, Promise, WeakMap, ...) as they are.
 */
export function decode(value: unknown, options: DecodeOptions = {}): unknown {
  return new Decoder(value, options).node(value);
}

type Json = Record<string, unknown>;

const hasOwn = Object.prototype.hasOwnProperty;

// Built-in error classes, made without arguments; their fields are set afterwards.
const ERROR_CLASSES: Record<string, () => Error> = {
  Error: () => new Error(),
  TypeError: () => new TypeError(),
  RangeError: () => new RangeError(),
  SyntaxError: () => new SyntaxError(),
  ReferenceError: () => new ReferenceError(),
  EvalError: () => new EvalError(),
  URIError: () => new URIError(),
  AggregateError: () => new AggregateError([]),
};

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

const SPECIAL_NUMBERS: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0 };

class Decoder {
  /** Each encoded object node and what it became, so that references can find it. */
  private readonly done = new Map<object, unknown>();

  constructor(
    private readonly root: unknown,
    private readonly options: DecodeOptions,
  ) {}

  node(v: unknown): unknown {
    if (typeof v !== 'object' || v === null) return v;
    // A node is met a second time only when a reference reached it first (see `ref`).
    const known = this.done.get(v);
    if (known !== undefined || this.done.has(v)) return known;
    if (Array.isArray(v)) {
      const out: unknown[] = new Array(v.length);
      this.done.set(v, out);
      for (let i = 0; i < v.length; i++) out[i] = this.node(v[i]);
      return out;
    }
    const type = (v as Json).$type;
    if (typeof type === 'string') return this.tagged(v as Json, type);
    return this.body(v as Json, {}, v);
  }

  /** Copies the members of `source` into `out`, decoding each; `source` itself is never a tag. */
  private body(source: Json, out: Record<string, unknown>, node: object, define = false): Record<string, unknown> {
    this.done.set(node, out);
    for (const k in source) {
      const x = this.node(source[k]);
      // An own "__proto__" key must stay a key, not become the prototype.
      if (define || k === '__proto__') defineOwn(out, k, x);
      else out[k] = x;
    }
    return out;
  }

  private tagged(v: Json, type: string): unknown {
    switch (type) {
      case 'undefined':
        return undefined;
      case 'number':
        return typeof v.value === 'string' && hasOwn.call(SPECIAL_NUMBERS, v.value) ? SPECIAL_NUMBERS[v.value] : this.marker(v);
      case 'bigint':
        return this.attempt(v, () => BigInt(v.value as string));
      case 'ref':
        return this.ref(v);
      case 'Date':
        return this.keep(v, new Date(typeof v.value === 'string' ? v.value : NaN));
      case 'Map':
        return this.map(v);
      case 'Set':
        return this.set(v);
      case 'RegExp':
        return this.attempt(v, () => new RegExp(v.source as string, v.flags as string));
      case 'URL':
        return this.attempt(v, () => new URL(v.value as string));
      case 'Error':
        return this.error(v);
      case 'Object':
        return this.instance(v);
      case 'Emitter':
        return this.emitter(v);
      default:
        return adapterOf(type) === undefined ? this.binary(v, type) : this.adapted(v, type);
    }
  }

  /** A class instance: made from its class's prototype when `revive` finds it, else a plain object. */
  private instance(v: Json): object {
    const name = typeof v.class === 'string' ? v.class : undefined;
    const proto = name === undefined ? undefined : this.options.revive?.(name);
    const out: Record<string, unknown> = proto === undefined ? {} : Object.create(proto);
    // Own data properties, as the instance had them: assigning would run a setter of its class.
    this.body(isObject(v.value) ? v.value : {}, out, v, proto !== undefined);
    if (isObject(v.symbols)) for (const key in v.symbols) defineOwn(out, Symbol.for(key), this.node(v.symbols[key]));
    if (proto === undefined && name !== undefined) this.options.unrevived?.(name, out);
    return out;
  }

  /** A framework's object, rebuilt by its adapter from the decoded data (or as the `adapted` hook says); the data itself when that fails. */
  private adapted(v: Json, type: string): unknown {
    const data = this.body(isObject(v.value) ? v.value : {}, {}, v);
    const hook = this.options.adapted ?? ((node) => rebuild(node.type, node.value, NOWHERE));
    return this.keep(v, hook({ type, value: data }));
  }

  private binary(v: Json, type: string): unknown {
    if (typeof v.base64 !== 'string') return this.marker(v);
    const base64 = v.base64;
    if (type === 'Buffer') return this.keep(v, Buffer.from(base64, 'base64'));
    const ctor = hasOwn.call(TYPED_ARRAYS, type) ? TYPED_ARRAYS[type] : undefined;
    const isBuffer = type === 'ArrayBuffer' || type === 'SharedArrayBuffer' || type === 'DataView';
    if (ctor === undefined && !isBuffer) return this.marker(v);
    return this.attempt(v, () => {
      const bytes = Buffer.from(base64, 'base64');
      // A copy of its own: Buffer.from may hand out a slice of a shared pool.
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      if (type === 'ArrayBuffer') return buffer;
      if (type === 'DataView') return new DataView(buffer);
      if (type === 'SharedArrayBuffer') {
        const shared = new SharedArrayBuffer(buffer.byteLength);
        new Uint8Array(shared).set(new Uint8Array(buffer));
        return shared;
      }
      return new ctor!(buffer);
    });
  }

  private map(v: Json): Map<unknown, unknown> {
    const out = new Map<unknown, unknown>();
    this.done.set(v, out);
    const entries = Array.isArray(v.entries) ? v.entries : [];
    for (const entry of entries) {
      // A pair; anything else is a marker (the length cap's), kept as a key so that it shows.
      if (Array.isArray(entry) && entry.length === 2) out.set(this.node(entry[0]), this.node(entry[1]));
      else out.set(this.node(entry), undefined);
    }
    return out;
  }

  private set(v: Json): Set<unknown> {
    const out = new Set<unknown>();
    this.done.set(v, out);
    const values = Array.isArray(v.values) ? v.values : [];
    for (const x of values) out.add(this.node(x));
    return out;
  }

  private error(v: Json): Error {
    const name = typeof v.class === 'string' && hasOwn.call(ERROR_CLASSES, v.class) ? v.class : 'Error';
    const error = ERROR_CLASSES[name]!();
    // An error of the app's own class (`class RateLimited extends Error`) is one again when its class is found.
    const proto = typeof v.class === 'string' && name !== v.class ? this.options.revive?.(v.class) : undefined;
    if (proto !== undefined) Object.setPrototypeOf(error, proto);
    this.done.set(v, error);
    // In the order they were written, so that a reference finds its target already decoded.
    const message = this.node(v.message);
    if (message !== undefined) define(error, 'message', message);
    const errorName = this.node(v.name);
    if (errorName !== error.name) define(error, 'name', errorName);
    if (hasOwn.call(v, 'stack')) {
      const stack = this.node(v.stack);
      if (stack === undefined) delete error.stack;
      else define(error, 'stack', stack);
    }
    if (hasOwn.call(v, 'cause')) define(error, 'cause', this.node(v.cause));
    if (isObject(v.props)) {
      for (const k in v.props) {
        const x = this.node(v.props[k]);
        // AggregateError's `errors` is an own property that is not enumerable, as `cause` is.
        if (k === 'errors' && error instanceof AggregateError) define(error, k, x);
        else if (k === '__proto__') defineOwn(error, k, x);
        else (error as unknown as Record<string, unknown>)[k] = x;
      }
    }
    return error;
  }

  private emitter(v: Json): unknown {
    // The data is registered before it is filled, so that a cycle through it closes.
    const data = this.body(isObject(v.value) ? v.value : {}, {}, v);
    const hook = this.options.emitter;
    if (hook === undefined) return data;
    const methods = Array.isArray(v.methods) ? v.methods.filter((m): m is string => typeof m === 'string') : [];
    const out = hook({ class: typeof v.class === 'string' ? v.class : 'Object', methods, value: data });
    this.done.set(v, out);
    return out;
  }

  /**
   * The decoded value of the node at `path` from the root. A path points back to a node met
   * earlier in document order, which is then decoded already; a node not yet decoded is decoded
   * on the spot. A path that leads nowhere, or to another reference, leaves the marker as it is.
   */
  private ref(v: Json): unknown {
    const path = v.path;
    if (!Array.isArray(path)) return this.marker(v);
    let target: unknown = this.root;
    for (const step of path) {
      if (typeof target !== 'object' || target === null || !(typeof step === 'string' || typeof step === 'number')) return this.marker(v);
      if (!hasOwn.call(target, step)) return this.marker(v);
      target = (target as Record<string | number, unknown>)[step];
    }
    if (typeof target !== 'object' || target === null || (target as Json).$type === 'ref') return this.marker(v);
    return this.node(target);
  }

  private keep<T>(v: Json, out: T): T {
    this.done.set(v, out);
    return out;
  }

  /** `make()`, or the marker itself when the data does not make a valid value. */
  private attempt(v: Json, make: () => unknown): unknown {
    let out: unknown;
    try {
      out = make();
    } catch {
      return this.marker(v);
    }
    return this.keep(v, out);
  }

  /** A marker with no value to rebuild, as a plain object of its fields. */
  private marker(v: Json): Record<string, unknown> {
    return this.body(v, {}, v);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function defineOwn(target: object, key: string | symbol, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}
