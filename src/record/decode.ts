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
  return new Decoder(value, options).run();
}

type Json = Record<string, unknown>;

/**
 * The decoding of one node: it yields each encoded child it needs and is sent back that child's
 * decoded value; it returns the node's own. `Decoder.run` drives these on a stack of its own, so
 * that a record nested any depth decodes without deep recursion, and in the same order as a
 * recursive walk (references rely on document order).
 */
type Step = Generator<unknown, unknown, unknown>;

const PENDING = Symbol('pending');

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

/**
 * Bytes: a Buffer, a typed array, a DataView, an ArrayBuffer or a SharedArrayBuffer. A walk over
 * decoded values must not go into them: their keys are their bytes, one per index.
 */
export function isBinary(value: object): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer;
}

class Decoder {
  /** Each encoded object node and what it became, so that references can find it. */
  private readonly done = new Map<object, unknown>();

  constructor(
    private readonly root: unknown,
    private readonly options: DecodeOptions,
  ) {}

  run(): unknown {
    const root = this.root;
    if (typeof root !== 'object' || root === null) return root;
    const leaf = this.leaf(root as Json);
    if (leaf !== PENDING) return leaf;
    const stack: Step[] = [this.node(root)];
    let sent: unknown;
    for (;;) {
      const step = stack[stack.length - 1]!.next(sent);
      if (step.done) {
        stack.pop();
        if (stack.length === 0) return step.value;
        sent = step.value;
        continue;
      }
      const child = step.value;
      if (typeof child !== 'object' || child === null) sent = child;
      // A node is met a second time only when a reference reached it first (see `ref`).
      else if (this.done.has(child)) sent = this.done.get(child);
      else if ((sent = this.leaf(child as Json)) === PENDING) {
        stack.push(this.node(child));
        sent = undefined;
      }
    }
  }

