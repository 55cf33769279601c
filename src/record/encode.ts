import { adapterFor, Note, unread, type RecordContext } from '../adapters';
import { KeyCache, quote, type KeyInfo } from './keys';
import { numberText } from './number-text';
import { isPolluted, PlainWriter, type PlainLimits } from './plain';
import { createRedactor, isPairName, MASK, uniqueName, type Redactor } from './redact';

/** Limits and redaction rules of an encoder. */
export interface EncoderOptions {
  /** Levels of objects kept below the value given to `encode`; deeper ones become markers. */
  maxDepth: number;
  /** Elements kept of an array, Map or Set; the rest are counted in a marker. */
  maxArrayLength: number;
  /** Characters kept of a string; the rest are counted in a suffix. */
  maxStringLength: number;
  /** Key words or phrases masked on top of the built-in ones (`recording.redact_keys`). */
  redactKeys: string[];
  /** Regular expressions whose matches in strings are masked (`recording.redact_patterns`). */
  redactPatterns: Array<string | RegExp>;
}

/** Turns recorded values into the JSON text that `decode` reads back. */
export interface Encoder {
  /** JSON text of one value: tagged, redacted, capped. Never throws. */
  encode(value: unknown): string;
  /**
   * The same, waiting for what is read later (a body, from a clone of a Request or Response):
   * the text, or a Pending when such parts were met.
   */
  encode(value: unknown, later: true): string | Pending;
  /** The same text, made by the walk alone, for a value already known not to be plain JSON. */
  walk(value: unknown): string;
  walk(value: unknown, later: true): string | Pending;
  /**
   * A writer of plain values with the same limits, redaction and caches: the recorder writes plain
   * values straight into its buffer with one, and hands the rest to the encoder.
   */
  plainWriter(): PlainWriter;
}

/** The text of a value some of whose parts are still being read. */
export interface Pending {
  /** Settles when every part has been read, or has failed to be. */
  readonly done: Promise<void>;
  /** The text now: parts not read yet are markers that give `reason`. */
  text(reason: string): string;
}

const DEFAULTS: EncoderOptions = {
  maxDepth: 12,
  maxArrayLength: 1000,
  maxStringLength: 20_000,
  redactKeys: [],
  redactPatterns: [],
};

/**
 * An encoder. A reference path (`{"$type":"ref","path":[...]}`) lists the steps from the root of
 * the encoded JSON to the encoded node of the object's first occurrence: object keys as strings,
 * array indexes as numbers, and inside tagged nodes the tag's own fields, e.g. `["entries", 2, 1]`
 * for the value of a Map's third entry, `["values", 0]` for a Set's first value, `["value", "k"]`
 * inside a class instance, escaped object or emitter, and `["cause"]` or `["props", "k"]` in an
 * Error.
 */
export function createEncoder(options: Partial<EncoderOptions> = {}): Encoder {
  const config = resolve(options);
  let idlePlain: PlainWriter | undefined = new PlainWriter(config);
  let idle: Walker | undefined = new Walker(config);
  const run = (value: unknown, parts?: Array<Promise<unknown>>): string => {
    // A getter run by either writer may record a call itself, which then needs writers of its own.
    const walker = idle ?? new Walker(config);
    idle = undefined;
    try {
      return walker.run(value, parts);
    } finally {
      idle = walker;
    }
  };
  const walk = (value: unknown, later?: true): string & Pending => {
    if (!later) return run(value) as string & Pending;
    const parts: Array<Promise<unknown>> = [];
    const text = run(value, parts);
    return (parts.length === 0 ? text : new PendingText(text, parts, (v) => walk(v, true))) as string & Pending;
  };
  return {
    encode(value: unknown, later?: true) {
      const writer = idlePlain ?? new PlainWriter(config);
      idlePlain = undefined;
      try {
        const text = writer.text(value);
        if (text !== undefined) return text as string & Pending;
      } catch {
        // A getter or a proxy threw: the walk guards every read.
      } finally {
        idlePlain = writer;
      }
      return walk(value, later);
    },
    walk,
    plainWriter: () => new PlainWriter(config),
  };
}

