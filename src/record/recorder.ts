import { createEncoder, type Encoder, type EncoderOptions, type Pending } from './encode';
import { writeInteger } from './number-text';
import { NO_ROOM, NOT_PLAIN, type PlainWriter, type Room } from './plain';
import { randomBytes } from './random';
import { TextMemo } from './text-memo';
import { RecordWriter, type WriterOptions } from './writer';
import { warn } from './warn';

export interface RecorderOptions {
  file: string;
  encoder?: Partial<EncoderOptions>;
  /** A record larger than this is encoded again with tighter caps, then cut to a marker. */
  maxRecordBytes?: number;
  writer?: WriterOptions;
  /** Give each record an `id` (`"<8 hex>-<n>"`), which the records of its downstream calls name as `parent`. */
  ids?: boolean;
}

/** One recorded function: what every one of its records shares, serialized once. */
export interface RecordSite {
  readonly target: string;
  readonly function: string;
  /** Per-target call counter, FluxLoop's `iteration`. */
  iteration: number;
  /** The site whose `iteration` counts this one's calls: itself, or the first of its target's sites. */
  counter: { iteration: number };
  /** The record's text up to the iteration's value, as UTF-8. */
  readonly head: Buffer;
  /** The record's text from `"params"` to the timestamp's opening quote. */
  readonly tail: string;
  /** From `,"params"` to the end of the line, as UTF-8, for calls within millisecond `endingsMs`. */
  trailer: Buffer;
  /** `,"kwargs":{}` and the trailer: how a call without keyword arguments ends. */
  closing: Buffer;
  endingsMs: number;
  /** The long strings of the site's last record and their text (see TextMemo). */
  memo: TextMemo;
}

const RECORD_VERSION = '1';

// The most bytes of a record's long strings a site keeps for its next record (see TextMemo).
const MEMO_BYTES = 4 << 20;
// The room a record's arguments are given at first; larger ones grow it (see LineRoom).
const FIRST_ROOM = 16 * 1024;
const WRITTEN = 0;

/** A record whose arguments are encoded, waiting to be laid out. */
interface Queued {
  site: RecordSite;
  iteration: number;
  /** The number in the record's `id`, or NO_ID. */
  id: number;
  args: string;
  kwargs: string | undefined;
  self: string | undefined;
}

/** A record waiting for a part read later (a body). */
interface Waiting {
  site: RecordSite;
  iteration: number;
  id: number;
  args: string | Pending;
  kwargs: string | Pending | undefined;
  self: string | undefined;
}

// How long a record waits for a body (a client may send it slowly, or never); it is written then
// with a marker in place of what did not arrive.
const BODY_WAIT_MS = 30_000;

/** A record without an `id`. */
export const NO_ID = -1;

/** Turns calls into JSON lines (see the README's record format) and hands them to the writer. */
export class Recorder {
  readonly writer: RecordWriter;
  private readonly encoder: Encoder;
  private readonly encoderOptions: Partial<EncoderOptions>;
  private tightEncoder: Encoder | undefined;
  private readonly plain: PlainWriter;
  private readonly room: LineRoom;
  private readonly maxRecordBytes: number;
  private readonly meta = `,"meta":{"pid":${process.pid}}}\n`;
  /** True while a record is being laid out in the writer's buffer. */
  private busy = false;
  private pending: Queued[] = [];
  private readonly waiting = new Set<Waiting>();
  /** Ids are `<prefix>-<n>`: the prefix, random per process, keeps the ids of processes that share a file apart. */
  readonly idPrefix = randomBytes(4).toString('hex');
  /** `,"id":"<prefix>-`, as UTF-8, or undefined when records have no id. */
  private readonly idHead: Buffer | undefined;
  private nextId = 0;
  /** When the latest call was recorded, by `Date.now()`: the timestamp of its record when laid out at once. */
  time = 0;

  constructor(options: RecorderOptions) {
    this.encoderOptions = options.encoder ?? {};
    this.encoder = createEncoder(this.encoderOptions);
    this.plain = this.encoder.plainWriter();
    this.maxRecordBytes = options.maxRecordBytes ?? 1_000_000;
    this.writer = new RecordWriter(options.file, options.writer);
    this.room = new LineRoom(this.writer, this.maxRecordBytes);
    this.idHead = options.ids ? Buffer.from(`,"id":"${this.idPrefix}-`) : undefined;
  }

