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
const MAX_WRITE_BYTES = 1 << 20;

/**
 * Appends JSON lines to one file. `write` only queues; the lines go out in batches on a timer,
 * synchronously, so that a batch is on disk before the process can exit from under it.
 */
export class RecordWriter {
  readonly file: string;
  private fd: number | undefined;
  private lines: string[] = [];
  private bytes = 0;
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
    this.lines.push(line);
    this.bytes += line.length;
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
    if (this.lines.length === 0) return;
    try {
      const fd = this.open();
      let start = 0;
      while (start < this.lines.length) {
        let end = start;
        let size = 0;
        while (end < this.lines.length && (end === start || size + this.lines[end].length <= MAX_WRITE_BYTES)) {
          size += this.lines[end].length;
          end++;
        }
        writeAll(fd, Buffer.from(this.lines.slice(start, end).join(''), 'utf8'));
        start = end;
      }
      this.lines = [];
      this.bytes = 0;
    } catch (error) {
      // Kept for the next flush (a full disk may clear); dropped only past the memory bound.
      warn('write', `cannot write to ${this.file}: ${(error as Error).message}`);
      if (this.bytes >= this.maxBufferedBytes) {
        warn('drop', `dropped ${this.lines.length} records that could not be written to ${this.file}`);
        this.lines = [];
        this.bytes = 0;
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
