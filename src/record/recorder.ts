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
  readonly head: string;
  readonly tail: string;
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
  // toISOString costs more than encoding small arguments; calls within one millisecond share it.
  private lastMs = 0;
  private lastIso = '';

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
      head: `{"_version":"${RECORD_VERSION}","function":${JSON.stringify(functionName)},"target":${JSON.stringify(target)},"iteration":`,
      tail: `,"params":${JSON.stringify(params ?? [])},"timestamp":"`,
    };
  }

  /** Records one call. Never throws: a record that cannot be made is reported, not raised. */
  record(site: RecordSite, args: readonly unknown[], kwargs?: object): void {
    try {
      const iteration = site.iteration++;
      let body = this.body(this.encoder, args, kwargs);
      if (body.length > this.maxRecordBytes) body = this.shrink(args, kwargs, body.length);
      this.writer.write(`${site.head}${iteration}${body}${site.tail}${this.timestamp()}"${this.meta}`);
    } catch (error) {
      warn('record', `could not record a call of ${site.target}: ${(error as Error).message}`);
    }
  }

  flush(): void {
    this.writer.flush();
  }

  private body(encoder: Encoder, args: readonly unknown[], kwargs: object | undefined): string {
    return `,"args":${encoder.encode(args)},"kwargs":${kwargs === undefined ? '{}' : encoder.encode(kwargs)}`;
  }

  /** Keeps an oversized record, smaller: tighter caps first, a size marker as the last resort. */
  private shrink(args: readonly unknown[], kwargs: object | undefined, bytes: number): string {
    const o = this.encoderOptions;
    this.tightEncoder ??= createEncoder({
      ...o,
      maxStringLength: Math.ceil((o.maxStringLength ?? 20_000) / 20),
      maxArrayLength: Math.ceil((o.maxArrayLength ?? 1000) / 20),
      maxDepth: Math.min(o.maxDepth ?? 12, 6),
    });
    const body = this.body(this.tightEncoder, args, kwargs);
    if (body.length <= this.maxRecordBytes) return body;
    const marker = `{"$type":"Truncated","reason":"record_size","bytes":${bytes}}`;
    return `,"args":[${marker}],"kwargs":${kwargs === undefined ? '{}' : marker}`;
  }

  private timestamp(): string {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastIso = new Date(now).toISOString();
    }
    return this.lastIso;
  }
}