// Where a part read later goes in the text: NUL never appears raw in JSON text, which escapes it.
const PLACEHOLDER = /\u0000(\d+)\u0000/g;

class PendingText implements Pending {
  readonly done: Promise<void>;
  private readonly texts: Array<string | undefined>;

  constructor(
    private readonly raw: string,
    parts: Array<Promise<unknown>>,
    encode: (value: unknown) => string | Pending,
  ) {
    this.texts = parts.map(() => undefined);
    // A part's value may have parts of its own (the files of a form read from a body).
    const text = async (value: unknown): Promise<string> => {
      const encoded = encode(value);
      if (typeof encoded === 'string') return encoded;
      await encoded.done;
      return encoded.text('it was not read');
    };
    const settle = (part: Promise<unknown>, i: number) =>
      part.then(text, (error: unknown) => text(unread(`it could not be read: ${messageOf(error)}`))).then((t) => {
        this.texts[i] = t;
      });
    this.done = Promise.all(parts.map(settle)).then(() => undefined);
  }

  text(reason: string): string {
    return this.raw.replace(PLACEHOLDER, (_, i: string) => this.texts[Number(i)] ?? noteText(unread(reason)));
  }
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'unknown error';
  }
}

function noteText(note: Note): string {
  return `{"$type":${quote(note.type)},"reason":${JSON.stringify(note.reason)}}`;
}

/** Where an adapter's part read later is written: its index among the walk's parts. */
class Placeholder {
  constructor(readonly index: number) {}
}

type Config = PlainLimits;

function resolve(options: Partial<EncoderOptions>): Config {
  const o = { ...DEFAULTS };
  for (const [name, value] of Object.entries(options)) if (value !== undefined) (o as Record<string, unknown>)[name] = value;
  const redactor = createRedactor(o.redactKeys, o.redactPatterns);
  return {
    maxDepth: atLeast(o.maxDepth, 0),
    maxArrayLength: atLeast(o.maxArrayLength, 0),
    maxStringLength: atLeast(o.maxStringLength, 1),
    redactor,
    keys: new KeyCache(redactor),
  };
}

function atLeast(n: number, min: number): number {
  return Number.isFinite(n) ? Math.max(min, Math.floor(n)) : n === Infinity ? Number.MAX_SAFE_INTEGER : min;
}

const UNDEFINED = '{"$type":"undefined"}';
const MASKED = `"${MASK}"`;
const OBJECT_PROTO = Object.prototype;
const hasOwn = Object.prototype.hasOwnProperty;
const dateGetTime = Date.prototype.getTime;
const dateToISOString = Date.prototype.toISOString;
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;

// Room past the string cap that is still redacted before the cut, so that a secret across the
// cut is recognized whole instead of leaking its first part.
const REDACT_MARGIN = 1024;

// Parents of registrations that are not nodes of the output.
const ROOT = -1;
const MASKED_OBJECT = -2;

// Up to this many registrations, finding an object by a linear scan beats hashing it.
const LINEAR_LIMIT = 24;

const UNREADABLE = Symbol('unreadable');

/**
 * One encoding at a time. Objects are registered as they are met, with the step from their parent,
 * which is all a later reference needs to spell the path; registrations without an object stand
 * for the containers that tagged nodes add ("entries", "value", ...).
 *
 * The walk has two modes. The fast one guards nothing: throwing getters and hostile proxies are
 * rare, and a try/catch around each value would cost the common case. When anything throws, the
 * value is walked again in careful mode, where each read and each object is guarded and what
 * cannot be read becomes an Unreadable marker in place.
 */
class Walker {
  private out = '';
  private careful = false;
  private readError: unknown;
  private readonly objects: Array<object | null> = [];
  private readonly parents: number[] = [];
  private readonly steps: Array<string | number> = [];
  private count = 0;
  private index: Map<object, number> | undefined;
  private readonly maxDepth: number;
  private readonly maxArrayLength: number;
  private readonly maxStringLength: number;
  private readonly redactor: Redactor;
  private readonly keys: KeyCache;
  /** Parts read later, when the encoding can wait for them. */
  private parts: Array<Promise<unknown>> | undefined;
  private readonly waiting: RecordContext = {
    later: (read) => {
      // Settled whether or not the record waits for it, so that a failed read is never unhandled.
      read.catch(() => undefined);
      return new Placeholder(this.parts!.push(read) - 1);
    },
  };
  private readonly now: RecordContext = {};