  site(target: string, functionName: string, params?: readonly unknown[], countedBy?: RecordSite): RecordSite {
    const site: RecordSite = {
      target,
      function: functionName,
      iteration: 0,
      counter: countedBy ?? { iteration: 0 },
      head: Buffer.from(`{"_version":"${RECORD_VERSION}","function":${JSON.stringify(functionName)},"target":${JSON.stringify(target)},"iteration":`),
      tail: `,"params":${JSON.stringify(params ?? [])},"timestamp":"`,
      trailer: Buffer.alloc(0),
      closing: Buffer.alloc(0),
      endingsMs: -1,
      memo: new TextMemo(MEMO_BYTES),
    };
    site.counter = countedBy ?? site;
    return site;
  }

  /**
   * Records one call; `self` is the instance a method was called on, kept as `this` (its class and
   * own fields) so that a replay can call the method on it again. Never throws: a record that
   * cannot be made is reported, not raised. Returns the number of the record's `id` (`<idPrefix>-<n>`),
   * or NO_ID when records have none.
   */
  record(site: RecordSite, args: readonly unknown[], kwargs?: object, self?: object): number {
    const id = this.idHead === undefined ? NO_ID : this.nextId++;
    this.time = Date.now();
    try {
      const iteration = site.counter.iteration++;
      // An instance is a class's, never plain JSON: it always takes the walk, before the buffer is taken.
      const selfText = self === undefined ? undefined : this.encodeSelf(self);
      if (this.busy) {
        // A getter read while a record is laid out has called a recorded function: its record
        // is encoded now, and laid out once the buffer is free.
        const texts = this.encode(args, kwargs, false);
        if (isText(texts.args) && isText(texts.kwargs)) this.pending.push({ site, iteration, id, args: texts.args, kwargs: texts.kwargs, self: selfText });
        else this.wait({ site, iteration, id, ...texts, self: selfText });
        return id;
      }
      this.busy = true;
      try {
        let direct: number;
        try {
          direct = this.writeDirect(site, iteration, id, args, kwargs, selfText);
        } catch {
          // A getter or a proxy threw: the encoder's walk guards every read.
          direct = NOT_PLAIN;
        }
        if (direct !== WRITTEN) {
          // What is known not to be plain JSON goes straight to the walk, rather than being tried again.
          const texts = this.encode(args, kwargs, direct === NOT_PLAIN);
          if (isText(texts.args) && isText(texts.kwargs)) this.layout(site, iteration, id, texts.args, texts.kwargs, selfText);
          else this.wait({ site, iteration, id, ...texts, self: selfText });
        }
        this.drain();
      } finally {
        this.busy = false;
      }
    } catch (error) {
      warn('record', `could not record a call of ${site.target}: ${(error as Error).message}`);
    }
    return id;
  }

  /** A value's JSON text, encoded as records' arguments are: tagged, redacted, capped. Never throws. */
  encodeValue(value: unknown): string {
    return this.encoder.encode(value);
  }

  /** The most bytes a record's arguments may take. */
  get maxBytes(): number {
    return this.maxRecordBytes;
  }

  /**
   * Queues a line made elsewhere (a downstream call's, encoded by its tap), newline included,
   * through the same writer as the records, so that it is flushed with them at exit.
   */
  writeLine(line: string): void {
    try {
      this.writer.write(line);
    } catch (error) {
      warn('record', `could not record a downstream call: ${(error as Error).message}`);
    }
  }

  flush(): void {
    this.writer.flush();
  }

  /** Writes every record, those still waiting for a body too, with a marker where it did not arrive. */
  close(): void {
    for (const record of [...this.waiting]) this.release(record, 'the process ended before it was read');
    this.flush();
  }

  /** A record is written once its late parts are read, or after BODY_WAIT_MS without them. */
  private wait(record: Waiting): void {
    this.waiting.add(record);
    const timer = setTimeout(() => this.release(record, `it did not arrive within ${BODY_WAIT_MS / 1000} s`), BODY_WAIT_MS);
    timer.unref();
    const parts = [record.args, record.kwargs].flatMap((t) => (typeof t === 'object' ? [t.done] : []));
    void Promise.all(parts).then(() => {
      clearTimeout(timer);
      this.release(record, 'it was not read');
    });
  }

  private release(record: Waiting, reason: string): void {
    if (!this.waiting.delete(record)) return;
    try {
      const text = (t: string | Pending) => (typeof t === 'string' ? t : t.text(reason));
      this.pending.push({ site: record.site, iteration: record.iteration, id: record.id, args: text(record.args), kwargs: record.kwargs === undefined ? undefined : text(record.kwargs), self: record.self });
      if (this.busy) return;
      this.busy = true;
      try {
        this.drain();
      } finally {
        this.busy = false;
      }
    } catch (error) {
      warn('record', `could not record a call of ${record.site.target}: ${(error as Error).message}`);
    }
  }

