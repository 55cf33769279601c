import fs from 'node:fs';
import path from 'node:path';
import { rotatedName } from './files';
import { warn } from './warn';

export interface WriterOptions {
  /** How long a record may wait in memory; bounds what a `kill -9` can lose. */
  flushIntervalMs?: number;
  /** A batch this large is written at the next turn of the event loop instead of waiting. */
  eagerFlushBytes?: number;
  /**
   * Past this much, the writer flushes at once: memory stays bounded when timers cannot run. While
   * the file cannot be written (a full disk), records past it are dropped and counted.
   */
  maxBufferedBytes?: number;
  /** Called with the total after records are dropped, so that the process status can show it. */
  onDrop?: (dropped: number) => void;
  /**
   * Past this size the file is rotated at a flush: renamed to a timestamped file beside it (see
   * `rotatedName`), and a new file begun at the path. Unset: the file only grows.
   */
  maxFileBytes?: number;
}

// One write(2) stays far below the size at which Linux would split an O_APPEND write, and each
// write holds only whole lines, so processes that share the file never interleave inside a line.
const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;
const { O_APPEND, O_CREAT, O_WRONLY, O_RDONLY } = fs.constants;
// Never through a symbolic link; never waiting for a FIFO's reader (the fstat then refuses it).
const NOFOLLOW = (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const OPEN_FLAGS = O_APPEND | O_CREAT | O_WRONLY | NOFOLLOW;
// A rotation holds its lock for a few system calls; a lock this old was left by a process that died.
const STALE_LOCK_MS = 10_000;

/** The path is not a file to write records to: a symbolic link, a FIFO, a directory. */
class Refused extends Error {}

/**
 * Appends JSON lines to one file. Queuing a line (`write`, or `reserve` and `commit` for a caller
 * that lays out its bytes itself) only puts it in a chunk buffer; the chunks go out in batches on
 * a timer, synchronously, so that a batch is on disk before the process can exit from under it.
 * Lines are bytes from the moment they are queued, not strings joined at the flush: no string is
 * kept long enough for the garbage collector to promote it, and no rope has to be flattened.
 *
 * Faults are dealt with at the flush, never per record: a deleted or replaced file is reopened, a
 * partial write is resumed where it stopped, and while the file cannot be written the records
 * wait up to `maxBufferedBytes`, past which new ones are dropped and counted. Nothing here throws.
 *
 * Rotation is built on the same check: processes that share the file each look at its size after
 * their flush, and one that finds it past `maxFileBytes` renames it, under a lock file, and only
 * while the path still names the file it has open. The others see at their next flush that the
 * path names another file and reopen it, as after any rename; a line one of them wrote in between
 * is in the rotated file, not lost.
 */
export class RecordWriter {
  readonly file: string;
  private fd: number | undefined;
  /** The file `fd` is; a flush reopens the path once it names another file or none. */
  private dev = 0;
  private ino = 0;
  /** Full chunks, each holding whole lines, waiting for the flush. */
  private full: Buffer[] = [];
  private chunk: Buffer | undefined;
  private used = 0;
  /** Bytes of the oldest queued chunk already on disk: a partial write is resumed, never repeated. */
  private done = 0;
  /** Bytes queued and not yet on disk. */
  private bytes = 0;
  /**
   * Set when a write stopped inside a line: the file's size then (NaN if unknown). The rest of the
   * line completes it only if the file still ends there, that is if no one wrote after it.
   */
  private tornAt: number | undefined;
  /** The file may end in a torn line (ours or another process's): ended before our next line. */
  private checkEnd = false;
  /** Why the file cannot be written, while it cannot. */
  private failure: string | undefined;
  private droppedNow = 0;
  private droppedTotal = 0;
  private reopened = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly flushIntervalMs: number;
  private readonly eagerFlushBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly onDrop: ((dropped: number) => void) | undefined;
  private readonly maxFileBytes: number | undefined;
  private readonly flushNow = () => this.flush();

  constructor(file: string, options: WriterOptions = {}) {
    this.file = file;
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.eagerFlushBytes = options.eagerFlushBytes ?? 256 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.onDrop = options.onDrop;
    this.maxFileBytes = options.maxFileBytes;
  }

  /** Records dropped because the file could not take them, over the writer's life. */
  get dropped(): number {
    return this.droppedTotal;
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
    if (this.bytes >= this.maxBufferedBytes) return this.overflow(end);
    this.used = end;
    if (this.bytes >= this.eagerFlushBytes && this.failure === undefined) {
      this.immediate ??= setImmediate(this.flushNow).unref();
    } else {
      this.timer ??= setTimeout(this.flushNow, this.flushIntervalMs).unref();
    }
  }

  /** Writes everything queued. Safe to call from an `exit` handler; never throws. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    if (this.bytes === 0) return;
    try {
      const fd = this.current();
      if (this.tornAt !== undefined) this.resume(fd);
      if (this.checkEnd) this.endLine(fd);
      for (;;) {
        const head = this.head();
        this.writeHead(fd, head.length);
        this.done = 0;
        if (this.full.length === 0) break;
        this.full.shift();
      }
      this.used = 0;
      if (this.failure !== undefined) this.reportDrops();
      if (this.maxFileBytes !== undefined) this.rotateIfFull(fd);
    } catch (error) {
      this.failed(error);
    }
  }

  /** Writes what is queued and closes the file; what still cannot be written is dropped and counted. */
  close(): void {
    this.flush();
    if (this.bytes > 0) {
      this.cutTornLine();
      this.drop(this.queuedLines());
      this.full = [];
      this.used = this.done = this.bytes = 0;
      this.tornAt = undefined;
    }
    if (this.failure !== undefined) this.reportDrops();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) closeQuietly(this.fd);
    this.fd = undefined;
  }

  /** The queue is full: flush at once, or, while the file cannot be written, drop this record. */
  private overflow(end: number): void {
    if (this.failure === undefined) {
      this.used = end;
      this.flush();
      return;
    }
    this.bytes -= end - this.used;
    this.drop(1);
  }

  /** The oldest queued bytes: the first full chunk, else the chunk being filled. */
  private head(): Buffer {
    return this.full[0] ?? this.chunk!.subarray(0, this.used);
  }

  /** Writes the head from `done` to `until`, counting every byte that reaches the disk. */
  private writeHead(fd: number, until: number): void {
    const head = this.head();
    while (this.done < until) {
      const n = fs.writeSync(fd, head, this.done, until - this.done);
      if (!(n > 0)) throw new Error('write(2) wrote nothing');
      this.done += n;
      this.bytes -= n;
    }
  }

  private isTorn(): boolean {
    return this.done > 0 && this.head()[this.done - 1] !== NEWLINE;
  }

  /** The fd, after a cheap check (one lstat) that the path still names its file. */
  private current(): number {
    const fd = this.fd;
    if (fd === undefined) return this.open();
    const at = fs.lstatSync(this.file, { throwIfNoEntry: false });
    // The fd keeps its inode alive, so no new file can take its number while it is open.
    if (at !== undefined && at.ino === this.ino && at.dev === this.dev) return fd;
    const rotated = this.wasRotated(fd);
    this.leave(fd);
    if (!this.reopened && !rotated) {
      this.reopened = true;
      warn(`reopen:${this.file}`, `${this.file} was deleted or replaced while recording; records now go to a new file at that path`);
    }
    return this.open();
  }

  /**
   * After the writes of a flush (the queue is empty, no line is torn): when the file has passed
   * `maxFileBytes`, renames it to a timestamped file beside it, so that the next flush opens a new
   * one at the path. One fstat a flush; never per record.
   */
  private rotateIfFull(fd: number): void {
    const lock = `${this.file}.lock`;
    let locked = false;
    try {
      if (fs.fstatSync(fd).size < this.maxFileBytes!) return;
      try {
        fs.closeSync(fs.openSync(lock, 'wx', 0o600));
        locked = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // Another writer is rotating: this one follows the new file at its next flush.
        dropStaleLock(lock);
        return;
      }
      // Only while the path names the file this writer filled: if another writer rotated it first,
      // the file at the path is a new one, which must not be rotated in its turn.
      const at = fs.lstatSync(this.file, { throwIfNoEntry: false });
      if (at === undefined || at.ino !== this.ino || at.dev !== this.dev) return;
      fs.renameSync(this.file, freeName(this.file));
      this.fd = undefined;
      closeQuietly(fd);
    } catch (error) {
      warn(`rotate:${this.file}`, `cannot rotate ${this.file}: ${error instanceof Error ? error.message : String(error)}; records go on into it`);
    } finally {
      if (locked) {
        try {
          fs.unlinkSync(lock);
        } catch {
          // Gone already: nothing to release.
        }
      }
    }
  }

  /** Whether a file that left the path was rotated by another writer: renamed, not deleted, and past the size. */
  private wasRotated(fd: number): boolean {
    if (this.maxFileBytes === undefined) return false;
    try {
      const stat = fs.fstatSync(fd);
      return stat.nlink > 0 && stat.size >= this.maxFileBytes;
    } catch {
      return false;
    }
  }

  /** Closes a file that is no longer at the path, with no torn line left for the next file to glue to. */
  private leave(fd: number): void {
    this.fd = undefined;
    if (this.isTorn()) {
      this.tornAt = undefined;
      try {
        // Renamed away: the rest of the line ends it there. Deleted: the whole line goes to the new file.
        if (fs.fstatSync(fd).nlink === 0) throw new Error('deleted');
        const head = this.head();
        this.writeHead(fd, head.indexOf(NEWLINE, this.done) + 1);
      } catch {
        this.rewind();
      }
    }
    closeQuietly(fd);
  }

  private open(): number {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    let fd: number;
    try {
      fd = fs.openSync(this.file, OPEN_FLAGS, 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Linux and macOS say ELOOP for a symbolic link under O_NOFOLLOW, FreeBSD EMLINK.
      if (code === 'ELOOP' || code === 'EMLINK') throw new Refused('it is a symbolic link, and records are never written through one');
      if (code === 'EISDIR') throw new Refused('it is a directory');
      if (code === 'ENXIO') throw new Refused('it is not a regular file (a FIFO or a socket)');
      throw error;
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new Refused('it is not a regular file');
      // The mode above applies only to a file this call creates; records can hold user data. Only
      // the file just opened is changed, and only when it is ours.
      const uid = process.getuid?.();
      if ((stat.mode & 0o777) !== 0o600 && (uid === undefined || stat.uid === uid)) {
        try {
          fs.fchmodSync(fd, 0o600);
        } catch {
          // A file system without modes: leave it.
        }
      }
      this.dev = stat.dev;
      this.ino = stat.ino;
      this.checkEnd = stat.size > 0;
    } catch (error) {
      closeQuietly(fd);
      throw error;
    }
    this.fd = fd;
    return fd;
  }

  /**
   * Before the rest of a torn line: if the file no longer ends where the tear left it (another
   * process wrote after it, or it was truncated), the rest would stand alone, so the line is
   * written again whole on a line of its own; but a line that only lacked its newline is on disk.
   */
  private resume(fd: number): void {
    const size = fs.fstatSync(fd).size;
    if (size !== this.tornAt) {
      const head = this.head();
      const lineEnd = head.indexOf(NEWLINE, this.done) + 1;
      if (lineEnd === this.done + 1) {
        this.bytes -= 1;
        this.done = lineEnd;
      } else this.rewind();
      this.checkEnd = true;
    }
    this.tornAt = undefined;
  }

  /** Back to the start of the torn line, to write it again whole. */
  private rewind(): void {
    const start = this.head().lastIndexOf(NEWLINE, this.done - 1) + 1;
    this.bytes += this.done - start;
    this.done = start;
    this.checkEnd = true;
  }

  /** Ends a torn line the file ends in, so that ours starts on a line of its own. */
  private endLine(fd: number): void {
    if (!endsInNewline(this.file, fd)) writeAll(fd, Buffer.from('\n'));
    this.checkEnd = false;
  }

  /**
   * At close, a line torn by a full disk would stay half written at the end of the file: it is cut
   * off when nothing was written after it.
   */
  private cutTornLine(): void {
    if (this.tornAt === undefined || this.fd === undefined || !this.isTorn()) return;
    try {
      const start = this.head().lastIndexOf(NEWLINE, this.done - 1) + 1;
      if (fs.fstatSync(this.fd).size === this.tornAt) fs.ftruncateSync(this.fd, this.tornAt - (this.done - start));
    } catch {
      // Left as it is: the next writer ends it with a newline before its own line.
    }
  }

  /** The lines queued and not wholly on disk. */
  private queuedLines(): number {
    let lines = 0;
    const count = (buffer: Buffer, from: number) => {
      for (let at = buffer.indexOf(NEWLINE, from); at !== -1; at = buffer.indexOf(NEWLINE, at + 1)) lines++;
    };
    if (this.full.length === 0) count(this.chunk!.subarray(0, this.used), this.done);
    else {
      count(this.full[0]!, this.done);
      for (let i = 1; i < this.full.length; i++) count(this.full[i]!, 0);
      count(this.chunk!.subarray(0, this.used), 0);
    }
    return lines;
  }

  /** Keeps what is queued for a retry; says once why the file cannot be written. */
  private failed(error: unknown): void {
    try {
      if (this.tornAt === undefined && this.isTorn()) this.tornAt = this.fd === undefined ? NaN : fs.fstatSync(this.fd).size;
    } catch {
      this.tornAt = NaN;
    }
    if (this.failure === undefined) {
      const reason = error instanceof Error ? error.message : String(error);
      this.failure = reason;
      this.droppedNow = 0;
      const what = error instanceof Refused ? 'refusing to write records to' : 'cannot write to';
      const mb = this.maxBufferedBytes / (1024 * 1024);
      const bound = mb >= 1 ? `${Math.round(mb)} MB` : `${Math.ceil(this.maxBufferedBytes / 1024)} KB`;
      warn(`write:${this.file}`, `${what} ${this.file}: ${reason}; records wait in memory (up to ${bound}), then new ones are dropped and counted`);
    }
    this.timer ??= setTimeout(this.flushNow, this.flushIntervalMs).unref();
  }

  private drop(records: number): void {
    if (records === 0) return;
    this.droppedNow += records;
    this.droppedTotal += records;
    try {
      this.onDrop?.(this.droppedTotal);
    } catch {
      // The status is a convenience; recording must not suffer for it.
    }
  }

  /** The file took the queue again, or the writer closes: one line with what was lost meanwhile. */
  private reportDrops(): void {
    if (this.droppedNow > 0) {
      warn(`drop:${this.file}`, `dropped ${this.droppedNow} record${this.droppedNow === 1 ? '' : 's'} that could not be written to ${this.file} (${this.failure})`);
    }
    this.failure = undefined;
    this.droppedNow = 0;
  }
}

/** A rotated name beside `file` that no file has yet: a rename would replace one. */
function freeName(file: string): string {
  const now = new Date();
  for (let n = 0; ; n++) {
    const name = rotatedName(file, now, n);
    if (!fs.existsSync(name)) return name;
  }
}

/** Removes a rotation lock left by a process that died holding it; the next flush rotates. */
function dropStaleLock(lock: string): void {
  try {
    const stat = fs.statSync(lock, { throwIfNoEntry: false });
    if (stat !== undefined && Date.now() - stat.mtimeMs > STALE_LOCK_MS) fs.unlinkSync(lock);
  } catch {
    // Another writer removed it: the same outcome.
  }
}

function writeAll(fd: number, buffer: Buffer): void {
  let offset = 0;
  while (offset < buffer.length) offset += fs.writeSync(fd, buffer, offset);
}

/** Whether the file open at `fd` (found again at `file`, since `fd` is write-only) ends in a newline. */
function endsInNewline(file: string, fd: number): boolean {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return true;
  let reader: number;
  try {
    reader = fs.openSync(file, O_RDONLY | NOFOLLOW);
  } catch {
    return true;
  }
  try {
    const ours = fs.fstatSync(fd);
    const theirs = fs.fstatSync(reader);
    if (ours.ino !== theirs.ino || ours.dev !== theirs.dev) return true;
    const last = Buffer.alloc(1);
    return fs.readSync(reader, last, 0, 1, size - 1) === 1 ? last[0] === NEWLINE : true;
  } finally {
    closeQuietly(reader);
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already gone: nothing to release.
  }
}