  constructor(config: Config) {
    this.maxDepth = config.maxDepth;
    this.maxArrayLength = config.maxArrayLength;
    this.maxStringLength = config.maxStringLength;
    this.redactor = config.redactor;
    this.keys = config.keys;
  }

  run(value: unknown, parts?: Array<Promise<unknown>>): string {
    this.parts = parts;
    try {
      // An app that put enumerable keys on Object.prototype would have them recorded by for-in.
      this.careful = isPolluted();
      this.value(value, ROOT, 0, 0);
      return this.out;
    } catch {
      this.reset();
      if (parts !== undefined) parts.length = 0;
      this.careful = true;
      try {
        this.value(value, ROOT, 0, 0);
        return this.out;
      } catch (error) {
        // Only a failure of the walk itself gets here, such as a stack overflow.
        return unreadable(error, this.redactor);
      }
    } finally {
      this.reset();
      this.careful = false;
      this.parts = undefined;
    }
  }

  private reset(): void {
    this.out = '';
    this.readError = undefined;
    // Drop the references to the app's objects, and give memory back after a large value.
    if (this.count > 1024) {
      this.objects.length = 0;
      this.parents.length = 0;
      this.steps.length = 0;
    } else {
      for (let i = 0; i < this.count; i++) {
        this.objects[i] = null;
        this.steps[i] = 0;
      }
    }
    this.count = 0;
    this.index = undefined;
  }

  private value(v: unknown, parent: number, step: string | number, depth: number): void {
    switch (typeof v) {
      case 'string':
        this.string(v);
        return;
      case 'number':
        this.out += numberText(v);
        return;
      case 'boolean':
        this.out += v ? 'true' : 'false';
        return;
      case 'undefined':
        this.out += UNDEFINED;
        return;
      case 'object':
        if (v === null) this.out += 'null';
        else if (this.careful) this.guardedObject(v, parent, step, depth);
        else this.object(v, parent, step, depth);
        return;
      case 'function':
        this.out += callable(v);
        return;
      case 'bigint':
        this.out += `{"$type":"bigint","value":"${v}"}`;
        return;
      case 'symbol':
        this.symbol(v);
        return;
    }
  }

  private string(s: string): void {
    this.out += this.stringText(s);
  }

  /** The JSON text of a string value: redacted, capped, escaped. */
  private stringText(s: string): string {
    const max = this.maxStringLength;
    if (s.length > max) {
      // Never cut between the halves of a surrogate pair.
      const cut = isHighSurrogate(s, max - 1) ? max - 1 : max;
      let kept = this.redactor.redactString(s.slice(0, cut + REDACT_MARGIN)).slice(0, cut);
      if (isHighSurrogate(kept, kept.length - 1)) kept = kept.slice(0, -1);
      s = `${kept}…[truncated ${s.length - cut} chars]`;
    } else {
      s = this.redactor.redactString(s);
    }
    return quote(s);
  }

  private symbol(v: symbol): void {
    const description = v.description;
    this.out += '{"$type":"Symbol"';
    if (description !== undefined) {
      this.out += ',"description":';
      this.string(description);
    }
    this.out += '}';
  }

  // ---- registry -------------------------------------------------------------------------------

  private find(v: object): number {
    if (this.index !== undefined) {
      const id = this.index.get(v);
      return id === undefined ? -1 : id;
    }
    const objects = this.objects;
    for (let i = 0, n = this.count; i < n; i++) if (objects[i] === v) return i;
    return -1;
  }