  /** Lays out the records queued while the buffer was busy. */
  private drain(): void {
    while (this.pending.length > 0) {
      const next = this.pending.shift()!;
      this.layout(next.site, next.iteration, next.id, next.args, next.kwargs, next.self);
    }
  }

  /**
   * Lays out a record whose arguments are plain JSON straight into the writer's buffer, with no
   * string made on the way, and returns WRITTEN; for any other record it writes nothing and says
   * why: NOT_PLAIN, or NO_ROOM when the arguments pass maxRecordBytes.
   */
  private writeDirect(site: RecordSite, iteration: number, id: number, args: readonly unknown[], kwargs: object | undefined, self: string | undefined): number {
    this.refresh(site, this.time);
    const room = this.room;
    // After the arguments: the keyword arguments' name, the instance and the line's end.
    room.open(site.head.length + 16 + this.idBytes() + ARGS.length + FIRST_ROOM, KWARGS.length + selfBytes(self) + site.closing.length);
    room.body = this.begin(room.buffer, room.start, site, iteration, id);
    let at = this.plain.write(args, room, room.body, site.memo);
    if (at >= 0 && kwargs !== undefined) {
      room.buffer.set(KWARGS, at);
      at = this.plain.write(kwargs, room, at + KWARGS.length);
    }
    if (at < 0) return at;
    if (at - room.body > this.maxRecordBytes) return NO_ROOM;
    this.writer.commit(this.finish(room.buffer, at, site, kwargs !== undefined, self));
    return WRITTEN;
  }

  /**
   * The arguments' text, shrunk when it passes maxRecordBytes; `walk` when they are known not to be
   * plain JSON. A part read later (a body) leaves a Pending in place of the text.
   */
  private encode(args: readonly unknown[], kwargs: object | undefined, walk: boolean): { args: string | Pending; kwargs: string | Pending | undefined } {
    const encode = (value: unknown) => (walk ? this.encoder.walk(value, true) : this.encoder.encode(value, true));
    const texts = { args: encode(args), kwargs: kwargs === undefined ? undefined : encode(kwargs) };
    const length = lengthOf(texts.args) + (texts.kwargs === undefined ? 0 : lengthOf(texts.kwargs));
    return length > this.maxRecordBytes ? this.shrink(args, kwargs, length) : texts;
  }

  /** Lays out a record whose arguments are encoded. */
  private layout(site: RecordSite, iteration: number, id: number, argsText: string, kwargsText: string | undefined, self: string | undefined): void {
    this.refresh(site, Date.now());
    // UTF-8 takes at most three bytes per UTF-16 unit.
    const bound = site.head.length + 16 + this.idBytes() + ARGS.length + argsText.length * 3 + KWARGS.length + (kwargsText?.length ?? 0) * 3 + selfBytes(self) + site.closing.length;
    const buffer = this.writer.reserve(bound);
    let at = this.begin(buffer, this.writer.end, site, iteration, id);
    at += buffer.write(argsText, at);
    if (kwargsText !== undefined) {
      buffer.set(KWARGS, at);
      at += KWARGS.length;
      at += buffer.write(kwargsText, at);
    }
    this.writer.commit(this.finish(buffer, at, site, kwargsText !== undefined, self));
  }

  /**
   * Writes a record's beginning, up to where its arguments go, and returns where that is. What
   * every call of a site shares is copied as bytes made once, rather than joined into a new string.
   */
  private begin(buffer: Buffer, at: number, site: RecordSite, iteration: number, id: number): number {
    buffer.set(site.head, at);
    at = writeInteger(buffer, at + site.head.length, iteration);
    if (id !== NO_ID && this.idHead !== undefined) {
      at = writeInteger(buffer, put(buffer, at, this.idHead), id);
      buffer[at++] = QUOTE;
    }
    return put(buffer, at, ARGS);
  }

  /** Writes a record's end after its arguments (and keyword arguments, when written), and returns the line's end. */
  private finish(buffer: Buffer, at: number, site: RecordSite, kwargsWritten: boolean, self: string | undefined): number {
    if (self !== undefined) {
      if (!kwargsWritten) {
        buffer.set(NO_KWARGS, at);
        at += NO_KWARGS.length;
        kwargsWritten = true;
      }
      buffer.set(THIS, at);
      at += THIS.length;
      at += buffer.write(self, at);
    }
    const ending = kwargsWritten ? site.trailer : site.closing;
    buffer.set(ending, at);
    return at + ending.length;
  }

