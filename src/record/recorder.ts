import { createEncoder, type Encoder, type EncoderOptions } from './encode';
import { RecordWriter, type WriterOptions } from './writer';
import { warn } from './warn';

export interface RecorderOptions {
  file: string;
  encoder?: Partial<EncoderOptions>;
  /** A record larger than this is encoded again with tighter caps, then cut to a marker. */
  maxRecordBytes?: number;
  writer?: WriterOptions;
}

/** One recorded function: what every one of its records shares, serialized once. */
export interface RecordSite {
  readonly target: string;
  readonly function: string;
  /** Per-target call counter, FluxLoop's `iteration`. */
  iteration: number;
  /** The record's text up to the iteration's value, as UTF-8. */
  readonly head: Buffer;
  /** The record's text from `"params"` to the timestamp's opening quote. */
  readonly tail: string;
  /** From `,"params"` to the end of the line, as UTF-8, for calls within millisecond `trailerMs`. */
  trailer: Buffer;
  trailerMs: number;
}

const RECORD_VERSION = '1';

/** Turns calls into JSON lines (see the README's record format) and hands them to the writer. */
export class Recorder {
  readonly writer: RecordWriter;
  private readonly encoder: Encoder;
  private readonly encoderOptions: Partial<EncoderOptions>;
  private tightEncoder: Encoder | undefined;
  private readonly maxRecordBytes: number;
  private readonly meta = `,"meta":{"pid":${process.pid}}}\n`;

  constructor(options: RecorderOptions) {
    this.encoderOptions = options.encoder ?? {};
    this.encoder = createEncoder(this.encoderOptions);
    this.maxRecordBytes = options.maxRecordBytes ?? 1_000_000;
    this.writer = new RecordWriter(options.file, options.writer);
  }

  site(target: string, functionName: string, params?: readonly unknown[]): RecordSite {
    return {
      target,
      function: functionName,
      iteration: 0,
      head: Buffer.from(`{"_version":"${RECORD_VERSION}","function":${JSON.stringify(functionName)},"target":${JSON.stringify(target)},"iteration":`),
      tail: `,"params":${JSON.stringify(params ?? [])},"timestamp":"`,
      trailer: Buffer.alloc(0),
      trailerMs: -1,
    };
  }

  /** Records one call. Never throws: a record that cannot be made is reported, not raised. */
  record(site: RecordSite, args: readonly unknown[], kwargs?: object): void {
    try {
      const iteration = site.iteration++;
      let argsText = this.encoder.encode(args);
      let kwargsText = kwargs === undefined ? undefined : this.encoder.encode(kwargs);
      const length = argsText.length + (kwargsText?.length ?? 0);
      if (length > this.maxRecordBytes) ({ args: argsText, kwargs: kwargsText } = this.shrink(args, kwargs, length));
      this.write(site, iteration, argsText, kwargsText);
    } catch (error) {
      warn('record', `could not record a call of ${site.target}: ${(error as Error).message}`);
    }
  }

  flush(): void {
    this.writer.flush();
  }

  /**
   * Lays the record out in the writer's buffer. What every call of a site within one millisecond
   * shares is copied as bytes made once, instead of being joined into a new string each call.
   */
  private write(site: RecordSite, iteration: number, argsText: string, kwargsText: string | undefined): void {
    const { head } = site;
    const trailer = this.trailer(site);
    // UTF-8 takes at most three bytes per UTF-16 unit; a record number at most 16 digits.
    const bound = head.length + 16 + ARGS.length + argsText.length * 3 + KWARGS.length + (kwargsText?.length ?? 2) * 3 + trailer.length;
    const buffer = this.writer.reserve(bound);
    let at = this.writer.end;
    buffer.set(head, at);
    at = writeDigits(buffer, head.length + at, iteration);
    buffer.set(ARGS, at);
    at += ARGS.length;
    at += buffer.write(argsText, at);
    buffer.set(KWARGS, at);
    at += KWARGS.length;
    if (kwargsText === undefined) {
      buffer.set(EMPTY_OBJECT, at);
      at += EMPTY_OBJECT.length;
    } else {
      at += buffer.write(kwargsText, at);
    }
    buffer.set(trailer, at);
    this.writer.commit(at + trailer.length);
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

  /** The site's line ending for this millisecond: toISOString costs more than encoding small arguments. */
  private trailer(site: RecordSite): Buffer {
    const now = Date.now();
    if (now !== site.trailerMs) {
      site.trailerMs = now;
      site.trailer = Buffer.from(`${site.tail}${new Date(now).toISOString()}"${this.meta}`);
    }
    return site.trailer;
  }
}

const ARGS = Buffer.from(',"args":');
const KWARGS = Buffer.from(',"kwargs":');
const EMPTY_OBJECT = Buffer.from('{}');

/** Writes a non-negative integer in decimal; by hand, since a native call costs more than its few digits. */
function writeDigits(buffer: Buffer, at: number, n: number): number {
  let end = at + 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) end++;
  for (let i = end - 1, rest = n; i >= at; i--, rest = Math.floor(rest / 10)) buffer[i] = 48 + (rest % 10);
  return end;
}