  private register(v: object | null, parent: number, step: string | number): number {
    const id = this.count++;
    this.objects[id] = v;
    this.parents[id] = parent;
    this.steps[id] = step;
    if (this.index !== undefined) {
      if (v !== null) this.index.set(v, id);
    } else if (id === LINEAR_LIMIT) {
      const index = new Map<object, number>();
      for (let i = 0; i <= id; i++) {
        const o = this.objects[i];
        if (o !== null && o !== undefined) index.set(o, i);
      }
      this.index = index;
    }
    return id;
  }

  /** Forgets what was registered since `count`, after the output for it was thrown away. */
  private unregister(count: number): void {
    for (let id = count; id < this.count; id++) {
      const o = this.objects[id];
      if (o) this.index?.delete(o);
      this.objects[id] = null;
    }
    this.count = count;
  }

  private ref(id: number): void {
    if (this.parents[id] === MASKED_OBJECT) {
      this.out += MASKED;
      return;
    }
    const path: Array<string | number> = [];
    for (let i = id; this.parents[i] !== ROOT; i = this.parents[i]!) path.push(this.steps[i]!);
    let text = '{"$type":"ref","path":[';
    for (let i = path.length - 1; i >= 0; i--) {
      const step = path[i]!;
      text += (typeof step === 'number' ? '' + step : quote(step)) + (i > 0 ? ',' : '');
    }
    this.out += text + ']}';
  }

  // ---- objects --------------------------------------------------------------------------------

  private guardedObject(v: object, parent: number, step: string | number, depth: number): void {
    const mark = this.out;
    const count = this.count;
    try {
      this.object(v, parent, step, depth);
    } catch (error) {
      this.out = mark;
      this.unregister(count);
      this.out += unreadable(error, this.redactor);
    }
  }

  private object(v: object, parent: number, step: string | number, depth: number): void {
    const seen = this.find(v);
    if (seen >= 0) {
      this.ref(seen);
      return;
    }
    if (depth > this.maxDepth) {
      this.out += `{"$type":"Truncated","reason":"depth","class":${quote(classOf(v))}}`;
      return;
    }
    const id = this.register(v, parent, step);
    if (Array.isArray(v)) {
      this.array(v, id, depth);
      return;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === OBJECT_PROTO || proto === null) {
      if (hasOwn.call(v, '$type')) {
        this.out += '{"$type":"Object","value":';
        this.plain(v as Record<string, unknown>, this.register(null, id, 'value'), depth);
        this.out += '}';
      } else {
        this.plain(v as Record<string, unknown>, id, depth);
      }
      return;
    }
    this.special(v, proto as object, id, depth);
  }

  private array(a: unknown[], id: number, depth: number): void {
    const n = a.length;
    const kept = n > this.maxArrayLength ? this.maxArrayLength : n;
    if (kept >= NUMBER_RUN && kept === n && !this.careful && isNumberRun(a)) {
      // Vectors (embeddings, scores) are long runs of fractions, which V8 writes faster natively.
      this.out += JSON.stringify(a);
      return;
    }
    const careful = this.careful;
    const d = depth + 1;
    // [name, value] pairs and flat header lists (rawHeaders) have an even length.
    const pairs = (n & 1) === 0;
    let pairName: string | undefined;
    this.out += '[';
    for (let i = 0; i < kept; i++) {
      const comma = i > 0 ? ',' : '';
      const x = careful ? this.read(a, i) : a[i];
      if (pairName !== undefined) {
        const name = pairName;
        pairName = undefined;
        if (x !== UNREADABLE && this.redactor.masks(name, x)) {
          this.out += comma;
          this.mask(x);
          continue;
        }
      }
      if (typeof x === 'string') {
        this.out += comma + this.stringText(x);
        if (pairs && (i & 1) === 0 && isPairName(x) && this.redactor.isSensitiveKey(x)) pairName = x;
      } else if (typeof x === 'number') {
        this.out += comma + numberText(x);
      } else {
        this.out += comma;
        if (x === UNREADABLE) this.out += unreadable(this.readError, this.redactor);
        else this.value(x, id, i, d);
      }
    }
    if (kept < n) this.out += (kept > 0 ? ',' : '') + lengthMarker(n - kept);
    this.out += ']';
  }

