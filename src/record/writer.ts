import fs from 'node:fs';
import path from 'node:path';
import { warn } from './warn';

export interface WriterOptions {
  /** How long a record may wait in memory; bounds what a `kill -9` can lose. */
  flushIntervalMs?: number;
  /** A batch this large is written at the next turn of the event loop instead of waiting. */
  eagerFlushBytes?: number;
  /** Past this much, the writer flushes at once: memory stays bounded when timers cannot run. */
  maxBufferedBytes?: number;
}

// One write(2) stays far below the size at which Linux would split an O_APPEND write, and each
// write holds only whole lines, so processes that share the file never interleave inside a line.
const CHUNK_BYTES = 1 << 20;

/**
 * Appends JSON lines to one file. Queuing a line (`write`, or `reserve` and `commit` for a caller
 * that lays out its bytes itself) only puts it in a chunk buffer; the chunks go out in batches on
 * a timer, synchronously, so that a batch is on disk before the process can exit from under it.
 * Lines are bytes from the moment they are queued, not strings joined at the flush: no string is
 * kept long enough for the garbage collector to promote it, and no rope has to be flattened.
 */
export class RecordWriter {
  readonly file: string;
  private fd: number | undefined;
  /** Full chunks, each holding whole lines, waiting for the flush. */
  private full: Buffer[] = [];
  private chunk: Buffer | undefined;
  private used = 0;
  private bytes = 0;
  private lines = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly flushIntervalMs: number;
  private readonly eagerFlushBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly flushNow = () => this.flush();

  constructor(file: string, options: WriterOptions = {}) {
    this.file = file;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.eagerFlushBytes = options.eagerFlushBytes ?? 256 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
  }

  /** Queues one complete line, newline included. */
  write(line: string): void {
    const buffer = this.reserve(Buffer.byteLength(line));
    this.commit(this.end + buffer.write(line, this.end));
  }

  /**
   * A buffer with room for `bound` more bytes at `end`, for a caller that lays out a line itself.
   * Write one whole line there, newline included, then `commit` where it ends.
   */
  reserve(bound: number): Buffer {
    if (this.chunk !== undefined && this.used + bound <= this.chunk.length) return this.chunk;
    if (this.used > 0) this.full.push(this.chunk!.subarray(0, this.used));
    // A line longer than a chunk gets a chunk of its own size, and so a write(2) of its own.
    this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bound));
    this.used = 0;
    return this.chunk;
  }

  /** Where the next line starts in the buffer that `reserve` gave. */
  get end(): number {
    return this.used;
  }

  /** Queues the line written since `reserve`, which ends at `end`. */
  commit(end: number): void {
    this.bytes += end - this.used;
    this.used = end;
    this.lines++;
    if (this.bytes >= this.maxBufferedBytes) {
      this.flush();
    } else if (this.bytes >= this.eagerFlushBytes) {
      this.immediate ??= setImmediate(this.flushNow).unref();
    } else {
      this.timer ??= setTimeout(this.flushNow, this.flushIntervalMs).unref();
    }
  }

  /** Writes everything queued. Safe to call from an `exit` handler. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    if (this.bytes === 0) return;
    try {
      const fd = this.open();
      while (this.full.length > 0) {
        writeAll(fd, this.full[0]!);
        this.full.shift();
      }
      if (this.used > 0) writeAll(fd, this.chunk!.subarray(0, this.used));
      this.used = this.bytes = this.lines = 0;
    } catch (error) {
      // Kept for the next flush (a full disk may clear); dropped only past the memory bound.
      warn('write', `cannot write to ${this.file}: ${(error as Error).message}`);
      if (this.bytes >= this.maxBufferedBytes) {
        warn('drop', `dropped ${this.lines} records that could not be written to ${this.file}`);
        this.full = [];
        this.used = this.bytes = this.lines = 0;
      }
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    if (this.fd !== undefined) return this.fd;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const fd = fs.openSync(this.file, 'a', 0o600);
    // The mode above applies only to a file this call creates; records can hold user data.
    try {
      fs.fchmodSync(fd, 0o600);
    } catch {
      // Not the owner of an existing file: leave its mode to whoever owns it.
    }
    this.fd = fd;
    return fd;
  }
}

function writeAll(fd: number, buffer: Buffer): void {
  let offset = 0;
  while (offset < buffer.length) offset += fs.writeSync(fd, buffer, offset);
}