  /** The most bytes a record's `id` takes: its head, the digits of a safe integer, the closing quote. */
  private idBytes(): number {
    return this.idHead === undefined ? 0 : this.idHead.length + 17;
  }

  /** The instance's text: its class and own fields, capped as arguments are; a size marker when it alone would fill a record. */
  private encodeSelf(self: object): string {
    const text = this.encoder.walk(self);
    return text.length <= this.maxRecordBytes / 2 ? text : `{"$type":"Truncated","reason":"record_size","bytes":${text.length}}`;
  }

  /** Keeps an oversized record, smaller: tighter caps first, a size marker as the last resort. */
  private shrink(args: readonly unknown[], kwargs: object | undefined, bytes: number): { args: string; kwargs: string | undefined } {
    const o = this.encoderOptions;
    this.tightEncoder ??= createEncoder({
      ...o,
      maxStringLength: Math.ceil((o.maxStringLength ?? 20_000) / 20),
      maxArrayLength: Math.ceil((o.maxArrayLength ?? 1000) / 20),
      maxDepth: Math.min(o.maxDepth ?? 12, 6),
    });
    const tight = { args: this.tightEncoder.encode(args), kwargs: kwargs === undefined ? undefined : this.tightEncoder.encode(kwargs) };
    if (tight.args.length + (tight.kwargs?.length ?? 0) <= this.maxRecordBytes) return tight;
    const marker = `{"$type":"Truncated","reason":"record_size","bytes":${bytes}}`;
    return { args: `[${marker}]`, kwargs: kwargs === undefined ? undefined : marker };
  }

  /** Brings the site's line endings to this millisecond: toISOString costs more than encoding small arguments. */
  private refresh(site: RecordSite, now: number): void {
    if (now === site.endingsMs) return;
    site.endingsMs = now;
    const trailer = `${site.tail}${new Date(now).toISOString()}"${this.meta}`;
    site.trailer = Buffer.from(trailer);
    site.closing = Buffer.from(`${EMPTY_KWARGS}${trailer}`);
  }
}

function isText<T extends string | undefined>(text: T | Pending): text is T {
  return typeof text !== 'object';
}

function lengthOf(text: string | Pending): number {
  return typeof text === 'string' ? text.length : text.text('').length;
}

const ARGS = Buffer.from(',"args":');
const KWARGS = Buffer.from(',"kwargs":');
const EMPTY_KWARGS = ',"kwargs":{}';
const NO_KWARGS = Buffer.from(EMPTY_KWARGS);
const THIS = Buffer.from(',"this":');
const QUOTE = 0x22;

/** Copies a few bytes, returning where they end: by hand, since a native call costs more than a short copy. */
function put(buffer: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i]!;
  return at;
}

/** The most bytes an instance's text (and the empty keyword arguments before it) can take. */
function selfBytes(self: string | undefined): number {
  return self === undefined ? 0 : EMPTY_KWARGS.length + THIS.length + self.length * 3;
}

/**
 * The line being laid out, as the plain writer's room: a span of the writer's buffer, from the
 * line's start to `limit`, with `tail` bytes kept after it for what follows the arguments. It
 * grows in place while the writer's chunk has room, and else moves to a new chunk, taking the
 * bytes written so far with it: arguments of any size are laid out in one pass, never made into
 * a string first.
 */
class LineRoom implements Room {
  buffer: Buffer = Buffer.alloc(0);
  limit = 0;
  /** Where the line starts in `buffer`. */
  start = 0;
  /** Where its arguments start: the most they may take (maxRecordBytes) is counted from there. */
  body = 0;
  private tail = 0;

  constructor(
    private readonly writer: RecordWriter,
    private readonly maxBytes: number,
  ) {}

  /** Begins a line with `bytes` of room, and `tail` more kept for its end. */
  open(bytes: number, tail: number): void {
    this.buffer = this.writer.reserve(bytes + tail);
    this.start = this.writer.end;
    this.limit = this.start + bytes;
    this.tail = tail;
  }

  grow(at: number, need: number): number {
    // Arguments larger than a record may be are encoded again, smaller (Recorder.shrink).
    if (at + need - this.body > this.maxBytes) return -1;
    const size = Math.max(2 * (this.limit - this.start), at + need - this.start);
    const buffer = this.writer.reserve(size + this.tail);
    const start = this.writer.end;
    if (buffer !== this.buffer) this.buffer.copy(buffer, start, this.start, at);
    const shift = start - this.start;
    this.buffer = buffer;
    this.start = start;
    this.body += shift;
    this.limit = start + size;
    return at + shift;
  }
}