  /** The members of a plain object: own and enumerable, like JSON.stringify. */
  private plain(v: Record<string, unknown>, id: number, depth: number): void {
    if (this.careful) {
      this.members(v, Object.keys(v), id, depth);
      return;
    }
    // for-in lets V8 read each value by its slot in the object's layout; the prototype of a plain
    // object has no enumerable keys unless the app polluted it.
    const d = depth + 1;
    let first = true;
    let names: Set<string> | undefined;
    this.out += '{';
    for (const k in v) {
      const info = this.keys.get(k);
      const x = v[k];
      if (info.masked !== undefined) {
        const name = uniqueName(info.masked, (names ??= new Set()));
        this.out += `${first ? '' : ','}${quote(name)}:`;
        first = false;
        this.member(x, info, id, k, name, d);
        continue;
      }
      const key = first ? info.first : info.next;
      first = false;
      // Primitives are written here rather than through value(): one append, one call less.
      if (typeof x === 'string' && !info.sensitive) {
        this.out += key + this.stringText(x);
      } else if (typeof x === 'number' && !info.numbers) {
        this.out += key + numberText(x);
      } else {
        this.out += key;
        if (info.sensitive && this.redactor.masks(k, x)) this.mask(x);
        else this.value(x, id, k, d);
      }
    }
    this.out += '}';
  }