  /**
   * A node with nothing inside to decode (an array or object of plain values, a Date, a Buffer...),
   * decoded at once; PENDING for any other. This only saves the cost of a step, for the most common nodes.
   */
  private leaf(v: Json): unknown {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'object' && v[i] !== null) return PENDING;
      return this.keep(v, v.slice());
    }
    const type = v.$type;
    if (typeof type !== 'string') {
      for (const k in v) if (typeof v[k] === 'object' && v[k] !== null) return PENDING;
      const out: Record<string, unknown> = {};
      // An own "__proto__" key must stay a key, not become the prototype.
      for (const k in v) if (k === '__proto__') defineOwn(out, k, v[k]);
      else out[k] = v[k];
      return this.keep(v, out);
    }
    switch (type) {
      case 'undefined':
        return undefined;
      case 'number':
        return typeof v.value === 'string' && hasOwn.call(SPECIAL_NUMBERS, v.value) ? SPECIAL_NUMBERS[v.value] : PENDING;
      case 'Date':
        return this.keep(v, new Date(typeof v.value === 'string' ? v.value : NaN));
      case 'Buffer':
        return typeof v.base64 === 'string' ? this.keep(v, Buffer.from(v.base64, 'base64')) : PENDING;
      default:
        return PENDING;
    }
  }

  /** The decoding of an object node that is not decoded yet and that `leaf` left. */
  private node(v: object): Step {
    if (Array.isArray(v)) return this.array(v);
    const type = (v as Json).$type;
    return typeof type === 'string' ? this.tagged(v as Json, type) : this.body(v as Json, {}, v);
  }

  private *array(v: unknown[]): Step {
    const out: unknown[] = new Array(v.length);
    this.done.set(v, out);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      out[i] = typeof x === 'object' && x !== null ? yield x : x;
    }
    return out;
  }

  /** Copies the members of `source` into `out`, decoding each; `source` itself is never a tag. */
  private *body(source: Json, out: Record<string, unknown>, node: object, define = false): Generator<unknown, Record<string, unknown>, unknown> {
    this.done.set(node, out);
    const keys = Object.keys(source);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const raw = source[k];
      const x = typeof raw === 'object' && raw !== null ? yield raw : raw;
      // An own "__proto__" key must stay a key, not become the prototype.
      if (define || k === '__proto__') defineOwn(out, k, x);
      else out[k] = x;
    }
    return out;
  }

  /** A tagged node that `leaf` did not decode (so not undefined, a special number, a Date or a Buffer). */
  private tagged(v: Json, type: string): Step {
    switch (type) {
      case 'number':
        return this.marker(v);
      case 'bigint':
        return this.attempt(v, () => BigInt(v.value as string));
      case 'ref':
        return this.ref(v);
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
  private *instance(v: Json): Step {
    const name = typeof v.class === 'string' ? v.class : undefined;
    const proto = name === undefined ? undefined : this.options.revive?.(name);
    const out: Record<string, unknown> = proto === undefined ? {} : Object.create(proto);
    // Own data properties, as the instance had them: assigning would run a setter of its class.
    yield* this.body(isObject(v.value) ? v.value : {}, out, v, proto !== undefined);
    if (isObject(v.symbols)) for (const key in v.symbols) defineOwn(out, Symbol.for(key), yield v.symbols[key]);
    if (proto === undefined && name !== undefined) this.options.unrevived?.(name, out);
    return out;
  }

  /** A framework's object, rebuilt by its adapter from the decoded data (or as the `adapted` hook says); the data itself when that fails. */
  private *adapted(v: Json, type: string): Step {
    const data = yield* this.body(isObject(v.value) ? v.value : {}, {}, v);
    const hook = this.options.adapted ?? ((node) => rebuild(node.type, node.value, NOWHERE));
    return this.keep(v, hook({ type, value: data }));
  }

  /** Bytes, made from their base64 text at once: nothing walks them byte by byte. */
  private binary(v: Json, type: string): Step {
    if (typeof v.base64 !== 'string') return this.marker(v);
    const base64 = v.base64;
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

  private *map(v: Json): Step {
    const out = new Map<unknown, unknown>();
    this.done.set(v, out);
    const entries = Array.isArray(v.entries) ? v.entries : [];
    for (const entry of entries) {
      // A pair; anything else is a marker (the length cap's), kept as a key so that it shows.
      if (Array.isArray(entry) && entry.length === 2) {
        const key = yield entry[0];
        out.set(key, yield entry[1]);
      } else {
        out.set(yield entry, undefined);
      }
    }
    return out;
  }

  private *set(v: Json): Step {
    const out = new Set<unknown>();
    this.done.set(v, out);
    const values = Array.isArray(v.values) ? v.values : [];
    for (const x of values) out.add(yield x);
    return out;
  }

  private *error(v: Json): Step {
    const name = typeof v.class === 'string' && hasOwn.call(ERROR_CLASSES, v.class) ? v.class : 'Error';
    const error = ERROR_CLASSES[name]!();
    // An error of the app's own class (`class RateLimited extends Error`) is one again when its class is found.
    const proto = typeof v.class === 'string' && name !== v.class ? this.options.revive?.(v.class) : undefined;
    if (proto !== undefined) Object.setPrototypeOf(error, proto);
    this.done.set(v, error);
    // In the order they were written, so that a reference finds its target already decoded.
    const message = yield v.message;
    if (message !== undefined) define(error, 'message', message);
    const errorName = yield v.name;
    if (errorName !== error.name) define(error, 'name', errorName);
    if (hasOwn.call(v, 'stack')) {
      const stack = yield v.stack;
      if (stack === undefined) delete error.stack;
      else define(error, 'stack', stack);
    }
    if (hasOwn.call(v, 'cause')) define(error, 'cause', yield v.cause);
    if (isObject(v.props)) {
      for (const k in v.props) {
        const x = yield v.props[k];
        // AggregateError's `errors` is an own property that is not enumerable, as `cause` is.
        if (k === 'errors' && error instanceof AggregateError) define(error, k, x);
        else if (k === '__proto__') defineOwn(error, k, x);
        else (error as unknown as Record<string, unknown>)[k] = x;
      }
    }
    return error;
  }

  private *emitter(v: Json): Step {
    // The data is registered before it is filled, so that a cycle through it closes.
    const data = yield* this.body(isObject(v.value) ? v.value : {}, {}, v);
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
  private ref(v: Json): Step {
    const path = v.path;
    if (!Array.isArray(path)) return this.marker(v);
    let target: unknown = this.root;
    for (const step of path) {
      if (typeof target !== 'object' || target === null || !(typeof step === 'string' || typeof step === 'number')) return this.marker(v);
      if (!hasOwn.call(target, step)) return this.marker(v);
      target = (target as Record<string | number, unknown>)[step];
    }
    if (typeof target !== 'object' || target === null || (target as Json).$type === 'ref') return this.marker(v);
    return reach(target);
  }

  private keep<T>(v: Json, out: T): T {
    this.done.set(v, out);
    return out;
  }

  /** `make()`, or the marker itself when the data does not make a valid value. */
  private attempt(v: Json, make: () => unknown): Step {
    let out: unknown;
    try {
      out = make();
    } catch {
      return this.marker(v);
    }
    return now(this.keep(v, out));
  }

  /** A marker with no value to rebuild, as a plain object of its fields. */
  private marker(v: Json): Generator<unknown, Record<string, unknown>, unknown> {
    return this.body(v, {}, v);
  }
}

/** A step with nothing to decode. */
function* now(value: unknown): Step {
  return value;
}

/** A reference's target: decoded already, or decoded on the spot. */
function* reach(target: unknown): Step {
  return yield target;
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