  /** An object of the given keys, each read through `read` so that careful mode can guard it. */
  private members(v: object, keys: readonly string[], id: number, depth: number): void {
    const d = depth + 1;
    let names: Set<string> | undefined;
    this.out += '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const info = this.keys.get(k);
      let name = k;
      if (info.masked === undefined) this.out += i === 0 ? info.first : info.next;
      else this.out += `${i === 0 ? '' : ','}${quote((name = uniqueName(info.masked, (names ??= new Set()))))}:`;
      this.member(this.read(v, k), info, id, k, name, d);
    }
    this.out += '}';
  }

  /** The value `x` of key `k`, written under `name` (the key, or the key redacted). */
  private member(x: unknown, info: KeyInfo, id: number, k: string, name: string, d: number): void {
    if (x === UNREADABLE) this.out += unreadable(this.readError, this.redactor);
    // A callable is a marker, not a value, and an absent value stays absent (see Redactor.masks).
    else if (info.sensitive && this.redactor.masks(k, x)) this.mask(x);
    // A reference path names the key as written, never the secret.
    else this.value(x, id, name, d);
  }

  /** Writes the value of `o[k]`, a node of the output at step `k` from `id`. */
  private field(o: object, k: string, id: number, d: number): void {
    const x = this.read(o, k);
    if (x === UNREADABLE) this.out += unreadable(this.readError, this.redactor);
    else this.value(x, id, k, d);
  }

  private read(o: object, k: string | number): unknown {
    if (!this.careful) return (o as Record<string | number, unknown>)[k];
    try {
      return (o as Record<string | number, unknown>)[k];
    } catch (error) {
      this.readError = error;
      return UNREADABLE;
    }
  }

  /** Writes the mask for `x`, which `Redactor.masks` said to mask. */
  private mask(x: unknown): void {
    // Remembered, so that the same object met again elsewhere is masked there too.
    if (typeof x === 'object' && x !== null && this.find(x) < 0) this.register(x, MASKED_OBJECT, 0);
    this.out += MASKED;
  }

  /** Objects whose prototype is not Object.prototype: built-ins, errors, emitters, instances. */
  private special(v: object, proto: object, id: number, depth: number): void {
    if (v instanceof Placeholder) {
      this.unregister(id);
      this.out += `\u0000${v.index}\u0000`;
      return;
    }
    if (v instanceof Note) {
      this.out += noteText(v);
      return;
    }
    if (v instanceof Date) {
      // The built-in methods: a subclass may override them, but the time is what was passed.
      const time = dateGetTime.call(v);
      this.out += time === time ? `{"$type":"Date","value":"${dateToISOString.call(v)}"}` : '{"$type":"Date","value":null}';
    } else if (v instanceof Map) {
      this.map(v, id, depth);
    } else if (v instanceof Set) {
      this.set(v, id, depth);
    } else if (ArrayBuffer.isView(v)) {
      const tag = Buffer.isBuffer(v) ? 'Buffer' : (v as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag];
      // Secrets are overwritten byte for byte, so the length stays a whole number of elements.
      const base64 = this.redactor.redactBytes(Buffer.from(v.buffer, v.byteOffset, v.byteLength)).toString('base64');
      this.out += `{"$type":${quote(tag)},"base64":"${base64}"}`;
    } else if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) {
      const tag = v instanceof ArrayBuffer ? 'ArrayBuffer' : 'SharedArrayBuffer';
      this.out += `{"$type":"${tag}","base64":"${this.redactor.redactBytes(Buffer.from(v)).toString('base64')}"}`;
    } else if (v instanceof Error) {
      this.error(v, proto, id, depth);
    } else if (v instanceof RegExp) {
      this.out += `{"$type":"RegExp","source":${quote(v.source)},"flags":"${v.flags}"}`;
    } else if (v instanceof URL) {
      this.out += '{"$type":"URL","value":';
      this.string(v.href);
      this.out += '}';
    } else if (v instanceof Promise) {
      this.out += '{"$type":"Promise"}';
    } else if (v instanceof WeakMap) {
      this.out += '{"$type":"WeakMap"}';
    } else if (v instanceof WeakSet) {
      this.out += '{"$type":"WeakSet"}';
    } else if (v instanceof WeakRef) {
      this.out += '{"$type":"WeakRef"}';
    } else if (v instanceof String || v instanceof Number || v instanceof Boolean) {
      // Boxed primitives are written as their primitive, as JSON.stringify does; a primitive is
      // no node a reference could point to, so the box is not remembered.
      this.unregister(id);
      this.value(v.valueOf(), ROOT, 0, depth);
    } else if (this.adapted(v, proto, id, depth)) {
      // Written by its framework's adapter.
    } else if (isEmitterLike(v)) {
      this.emitter(v, proto, id, depth);
    } else {
      this.out += `{"$type":"Object","class":${quote(nameOf(proto))},"value":`;
      this.members(v, Object.keys(v), this.register(null, id, 'value'), depth);
      const symbols = registeredSymbols(v);
      if (symbols !== undefined) {
        this.out += ',"symbols":';
        this.members(symbols, Object.keys(symbols), this.register(null, id, 'symbols'), depth);
      }
      this.out += '}';
    }
  }

  /** Writes a framework's object as its adapter keeps it; false when no adapter knows it. */
  private adapted(v: object, proto: object, id: number, depth: number): boolean {
    const found = adapterFor(v, proto);
    if (found === undefined) return false;
    const data = found.adapter.record(v, found.type, this.parts === undefined ? this.now : this.waiting);
    this.out += `{"$type":${quote(found.type)},"value":`;
    this.members(data, Object.keys(data), this.register(null, id, 'value'), depth);
    this.out += '}';
    return true;
  }

  private map(m: Map<unknown, unknown>, id: number, depth: number): void {
    const entries = this.register(null, id, 'entries');
    const max = this.maxArrayLength;
    const d = depth + 1;
    let i = 0;
    this.out += '{"$type":"Map","entries":[';
    for (const [k, x] of mapEntries.call(m)) {
      if (i === max) {
        this.out += (i > 0 ? ',' : '') + lengthMarker(m.size - max);
        break;
      }
      const entry = this.register(null, entries, i);
      this.out += i > 0 ? ',[' : '[';
      this.value(k, entry, 0, d);
      this.out += ',';
      if (typeof k === 'string' && this.keys.get(k).sensitive && this.redactor.masks(k, x)) this.mask(x);
      else this.value(x, entry, 1, d);
      this.out += ']';
      i++;
    }
    this.out += ']}';
  }

  private set(s: Set<unknown>, id: number, depth: number): void {
    const values = this.register(null, id, 'values');
    const max = this.maxArrayLength;
    const d = depth + 1;
    let i = 0;
    this.out += '{"$type":"Set","values":[';
    for (const x of setValues.call(s)) {
      if (i === max) {
        this.out += (i > 0 ? ',' : '') + lengthMarker(s.size - max);
        break;
      }
      if (i > 0) this.out += ',';
      this.value(x, values, i, d);
      i++;
    }
    this.out += ']}';
  }

  private error(e: Error, proto: object, id: number, depth: number): void {
    const d = depth + 1;
    this.out += '{"$type":"Error","name":';
    this.field(e, 'name', id, d);
    this.out += ',"message":';
    this.field(e, 'message', id, d);
    this.out += ',"stack":';
    this.field(e, 'stack', id, d);
    this.out += `,"class":${quote(nameOf(proto))}`;
    if (hasOwn.call(e, 'cause')) {
      this.out += ',"cause":';
      this.field(e, 'cause', id, d);
    }
    const props = Object.keys(e).filter((k) => !ERROR_FIELDS.has(k));
    // AggregateError keeps what it aggregates in an own property that is not enumerable.
    if (e instanceof AggregateError && hasOwn.call(e, 'errors') && !props.includes('errors')) props.push('errors');
    if (props.length > 0) {
      this.out += ',"props":';
      this.members(e, props, this.register(null, id, 'props'), depth);
    }
    this.out += '}';
  }

  private emitter(v: object, proto: object, id: number, depth: number): void {
    const d = depth + 1;
    const data = this.register(null, id, 'value');
    // The methods come first in the output but depend on the own properties, which are only
    // sorted out while the data is written; so the data is written aside and put in after.
    const before = this.out;
    this.out = '';
    let ownMethods: string[] | undefined;
    let first = true;
    for (const k of PUBLIC_FIELDS) {
      const x = this.read(v, k);
      if (x === undefined || typeof x === 'function') continue;
      const info = this.keys.get(k);
      this.out += first ? info.first : info.next;
      first = false;
      this.member(x, info, data, k, k, d);
    }
    let names: Set<string> | undefined;
    for (const k of Object.keys(v)) {
      if (isHiddenEmitterKey(k)) continue;
      const x = this.read(v, k);
      if (typeof x === 'function') {
        (ownMethods ??= []).push(k);
        continue;
      }
      if (x === undefined) continue;
      if (typeof x === 'object' && x !== null && (ArrayBuffer.isView(x) || isEmitterLike(x))) continue;
      const info = this.keys.get(k);
      let name = k;
      if (info.masked === undefined) this.out += first ? info.first : info.next;
      else this.out += `${first ? '' : ','}${quote((name = uniqueName(info.masked, (names ??= new Set()))))}:`;
      first = false;
      this.member(x, info, data, k, name, d);
    }
    const body = this.out;
    this.out = `${before}{"$type":"Emitter","class":${quote(nameOf(proto))},"methods":${methodsOf(proto, ownMethods)},"value":{${body}}}`;
  }
}

const ERROR_FIELDS = new Set(['name', 'message', 'stack', 'cause']);

// Below this length, calling JSON.stringify costs more than it saves.
const NUMBER_RUN = 16;
const ARRAY_PROTO = Array.prototype;

/** True when JSON.stringify writes `a` exactly as the encoder would: finite numbers only, no -0. */
function isNumberRun(a: unknown[]): boolean {
  if (Object.getPrototypeOf(a) !== ARRAY_PROTO) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'number' || x - x !== 0 || (x === 0 && 1 / x < 0)) return false;
  }
  return true;
}

function isHighSurrogate(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff;
}

function lengthMarker(omitted: number): string {
  return `{"$type":"Truncated","reason":"array_length","omitted":${omitted}}`;
}

function callable(fn: Function): string {
  let name: unknown;
  try {
    name = fn.name;
  } catch {
    name = undefined;
  }
  return quote(`<callable:${typeof name === 'string' && name !== '' ? name : 'anonymous'}>`);
}

/** The constructor name of instances of `proto`; "Object" when there is none to tell. */
function nameOf(proto: object): string {
  const ctor: unknown = (proto as { constructor?: unknown }).constructor;
  const name: unknown = typeof ctor === 'function' ? ctor.name : undefined;
  return typeof name === 'string' && name !== '' ? name : 'Object';
}

/**
 * An instance's own enumerable fields keyed by a registered symbol (`Symbol.for('langchain.message')`),
 * by the symbol's key: the brand a library checks instead of `instanceof`, which a replay can give
 * back since the same key gives the same symbol. Other symbols cannot be named again, and are left out.
 */
function registeredSymbols(v: object): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  try {
    for (const symbol of Object.getOwnPropertySymbols(v)) {
      const key = Symbol.keyFor(symbol);
      if (key === undefined || !Object.prototype.propertyIsEnumerable.call(v, symbol)) continue;
      (out ??= Object.create(null) as Record<string, unknown>)[key] = (v as Record<symbol, unknown>)[symbol];
    }
  } catch {
    // A proxy or a getter that throws: the instance keeps its string-keyed fields.
  }
  return out;
}

function classOf(v: object): string {
  if (Array.isArray(v)) return 'Array';
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null ? 'Object' : nameOf(proto as object);
}

function unreadable(error: unknown, redactor: Redactor): string {
  let reason: string;
  try {
    reason = error instanceof Error ? String(error.message) : String(error);
  } catch {
    reason = 'unknown error';
  }
  return `{"$type":"Unreadable","reason":${quote(redactor.redactString(reason))}}`;
}

// ---- emitters --------------------------------------------------------------------------------

/** Event emitters, streams, sockets and event targets: objects that are mostly machinery. */
function isEmitterLike(v: object): boolean {
  try {
    const o = v as { on?: unknown; emit?: unknown; addEventListener?: unknown };
    return (typeof o.on === 'function' && typeof o.emit === 'function') || typeof o.addEventListener === 'function';
  } catch {
    // A property that cannot be read says nothing; the object is then walked as an instance.
    return false;
  }
}

// What a request or response is about, read even through getters (Node's `headers` and Express's
// `query`, `ip`, `hostname` are getters on the prototype). Written first, in this order.
const PUBLIC_FIELDS = [
  'method',
  'url',
  'originalUrl',
  'path',
  'headers',
  'statusCode',
  'statusMessage',
  'params',
  'query',
  'body',
  'cookies',
  'readyState',
  'protocol',
  'ip',
  'hostname',
  'httpVersion',
  'remoteAddress',
];
const PUBLIC_FIELD_SET = new Set(PUBLIC_FIELDS);

// Own properties left out of an emitter's data: links back to the connection and its owners
// (large, circular, and not the call's data), and Node's raw header lists, which repeat `headers`
// in a flat form where a cookie or an authorization value cannot be told by its key.
const HIDDEN_KEYS = new Set(['res', 'req', 'socket', 'connection', 'client', 'parser', 'server', 'rawHeaders', 'rawTrailers']);

function isHiddenEmitterKey(k: string): boolean {
  return k.charCodeAt(0) === 95 /* _ */ || HIDDEN_KEYS.has(k) || PUBLIC_FIELD_SET.has(k);
}

const MAX_METHODS = 200;

interface Methods {
  names: string[];
  json: string;
}

// Per prototype, since all requests of a server (or sockets of a pool) share theirs.
const methodCache = new WeakMap<object, Methods>();

/** JSON array of the method names of an emitter with prototype `proto` and own methods `own`. */
function methodsOf(proto: object, own: string[] | undefined): string {
  let methods = methodCache.get(proto);
  if (methods === undefined) {
    const names = prototypeMethods(proto).slice(0, MAX_METHODS);
    methods = { names, json: JSON.stringify(names) };
    methodCache.set(proto, methods);
  }
  if (own === undefined) return methods.json;
  const names = [...new Set([...methods.names, ...own])].sort().slice(0, MAX_METHODS);
  return JSON.stringify(names);
}

function prototypeMethods(proto: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = proto; p !== null && p !== OBJECT_PROTO; p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor' || name.charCodeAt(0) === 95 /* _ */) continue;
      // The descriptor, not the value: reading a getter on a prototype would run it on nothing.
      const descriptor = Object.getOwnPropertyDescriptor(p, name);
      if (descriptor !== undefined && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names].sort();
}
